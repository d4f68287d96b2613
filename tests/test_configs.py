"""Every option of every config group composes and runs one epoch on tiny data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.data import CREDITCARD_FEATURES
from research.experiment import run_experiment
from tests.conftest import CONFIG_DIR, make_config

TINY = ["debug=fast", "model.hidden=[8]", "model.latent_dim=2"]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


def run_ok(*overrides: str) -> None:
    outcomes, _ = run_experiment(make_config(*overrides))
    assert outcomes, overrides
    for outcome in outcomes:
        assert outcome.error is None, (overrides, outcome.error)
        assert np.isfinite(outcome.metrics["test/auprc"]), overrides


def test_groups_have_expected_options():
    assert {"ae", "dae", "vae"} <= set(options("model"))
    assert {"latent", "raw", "pca", "latent_raw", "recon_error"} == set(
        options("features")
    )
    assert {"logreg", "random_forest", "none", "knn", "mlp"} <= set(
        options("classifier")
    )


@pytest.mark.parametrize("name", options("model"))
def test_model_option_runs(name):
    run_ok(f"model={name}", *TINY)


@pytest.mark.parametrize("name", options("classifier"))
def test_classifier_option_runs(name):
    run_ok(f"classifier={name}", *TINY)


@pytest.mark.parametrize("name", options("features"))
def test_features_option_runs(name):
    run_ok(f"features={name}", *TINY)


@pytest.mark.parametrize("name", options("train"))
def test_train_option_runs(name):
    run_ok(f"train={name}", *TINY)


def test_dataset_csv_and_npz_run(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    y = (x[:, 0] + 0.3 * rng.normal(size=120) > 0.8).astype(int)
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(id=range(120), y=y)
    frame.to_csv(tmp_path / "tiny.csv", index=False)
    np.savez(tmp_path / "tiny.npz", X=x, y=y)
    csv = [
        f"dataset.path={tmp_path / 'tiny.csv'}",
        "dataset.label=y",
        "dataset.drop=[id]",
    ]
    run_ok("dataset=csv", *csv, *TINY)
    run_ok("dataset=npz", f"dataset.path={tmp_path / 'tiny.npz'}", *TINY)


def test_dataset_creditcard_runs(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(300, 30)), columns=list(CREDITCARD_FEATURES))
    frame["Class"] = (rng.random(300) < 0.1).astype(int)
    frame.to_csv(tmp_path / "cc.csv")  # with the unnamed index column
    run_ok("dataset=creditcard", f"dataset.path={tmp_path / 'cc.csv'}", *TINY)


def test_breast_cancer_dataset_runs():
    assert options("dataset") == ["breast_cancer", "creditcard", "csv", "npz"]
    run_ok("dataset=breast_cancer", *TINY)
