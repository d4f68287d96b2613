"""The training loop shared by every autoencoder variant.

One epoch is one compiled call. The host receives the losses once per epoch, decides
early stopping per replica, and keeps each replica's best parameters.
"""

import dataclasses
import logging
import time
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from research.models import model_hparams
from research.training.compiled import (
    compile_once,
    make_optimizer,
    over_replicas,
    structure_key,
    use_compile_cache,
)
from research.training.early_stopping import EarlyStopping
from research.training.steps import batch_plan, make_epoch_fn, make_rowwise_fn

log = logging.getLogger(__name__)

# Rows per compiled chunk when encoding or scoring; bounds device memory on big data.
ROW_CHUNK = 8192


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """The `train` config group, checked."""

    optimizer: str = "adam"
    lr: float = 1e-3
    optimizer_kwargs: dict = dataclasses.field(default_factory=dict)
    epochs: int = 100
    batch_size: int = 64
    patience: int = 10
    n_seeds: int = 1
    drop_last: bool = False
    compile_cache_dir: str | None = None
    encoder_cache_dir: str | None = None
    log_every: int = 1

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> "TrainSettings":
        """Build settings from the `train` config; raise ValueError on a bad value."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(cfg) - names)
        if unknown:
            raise ValueError(f"unknown train options {unknown}; valid: {sorted(names)}")
        settings = cls(**dict(cfg))
        for name in ("epochs", "batch_size", "n_seeds", "log_every"):
            value = getattr(settings, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"train.{name}={value!r} must be an integer >= 1")
        if not isinstance(settings.patience, int) or settings.patience < 0:
            raise ValueError(
                f"train.patience={settings.patience!r} must be an integer >= 0 "
                "(0 turns early stopping off)"
            )
        if not (isinstance(settings.lr, int | float) and settings.lr > 0):
            raise ValueError(f"train.lr={settings.lr!r} must be a number > 0")
        make_optimizer(settings.optimizer, settings.lr, settings.optimizer_kwargs)
        return settings


@dataclasses.dataclass
class TrainResult:
    """Trained parameters and history; per-replica lists have one entry per seed."""

    params: Any  # pytree with a leading replica axis
    history: dict[str, list[list[float]]]  # metric -> epochs -> replicas
    epochs_run: list[int]
    best_epoch: list[int]
    best_val_loss: list[float]
    failures: list[str | None]  # None, or why that replica failed
    time_compile: float
    time_train: float
    opt_state: Any = None  # the optimizer state after the last epoch


@jax.jit
def _keep_improved(improved: jax.Array, new: Any, best: Any) -> Any:
    def select(n, b):
        mask = improved.reshape(improved.shape + (1,) * (n.ndim - 1))
        return jnp.where(mask, n, b)

    return jax.tree.map(select, new, best)


@jax.jit
def _mean_per_replica(errors: jax.Array) -> jax.Array:
    return jnp.mean(errors, axis=1)


def _hparam_arrays(model: nn.Module) -> dict[str, jax.Array]:
    return {k: jnp.asarray(v, jnp.float32) for k, v in model_hparams(model).items()}


def _replica_keys(seed: int, n_seeds: int) -> jax.Array:
    base = jax.random.key(seed)
    return jnp.stack([jax.random.fold_in(base, r) for r in range(n_seeds)])


class Trainer:
    """Compiled functions for one model and settings, and the host-side loop."""

    def __init__(self, model: nn.Module, settings: TrainSettings, n_features: int):
        self.model = model
        self.settings = settings
        self.n_features = n_features
        use_compile_cache(settings.compile_cache_dir)
        self.tx = make_optimizer(
            settings.optimizer, settings.lr, settings.optimizer_kwargs
        )
        # Optimizer arguments other than the learning rate are compiled in.
        optimizer_key = (
            settings.optimizer,
            tuple(sorted(settings.optimizer_kwargs.items())),
        )
        self.key = (structure_key(model), optimizer_key, settings.n_seeds)
        self.hparams = _hparam_arrays(model)
        self.compile_seconds = 0.0

    def epoch_hparams(self, epoch: int) -> dict[str, jax.Array]:
        """Return the hyperparameters of `epoch` (counted from 1), as float32 arrays.

        A variant can schedule them (such as a KL warm-up) with an
        `epoch_hparams(hparams, epoch)` method; the arrays keep their shapes, so the
        schedule does not recompile.
        """
        schedule = getattr(self.model, "epoch_hparams", None)
        if schedule is None:
            return self.hparams
        scheduled = schedule(dict(self.hparams), epoch)
        return {k: jnp.asarray(v, jnp.float32) for k, v in scheduled.items()}

    def _compiled(self, name: str, build, *args):
        fn, seconds = compile_once(name, self.key, build, *args)
        self.compile_seconds += seconds
        return fn

    def init(self, keys: jax.Array) -> tuple[Any, Any]:
        """Return freshly initialised parameters and optimizer state per replica."""
        dummy = jnp.zeros((1, self.n_features), jnp.float32)

        def init_one(key):
            params = self.model.init(
                {"params": key, "noise": key, "sample": key}, dummy, train=False
            )
            return params, self.tx.init(params)

        def build():
            return over_replicas(init_one, self.settings.n_seeds, (0,))

        params, opt_state = self._compiled("init", build, keys)(keys)
        # The cached executable may come from a run with another learning rate.
        lr = jnp.full((self.settings.n_seeds,), self.settings.lr, jnp.float32)
        opt_state.hyperparams["learning_rate"] = lr
        return params, opt_state

    def rowwise(self, method: str, params: Any, data: jax.Array) -> jax.Array:
        """Apply `method` ("recon", "encode", ...) to every row, per replica."""
        chunk = min(ROW_CHUNK, data.shape[0])

        def build():
            fn = make_rowwise_fn(self.model, method, chunk)
            return over_replicas(fn, self.settings.n_seeds, (0, None, None))

        args = (params, data, self.hparams)
        return self._compiled(f"rowwise/{method}/{chunk}", build, *args)(*args)

    def fit(self, x_fit: np.ndarray, x_val: np.ndarray, seed: int) -> TrainResult:
        """Train `n_seeds` replicas on `x_fit`; stop early on `x_val`'s recon loss."""
        s = self.settings
        data = jax.device_put(jnp.asarray(x_fit, jnp.float32))
        val = jax.device_put(jnp.asarray(x_val, jnp.float32))
        init_keys, loop_key = jnp.split(_replica_keys(seed, s.n_seeds * 2), 2)
        params, opt_state = self.init(init_keys)
        plan = batch_plan(data.shape[0], s.batch_size, s.drop_last)
        if plan[0] == 0:
            raise ValueError(
                f"train.batch_size={s.batch_size} with train.drop_last=true leaves no "
                f"batch of the {data.shape[0]} fit rows"
            )

        def build():
            fn = make_epoch_fn(self.model, self.tx, data.shape[0], plan)
            return over_replicas(fn, s.n_seeds, (0, 0, 0, None, 0, None, None))

        active = jnp.ones((s.n_seeds,), bool)
        epoch_num = jnp.asarray(0, jnp.int32)
        epoch_args = (
            params,
            opt_state,
            active,
            data,
            loop_key,
            epoch_num,
            self.hparams,
        )
        epoch_fn = self._compiled(f"epoch/{plan}", build, *epoch_args)
        # Compile the per-epoch helpers before the training clock starts.
        val_loss = _mean_per_replica(self.rowwise("recon", params, val))
        _keep_improved(active, params, params)
        jax.block_until_ready(val_loss)
        return self._loop(epoch_fn, params, opt_state, data, val, loop_key, plan)

    def _loop(self, epoch_fn, params, opt_state, data, val, loop_key, plan):
        s = self.settings
        state = EarlyStopping(s.n_seeds, s.patience)
        history: dict[str, list[list[float]]] = {}
        best_params = params
        start = time.perf_counter()
        for epoch in range(1, s.epochs + 1):
            epoch_start = time.perf_counter()
            active = jnp.asarray(state.active)
            epoch_num = jnp.asarray(epoch, jnp.int32)
            hparams = self.epoch_hparams(epoch)
            params, opt_state, metrics = epoch_fn(
                params, opt_state, active, data, loop_key, epoch_num, hparams
            )
            val_loss = _mean_per_replica(self.rowwise("recon", params, val))
            metrics = {_history_name(k): v for k, v in metrics.items()}
            metrics["val/recon_loss"] = val_loss
            host = jax.device_get(metrics)  # the one host sync of the epoch
            for name, values in host.items():
                if name != "train/params_finite":
                    history.setdefault(name, []).append([float(v) for v in values])
            improved, events = state.update(epoch, host)
            best_params = _keep_improved(jnp.asarray(improved), params, best_params)
            rate = data.shape[0] / (time.perf_counter() - epoch_start)
            done = not state.active.any() or epoch == s.epochs
            if done or epoch % s.log_every == 0 or epoch == 1:
                log.info(state.describe(epoch, s.epochs, host, rate))
            for event in events:
                log.info(event)
            if done:
                break
        return TrainResult(
            params=best_params,
            history=history,
            epochs_run=state.epochs_run.tolist(),
            best_epoch=state.best_epoch.tolist(),
            best_val_loss=state.best_val.tolist(),
            failures=state.failures,
            time_compile=self.compile_seconds,
            time_train=time.perf_counter() - start,
            opt_state=opt_state,
        )


def _history_name(term: str) -> str:
    """Name an epoch's loss term in the history: `recon` becomes train/recon_loss."""
    return "train/recon_loss" if term == "recon" else f"train/{term}"
