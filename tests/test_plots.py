"""Tests of the figure data (research/plot_data.py), the figures and plot scripts."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf
from sklearn.metrics import average_precision_score

import research.experiment as experiment
from research.plot_data import (
    ARRAYS_NAME,
    RECALL_GRID,
    load_arrays,
    mean_history,
    mean_pr_curve,
    parse_where,
    pr_curve,
    run_arrays,
    save_arrays,
    save_run_outputs,
    select_runs,
    subsample_rows,
)
from research.plots import (
    loss_figure,
    pr_figure,
    save_figure,
    sweep_figure,
    tsne_embedding,
    tsne_figure,
)
from research.stats import summarize
from tests.conftest import FAST, make_config

REPO_ROOT = Path(__file__).resolve().parent.parent
# Few t-SNE iterations keep the figures fast; 250 is scikit-learn's minimum.
FAST_TSNE = {"max_iter": 250}


def labelled_rows(n_negative: int, n_positive: int, seed: int = 0):
    """Return (rows, labels): two Gaussian blobs in 6-D, positives shifted by 3."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.zeros(n_negative, int), np.ones(n_positive, int)]
    rows = rng.normal(size=(len(labels), 6)) + 3.0 * labels[:, None]
    return rows.astype(np.float32), labels


def test_subsample_keeps_all_positives() -> None:
    labels = np.r_[np.zeros(500, int), np.ones(7, int)]
    rows = subsample_rows(labels, 50, seed=0)
    assert len(rows) == 57
    assert np.all(np.diff(rows) > 0)
    assert set(np.flatnonzero(labels == 1)) <= set(rows)
    np.testing.assert_array_equal(rows, subsample_rows(labels, 50, seed=0))
    assert not np.array_equal(rows, subsample_rows(labels, 50, seed=1))
    assert len(subsample_rows(labels, 5000)) == 507


def test_arrays_round_trip(tmp_path: Path) -> None:
    rows, labels = labelled_rows(300, 20)
    scores = rows[:, 0].astype(np.float64)
    arrays = run_arrays(labels, scores, rows, rows[:, :2], "latent", n_negatives=100)
    path = save_arrays(tmp_path, arrays)
    assert path == tmp_path / ARRAYS_NAME
    loaded = load_arrays(tmp_path)
    assert sorted(loaded) == sorted(arrays)
    assert len(loaded["test_labels"]) == 320
    np.testing.assert_array_equal(loaded["test_scores"], scores)
    assert loaded["sample_raw"].shape == (120, 6)
    assert loaded["sample_features"].shape == (120, 2)
    assert str(loaded["features_name"]) == "latent"
    assert [p.name for p in tmp_path.iterdir()] == [ARRAYS_NAME]


def test_load_arrays_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="arrays.npz not found"):
        load_arrays(tmp_path)


def test_pr_curve_by_hand() -> None:
    # Ranked by score: positive, negative, positive, negative.
    labels = np.array([1, 0, 1, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.1])
    curve = pr_curve(labels, scores)
    # Recall 0.5 at precision 1 (top 1), recall 1 at precision 2/3 (top 3); the
    # interpolated precision is the best precision at a recall >= r.
    assert curve[0] == pytest.approx(1.0)
    assert curve[np.searchsorted(RECALL_GRID, 0.5)] == pytest.approx(1.0)
    assert curve[np.searchsorted(RECALL_GRID, 0.6)] == pytest.approx(2 / 3)
    assert curve[-1] == pytest.approx(2 / 3)


def test_mean_pr_curve_average_precision() -> None:
    runs = []
    for seed in range(3):
        rows, labels = labelled_rows(100, 10, seed)
        runs.append((labels, rows[:, 0]))
    mean, std, aps = mean_pr_curve(runs)
    assert mean.shape == std.shape == RECALL_GRID.shape
    expected = [average_precision_score(labels, scores) for labels, scores in runs]
    assert aps == pytest.approx(expected)
    assert np.all((mean >= 0) & (mean <= 1))


