"""The named experiments in configs/experiment/ run, shrunk by debug=fast."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import MinMaxScaler

from research.data import CREDITCARD_FEATURES
from research.models import build_model
from research.training import Trainer, TrainSettings
from tests.conftest import CONFIG_DIR, make_config
from tests.test_experiment import run_script, table_rows

# Each experiment's sweep, cut to a few jobs; command-line sweeps replace the
# experiment's own sweep values for the same key.
SHRUNK = {
    "demo": ["model=ae,vae", "classifier=logreg", "seed=0"],
    "latent_size": ["model=ae,dae", "model.latent_dim=2,4", "seed=0"],
    "label_budget": ["labels.budget=10,all", "seed=0"],
    "normal_budget": ["ae.budget=20,all", "labels.budget=25", "seed=0"],
    "kaggle_fraud": ["seed=0,1", "ae.budget=100"],
}


def experiments() -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / "experiment").glob("*.yaml"))


def test_every_experiment_is_shrunk_here():
    assert sorted(SHRUNK) == experiments()


def test_experiments_open_with_command_and_expectation():
    for name in experiments():
        text = (Path(CONFIG_DIR) / "experiment" / f"{name}.yaml").read_text()
        header = text.split("\n\n")[0]
        assert f"experiment={name}" in header, name
        assert "Expected" in header, name
        assert "CPU" in header, name


def fake_creditcard(path: Path) -> Path:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(600, 30)), columns=list(CREDITCARD_FEATURES))
    frame["Class"] = (rng.random(600) < 0.08).astype(int)
    frame.to_csv(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHRUNK))
def test_experiment_runs_shrunk(name, tmp_path):
    args = ["-m", f"experiment={name}", "debug=fast", *SHRUNK[name]]
    if name == "kaggle_fraud":
        args.append(f"dataset.path={fake_creditcard(tmp_path / 'cc.csv')}")
    result = run_script(*args, f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert result.returncode == 0, result.stderr[-3000:]
    records = [
        json.loads(p.read_text()) for p in (tmp_path / "sweep").rglob("record.json")
    ]
    assert records
    assert all(r["status"] == "ok" for r in records), [r["error"] for r in records]
    assert all(r["config"]["train"]["epochs"] == 1 for r in records)
    assert table_rows((tmp_path / "sweep" / "table.md").read_text())


def test_kaggle_fraud_adadelta_lowers_loss():
    cfg = make_config("experiment=kaggle_fraud", "dataset.path=unused.csv")
    assert cfg.train.optimizer == "adadelta"
    assert cfg.train.lr == 1.0
    assert cfg.train.optimizer_kwargs.rho == 0.95
    x = MinMaxScaler().fit_transform(load_breast_cancer().data).astype(np.float32)
    model = build_model(OmegaConf.to_container(cfg.model), x.shape[1])
    settings = TrainSettings.from_config(OmegaConf.to_container(cfg.train))
    result = Trainer(model, settings, x.shape[1]).fit(x[:400], x[400:], seed=0)
    train_loss = [epoch[0] for epoch in result.history["train/loss"]]
    val_loss = [epoch[0] for epoch in result.history["val/recon_loss"]]
    assert len(train_loss) == 10
    assert train_loss[-1] < 0.7 * train_loss[0], train_loss
    assert val_loss[-1] < val_loss[0], val_loss
