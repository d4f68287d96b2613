"""Shared fixtures: the real default config, shrunk for speed."""

from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")

# Overrides that shrink a run to a few seconds on 2 CPU cores.
FAST = ["train.epochs=3", "train.patience=0"]


def make_config(*overrides: str):
    """Compose configs/config.yaml with `overrides`, as `scripts/run.py` would."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.fixture(scope="session")
def cancer_rows() -> np.ndarray:
    """The breast-cancer features, standardised, as float32."""
    x = load_breast_cancer().data
    return StandardScaler().fit_transform(x).astype(np.float32)
