"""Tests of the run records, the sweep table, its callback and scripts/make_table.py."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from research.callbacks import (
    BASIC_SWEEPER,
    N_JOBS_ENV,
    WriteTableCallback,
    count_sweep_jobs,
    job_label,
)
from research.records import (
    find_records,
    hardware_text,
    is_unused,
    load_records,
    read_record,
    write_record,
    write_text_atomic,
)
from research.stats import (
    BOOTSTRAP_RESAMPLES,
    bootstrap_p,
    ci_halfwidth,
    min_wilcoxon_pairs,
    paired_test,
)
from research.table_baseline import Baseline
from research.table_csv import compute_seconds, footer_line, format_runs_csv
from research.table_latex import format_latex
from research.table_style import DisplayNames, TableStyle, load_display_names
from research.tables import (
    Cell,
    Table,
    build_table,
    format_csv,
    format_markdown,
    write_table,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = REPO_ROOT / "scripts" / "make_table.py"
METRICS = ["test/auprc", "test/roc_auc", "test/f1"]

# Two models x three seeds, each (model, seed, latent_dim, auprc, roc_auc, f1), plus
# one failed vae run. The failed run has an auprc of 0.1 that must not be averaged in.
OK_RUNS = [
    ("ae", 0, 8, 0.5, 0.8, 0.4),
    ("ae", 1, 8, 0.6, 0.9, None),
    ("ae", 2, 8, 0.7, 1.0, 0.6),
    ("vae", 0, 16, 0.9, 0.7, 0.2),
    ("vae", 1, 16, 0.9, 0.8, 0.3),
    ("vae", 2, 16, 0.9, 0.9, 0.4),
]
FAILED_ERROR = "ValueError: latent collapsed"


def make_record(
    model: str, seed: int, latent_dim: int, metrics: dict, status: str = "ok"
) -> dict:
    return {
        "status": status,
        "error": FAILED_ERROR if status == "failed" else None,
        "config": {
            "seed": seed,
            "model": {"name": model, "latent_dim": latent_dim},
            "dataset": {"name": "breast_cancer"},
        },
        "overrides": [
            f"model={model}",
            "+train.epochs=5",
            "hydra.launcher.n_jobs=2",
            f"seed={seed}",
        ],
        "metrics": metrics,
        "job": {"num": 0},
    }


def write_by_hand(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2), encoding="utf-8")


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    sweep = tmp_path / "sweep"
    for job, (model, seed, latent_dim, auprc, roc_auc, f1) in enumerate(OK_RUNS):
        metrics = {"test/auprc": auprc, "test/roc_auc": roc_auc, "test/f1": f1}
        record = make_record(model, seed, latent_dim, metrics)
        write_by_hand(sweep / str(job) / "record.json", record)
    failed = make_record("vae", 3, 16, {"test/auprc": 0.1}, status="failed")
    write_by_hand(sweep / "6" / "record.json", failed)
    return sweep


def markdown_rows(text: str) -> dict[str, list[str]]:
    """Map the first cell of each Markdown table line to all of its cells."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_build_table_rows_and_counts(sweep_dir: Path) -> None:
    table = build_table(load_records([sweep_dir]), metrics=METRICS)
    assert table.row_keys == ("model",)
    assert [row.values for row in table.rows] == [("ae",), ("vae",)]
    assert [row.seeds for row in table.rows] == [3, 3]
    assert [row.failed for row in table.rows] == [0, 1]
    assert table.n_ok == 6
    assert table.n_failed == 1


def test_markdown_mean_and_std_cells(sweep_dir: Path) -> None:
    text = format_markdown(build_table(load_records([sweep_dir]), metrics=METRICS))
    rows = markdown_rows(text)
    assert rows["model"] == ["model", "seeds", "failed", *METRICS]
    # The best mean of each column is bold: vae for auprc, ae for roc_auc and f1.
    assert rows["ae"][1:5] == ["3", "0", "0.600 ± 0.100", "**0.900 ± 0.100**"]
    assert rows["vae"][1:6] == [
        "3",
        "1",
        "**0.900 ± 0.000**",
        "0.800 ± 0.100",
        "0.300 ± 0.100",
    ]


def test_markdown_header_line(sweep_dir: Path) -> None:
    text = format_markdown(build_table(load_records([sweep_dir]), metrics=METRICS))
    first_line = text.splitlines()[0]
    assert first_line == (
        "7 records: 6 ok, 1 failed. Metrics: test/auprc, test/roc_auc, test/f1."
    )


def test_null_metric_shows_count(sweep_dir: Path) -> None:
    table = build_table(load_records([sweep_dir]), metrics=METRICS)
    rows = markdown_rows(format_markdown(table))
    assert rows["ae"][5] == "**0.500 ± 0.141** (n=2)"
    assert table.rows[0].metrics["test/f1"].n == 2


def test_failed_run_listed_not_averaged(sweep_dir: Path) -> None:
    text = format_markdown(build_table(load_records([sweep_dir]), metrics=METRICS))
    failed_lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert failed_lines == [
        f"- {sweep_dir / '6'} (model=vae, seed=3): {FAILED_ERROR}",
    ]
    assert markdown_rows(text)["vae"][3] == "**0.900 ± 0.000**"


