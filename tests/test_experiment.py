import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

import research.experiment as experiment
from research.training import Trainer
from tests.conftest import FAST, make_config

REPO = Path(__file__).resolve().parent.parent


def without_timings(metrics):
    return {k: v for k, v in metrics.items() if not k.startswith(("time/", "compile/"))}


def test_scaler_fit_on_train_rows_only():
    cfg = make_config(*FAST)
    data = experiment.prepare_data(cfg)
    raw = data.dataset.X
    scaler = StandardScaler().fit(raw[data.split.train])
    np.testing.assert_allclose(data.x["train"].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(
        data.x["val"], scaler.transform(raw[data.split.val]), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        data.x["test"], scaler.transform(raw[data.split.test]), rtol=1e-5, atol=1e-5
    )
    with_test = StandardScaler().fit(raw[np.r_[data.split.train, data.split.test]])
    assert not np.allclose(with_test.mean_, scaler.mean_)


def test_nothing_fitted_sees_val_or_test(monkeypatch):
    cfg = make_config(*FAST, "ae.fit_on=normal", "labels.budget=40")
    seen = {}
    fit = Trainer.fit

    def spy_fit(self, x_fit, x_val, seed):
        seen["ae_fit"], seen["ae_val"] = x_fit, x_val
        return fit(self, x_fit, x_val, seed)

    def spy_classifier(estimator, features, labels):
        seen["clf_features"], seen["clf_labels"] = features, labels
        return estimator.fit(features, labels)

    monkeypatch.setattr(Trainer, "fit", spy_fit)
    monkeypatch.setattr(experiment, "fit_classifier", spy_classifier)
    outcomes, _ = experiment.run_experiment(cfg)
    data = experiment.prepare_data(cfg)
    train_normal = data.x["train"][data.y["train"] == 0]
    np.testing.assert_array_equal(seen["ae_fit"], train_normal)
    np.testing.assert_array_equal(seen["ae_val"], data.x["val"][data.y["val"] == 0])
    assert len(seen["clf_labels"]) == 40
    np.testing.assert_array_equal(
        seen["clf_labels"], data.y["train"][data.labeled_rows]
    )
    test_rows = {tuple(row) for row in data.x["test"]}
    assert not any(tuple(row) in test_rows for row in seen["ae_fit"])
    assert outcomes[0].error is None


def test_same_run_twice_same_metrics():
    cfg = make_config(*FAST, "model=dae", "classifier=random_forest", "seed=4")
    first, _ = experiment.run_experiment(cfg)
    second, _ = experiment.run_experiment(cfg)
    assert without_timings(first[0].metrics) == without_timings(second[0].metrics)
    assert first[0].history == second[0].history


def test_raw_features_skip_training():
    outcomes, facts = experiment.run_experiment(make_config("features=raw"))
    assert facts["n_params"] == 0
    assert "train/recon_loss" not in outcomes[0].metrics
    assert outcomes[0].metrics["test/auprc"] > 0.9


def test_replicas_give_one_outcome_each():
    outcomes, _ = experiment.run_experiment(make_config(*FAST, "train.n_seeds=2"))
    assert [o.replica for o in outcomes] == [0, 1]
    assert (
        outcomes[0].metrics["train/recon_loss"]
        != outcomes[1].metrics["train/recon_loss"]
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("features.name=pixels", "unknown features='pixels'"),
        ("model.latent_dim=0", "model.latent_dim=0 must be an integer >= 1"),
        ("train.epochs=0", "train.epochs=0"),
        ("scaler=robust", "robust"),
        ("labels.budget=5000", "5000"),
        ("ae.fit_on=abnormal", "abnormal"),
        ("seed=-1", "seed=-1 must be an integer >= 0"),
    ],
)
def test_bad_config_raises_before_training(override, message, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(Trainer, "fit", no_training)
    with pytest.raises(ValueError, match=message):
        experiment.run_experiment(make_config(override))


def run_script(*args, cwd=REPO, env=None):
    return subprocess.run(
        [sys.executable, "scripts/run.py", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def read_records(sweep_dir):
    """Return the records under `sweep_dir` in job order (replicas in order)."""
    paths = sorted(
        Path(sweep_dir).rglob("record.json"),
        key=lambda p: [
            int(part.removeprefix("replica_"))
            for part in p.relative_to(sweep_dir).parts[:-1]
        ],
    )
    return [json.loads(p.read_text()) for p in paths]


def table_rows(markdown):
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    return lines[2:]  # header and separator first


@pytest.mark.slow
def test_multirun_writes_records_and_table(tmp_path):
    sweep = tmp_path / "sweep"
    result = run_script(
        "-m", "model=ae,dae,vae", "seed=0,1", *FAST, f"hydra.sweep.dir={sweep}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = read_records(sweep)
    assert len(records) == 6
    assert {r["status"] for r in records} == {"ok"}
    assert sorted(r["config"]["model"]["name"] for r in records) == [
        "ae",
        "ae",
        "dae",
        "dae",
        "vae",
        "vae",
    ]
    record = records[0]
    for key in ("status", "error", "config", "metrics", "versions", "git_commit"):
        assert key in record
    for metric in ("test/auprc", "val/auprc", "train/recon_loss", "time/compile"):
        assert isinstance(record["metrics"][metric], float), metric
    assert record["versions"]["jax"]
    markdown = (sweep / "table.md").read_text()
    rows = table_rows(markdown)
    assert len(rows) == 3
    assert [row.split("|")[1].strip() for row in rows] == ["ae", "dae", "vae"]
    assert (sweep / "table.csv").exists()
    assert "| model" in result.stdout
    # Jobs run in the order ae/0, ae/1, dae/0, ...: each model's second seed reuses
    # the first seed's executables, so it neither traces nor compiles.
    for first, second in ((0, 1), (2, 3), (4, 5)):
        assert records[second]["traces"] == records[first]["traces"]
        assert records[first]["metrics"]["compile/executables"] > 0
        assert records[second]["metrics"]["compile/executables"] == 0
    assert records[2]["traces"]["epoch"] == records[0]["traces"]["epoch"] + 1


@pytest.mark.slow
def test_failed_job_recorded_and_sweep_goes_on(tmp_path):
    sweep = tmp_path / "sweep"
    result = run_script(
        "-m", "labels.budget=20,100000", *FAST, f"hydra.sweep.dir={sweep}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = {r["config"]["labels"]["budget"]: r for r in read_records(sweep)}
    assert records[20]["status"] == "ok"
    assert records[100000]["status"] == "failed"
    assert "100000" in records[100000]["error"]
    assert "failed" in (sweep / "table.md").read_text()


def test_single_run_failure_exits_nonzero(tmp_path):
    result = run_script("model=convae", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 1
    assert "Available options in 'model'" in result.stderr
    result = run_script("model.latent_dim=0", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 1
    assert "model.latent_dim=0 must be an integer >= 1" in result.stdout + result.stderr
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["status"] == "failed"


@pytest.mark.slow
def test_creditcard_csv_end_to_end(tmp_path):
    path = os.environ.get("CREDITCARD_CSV")
    if not path:
        pytest.skip("set CREDITCARD_CSV=../shared/data/creditcard_sample.csv to run")
    sweep = tmp_path / "sweep"
    result = run_script(
        "-m",
        "dataset=creditcard",
        f"dataset.path={path}",
        "model=ae,dae,vae",
        "seed=0,1",
        "ae.fit_on=normal",
        *FAST,
        f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = read_records(sweep)
    assert len(records) == 6
    assert {r["status"] for r in records} == {"ok"}
    assert records[0]["data"]["rows"]["train"] > 2000
    assert len(table_rows((sweep / "table.md").read_text())) == 3


@pytest.mark.slow
def test_replicas_table_matches_seed_sweep(tmp_path):
    by_seed, by_replica = tmp_path / "seeds", tmp_path / "replicas"
    common = ["-m", "model=ae,vae", *FAST]
    result = run_script(*common, "seed=0,1,2", f"hydra.sweep.dir={by_seed}")
    assert result.returncode == 0, result.stderr[-3000:]
    result = run_script(
        *common, "seed=0", "train.n_seeds=3", f"hydra.sweep.dir={by_replica}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(read_records(by_replica)) == 6
    seed_rows = table_rows((by_seed / "table.md").read_text())
    replica_rows = table_rows((by_replica / "table.md").read_text())
    assert len(seed_rows) == len(replica_rows) == 2
    for seed_row, replica_row in zip(seed_rows, replica_rows, strict=True):
        seed_cells = [c.strip() for c in seed_row.split("|")]
        replica_cells = [c.strip() for c in replica_row.split("|")]
        assert seed_cells[:4] == replica_cells[:4]  # model, seeds=3, failed=0
    metrics = [r["metrics"]["test/auprc"] for r in read_records(by_replica)]
    assert len(set(metrics[:3])) > 1  # replicas are different models


@pytest.mark.slow
def test_compile_cache_shared_between_processes(tmp_path):
    cache = tmp_path / "xla-cache"
    hits = []
    for attempt in range(2):
        run_dir = tmp_path / f"run{attempt}"
        result = run_script(
            *FAST, f"train.compile_cache_dir={cache}", f"hydra.run.dir={run_dir}"
        )
        assert result.returncode == 0, result.stderr[-3000:]
        record = json.loads((run_dir / "record.json").read_text())
        hits.append(record["metrics"]["compile/cache_hits"])
    assert any(cache.iterdir())
    assert hits[0] == 0
    assert hits[1] > 0


@pytest.mark.slow
def test_bench_script_writes_report(tmp_path):
    out = tmp_path / "bench.md"
    result = subprocess.run(
        [sys.executable, "scripts/bench_train.py", "--rows", "3000", "--reps", "1",
         "--seeds", "2", "--skip-sweep", "--skip-scale", "--no-torch", "--out", out],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    assert "## Speed: the reference fraud network" in text
    assert "## Speed: the default model=ae" in text
    for variant in ("(a) project loop", "(b) per-step loop", "(c) project loop"):
        assert text.count(f"| {variant}") == 2, variant
    assert "GFLOP/s" in text
