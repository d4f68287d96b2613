"""Tests of the run records, the sweep table, its callback and scripts/make_table.py."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from research.callbacks import WriteTableCallback
from research.records import (
    find_records,
    load_records,
    read_record,
    write_record,
    write_text_atomic,
)
from research.tables import build_table, format_csv, format_markdown, write_table

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
    assert rows["ae"][1:5] == ["3", "0", "0.600 ± 0.100", "0.900 ± 0.100"]
    assert rows["vae"][1:6] == [
        "3",
        "1",
        "0.900 ± 0.000",
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
    assert rows["ae"][5] == "0.500 ± 0.141 (n=2)"
    assert table.rows[0].metrics["test/f1"].n == 2


def test_failed_run_listed_not_averaged(sweep_dir: Path) -> None:
    text = format_markdown(build_table(load_records([sweep_dir]), metrics=METRICS))
    failed_lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert failed_lines == [
        f"- {sweep_dir / '6'} (model=vae, seed=3): {FAILED_ERROR}",
    ]
    assert markdown_rows(text)["vae"][3] == "0.900 ± 0.000"


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
    assert sorted(os.listdir(out_dir)) == ["table.csv", "table.md"]
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
    rows = csv_rows((out_dir / "table.csv").read_text(encoding="utf-8"))
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
    assert sorted(os.listdir(sweep_dir))[-2:] == ["table.csv", "table.md"]
    assert "0.500 ± 0.141 (n=2)" in capsys.readouterr().out


def test_callback_default_metrics(sweep_dir: Path) -> None:
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(sweep_dir)}}})
    WriteTableCallback().on_multirun_end(config)
    header = csv_rows((sweep_dir / "table.csv").read_text(encoding="utf-8"))[0]
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

from research.records import write_record


@hydra.main(version_base=None, config_path=".", config_name="app")
def main(cfg):
    hydra_config = HydraConfig.get()
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
