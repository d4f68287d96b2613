"""The same sweep through Hydra's basic, joblib and submitit_local launchers.

The SLURM launcher shares submitit_local's code path but needs a cluster, so only its
config is checked here.
"""

import os
import subprocess
import sys

import pytest
import yaml

from tests.test_experiment import REPO, read_records, run_script

# 2 models x 2 seeds: 4 jobs of a few seconds each.
SWEEP = ["model=ae,vae", "seed=0,1", "train.epochs=2"]


def table_without_timing(sweep_dir):
    """Return table.md's lines, less the footer line with the compute time."""
    lines = (sweep_dir / "table.md").read_text().splitlines()
    return [line for line in lines if "compute time" not in line]


def run_sweep(sweep_dir, cache_dir, *launcher_overrides):
    result = run_script(
        "-m",
        *SWEEP,
        f"hydra.sweep.dir={sweep_dir}",
        f"train.compile_cache_dir={cache_dir}",
        *launcher_overrides,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def compile_cache(tmp_path_factory):
    """A compile cache that the basic sweep fills for the parallel jobs to load from."""
    return tmp_path_factory.mktemp("compile_cache")


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory, compile_cache):
    sweep_dir = tmp_path_factory.mktemp("basic") / "sweep"
    run_sweep(sweep_dir, compile_cache)
    return sweep_dir


def check_parallel_sweep(sweep_dir, basic_dir, stdout):
    records = read_records(sweep_dir)
    assert len(records) == 4
    assert {r["status"] for r in records} == {"ok"}
    assert [r["job"]["num"] for r in records] == [0, 1, 2, 3]
    # WriteTableCallback runs in the submitting process once every job has ended.
    assert f"Table of sweep {sweep_dir}" in stdout
    assert table_without_timing(sweep_dir) == table_without_timing(basic_dir)
    # The job count set by the callback reaches the worker processes.
    for num in range(4):
        log = (sweep_dir / str(num) / "run.log").read_text()
        assert f"job {num + 1}/4 started" in log


@pytest.mark.slow
def test_joblib_sweep_matches_basic(tmp_path, basic_sweep, compile_cache):
    sweep_dir = tmp_path / "sweep"
    launcher = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
    result = run_sweep(sweep_dir, compile_cache, *launcher)
    # Hydra logs to stdout. Loky starts fresh interpreters, so no worker is a fork
    # of the parent after it has loaded JAX.
    assert "backend=loky" in result.stdout
    check_parallel_sweep(sweep_dir, basic_sweep, result.stdout)


@pytest.mark.slow
def test_submitit_local_sweep_matches_basic(tmp_path, basic_sweep, compile_cache):
    sweep_dir = tmp_path / "sweep"
    result = run_sweep(sweep_dir, compile_cache, "hydra/launcher=submitit_local")
    assert (sweep_dir / ".submitit").is_dir()
    check_parallel_sweep(sweep_dir, basic_sweep, result.stdout)


def test_slurm_config_sets_resources():
    result = run_script(
        "--cfg", "hydra", "--package", "hydra.launcher", "hydra/launcher=slurm"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    launcher = yaml.safe_load(result.stdout)
    assert launcher["_target_"].endswith("submitit_launcher.SlurmLauncher")
    for key in ("partition", "timeout_min", "cpus_per_task", "gpus_per_node", "mem_gb"):
        assert key in launcher
    assert launcher["timeout_min"] == 60


def preallocate_setting(env):
    """Return XLA_PYTHON_CLIENT_PREALLOCATE after `import research` under `env`."""
    code = "import os, research; print(os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_gpu_preallocation_off_by_default():
    env = {k: v for k, v in os.environ.items() if k != "XLA_PYTHON_CLIENT_PREALLOCATE"}
    assert preallocate_setting(env) == "false"


def test_gpu_preallocation_user_value_kept():
    env = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "true"}
    assert preallocate_setting(env) == "true"