def test_mean_history_unequal_lengths() -> None:
    epochs, mean, std = mean_history([[4.0, 2.0, 1.0], [2.0, None], [6.0]])
    np.testing.assert_array_equal(epochs, [1, 2, 3])
    np.testing.assert_allclose(mean, [4.0, 2.0, 1.0])
    # Epoch 1: values 4, 2, 6 -> population std sqrt(8/3); later epochs one value.
    np.testing.assert_allclose(std, [np.sqrt(8 / 3), 0.0, 0.0])


def test_tsne_embedding_shapes() -> None:
    rows, _ = labelled_rows(40, 5)
    points = tsne_embedding(rows, max_iter=250)
    assert points.shape == (45, 2)
    np.testing.assert_allclose(points, tsne_embedding(rows, max_iter=250))
    one_column = tsne_embedding(rows[:, :1], max_iter=250)
    assert one_column.shape == (45, 2)
    with pytest.raises(ValueError, match="at least 4 rows"):
        tsne_embedding(rows[:3])


def test_tsne_figure_panels(tmp_path: Path) -> None:
    rows, labels = labelled_rows(200, 20)
    figure = tsne_figure(rows, rows[:, :3], labels, "latent", **FAST_TSNE)
    visible = [ax for ax in figure.axes if ax.axison]
    assert [ax.get_title() for ax in visible] == [
        "Raw input (scaled)",
        "latent features",
    ]
    raw_only = tsne_figure(rows, rows, labels, "raw", **FAST_TSNE)
    assert len([ax for ax in raw_only.axes if ax.axison]) == 1
    png, pdf = save_figure(figure, tmp_path / "tsne.png")
    assert (png.name, pdf.name) == ("tsne.png", "tsne.pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_pdf_has_no_date_and_repeats(tmp_path: Path) -> None:
    figure = sweep_figure({"AE": [("2", summarize([0.5, 0.6]))]}, "x", "y")
    first = save_figure(figure, tmp_path / "a")[1].read_bytes()
    second = save_figure(figure, tmp_path / "b")[1].read_bytes()
    assert b"CreationDate" not in first
    assert first == second
    # TrueType (Type 42) fonts, not Type 3, which publishers reject.
    assert b"/Type3" not in first


def test_pr_figure_legend() -> None:
    runs = [labelled_rows(100, 10, seed) for seed in range(2)]
    groups = {"AE": [(labels, rows[:, 0]) for rows, labels in runs]}
    figure = pr_figure(groups)
    ax = figure.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert len(labels) == 1
    assert labels[0].startswith("AE (AP 0.")
    assert " ± " in labels[0]
    assert ax.get_xlabel() == "Recall"


def test_loss_figure_panels() -> None:
    histories = [
        {"train/loss": [3.0, 2.0, 1.5], "val/recon_loss": [2.5, 2.0]},
        {"train/loss": [3.2, 2.1], "val/recon_loss": [2.4, 2.2]},
    ]
    figure = loss_figure(
        {"AE": histories},
        keys=("train/loss", "val/recon_loss"),
        titles=["Training", "Validation"],
    )
    assert [ax.get_title() for ax in figure.axes] == ["Training", "Validation"]
    line = figure.axes[0].get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), [3.1, 2.05, 1.5])


def test_sweep_figure_numeric_and_text_axes() -> None:
    lines = {
        "AE": [("8", summarize([0.8, 0.9])), ("2", summarize([0.5, 0.7]))],
        "VAE": [("2", summarize([0.6])), ("8", summarize([]))],
    }
    figure = sweep_figure(lines, "Latent size", "AUPRC", log_x=True)
    ax = figure.axes[0]
    ae, vae = ax.get_lines()
    np.testing.assert_allclose(ae.get_xdata(), [2.0, 8.0])
    np.testing.assert_allclose(ae.get_ydata(), [0.6, 0.85])
    np.testing.assert_allclose(vae.get_xdata(), [2.0])
    assert ax.get_xscale() == "log"
    budgets = {"AE": [("10", summarize([0.5])), ("all", summarize([0.9]))]}
    text_axis = sweep_figure(budgets, "Labels", "AUPRC").axes[0]
    assert [t.get_text() for t in text_axis.get_xticklabels()] == ["10", "all"]


