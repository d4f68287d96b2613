"""Training the autoencoder replicas of a run and describing their latent codes."""

import time
from typing import TYPE_CHECKING, Any

import jax
import numpy as np
from omegaconf import DictConfig, OmegaConf

from research.downstream.features import SPLITS
from research.encoder_cache import cache_key, load_encoder, save_encoder
from research.models import build_model
from research.models.variational import active_units
from research.training import Trainer, TrainSettings

if TYPE_CHECKING:
    from research.experiment import Prepared


def train_autoencoder(
    cfg: DictConfig, settings: TrainSettings, data: "Prepared"
) -> dict[str, Any]:
    """Train the autoencoder replicas, then encode and score every split.

    Returns the TrainResult, per-replica latent codes and reconstruction errors by
    split, latent diagnostics, the parameter count and timings.
    """
    n_features = data.x["train"].shape[1]
    model = build_model(OmegaConf.to_container(cfg.model), n_features)
    trainer = Trainer(model, settings, n_features)
    key = cache_key(cfg, data.dataset.fingerprint())
    result = load_encoder(settings.encoder_cache_dir, key)
    source = "restored" if result is not None else "trained"
    if result is None:
        result = trainer.fit(
            data.x["train"][data.fit_rows], data.x["val"][data.val_fit_rows], cfg.seed
        )
        if not any(result.failures):
            save_encoder(settings.encoder_cache_dir, key, result)
    start, compile_before = time.perf_counter(), trainer.compile_seconds
    all_rows = np.concatenate([data.x[s] for s in SPLITS])
    latent = np.asarray(
        jax.device_get(trainer.rowwise("encode", result.params, all_rows))
    )
    errors = np.asarray(
        jax.device_get(trainer.rowwise("recon", result.params, all_rows))
    )
    kl = None
    if hasattr(model, "kl_per_dim"):
        fit = data.x["train"][data.fit_rows]
        kl = np.asarray(trainer.rowwise("kl_per_dim", result.params, fit))
    encode_compile = trainer.compile_seconds - compile_before
    bounds = np.cumsum([len(data.x["train"]), len(data.x["val"])])
    by_split = [dict(zip(SPLITS, np.split(z, bounds), strict=True)) for z in latent]
    errors_by_split = [
        dict(zip(SPLITS, np.split(e, bounds), strict=True)) for e in errors
    ]
    return {
        "result": result,
        "source": source,
        "latent": by_split,
        "errors": errors_by_split,
        "diagnostics": [
            latent_diagnostics(z["train"][data.fit_rows], None if kl is None else kl[r])
            for r, z in enumerate(by_split)
        ],
        "n_params": sum(x.size for x in jax.tree.leaves(result.params))
        // settings.n_seeds,
        "time/encode": time.perf_counter() - start - encode_compile,
        "time/compile": trainer.compile_seconds,
    }


def latent_diagnostics(
    latent: np.ndarray, kl_per_dim: np.ndarray | None
) -> dict[str, Any]:
    """Describe the latent units on the fit rows: dead and active units, KL per unit.

    A unit is dead when its value does not vary over the fit rows (std below 1e-6,
    for example a ReLU unit that is never positive), and active when the variance
    of its value is above ACTIVE_UNIT_THRESHOLD (0.01). `kl_per_dim` (rows x units)
    comes from a VAE.
    """
    info = {
        "dead_units": np.flatnonzero(latent.std(axis=0) < 1e-6).tolist(),
        "active_units": active_units(latent),
    }
    if kl_per_dim is not None:
        info["kl_per_dim"] = kl_per_dim.mean(axis=0).tolist()
    return info
