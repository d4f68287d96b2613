"""Resuming a sweep: ok records are reused, failed and missing jobs rerun."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from research.callbacks import missing_jobs, report_missing_jobs
from tests.test_experiment import REPO, run_script, table_rows

SWEEP = ["-m", "model=ae", "seed=0,1,2,3,4,5", "train.epochs=3", "train.patience=0"]


def table_body(sweep: Path) -> list[str]:
    return table_rows((sweep / "table.md").read_text())


@pytest.mark.slow
def test_killed_sweep_resumes_to_same_table(tmp_path):
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    result = run_script(*SWEEP, f"hydra.sweep.dir={reference}")
    assert result.returncode == 0, result.stderr[-3000:]

    process = subprocess.Popen(
        [sys.executable, "scripts/run.py", *SWEEP, f"hydra.sweep.dir={resumed}"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while len(list(resumed.rglob("record.json"))) < 2:
        assert process.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline, "no records appeared"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done = len(list(resumed.rglob("record.json")))
    assert 2 <= done < 6
    assert not (resumed / "table.md").exists()

    result = run_script(*SWEEP, f"hydra.sweep.dir={resumed}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resumed: {done} jobs skipped" in result.stdout + result.stderr
    assert table_body(resumed) == table_body(reference)


@pytest.mark.slow
def test_failed_job_reruns_and_keeps_old_record(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["-m", "seed=0,1", "train.epochs=2", f"hydra.sweep.dir={sweep}"]
    assert run_script(*args).returncode == 0
    record_path = sweep / "1" / "record.json"
    record = json.loads(record_path.read_text())
    record["status"] = "failed"
    record_path.write_text(json.dumps(record))
    result = run_script(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Resumed: 1 job skipped" in result.stdout + result.stderr
    assert json.loads(record_path.read_text())["status"] == "ok"
    kept = json.loads((sweep / "1" / "record.previous-1.json").read_text())
    assert kept["status"] == "failed"


@pytest.mark.slow
def test_changed_config_is_not_reused(tmp_path):
    sweep = tmp_path / "sweep"
    base = ["-m", "seed=0", f"hydra.sweep.dir={sweep}"]
    assert run_script(*base, "train.epochs=2").returncode == 0
    result = run_script(*base, "train.epochs=3")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "skipped" not in result.stdout + result.stderr
    record = json.loads((sweep / "0" / "record.json").read_text())
    assert record["config"]["train"]["epochs"] == 3
    assert (sweep / "0" / "record.previous-1.json").exists()


def test_missing_jobs_named(tmp_path, caplog):
    for job in (0, 2):
        (tmp_path / str(job)).mkdir()
        (tmp_path / str(job) / "record.json").write_text("{}")
    (tmp_path / "3" / "replica_0").mkdir(parents=True)
    (tmp_path / "3" / "replica_0" / "record.json").write_text("{}")
    assert missing_jobs(tmp_path, 5) == [1, 4]
    report_missing_jobs(tmp_path, 5)
    assert "2 of 5 jobs wrote no record (job numbers 1, 4)" in caplog.text
    caplog.clear()
    report_missing_jobs(tmp_path, 4)
    assert "1 of 4 jobs wrote no record (job numbers 1)" in caplog.text