def test_single_run_cell_has_no_std(tmp_path: Path) -> None:
    write_by_hand(
        tmp_path / "0" / "record.json",
        make_record("ae", 0, 8, {"test/auprc": 0.9124}),
    )
    records = load_records([tmp_path])
    table = build_table(records, rows=["model"], metrics=["test/auprc"])
    assert markdown_rows(format_markdown(table))["ae"][3] == "0.912"
    assert csv_rows(format_csv(table))[0]["test/auprc_std"] == ""


def test_csv_parses_with_numbers(sweep_dir: Path) -> None:
    table = build_table(load_records([sweep_dir]), metrics=METRICS)
    ae, vae = csv_rows(format_csv(table))
    assert ae["model"] == "ae"
    assert math.isclose(float(ae["test/auprc_mean"]), 0.6)
    assert math.isclose(float(ae["test/auprc_std"]), 0.1)
    assert ae["test/auprc_n"] == "3"
    assert ae["test/f1_n"] == "2"
    assert math.isclose(float(ae["test/f1_std"]), math.sqrt(0.02))
    assert vae["seeds"] == "3"
    assert vae["failed"] == "1"
    assert math.isclose(float(vae["test/auprc_mean"]), 0.9)


def test_metric_missing_everywhere(sweep_dir: Path) -> None:
    table = build_table(load_records([sweep_dir]), metrics=["test/auprcc"])
    text = format_markdown(table)
    assert markdown_rows(text)["ae"][3] == "—"
    assert "Metric 'test/auprcc' is missing or null in every ok run." in text
    assert csv_rows(format_csv(table))[0]["test/auprcc_mean"] == ""


def test_write_record_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    record = {
        "status": "ok",
        "metrics": {"a": float("nan"), "b": float("inf"), "c": np.float32(0.5)},
        "list": [float("-inf"), 1.0],
    }
    write_record(path, record)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text
    assert "Infinity" not in text
    loaded = json.loads(text, parse_constant=lambda name: pytest.fail(name))
    assert loaded["metrics"] == {"a": None, "b": None, "c": 0.5}
    assert loaded["list"] == [None, 1.0]
    assert read_record(path) == loaded
    assert os.listdir(tmp_path) == ["record.json"]


def test_atomic_write_failure_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "table.md"
    target.mkdir()
    with pytest.raises(OSError):
        write_text_atomic(target, "text")
    assert os.listdir(tmp_path) == ["table.md"]


def test_find_records_natural_order(tmp_path: Path) -> None:
    for job in ["10", "2", "1", "b", "a"]:
        write_by_hand(tmp_path / job / "record.json", {"status": "ok"})
    found = [path.parent.name for path in find_records(tmp_path)]
    assert found == ["1", "2", "10", "a", "b"]


def test_rows_in_sweep_order(tmp_path: Path) -> None:
    for job, model in enumerate(["vae", "ae", "vae", "ae", "mlp"] + ["ae"] * 6):
        write_by_hand(
            tmp_path / str(job) / "record.json",
            make_record(model, job, 8, {"test/auprc": 0.5}),
        )
    table = build_table(load_records([tmp_path]), metrics=["test/auprc"])
    assert [row.values for row in table.rows] == [("vae",), ("ae",), ("mlp",)]
    assert [row.seeds for row in table.rows] == [2, 8, 1]


def test_rows_by_dotted_config_path(sweep_dir: Path) -> None:
    records = load_records([sweep_dir])
    by_latent = build_table(records, rows=["model.latent_dim"], metrics=METRICS)
    assert [row.values for row in by_latent.rows] == [("8",), ("16",)]
    both = build_table(records, rows=["model", "model.latent_dim"], metrics=METRICS)
    assert [row.values for row in both.rows] == [("ae", "8"), ("vae", "16")]
    by_dataset = build_table(records, rows=["dataset"], metrics=METRICS)
    assert [row.values for row in by_dataset.rows] == [("breast_cancer",)]
    assert by_dataset.rows[0].seeds == 6
    assert by_dataset.rows[0].failed == 1


def test_rows_missing_key_shows_dash(sweep_dir: Path) -> None:
    table = build_table(load_records([sweep_dir]), rows=["train.lr"], metrics=METRICS)
    assert [row.values for row in table.rows] == [("—",)]
    assert "Row key 'train.lr' was not found in any record." in table.notes


def test_default_rows_without_varying_keys(tmp_path: Path) -> None:
    for job in range(2):
        write_by_hand(
            tmp_path / "a" / str(job) / "record.json",
            make_record("ae", job, 8, {"test/auprc": 0.5}),
        )
    table = build_table(load_records([tmp_path / "a"]), metrics=["test/auprc"])
    assert table.row_keys == ("model", "train.epochs")
    assert [row.values for row in table.rows] == [("ae", "5")]


def test_default_rows_without_overrides(tmp_path: Path) -> None:
    for job in range(2):
        record = {"status": "ok", "overrides": [f"seed={job}"], "metrics": {}}
        write_by_hand(tmp_path / str(job) / "record.json", record)
    table = build_table(load_records([tmp_path]), metrics=["test/auprc"])
    assert table.row_keys == ()
    assert markdown_rows(format_markdown(table))["all runs"][1] == "2"
    assert csv_rows(format_csv(table))[0]["row"] == "all runs"


def test_unreadable_record_counts_as_failed(tmp_path: Path) -> None:
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "record.json").write_text("{not json", encoding="utf-8")
    table = build_table(load_records([tmp_path]), rows=[], metrics=["test/auprc"])
    assert table.n_ok == 0
    assert table.n_failed == 1
    assert table.failed_runs[0].error.startswith("unreadable record.json:")


