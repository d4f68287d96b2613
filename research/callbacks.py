"""Hydra callbacks of the pipeline."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, ListConfig, OmegaConf

from research.records import RecordsNotFoundError
from research.tables import DEFAULT_METRICS, format_markdown, write_table

logger = logging.getLogger(__name__)


class WriteTableCallback(Callback):
    """Write table.md and table.csv into the sweep dir at the end of a multirun.

    The metric columns come from `table.metrics` in the config, or `DEFAULT_METRICS`
    if that key is absent. The Markdown table is also printed to stdout.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Write and print the table, logging any Exception instead of raising it."""
        # A broken table must not turn a finished sweep into a failed command, so any
        # error is logged with its traceback instead of raised.
        try:
            _write_and_print(config)
        except Exception:
            sweep_dir = OmegaConf.select(
                config, "hydra.sweep.dir", throw_on_resolution_failure=False
            )
            logger.exception("Failed to write the table for sweep %s", sweep_dir)


def _write_and_print(config: DictConfig) -> None:
    sweep_dir = OmegaConf.select(config, "hydra.sweep.dir", default=None)
    if sweep_dir is None:
        logger.error("No table written: the config has no hydra.sweep.dir.")
        return
    sweep_dir = Path(str(sweep_dir))
    try:
        table = write_table(sweep_dir, metrics=_metrics(config))
    except RecordsNotFoundError as error:
        print(f"No table written for sweep {sweep_dir}: {error}.")
        return
    print(f"Table of sweep {sweep_dir} (also in table.md and table.csv):")
    print(format_markdown(table), end="")


def _metrics(config: DictConfig) -> Sequence[str]:
    metrics = OmegaConf.select(config, "table.metrics", default=None)
    if metrics is None:
        return DEFAULT_METRICS
    if isinstance(metrics, ListConfig):
        return [str(name) for name in metrics]
    return [str(metrics)]
