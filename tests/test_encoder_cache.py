"""The encoder cache restores trained encoders exactly and keys them completely."""

import jax
import numpy as np
from omegaconf import OmegaConf

import research.experiment as experiment
from research.encoder_cache import cache_key
from research.encoders import train_autoencoder
from research.training import Trainer, TrainSettings
from tests.conftest import FAST, make_config


def settings_of(cfg):
    return TrainSettings.from_config(OmegaConf.to_container(cfg.train))


def test_restored_encoder_gives_identical_features(tmp_path, monkeypatch):
    cfg = make_config(*FAST, "model=dae", f"train.encoder_cache_dir={tmp_path}")
    data = experiment.prepare_data(cfg)
    first = train_autoencoder(cfg, settings_of(cfg), data)
    assert first["source"] == "trained"
    assert len(list(tmp_path.glob("*.pkl"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("the cached encoder was trained again")

    monkeypatch.setattr(Trainer, "fit", no_training)
    second = train_autoencoder(cfg, settings_of(cfg), data)
    assert second["source"] == "restored"
    for split in ("train", "val", "test"):
        assert np.array_equal(first["latent"][0][split], second["latent"][0][split])
        assert np.array_equal(first["errors"][0][split], second["errors"][0][split])
    restored, trained = second["result"], first["result"]
    assert restored.epochs_run == trained.epochs_run
    assert restored.history == trained.history
    same = jax.tree.map(np.array_equal, restored.opt_state, trained.opt_state)
    assert all(jax.tree.leaves(same))


def test_record_says_trained_or_restored(tmp_path):
    cache = f"train.encoder_cache_dir={tmp_path}"
    _, first = experiment.run_experiment(make_config(*FAST, cache))
    _, second = experiment.run_experiment(make_config(*FAST, cache, "classifier=knn"))
    assert first["encoder"] == "trained"
    assert second["encoder"] == "restored"
    _, raw = experiment.run_experiment(make_config(*FAST, cache, "features=raw"))
    assert raw["encoder"] is None


def test_key_covers_encoder_inputs_only():
    fingerprint = "f" * 64
    base = cache_key(make_config(*FAST), fingerprint)
    same = [
        "classifier=random_forest",
        "labels.budget=20",
        "features=latent_raw",
        "train.log_every=5",
    ]
    for override in same:
        assert cache_key(make_config(*FAST, override), fingerprint) == base, override
    different = [
        "seed=1",
        "model=vae",
        "model.latent_dim=4",
        "train.lr=0.01",
        "ae.fit_on=normal",
        "ae.budget=100",
        "scaler=minmax",
        "split.train=0.5",
    ]
    for override in different:
        assert cache_key(make_config(*FAST, override), fingerprint) != base, override
    assert cache_key(make_config(*FAST), "0" * 64) != base


def test_failed_training_not_cached(tmp_path):
    cfg = make_config(*FAST, f"train.encoder_cache_dir={tmp_path}")
    data = experiment.prepare_data(cfg)
    data.x["train"][data.fit_rows[0], 0] = np.inf  # the loss becomes non-finite
    trained = train_autoencoder(cfg, settings_of(cfg), data)
    assert trained["result"].failures[0] is not None
    assert not list(tmp_path.glob("*.pkl"))