def test_write_table_to_out_dir(sweep_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out" / "nested"
    write_table(sweep_dir, metrics=METRICS, out_dir=out_dir)
    files = ["table.csv", "table.md", "table_summary.csv"]
    assert sorted(os.listdir(out_dir)) == files
    assert not (sweep_dir / "table.md").exists()


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_script_writes_table(sweep_dir: Path) -> None:
    result = run_script(str(sweep_dir))
    assert result.returncode == 0, result.stderr
    assert "0.600 ± 0.100" in result.stdout
    assert "0.600 ± 0.100" in (sweep_dir / "table.md").read_text(encoding="utf-8")
    assert (sweep_dir / "table.csv").exists()


def test_script_rows_and_metrics(sweep_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    args = ["--rows", "model.latent_dim", "--metrics", "test/f1", "--out", out_dir]
    result = run_script(str(sweep_dir), *map(str, args))
    assert result.returncode == 0, result.stderr
    rows = csv_rows((out_dir / "table_summary.csv").read_text(encoding="utf-8"))
    assert [row["model.latent_dim"] for row in rows] == ["8", "16"]
    columns = ["seeds", "failed", "test/f1_mean", "test/f1_std", "test/f1_n"]
    assert list(rows[0]) == ["model.latent_dim", *columns]


def test_script_missing_dir_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_sweep"
    result = run_script(str(missing))
    assert result.returncode == 2
    assert f"sweep directory not found: {missing}" in result.stderr


def test_script_dir_without_records(sweep_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_script(str(sweep_dir), str(empty))
    assert result.returncode == 2
    assert f"no record.json found under {empty}" in result.stderr
    assert not (sweep_dir / "table.md").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rows", "modle"], "row key 'modle' is in no record; use an override key"),
        (["--metrics", "test/auprcc"], "metric 'test/auprcc' is in no record"),
    ],
)
def test_script_rejects_unknown_names(sweep_dir: Path, args, message) -> None:
    result = run_script(str(sweep_dir), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "test/auprc" in result.stderr or "model" in result.stderr
    assert not (sweep_dir / "table.md").exists()


def test_same_seed_in_row_counted_once(tmp_path: Path) -> None:
    # features=raw ignores the model, so a sweep over model repeats the raw runs.
    for job, (model, features, seed, auprc) in enumerate(
        [
            ("ae", "latent", 0, 0.5),
            ("ae", "raw", 0, 0.9),
            ("vae", "latent", 0, 0.4),
            ("vae", "raw", 0, 0.9),
            ("ae", "raw", 1, 0.7),
            ("vae", "raw", 1, 0.7),
        ]
    ):
        record = make_record(model, seed, 8, {"test/auprc": auprc})
        record["overrides"] = [f"model={model}", f"features={features}", f"seed={seed}"]
        record["unused"] = ["model"] if features == "raw" else []
        write_by_hand(tmp_path / str(job) / "record.json", record)
    table = build_table(load_records([tmp_path]), metrics=["test/auprc"])
    assert table.row_keys == ("model", "features")
    rows = {row.values: row for row in table.rows}
    assert set(rows) == {("ae", "latent"), ("none", "raw"), ("vae", "latent")}
    assert rows[("none", "raw")].seeds == 2
    assert rows[("none", "raw")].metrics["test/auprc"].mean == pytest.approx(0.8)
    assert "2 runs repeated the config and seed of another run" in table.notes[-1]


def test_constant_key_not_a_column_for_unused(tmp_path: Path) -> None:
    for job, features in enumerate(["latent", "raw"]):
        record = make_record("ae", 0, 8, {"test/auprc": 0.5})
        record["overrides"] = [f"features={features}", "train.epochs=5", "seed=0"]
        record["unused"] = ["train"] if features == "raw" else []
        write_by_hand(tmp_path / str(job) / "record.json", record)
    table = build_table(load_records([tmp_path]), metrics=["test/auprc"])
    assert table.row_keys == ("features",)


def test_callback_writes_table(sweep_dir: Path, capsys) -> None:
    config = OmegaConf.create(
        {"hydra": {"sweep": {"dir": str(sweep_dir)}}, "table": {"metrics": METRICS}}
    )
    WriteTableCallback().on_multirun_end(config)
    files = ["table.csv", "table.md", "table_summary.csv"]
    assert sorted(os.listdir(sweep_dir))[-3:] == files
    assert "**0.500 ± 0.141** (n=2)" in capsys.readouterr().out


def test_callback_default_metrics(sweep_dir: Path) -> None:
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep_dir)}}})
    WriteTableCallback().on_multirun_end(config)
    summary = sweep_dir / "table_summary.csv"
    header = csv_rows(summary.read_text(encoding="utf-8"))[0]
    assert "test/roc_auc_mean" in header


def test_callback_without_records(tmp_path: Path, capsys) -> None:
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path)}}})
    WriteTableCallback().on_multirun_end(config)
    output = capsys.readouterr().out
    assert f"No table written for sweep {tmp_path}" in output
    assert "no record.json found" in output


def test_callback_logs_instead_of_raising(tmp_path: Path, caplog) -> None:
    # An interpolation without a registered resolver raises when it is read.
    config = OmegaConf.create({"hydra": {"sweep": {"dir": "${no_such_resolver:x}"}}})
    with caplog.at_level(logging.ERROR, logger="research.callbacks"):
        WriteTableCallback().on_multirun_end(config)
    assert "Failed to write the table" in caplog.text


