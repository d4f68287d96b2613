"""Jit-compiled functions of one model structure, compiled once per input shape.

Every function here takes the model's scalar hyperparameters, the learning rate and the
rng keys as arrays. So runs that differ only in such values, or in the seed, the
classifier or the label budget, reuse one executable within a process.
"""

import collections
import dataclasses
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

# How often each kind of function was traced in this process. Tests read it to prove
# that a second run of the same shapes does not retrace.
TRACE_COUNTS: collections.Counter[str] = collections.Counter()

# Executables built in this process, and hits of JAX's persistent compilation cache.
COMPILE_COUNTS: collections.Counter[str] = collections.Counter()


def _count_cache_hits(event: str, **kwargs: Any) -> None:
    if event == "/jax/compilation_cache/cache_hits":
        COMPILE_COUNTS["persistent_cache_hits"] += 1


jax.monitoring.register_event_listener(_count_cache_hits)


def use_compile_cache(directory: str | None) -> None:
    """Store compiled executables in `directory` so other processes can reuse them.

    Every executable is cached, however fast it compiled. None leaves the setting as
    it is.
    """
    if directory is None:
        return
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


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
    COMPILE_COUNTS["executables"] += 1
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


# optax optimizers that train with the loop's plain `update(grads, state, params)`
# and a learning rate held in the optimizer state; each ran here (optax 0.2.8).
# Left out: lbfgs and polyak_sgd need the loss value, adafactor fails under
# inject_hyperparams, noisy_sgd needs an rng key.
OPTIMIZERS = (
    "adabelief",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamaxw",
    "adamw",
    "adan",
    "amsgrad",
    "fromage",
    "lamb",
    "lars",
    "lion",
    "nadam",
    "nadamw",
    "novograd",
    "optimistic_gradient_descent",
    "radam",
    "rmsprop",
    "rprop",
    "sgd",
    "sign_sgd",
    "sm3",
    "yogi",
)


def make_optimizer(
    name: str, lr: float, kwargs: Mapping[str, Any] | None = None
) -> optax.GradientTransformation:
    """Build optax optimizer `name` with its learning rate held in the optimizer state.

    `kwargs` are further arguments of the optax function (for example `rho` of
    adadelta). Raises ValueError for a name not in OPTIMIZERS or a bad argument.
    """
    if name not in OPTIMIZERS or not hasattr(optax, name):
        raise ValueError(
            f"unknown train.optimizer={name!r}; valid names: {', '.join(OPTIMIZERS)}"
        )
    try:
        return optax.inject_hyperparams(getattr(optax, name))(
            learning_rate=lr, **dict(kwargs or {})
        )
    except TypeError as err:
        raise ValueError(
            f"train.optimizer_kwargs={dict(kwargs or {})} do not fit optax.{name}: "
            f"{err}"
        ) from err
