"""A content-addressed cache of trained encoders.

Runs that differ only in downstream settings (classifier, features that use the
encoder, label budget) train the same autoencoder. The cache stores the trained
parameters, the optimizer state and the epochs under a key of everything that can
change them. That is the data fingerprint, the dataset, split, scaler, model, training
and `ae` options, the seed, and the source code of the models and the training loop.
"""

import dataclasses
import hashlib
import json
import logging
import os
import pickle
import uuid
from pathlib import Path

import jax
from omegaconf import DictConfig, OmegaConf

from research.training import TrainResult

log = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent
# Training options that do not change the trained parameters.
_NOT_IN_KEY = ("log_every", "compile_cache_dir", "encoder_cache_dir")


def _code_hash() -> str:
    digest = hashlib.sha256()
    sources = [_PACKAGE / "encoders.py", *sorted(_PACKAGE.glob("models/*.py"))]
    for path in [*sources, *sorted(_PACKAGE.glob("training/*.py"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(cfg: DictConfig, fingerprint: str) -> str:
    """Return the hex key of the encoder that `cfg` trains on data `fingerprint`."""
    config = OmegaConf.to_container(cfg, resolve=True)
    train = {k: v for k, v in config["train"].items() if k not in _NOT_IN_KEY}
    parts = {
        "data": fingerprint,
        "code": _code_hash(),
        "seed": config["seed"],
        "train": train,
        **{k: config[k] for k in ("dataset", "split", "scaler", "model", "ae")},
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def load_encoder(directory: str | None, key: str) -> TrainResult | None:
    """Return the cached TrainResult for `key`, or None (no cache dir or no entry)."""
    if directory is None:
        return None
    path = Path(directory) / f"{key}.pkl"
    if not path.exists():
        return None
    with open(path, "rb") as file:
        fields = pickle.load(file)
    log.info("encoder restored from %s", path)
    return TrainResult(**fields, time_compile=0.0, time_train=0.0)


def save_encoder(directory: str | None, key: str, result: TrainResult) -> None:
    """Store `result` under `key`, atomically (temporary file, then rename)."""
    if directory is None:
        return
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    skip = ("time_compile", "time_train")
    fields = {
        f.name: getattr(result, f.name)
        for f in dataclasses.fields(result)
        if f.name not in skip
    }
    fields["params"] = jax.device_get(result.params)
    fields["opt_state"] = jax.device_get(result.opt_state)
    temp = folder / f".{key}.{uuid.uuid4().hex[:8]}.tmp"
    with open(temp, "wb") as file:
        pickle.dump(fields, file)
    os.replace(temp, folder / f"{key}.pkl")