APP = """
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from research.callbacks import job_label
from research.records import write_record


@hydra.main(version_base=None, config_path=".", config_name="app")
def main(cfg):
    hydra_config = HydraConfig.get()
    print(job_label(hydra_config.job.num), "started")
    record = {
        "status": "ok",
        "error": None,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "overrides": list(hydra_config.overrides.task),
        "metrics": {"test/auprc": 0.5 + 0.1 * cfg.seed},
    }
    write_record(Path(hydra_config.runtime.output_dir) / "record.json", record)


main()
"""

APP_CONFIG = """
seed: 0
model: {name: ae}
table: {metrics: [test/auprc]}
hydra:
  sweep:
    dir: multirun/${now:%Y-%m-%d}/${now:%H-%M-%S}
  callbacks:
    table:
      _target_: research.callbacks.WriteTableCallback
"""


def test_hydra_multirun_writes_table(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    (tmp_path / "app.yaml").write_text(APP_CONFIG, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [sys.executable, "app.py", "-m", "seed=0,1,2", "model.name=ae,vae"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    tables = list((tmp_path / "multirun").glob("*/*/table.md"))
    assert len(tables) == 1
    rows = markdown_rows(tables[0].read_text(encoding="utf-8"))
    assert rows["ae"][1:4] == ["3", "0", "0.600 ± 0.100"]
    assert rows["vae"][1:4] == ["3", "0", "0.600 ± 0.100"]
    assert "0.600 ± 0.100" in result.stdout
    # The callback counted 3 seeds x 2 models before the jobs ran.
    assert "job 1/6 started" in result.stdout
    assert "job 6/6 started" in result.stdout


def test_callback_without_sweep_dir(caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="research.callbacks"):
        WriteTableCallback().on_multirun_end(OmegaConf.create({}))
    assert "the config has no hydra.sweep.dir" in caplog.text


def test_unused_group_shows_none(tmp_path: Path) -> None:
    latent = make_record("vae", 0, 8, {"test/auprc": 0.5})
    raw = make_record("ae", 0, 8, {"test/auprc": 0.4})
    raw["overrides"] = ["features=raw", "seed=0"]
    raw["unused"] = ["model", "train", "ae"]
    write_by_hand(tmp_path / "latent" / "0" / "record.json", latent)
    write_by_hand(tmp_path / "raw" / "0" / "record.json", raw)
    records = load_records([tmp_path / "latent", tmp_path / "raw"])
    table = build_table(records, rows=["model", "model.latent_dim"], metrics=METRICS)
    assert [row.values for row in table.rows] == [("vae", "8"), ("none", "none")]


# A grid of 2 models x 2 classifiers with latent features, plus the raw-feature
# baseline (which does not use the model), over 6 seeds. test/auprc by seed s:
GRID_AUPRC = {
    ("ae", "logreg"): lambda s: 0.80 + 0.01 * s,  # raw + 0.05 for every seed
    ("ae", "rf"): lambda s: 0.85 + 0.01 * s,  # raw - 0.025 + 0.01 s
    ("vae", "logreg"): lambda s: 0.705 + 0.02 * s,  # raw - 0.045 + 0.01 s
    ("vae", "rf"): lambda s: 0.90 - 0.01 * s,
    ("raw", "logreg"): lambda s: 0.75 + 0.01 * s,
    ("raw", "rf"): lambda s: 0.875,
}
GRID_SEEDS = range(6)


@pytest.fixture
def grid_dir(tmp_path: Path) -> Path:
    sweep = tmp_path / "grid"
    job = 0
    for (model, classifier), auprc in GRID_AUPRC.items():
        for seed in GRID_SEEDS:
            features = "raw" if model == "raw" else "latent"
            metrics = {
                "test/auprc": auprc(seed),
                "val/recon_loss": 0.5 if model == "ae" else 0.4,
                "time/total": 2.0,
            }
            record = make_record("ae" if model == "raw" else model, seed, 8, metrics)
            record["overrides"] = [
                f"model={record['config']['model']['name']}",
                f"features={features}",
                f"classifier={classifier}",
                f"seed={seed}",
            ]
            record["unused"] = ["model", "train", "ae"] if features == "raw" else []
            record["git_commit"] = "0123456789abcdef0123456789abcdef01234567"
            record["hardware"] = {
                "cpu": "Test CPU",
                "cpu_count": 2,
                "backend": "cpu",
                "devices": ["cpu"],
            }
            record["job"] = {"num": job, "output_dir": str(sweep / str(job))}
            write_by_hand(sweep / str(job) / "record.json", record)
            job += 1
    return sweep


def grid_table(grid_dir: Path, **options) -> Table:
    options.setdefault("rows", ["model"])
    options.setdefault("cols", ["features", "classifier"])
    options.setdefault("metrics", ["test/auprc"])
    return build_table(load_records([grid_dir]), **options)


def cell_of(table: Table, row: tuple, column: tuple) -> Cell:
    return {r.values: r for r in table.rows}[row].cells[column]


def test_columns_group_runs_by_key(grid_dir: Path) -> None:
    table = grid_table(grid_dir, fill=False)
    assert table.columns == [
        ("latent", "logreg"),
        ("latent", "rf"),
        ("raw", "logreg"),
        ("raw", "rf"),
    ]
    assert [row.values for row in table.rows] == [("ae",), ("vae",), ("none",)]
    ae_logreg = cell_of(table, ("ae",), ("latent", "logreg")).metrics["test/auprc"]
    # Seeds 0..5: mean 0.80 + 0.025, sample std 0.01 * sqrt(3.5).
    assert ae_logreg.mean == pytest.approx(0.825)
    assert ae_logreg.std == pytest.approx(0.01 * math.sqrt(3.5))
    assert ae_logreg.n == 6
    assert ("raw", "logreg") not in table.rows[0].cells
    assert table.n_ok == 36


def test_unused_runs_fill_matching_cells(grid_dir: Path) -> None:
    table = grid_table(grid_dir)
    # The raw runs (model "none") fill the raw columns of the ae and vae rows.
    assert [row.values for row in table.rows] == [("ae",), ("vae",)]
    raw_rf = cell_of(table, ("ae",), ("raw", "rf"))
    assert cell_of(table, ("vae",), ("raw", "rf")) is raw_rf
    assert raw_rf.metrics["test/auprc"].mean == pytest.approx(0.875)
    assert table.filled == 4
    assert table.n_ok == 36
    text = format_markdown(table)
    assert text.splitlines()[0].startswith("36 records: 36 ok, 0 failed.")
    assert "fill every matching cell" in text


def test_fill_keeps_cells_that_have_runs(sweep_dir: Path) -> None:
    # Without column keys every row has its one cell, so nothing is filled.
    table = build_table(load_records([sweep_dir]), metrics=METRICS)
    assert table.filled == 0


def test_column_layout_markdown(grid_dir: Path) -> None:
    table = grid_table(grid_dir, metrics=["test/auprc", "val/recon_loss"])
    lines = [line for line in format_markdown(table).splitlines() if "|" in line]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:3] == [
        "model",
        "latent, logreg: test/auprc",
        "latent, logreg: val/recon_loss",
    ]
    assert "seeds" not in header
    rows = markdown_rows(format_markdown(table))
    # Lower is better for a loss: vae's 0.4 is bold, ae's 0.5 is not.
    assert rows["ae"][2] == "0.500 ± 0.000"
    assert rows["vae"][2] == "**0.400 ± 0.000**"
    # In the raw columns both rows show the same runs: a tie, so nothing is bold.
    assert rows["ae"][5] == rows["vae"][5] == "0.775 ± 0.019"


def test_cells_with_ci_and_decimals(sweep_dir: Path) -> None:
    table = build_table(load_records([sweep_dir]), metrics=["test/auprc"])
    # ae: 0.5, 0.6, 0.7 -> std 0.1; t(0.975, 2) = 4.302653, 4.302653 * 0.1 / sqrt(3).
    style = TableStyle(errorbar="ci", decimals=4)
    rows = markdown_rows(format_markdown(table, style))
    assert rows["ae"][3] == "0.6000 ± 0.2484"
    assert ci_halfwidth(table.rows[0].metrics["test/auprc"]) == pytest.approx(
        4.302653 * 0.1 / math.sqrt(3), rel=1e-6
    )
    text = format_markdown(table, TableStyle(decimals=1))
    assert markdown_rows(text)["ae"][3] == "0.6 ± 0.1"


def test_cell_count_marks_differing_cells(sweep_dir: Path) -> None:
    table = build_table(
        load_records([sweep_dir]), rows=[], cols=["model"], metrics=["test/f1"]
    )
    rows = markdown_rows(format_markdown(table))
    # ae has f1 in 2 of 3 runs, vae in 3; the usual count is 3. A column of one
    # row has no best cell.
    assert rows["all runs"][1:] == ["0.500 ± 0.141 (n=2)", "0.300 ± 0.100"]
    text = format_markdown(table)
    assert "over 3 ok runs (seeds and replicas); (n=k) marks a cell over k runs" in text
    assert "Left out: 1 failed run and 1 undefined metric value (NaN or null)" in text


def test_all_failed_cell_is_dash(tmp_path: Path) -> None:
    ok = make_record("ae", 0, 8, {"test/auprc": 0.5})
    failed = make_record("vae", 0, 8, {}, status="failed")
    write_by_hand(tmp_path / "0" / "record.json", ok)
    write_by_hand(tmp_path / "1" / "record.json", failed)
    table = build_table(
        load_records([tmp_path]), rows=[], cols=["model"], metrics=["test/auprc"]
    )
    rows = markdown_rows(format_markdown(table))
    assert rows["all runs"][1:3] == ["0.500", "—"]
    assert "Left out: 1 failed run; — marks a cell with no value left." in (
        format_markdown(table)
    )
    assert r"all runs & 0.500 & --- \\" in format_latex(table)


def test_baseline_differences_and_wilcoxon(grid_dir: Path) -> None:
    baseline = Baseline.parse("features=raw")
    table = grid_table(grid_dir, baseline=baseline)
    ae_logreg = cell_of(table, ("ae",), ("latent", "logreg")).comparisons["test/auprc"]
    assert ae_logreg.difference == pytest.approx(0.05)
    assert ae_logreg.n == 6
    # 6 differences of one sign: the exact two-sided p-value is 2 / 2**6.
    assert ae_logreg.method == "wilcoxon"
    assert ae_logreg.p_value == pytest.approx(2 / 64)
    vae_logreg = cell_of(table, ("vae",), ("latent", "logreg")).comparisons
    # -0.045 + 0.01 s: five negative, one positive of rank 1, so P(W+ <= 1) = 2 / 64.
    assert vae_logreg["test/auprc"].difference == pytest.approx(-0.02)
    assert vae_logreg["test/auprc"].p_value == pytest.approx(4 / 64)
    assert cell_of(table, ("ae",), ("raw", "rf")).is_baseline
    rows = markdown_rows(format_markdown(table))
    assert rows["ae"][1] == "**0.825 ± 0.019** (+0.050†)"
    assert rows["vae"][1] == "0.755 ± 0.037 (-0.020)"
    # Both rows have a mean of 0.875 in the latent, rf column: a tie, nothing bold.
    assert rows["ae"][2] == "0.875 ± 0.019 (+0.000)"


def test_baseline_bootstrap_for_few_seeds(sweep_dir: Path) -> None:
    table = build_table(
        load_records([sweep_dir]),
        rows=["model"],
        metrics=["test/auprc", "test/f1"],
        baseline=Baseline.parse("model=ae"),
    )
    vae = table.rows[1].cells[()].comparisons
    # auprc: vae 0.9 per seed minus ae 0.5, 0.6, 0.7; all 3 differences positive.
    assert vae["test/auprc"].difference == pytest.approx(0.3)
    assert vae["test/auprc"].method == "bootstrap"
    assert vae["test/auprc"].p_value == pytest.approx(2 / (BOOTSTRAP_RESAMPLES + 1))
    # f1: ae has no value for seed 1, so 2 pairs (-0.2, -0.2) and no test.
    assert vae["test/f1"].n == 2
    assert vae["test/f1"].p_value is None
    text = format_markdown(table)
    assert markdown_rows(text)["vae"][3] == "**0.900 ± 0.000** (+0.300†)"
    assert markdown_rows(text)["vae"][4] == "0.300 ± 0.100 (-0.200)"
    assert "Differences over fewer than 3 pairs are not tested." in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("classifier=rf", "baseline key 'classifier' must be a row or column key"),
        ("features=pixels", "baseline features=pixels matches no run; features has"),
    ],
)
def test_baseline_errors(grid_dir: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grid_table(grid_dir, cols=["features"], baseline=Baseline.parse(text))


@pytest.mark.parametrize("text", ["features", "=raw", "features="])
def test_baseline_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="must be KEY=VALUE"):
        Baseline.parse(text)


