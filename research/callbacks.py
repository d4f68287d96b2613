"""Hydra callbacks of the pipeline: the job count of a sweep and its closing table."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, ListConfig, OmegaConf

from research.records import RECORD_NAME, RecordsNotFoundError
from research.resume import SKIPPED
from research.table_style import TableStyle
from research.tables import DEFAULT_METRICS, format_markdown, write_table

logger = logging.getLogger(__name__)

# Set by `WriteTableCallback.on_multirun_start` to the sweep's job count, and read by
# the jobs (in the same process or its children) for their "job 4/18" log lines.
N_JOBS_ENV = "RESEARCH_SWEEP_JOBS"
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


class WriteTableCallback(Callback):
    """Count the jobs of a multirun at its start, and write its table at its end.

    The table's layout comes from the `table` config block: `metrics` (default
    `DEFAULT_METRICS`), and optionally `rows`, `cols`, `decimals` and `errorbar`.
    The sweep-end table uses the config's own key names and values; display names
    are for `scripts/make_table.py`. The Markdown table is also printed to stdout.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Store the sweep's job count in the environment variable N_JOBS_ENV."""
        total = count_sweep_jobs(config)
        if total is None:
            os.environ.pop(N_JOBS_ENV, None)
        else:
            os.environ[N_JOBS_ENV] = str(total)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Write and print the table, logging any Exception instead of raising it."""
        os.environ.pop(N_JOBS_ENV, None)
        if SKIPPED:
            count = len(SKIPPED)
            logger.info(
                "Resumed: %d job%s skipped because their ok records match their config "
                "and data; the others ran.",
                count,
                "" if count == 1 else "s",
            )
            SKIPPED.clear()
        # A broken table must not turn a finished sweep into a failed command, so any
        # error is logged with its traceback instead of raised.
        try:
            _write_and_print(config)
        except Exception:
            sweep_dir = OmegaConf.select(
                config, "hydra.sweep.dir", throw_on_resolution_failure=False
            )
            logger.exception("Failed to write the table for sweep %s", sweep_dir)


def count_sweep_jobs(config: DictConfig) -> int | None:
    """Return how many jobs Hydra's basic sweeper launches for `config`, or None.

    Counts as the basic sweeper does: the `hydra.sweeper.params` entries, then the
    command-line overrides, the last value list of each key winning, and the product
    of the list lengths. Returns None for another sweeper or when parsing fails
    (for example a glob sweep, which needs Hydra's config loader).
    """
    target = OmegaConf.select(config, "hydra.sweeper._target_", default=BASIC_SWEEPER)
    if target != BASIC_SWEEPER:
        return None
    try:
        params = OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}
        arguments = [f"{key}={value}" for key, value in params.items()]
        arguments += list(OmegaConf.select(config, "hydra.overrides.task") or [])
        counts = {}
        for override in OverridesParser.create().parse_overrides(arguments):
            values = 1
            if override.is_sweep_override():
                values = len(list(override.sweep_string_iterator()))
            counts[override.get_key_element()] = values
    except Exception as error:  # noqa: BLE001  (any failure only drops the total)
        logger.warning("Could not count the sweep's jobs (%s); logging no total", error)
        return None
    return math.prod(counts.values())


def job_label(num: int | None) -> str:
    """Return "job 4/18" for job number 3 of 18, "job 4" without a total, else "run".

    `num` is Hydra's 0-based job number (None outside a multirun). The total comes
    from the N_JOBS_ENV environment variable.
    """
    if num is None:
        return "run"
    total = os.environ.get(N_JOBS_ENV, "")
    return f"job {num + 1}/{total}" if total.isdigit() else f"job {num + 1}"


def _write_and_print(config: DictConfig) -> None:
    sweep_dir = OmegaConf.select(config, "hydra.sweep.dir", default=None)
    if sweep_dir is None:
        logger.error("No table written: the config has no hydra.sweep.dir.")
        return
    sweep_dir = Path(str(sweep_dir))
    style = TableStyle(
        decimals=int(OmegaConf.select(config, "table.decimals", default=3)),
        errorbar=str(OmegaConf.select(config, "table.errorbar", default="std")),
    )
    rows = OmegaConf.select(config, "table.rows", default=None)
    try:
        table = write_table(
            sweep_dir,
            rows=None if rows is None else _names(rows),
            metrics=_metrics(config),
            cols=_names(OmegaConf.select(config, "table.cols", default=[])),
            style=style,
        )
    except RecordsNotFoundError as error:
        print(f"No table written for sweep {sweep_dir}: {error}.")
        return
    print(f"Table of sweep {sweep_dir} (also in table.md and table.csv):")
    print(format_markdown(table, style), end="")
    report_missing_jobs(sweep_dir, count_sweep_jobs(config))


def missing_jobs(sweep_dir: Path, n_jobs: int) -> list[int]:
    """Return the numbers of the sweep's jobs (0 to n_jobs - 1) without a record."""
    return [
        job
        for job in range(n_jobs)
        if not (sweep_dir / str(job) / RECORD_NAME).exists()
        and not any((sweep_dir / str(job)).glob(f"replica_*/{RECORD_NAME}"))
    ]


def report_missing_jobs(sweep_dir: Path, n_jobs: int | None) -> None:
    """Log an error naming the jobs that were launched but wrote no record."""
    if n_jobs is None:
        return
    missing = missing_jobs(sweep_dir, n_jobs)
    if missing:
        logger.error(
            "%d of %d jobs wrote no record (job numbers %s); run the same command "
            "again with hydra.sweep.dir=%s to run them",
            len(missing),
            n_jobs,
            ", ".join(map(str, missing)),
            sweep_dir,
        )


def _names(value: Any) -> list[str]:
    if isinstance(value, ListConfig | list | tuple):
        return [str(name) for name in value]
    return [name.strip() for name in str(value).split(",") if name.strip()]


def _metrics(config: DictConfig) -> Sequence[str]:
    metrics = OmegaConf.select(config, "table.metrics", default=None)
    if metrics is None:
        return DEFAULT_METRICS
    return _names(metrics)
