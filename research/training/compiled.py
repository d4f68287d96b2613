"""Jit-compiled functions of one model structure, compiled once per input shape.

Every function here takes the model's scalar hyperparameters, the learning rate and the
rng keys as arrays, so runs that differ only in such values (or in the seed, the
classifier or the label budget) reuse one executable within a process.
"""

import collections
import dataclasses
import time
from collections.abc import Callable, Hashable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

# How often each kind of function was traced in this process; tests read it to prove
# that a second run of the same shapes does not retrace.
TRACE_COUNTS: collections.Counter[str] = collections.Counter()

_EXECUTABLES: dict[Hashable, Any] = {}


def structure_key(model: nn.Module) -> tuple:
    """Return a hashable key of everything in `model` that changes array shapes or code.

    Fields listed in `model.hparam_names` are left out: they reach the compiled code as
    arrays through `hparams`.
    """
    skip = {"parent", "name", *model.hparam_names}
    fields = tuple(
        (f.name, getattr(model, f.name))
        for f in dataclasses.fields(model)
        if f.name not in skip
    )
    return (type(model).__module__, type(model).__qualname__, fields)


def _shape_key(args: tuple) -> tuple:
    leaves, treedef = jax.tree.flatten(args)
    return (treedef, tuple((jnp.shape(x), jnp.result_type(x)) for x in leaves))


def compile_once(
    name: str, key: Hashable, build: Callable[[], Callable], *args: Any
) -> tuple[Callable, float]:
    """Return the executable for (`name`, `key`, shapes of `args`) and its compile time.

    `build` makes the Python function on a cache miss; the time is 0.0 on a hit.
    """
    cache_key = (name, key, _shape_key(args))
    if cache_key in _EXECUTABLES:
        return _EXECUTABLES[cache_key], 0.0
    start = time.perf_counter()
    executable = jax.jit(build()).lower(*args).compile()
    _EXECUTABLES[cache_key] = executable
    return executable, time.perf_counter() - start


def over_replicas(fn: Callable, n_seeds: int, in_axes: tuple) -> Callable:
    """Map `fn` over a leading replica axis of the arguments whose in_axes entry is 0.

    With one replica the function runs unbatched on the squeezed arguments, which keeps
    the single-seed code free of batched matrix products.
    """
    if n_seeds > 1:
        return jax.vmap(fn, in_axes=in_axes)

    def single(*args):
        args = [
            jax.tree.map(lambda x: x[0], a) if axis == 0 else a
            for a, axis in zip(args, in_axes, strict=True)
        ]
        return jax.tree.map(lambda x: x[None], fn(*args))

    return single


def make_optimizer(name: str, lr: float) -> optax.GradientTransformation:
    """Build optax optimizer `name` with its learning rate held in the optimizer state.

    Raises ValueError when optax has no optimizer of that name.
    """
    factory = getattr(optax, name, None)
    if not callable(factory) or name.startswith("_"):
        raise ValueError(
            f"unknown train.optimizer={name!r}; use the name of an optax optimizer "
            "that takes a learning rate, such as adam, adamw, sgd or rmsprop"
        )
    try:
        return optax.inject_hyperparams(factory)(learning_rate=lr)
    except TypeError as err:
        raise ValueError(
            f"train.optimizer={name!r} cannot be built with a learning rate: {err}"
        ) from err