def test_paired_test_choice() -> None:
    assert min_wilcoxon_pairs(0.05) == 6
    assert min_wilcoxon_pairs(0.01) == 8
    assert paired_test([0.1] * 5).method == "bootstrap"
    assert paired_test([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]).method == "wilcoxon"
    assert paired_test([0.0] * 6).p_value == 1.0
    assert paired_test([0.0] * 4).p_value == 1.0
    assert paired_test([]).difference is None
    with pytest.raises(ValueError, match="unknown paired test"):
        paired_test([0.1] * 6, method="t-test")


def test_bootstrap_p_value_by_hand() -> None:
    # Mean 0.25 > 0. Of the 4 equally likely resamples only (-0.5, -0.5) has a
    # mean <= 0, so p is about 2 * 1/4.
    assert bootstrap_p([1.0, -0.5]) == pytest.approx(0.5, abs=0.03)
    # A mean <= 0 needs all 4 draws on -0.1: probability (1/4)**4 = 1/256.
    assert bootstrap_p([1.0, 1.0, 1.0, -0.1]) == pytest.approx(2 / 256, abs=0.003)
    # All differences positive: no resample mean <= 0, the smallest p-value.
    assert bootstrap_p([0.1, 0.2, 0.3]) == pytest.approx(2 / 10_001)


