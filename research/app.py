"""The Hydra job: run the pipeline and write one record per replica."""

import logging
import sys
import time
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from research.callbacks import job_label
from research.data import load_dataset
from research.experiment import (
    Outcome,
    run_experiment,
    unused_config,
    uses_autoencoder,
)
from research.plot_data import save_run_outputs
from research.provenance import git_commit, library_versions
from research.records import RECORD_NAME, describe_hardware, write_record
from research.resume import SKIPPED, existing_records, reusable_records, set_aside

log = logging.getLogger(__name__)

# Errors that mean the user's data or config is wrong: logged as one line, no traceback.
USER_ERRORS = (ValueError, FileNotFoundError, KeyError, TypeError)


def run_job(cfg: DictConfig) -> float | None:
    """Run one Hydra job and write its records; return the mean test/auprc.

    A failed job still writes its record. In a multirun the sweep goes on; a single
    run exits with status 1 after writing the record.
    """
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    job = {
        "num": hydra_cfg.job.num if hydra_cfg.mode == RunMode.MULTIRUN else None,
        "output_dir": str(output_dir),
        "overrides": list(hydra_cfg.overrides.task),
    }
    label = job_label(job["num"])
    if existing_records(output_dir):
        multirun = hydra_cfg.mode == RunMode.MULTIRUN
        reused = _reuse_or_set_aside(cfg, output_dir, multirun)
        if reused is not None:
            SKIPPED.append(str(output_dir))
            log.info("%s skipped: its ok records in %s match", label, output_dir)
            scores = [r["metrics"].get("test/auprc") for r in reused]
            scores = [s for s in scores if s is not None]
            return sum(scores) / len(scores) if scores else None
    log.info("%s started: %s", label, " ".join(job["overrides"]) or "no overrides")
    start = time.perf_counter()
    try:
        outcomes, facts = run_experiment(cfg)
    except Exception as err:  # noqa: BLE001  (every failure becomes a failed record)
        error = f"{type(err).__name__}: {err}"
        if isinstance(err, USER_ERRORS):
            log.error("run failed: %s", error)
        else:
            log.exception("run failed: %s", error)
        facts = {"unused": _unused_or_empty(cfg)}
        write_record(output_dir / RECORD_NAME, _record(cfg, job, None, facts, error))
        if hydra_cfg.mode != RunMode.MULTIRUN:
            sys.exit(1)
        return None
    paths = _record_paths(output_dir, len(outcomes))
    for outcome, path in zip(outcomes, paths, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_record(path, _record(cfg, job, outcome, facts, outcome.error))
        save_run_outputs(path.parent, outcome.arrays, cfg.get("plots"))
    return _log_summary(outcomes, output_dir, time.perf_counter() - start, label)


def _reuse_or_set_aside(
    cfg: DictConfig, output_dir: Path, multirun: bool
) -> list[dict[str, Any]] | None:
    """Return the job's records when a multirun may reuse them, else set them aside.

    Reuse needs ok records for the same resolved config and data fingerprint; any
    other records are renamed to record.previous-N.json before the job runs again.
    """
    if multirun:
        try:
            fingerprint = load_dataset(cfg.dataset).fingerprint()
            n_records = cfg.train.n_seeds if uses_autoencoder(cfg) else 1
        except Exception:  # noqa: BLE001  (the rerun reports the error properly)
            fingerprint = None
        if fingerprint is not None:
            reused = reusable_records(output_dir, cfg, fingerprint, n_records)
            if reused is not None:
                return reused
    set_aside(output_dir)
    return None


def _unused_or_empty(cfg: DictConfig) -> list[str]:
    """Return `unused_config(cfg)`, or [] when the config is too broken to tell."""
    try:
        return unused_config(cfg)
    except Exception:  # noqa: BLE001  (a failed record must still be written)
        return []


def _record_paths(output_dir: Path, n_replicas: int) -> list[Path]:
    if n_replicas == 1:
        return [output_dir / RECORD_NAME]
    return [output_dir / f"replica_{r}" / RECORD_NAME for r in range(n_replicas)]


def _record(
    cfg: DictConfig,
    job: dict[str, Any],
    outcome: Outcome | None,
    facts: dict[str, Any],
    error: str | None,
) -> dict[str, Any]:
    return {
        "status": "failed" if error else "ok",
        "error": error,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "overrides": job["overrides"],
        "replica": outcome.replica if outcome else 0,
        "metrics": outcome.metrics if outcome else {},
        "n_params": facts.get("n_params"),
        "epochs_run": outcome.epochs_run if outcome else 0,
        "latent": outcome.latent if outcome else {},
        "history": outcome.history if outcome else {},
        "unused": facts.get("unused", []),
        "traces": facts.get("traces", {}),
        "encoder": facts.get("encoder"),
        "data": {
            k: v
            for k, v in facts.items()
            if k not in ("n_params", "unused", "traces", "encoder")
        },
        "versions": library_versions(),
        "hardware": describe_hardware(),
        "git_commit": git_commit(),
        "job": job,
    }


def _log_summary(outcomes: list[Outcome], output_dir: Path, seconds: float, label: str):
    scores = [o.metrics.get("test/auprc") for o in outcomes if o.error is None]
    scores = [s for s in scores if s is not None]
    failed = [o for o in outcomes if o.error]
    for outcome in failed:
        log.error("replica %d failed: %s", outcome.replica, outcome.error)
    headline = f"test/auprc {sum(scores) / len(scores):.4f}" if scores else "no score"
    log.info(
        "%s done in %.1f s: %s; record in %s", label, seconds, headline, output_dir
    )
    if failed and HydraConfig.get().mode != RunMode.MULTIRUN:
        sys.exit(1)
    return sum(scores) / len(scores) if scores else None