def test_parse_where() -> None:
    assert parse_where(["model=ae,seed=0", "features=raw"]) == {
        "model": "ae",
        "seed": "0",
        "features": "raw",
    }
    with pytest.raises(ValueError, match="must be KEY=VALUE"):
        parse_where(["model"])


def write_run(directory: Path, model: str, seed: int, latent_dim: int) -> None:
    """Write a record and arrays.npz as a finished run of the pipeline would."""
    rows, labels = labelled_rows(150, 15, seed)
    scores = rows[:, 0] + (0.5 if model == "vae" else 0.0) * rows[:, 1]
    arrays = run_arrays(labels, scores, rows, rows[:, :2], "latent", n_negatives=60)
    directory.mkdir(parents=True)
    save_arrays(directory, arrays)
    record = {
        "status": "ok",
        "config": {"seed": seed, "model": {"name": model, "latent_dim": latent_dim}},
        "overrides": [
            f"model={model}",
            f"model.latent_dim={latent_dim}",
            f"seed={seed}",
        ],
        "metrics": {
            "test/auprc": float(average_precision_score(labels, scores)),
            "time/total": 1.0,
        },
        "history": {
            "train/loss": [2.0 - 0.1 * e - 0.01 * seed for e in range(5 + seed)],
            "val/recon_loss": [1.5 - 0.1 * e for e in range(5 + seed)],
        },
    }
    (directory / "record.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture
def plot_sweep(tmp_path: Path) -> Path:
    sweep = tmp_path / "sweep"
    job = 0
    for model in ("ae", "vae"):
        for latent_dim in (2, 8):
            for seed in (0, 1):
                write_run(sweep / str(job), model, seed, latent_dim)
                job += 1
    return sweep


def test_select_runs_filters(plot_sweep: Path) -> None:
    runs = select_runs([plot_sweep], {"model": "vae", "model.latent_dim": "8"})
    assert [path.parent.name for path, _ in runs] == ["6", "7"]
    with pytest.raises(ValueError, match="no ok run among 8 records matches"):
        select_runs([plot_sweep], {"model": "dae"})


def run_plot_script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / name), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_script_tsne(plot_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "figures" / "tsne_vae"
    result = run_plot_script(
        "plot_tsne.py",
        str(plot_sweep),
        "--where",
        "model=vae,model.latent_dim=8,seed=1",
        "--max-iter",
        "250",
        "--negatives",
        "30",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert f"t-SNE of {plot_sweep / '7'}" in result.stdout
    assert out.with_suffix(".png").stat().st_size > 0
    assert out.with_suffix(".pdf").stat().st_size > 0


def test_script_tsne_default_output(plot_sweep: Path) -> None:
    result = run_plot_script("plot_tsne.py", str(plot_sweep / "3"), "--max-iter", "250")
    assert result.returncode == 0, result.stderr
    assert (plot_sweep / "3" / "tsne.png").exists()
    assert (plot_sweep / "3" / "tsne.pdf").exists()


def test_script_pr_curves(plot_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "pr"
    result = run_plot_script(
        "plot_pr.py", str(plot_sweep), "--by", "model", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "Runs per line: AE: 4, VAE: 4." in result.stdout
    assert out.with_suffix(".png").exists()


def test_script_loss_curves(plot_sweep: Path) -> None:
    result = run_plot_script("plot_loss.py", str(plot_sweep), "--where", "seed=0")
    assert result.returncode == 0, result.stderr
    assert "4 runs in 4 lines." in result.stdout
    assert (plot_sweep / "loss_curves.pdf").exists()


def test_script_sweep_axis(plot_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "latent"
    result = run_plot_script(
        "plot_sweep.py",
        str(plot_sweep),
        "--x",
        "model.latent_dim",
        "--lines",
        "model",
        "--log-x",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "2 lines over 2 values of model.latent_dim." in result.stdout
    assert out.with_suffix(".png").exists()


def load_script(name: str):
    """Import scripts/NAME as a module, to call its main() in this process."""
    spec = importlib.util.spec_from_file_location(
        name[:-3], REPO_ROOT / "scripts" / name
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        ("plot_tsne.py", ["--where", "model=dae"], "no ok run among 8 records"),
        ("plot_pr.py", ["--where", "seed"], "must be KEY=VALUE"),
        ("plot_sweep.py", ["--x", "model.latnet_dim"], "column key 'model.latnet_dim'"),
        ("plot_loss.py", ["--names", "missing.yaml"], "names file not found"),
    ],
)
def test_scripts_reject_bad_input(
    plot_sweep: Path, capsys, script, args, message
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        load_script(script).main([str(plot_sweep), *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_script_tsne_without_arrays(tmp_path: Path) -> None:
    record = {"status": "ok", "overrides": ["seed=0"], "metrics": {}}
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "record.json").write_text(json.dumps(record), encoding="utf-8")
    result = run_plot_script("plot_tsne.py", str(tmp_path))
    assert result.returncode == 2
    assert "arrays.npz not found" in result.stderr


def test_save_run_outputs_options(tmp_path: Path) -> None:
    rows, labels = labelled_rows(100, 10)
    arrays = run_arrays(labels, rows[:, 0], rows, rows[:, :2], "latent")
    off = tmp_path / "off"
    off.mkdir()
    save_run_outputs(off, arrays, OmegaConf.create({"arrays": False, "tsne": True}))
    assert list(off.iterdir()) == []
    on = tmp_path / "on"
    on.mkdir()
    save_run_outputs(on, arrays, OmegaConf.create({"arrays": True, "tsne": True}))
    assert sorted(p.name for p in on.iterdir()) == [
        ARRAYS_NAME,
        "tsne.pdf",
        "tsne.png",
    ]


def test_experiment_returns_figure_arrays() -> None:
    cfg = make_config(*FAST, "plots.tsne_negatives=20")
    outcomes, _ = experiment.run_experiment(cfg)
    data = experiment.prepare_data(cfg)
    arrays = outcomes[0].arrays
    np.testing.assert_array_equal(arrays["test_labels"], data.y["test"])
    assert arrays["test_scores"].shape == data.y["test"].shape
    n_positive = int(data.y["test"].sum())
    assert len(arrays["sample_rows"]) == n_positive + 20
    np.testing.assert_allclose(
        arrays["sample_raw"], data.x["test"][arrays["sample_rows"]]
    )
    assert arrays["sample_features"].shape[1] == cfg.model.latent_dim
    auprc = average_precision_score(arrays["test_labels"], arrays["test_scores"])
    assert auprc == pytest.approx(outcomes[0].metrics["test/auprc"])


def test_experiment_arrays_recon_error_scores() -> None:
    cfg = make_config(*FAST, "classifier=none")
    outcomes, _ = experiment.run_experiment(cfg)
    arrays = outcomes[0].arrays
    assert str(arrays["features_name"]) == "latent"
    assert arrays["sample_features"].shape[1] == cfg.model.latent_dim
    auprc = average_precision_score(arrays["test_labels"], arrays["test_scores"])
    assert auprc == pytest.approx(outcomes[0].metrics["test/auprc"])


def test_experiment_arrays_off() -> None:
    outcomes, _ = experiment.run_experiment(make_config(*FAST, "plots.arrays=false"))
    assert outcomes[0].arrays == {}


@pytest.mark.slow
def test_run_writes_arrays_and_tsne(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "scripts/run.py",
            *FAST,
            "plots.tsne=true",
            f"hydra.run.dir={tmp_path}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("record.json", ARRAYS_NAME, "tsne.png", "tsne.pdf"):
        assert (tmp_path / name).exists(), name
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["hardware"]["cpu_count"] >= 1
    log = (tmp_path / "run.log").read_text()
    assert "run started:" in log
    assert "run done in" in log
    assert "glyph" not in log.lower()