def test_runs_csv_one_line_per_run(grid_dir: Path) -> None:
    table = grid_table(grid_dir)
    rows = csv_rows(format_runs_csv(table))
    assert len(rows) == 36
    first = rows[0]
    assert first["run"] == str(grid_dir / "0")
    assert first["status"] == "ok"
    assert (first["model"], first["features"], first["classifier"]) == (
        "ae",
        "latent",
        "logreg",
    )
    assert first["seed"] == "0"
    assert first["counted"] == "1"
    assert float(first["test/auprc"]) == pytest.approx(0.80)
    assert float(first["time/total"]) == 2.0
    assert list(first)[:8] == [
        "run",
        "status",
        "model",
        "features",
        "classifier",
        "seed",
        "replica",
        "counted",
    ]


def test_runs_csv_marks_repeats(tmp_path: Path) -> None:
    for job, model in enumerate(["ae", "vae"]):
        record = make_record(model, 0, 8, {"test/auprc": 0.7})
        record["overrides"] = [f"model={model}", "features=raw", "seed=0"]
        record["unused"] = ["model"]
        write_by_hand(tmp_path / str(job) / "record.json", record)
    table = build_table(load_records([tmp_path]), rows=["model"])
    assert [row["counted"] for row in csv_rows(format_runs_csv(table))] == ["1", "0"]


def test_footer_names_commit_hardware_time(grid_dir: Path, tmp_path: Path) -> None:
    table = grid_table(grid_dir)
    # 36 jobs of 2.0 s each.
    assert footer_line(table) == (
        "Commit 0123456789ab; 36 runs; 2-core Test CPU; compute time 72.0 s."
    )
    # Replicas of one job share its time/total.
    for replica in range(3):
        record = make_record("ae", 0, 8, {"time/total": 10.0})
        record["replica"] = replica
        record["job"] = {"output_dir": str(tmp_path / "job")}
        write_by_hand(tmp_path / "job" / f"replica_{replica}" / "record.json", record)
    replicas = build_table(load_records([tmp_path / "job"]), rows=[])
    assert compute_seconds(replicas.runs) == 10.0
    assert footer_line(replicas).endswith("hardware not recorded; compute time 10.0 s.")


def test_hardware_text_with_accelerator() -> None:
    hardware = {
        "cpu": "AMD EPYC",
        "cpu_count": 16,
        "backend": "gpu",
        "devices": ["NVIDIA H200", "NVIDIA H200"],
    }
    assert hardware_text(hardware) == "2 x NVIDIA H200 (gpu), 16-core AMD EPYC"
    assert hardware_text(None) == "hardware not recorded"


def test_display_names_apply(grid_dir: Path, tmp_path: Path) -> None:
    names_file = tmp_path / "names.yaml"
    names_file.write_text(
        "table:\n"
        "  names: {model: Model, test/auprc: AUPRC}\n"
        "  value_names:\n"
        "    model: {ae: AE, vae: VAE}\n"
        "    classifier: {logreg: LogReg, rf: RF}\n",
        encoding="utf-8",
    )
    style = TableStyle(names=DisplayNames.load(names_file))
    table = grid_table(grid_dir, cols=["classifier"], rows=["model"])
    table = grid_table(grid_dir, cols=["features", "classifier"], rows=["model"])
    rows = markdown_rows(format_markdown(table, style))
    assert rows["Model"][1:3] == ["latent, LogReg", "latent, RF"]
    assert "VAE" in rows
    latex = format_latex(table, style)
    assert r"\multicolumn{4}{c}{AUPRC}" in latex
    assert "Model & latent, LogReg & latent, RF" in latex


def test_display_names_reject_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("table:\n  value_names: {model: AE}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="table.value_names.model must be a mapping"):
        DisplayNames.load(bad)
    with pytest.raises(ValueError, match="names file not found"):
        DisplayNames.load(tmp_path / "missing.yaml")


def test_repository_config_has_display_names() -> None:
    names = load_display_names()
    assert names.name("model.latent_dim") == "Latent size"
    assert names.value("model", "vae") == "VAE"
    assert load_display_names(raw=True).name("model") == "model"


def latex_body_rows(latex: str) -> list[str]:
    start = latex.index(r"\midrule") + len(r"\midrule")
    body = latex[start : latex.index(r"\bottomrule")]
    return [line for line in body.splitlines() if line.strip().endswith(r"\\")]


def check_latex_structure(latex: str) -> None:
    """Check what pdflatex would reject: braces, column counts, bare specials."""
    assert latex.count("{") == latex.count("}")
    assert latex.count(r"\begin{") == latex.count(r"\end{")
    for rule in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}"):
        assert latex.count(rule) == 1, rule
    tabular = next(line for line in latex.splitlines() if "begin{tabular}" in line)
    spec = tabular.removeprefix(r"\begin{tabular}{").removesuffix("}")
    n_columns = spec.replace("@{}", "").count("l") + spec.count("r")
    assert n_columns > 1
    for line in latex_body_rows(latex):
        assert line.count(" & ") == n_columns - 1, line
    for line in latex.splitlines():
        if line.startswith("%"):
            continue
        unescaped = line.replace(r"\_", "").replace(r"\%", "").replace(r"\&", "")
        assert "_" not in unescaped, line
        assert "%" not in unescaped, line
        for symbol in ("±", "—", "†"):
            assert symbol not in line, line


def test_latex_structure(grid_dir: Path) -> None:
    style = TableStyle(caption="Latent vs raw", label="tab:grid")
    table = grid_table(
        grid_dir,
        metrics=["test/auprc", "val/recon_loss"],
        baseline=Baseline.parse("features=raw"),
    )
    latex = format_latex(table, style)
    check_latex_structure(latex)
    assert r"\caption{Latent vs raw}" in latex
    assert r"\label{tab:grid}" in latex
    assert r"\multicolumn{2}{c}{latent, logreg}" in latex
    assert r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" in latex
    assert r"model & test/auprc & val/recon\_loss & test/auprc" in latex
    assert r"\textbf{0.825 $\pm$ 0.019} ($+$0.050$^\dagger$)" in latex
    assert latex.startswith("% Commit 0123456789ab; 36 runs;")
    assert "Commit 0123456789ab" in latex.split(r"\footnotesize")[1]
    no_footer = format_latex(table, TableStyle(footer=False))
    assert "Commit" not in no_footer.split(r"\footnotesize")[1]


def test_latex_blanks_repeated_keys(grid_dir: Path) -> None:
    table = grid_table(grid_dir, rows=["model", "classifier"], cols=["features"])
    rows = latex_body_rows(format_latex(table))
    assert rows[0].startswith("ae & logreg & ")
    assert rows[1].startswith(" & rf & ")
    assert rows[2].startswith("vae & logreg & ")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_compiles(grid_dir: Path, tmp_path: Path) -> None:
    table = grid_table(grid_dir, baseline=Baseline.parse("features=raw"))
    (tmp_path / "table.tex").write_text(format_latex(table), encoding="utf-8")
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
        "\\input{table.tex}\n\\end{document}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "main.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "main.pdf").exists()


def test_script_tex_and_baseline(grid_dir: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    result = run_script(
        str(grid_dir),
        "--rows",
        "model",
        "--cols",
        "features,classifier",
        "--baseline",
        "features=raw",
        "--tex",
        "--raw-names",
        "--metrics",
        "test/auprc",
        "--out",
        str(out_dir),
    )
    assert result.returncode == 0, result.stderr
    files = ["table.csv", "table.md", "table.tex", "table_summary.csv"]
    assert sorted(os.listdir(out_dir)) == files
    check_latex_structure((out_dir / "table.tex").read_text(encoding="utf-8"))
    assert "**0.825 ± 0.019** (+0.050†)" in result.stdout
    summary = csv_rows((out_dir / "table_summary.csv").read_text(encoding="utf-8"))
    assert float(summary[0]["test/auprc_diff"]) == pytest.approx(0.05)
    assert float(summary[0]["test/auprc_p"]) == pytest.approx(2 / 64)


def test_script_uses_config_names(grid_dir: Path, tmp_path: Path) -> None:
    args = ["--rows", "model", "--metrics", "test/auprc", "--out", str(tmp_path)]
    result = run_script(str(grid_dir), *args)
    assert result.returncode == 0, result.stderr
    assert "| Model " in result.stdout
    assert "| AE " in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--baseline", "features"], "must be KEY=VALUE"),
        (["--rows", "model", "--baseline", "features=raw"], "baseline key 'features'"),
        (["--cols", "clasifier"], "column key 'clasifier' is in no record"),
        (["--decimals", "-1"], "decimals=-1 must be in 0..10"),
    ],
)
def test_script_rejects_bad_options(grid_dir: Path, args, message) -> None:
    result = run_script(str(grid_dir), "--metrics", "test/auprc", *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_count_sweep_jobs() -> None:
    config = OmegaConf.create(
        {
            "hydra": {
                "overrides": {"task": ["model=ae,dae,vae", "seed=0,1", "lr=0.1"]},
                "sweeper": {
                    "_target_": BASIC_SWEEPER,
                    "params": {"classifier": "logreg,rf", "seed": "0,1,2"},
                },
            }
        }
    )
    # Command-line seed=0,1 replaces the sweeper's seed list: 3 x 2 x 2.
    assert count_sweep_jobs(config) == 12
    config.hydra.overrides.task = ["model.latent_dim=range(2,10,2)"]
    assert count_sweep_jobs(config) == 2 * 3 * 4
    config.hydra.sweeper._target_ = "hydra_plugins.optuna.OptunaSweeper"
    assert count_sweep_jobs(config) is None


def test_count_sweep_jobs_failure_logged(caplog) -> None:
    config = OmegaConf.create({"hydra": {"overrides": {"task": ["model=glob(*)"]}}})
    with caplog.at_level(logging.WARNING, logger="research.callbacks"):
        assert count_sweep_jobs(config) is None
    assert "Could not count the sweep's jobs" in caplog.text


def test_job_label(monkeypatch) -> None:
    monkeypatch.setenv(N_JOBS_ENV, "18")
    assert job_label(3) == "job 4/18"
    assert job_label(None) == "run"
    monkeypatch.delenv(N_JOBS_ENV)
    assert job_label(3) == "job 4"


def test_callback_sets_and_clears_job_count(sweep_dir: Path, monkeypatch) -> None:
    monkeypatch.delenv(N_JOBS_ENV, raising=False)
    config = OmegaConf.create(
        {
            "hydra": {
                "sweep": {"dir": str(sweep_dir)},
                "overrides": {"task": ["model=ae,vae", "seed=0,1,2"]},
            }
        }
    )
    callback = WriteTableCallback()
    callback.on_multirun_start(config)
    assert os.environ[N_JOBS_ENV] == "6"
    callback.on_multirun_end(config)
    assert N_JOBS_ENV not in os.environ


def test_callback_table_layout_from_config(grid_dir: Path, capsys) -> None:
    config = OmegaConf.create(
        {
            "hydra": {"sweep": {"dir": str(grid_dir)}},
            "table": {"metrics": ["test/auprc"], "rows": ["model"], "cols": "features"},
        }
    )
    WriteTableCallback().on_multirun_end(config)
    output = capsys.readouterr().out
    assert "| model |" in output
    assert "latent" in output.splitlines()[3]


def test_unused_dotted_keys(tmp_path: Path) -> None:
    # PCA features use model.latent_dim but neither the model's name nor its layers.
    for job, model in enumerate(["ae", "vae"]):
        record = make_record(model, 0, 8, {"test/auprc": 0.6})
        record["config"]["model"]["hidden"] = [16] if model == "ae" else [32]
        record["overrides"] = [f"model={model}", "features=pca", "seed=0"]
        record["unused"] = ["train", "model.name", "model.hidden"]
        write_by_hand(tmp_path / str(job) / "record.json", record)
    table = build_table(load_records([tmp_path]), rows=["model", "model.latent_dim"])
    assert [row.values for row in table.rows] == [("none", "8")]
    assert table.n_ok == 1
    assert is_unused({"unused": ["model.hidden"]}, "model.hidden.0")
    assert not is_unused({"unused": ["model.hidden"]}, "model.latent_dim")
