"""Aggregate the run records of a sweep into a mean ± std table over seeds.

A row is one configuration apart from the seed. Its key values come from the job's
Hydra overrides, or else from the resolved config by dotted path. Rows appear in the
order in which their key values first occur in sweep order (records sorted by job
number, see `records.find_records`), which for Hydra's basic sweeper follows the order
of the override values on the command line. Only runs with status "ok" are averaged.
Other runs are counted in the `failed` column and listed below the Markdown table.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from research.records import (
    MISSING,
    load_records,
    override_items,
    parse_overrides,
    row_key_value,
    write_text_atomic,
)

DEFAULT_METRICS = ("test/auprc", "test/roc_auc", "test/f1")
ALL_RUNS = "all runs"


@dataclass(frozen=True)
class MetricSummary:
    """Mean, sample std (ddof=1) and count of one metric over a row's ok runs.

    `mean` is None when n == 0, and `std` is None when n < 2.
    """

    mean: float | None
    std: float | None
    n: int


@dataclass
class TableRow:
    """One configuration: its key values, run counts and metric summaries."""

    values: tuple[str, ...]
    seeds: int
    failed: int
    metrics: dict[str, MetricSummary]


@dataclass(frozen=True)
class FailedRun:
    """A run whose status is not "ok": its directory, key values, seed and error."""

    directory: str
    values: tuple[str, ...]
    seed: str
    error: str


@dataclass
class Table:
    """Sweep table: key and metric names, rows, failed runs and notes."""

    row_keys: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: list[TableRow]
    failed_runs: list[FailedRun]
    notes: list[str]

    @property
    def n_ok(self) -> int:
        return sum(row.seeds for row in self.rows)

    @property
    def n_failed(self) -> int:
        return sum(row.failed for row in self.rows)


def default_row_keys(records: Sequence[tuple[Path, dict]]) -> list[str]:
    """Return the override keys whose values differ between records.

    If no key differs, all override keys are returned, and if the records have no
    override keys, an empty list (one row for all runs).
    """
    keys: list[str] = []
    for _, record in records:
        for key, _ in override_items(record):
            if key not in keys:
                keys.append(key)
    # Raw values, not "none" for unused groups: a key that is constant in the sweep
    # must not become a column because some runs ignored it.
    varying = [
        key
        for key in keys
        if len({row_key_value(record, key, False) for _, record in records}) > 1
    ]
    return varying or keys


def check_names(
    records: Sequence[tuple[Path, dict]], rows: Sequence[str], metrics: Sequence[str]
) -> None:
    """Raise ValueError for a row key or metric that no record has, listing valid ones.

    Catches typos such as `--rows modle` before they pool every run into one row.
    """
    known_keys = sorted({key for _, r in records for key, _ in parse_overrides(r)})
    for key in rows:
        if all(row_key_value(r, key, False) == MISSING for _, r in records):
            raise ValueError(
                f"row key {key!r} is in no record; use an override key "
                f"({', '.join(known_keys) or 'none found'}) or a dotted config path "
                "such as model.latent_dim"
            )
    known_metrics = sorted({m for _, r in records for m in r.get("metrics") or {}})
    for name in metrics:
        if name not in known_metrics:
            available = ", ".join(known_metrics)
            raise ValueError(f"metric {name!r} is in no record; available: {available}")


def build_table(
    records: Sequence[tuple[Path, dict]],
    rows: Sequence[str] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> Table:
    """Group `records` (pairs of record.json path and record) into table rows.

    `rows` lists the row keys (override keys or dotted config paths). None selects
    `default_row_keys`, and an empty list puts all runs in one row. Records are
    expected in sweep order, as `load_records` returns them.
    """
    row_keys = tuple(default_row_keys(records) if rows is None else rows)
    groups: dict[tuple[str, ...], list[dict]] = {}
    failed_runs = []
    seen: set[tuple] = set()
    repeats = 0
    for path, record in records:
        values = tuple(row_key_value(record, key) for key in row_keys)
        if record.get("status") == "ok":
            # Two ok runs with the same config (apart from groups they did not use),
            # seed and replica are one sample, such as the raw-feature runs of a
            # sweep over the model.
            config = _used_config(record) or str(path)
            sample = (values, config, record.get("replica", 0))
            if sample in seen:
                repeats += 1
                continue
            seen.add(sample)
        groups.setdefault(values, []).append(record)
        if record.get("status") != "ok":
            failed_runs.append(_failed_run(path, record, values))
    table_rows = [
        _build_row(values, group, metrics) for values, group in groups.items()
    ]
    table = Table(row_keys, tuple(metrics), table_rows, failed_runs, [])
    table.notes = _notes(table, records)
    if repeats:
        table.notes.append(
            f"{_plural(repeats, 'run')} repeated the config and seed of another run "
            "in its row (apart from config groups the runs did not use) and counted "
            "once."
        )
    return table


def _used_config(record: dict) -> str | None:
    """Return the record's config without its unused groups as text, or None."""
    config = record.get("config")
    if not isinstance(config, dict) or not config:
        return None
    unused = set(record.get("unused", ()))
    used = {k: v for k, v in config.items() if k not in unused}
    return json.dumps(used, sort_keys=True, default=str)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _build_row(
    values: tuple[str, ...], records: list[dict], metrics: Sequence[str]
) -> TableRow:
    ok_records = [record for record in records if record.get("status") == "ok"]
    summaries = {}
    for name in metrics:
        found = [metric_value(record, name) for record in ok_records]
        summaries[name] = summarize([value for value in found if value is not None])
    return TableRow(values, len(ok_records), len(records) - len(ok_records), summaries)


def metric_value(record: dict, name: str) -> float | None:
    """Return a metric of a record as a float, or None unless it is a finite number."""
    metrics = record.get("metrics")
    value = metrics.get(name) if isinstance(metrics, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def summarize(values: Sequence[float]) -> MetricSummary:
    """Return the mean and sample std (ddof=1) of `values`."""
    if not values:
        return MetricSummary(None, None, 0)
    std = statistics.stdev(values) if len(values) > 1 else None
    return MetricSummary(statistics.fmean(values), std, len(values))


def _failed_run(path: Path, record: dict, values: tuple[str, ...]) -> FailedRun:
    seed = row_key_value(record, "seed")
    error = record.get("error") or f"status {record.get('status')!r}, no error given"
    return FailedRun(str(Path(path).parent), values, seed, " ".join(str(error).split()))


def _notes(table: Table, records: Sequence[tuple[Path, dict]]) -> list[str]:
    notes = []
    for index, key in enumerate(table.row_keys):
        if all(row.values[index] == MISSING for row in table.rows):
            notes.append(f"Row key {key!r} was not found in any record.")
    if table.n_ok:
        for name in table.metrics:
            if all(row.metrics[name].n == 0 for row in table.rows):
                notes.append(f"Metric {name!r} is missing or null in every ok run.")
    return notes


def format_cell(summary: MetricSummary, seeds: int) -> str:
    """Format a summary as `mean ± std` with 3 decimals, plus `(n=k)` if k != seeds."""
    if summary.mean is None:
        return MISSING
    text = f"{summary.mean:.3f}"
    if summary.std is not None:
        text += f" ± {summary.std:.3f}"
    if summary.n != seeds:
        text += f" (n={summary.n})"
    return text


def _key_columns(table: Table) -> list[str]:
    return list(table.row_keys) if table.row_keys else ["row"]


def _key_cells(table: Table, row: TableRow) -> list[str]:
    return list(row.values) if table.row_keys else [ALL_RUNS]


def header_line(table: Table) -> str:
    """Return a one-line summary: record counts and metric names."""
    n_records = table.n_ok + table.n_failed
    metrics = ", ".join(table.metrics) if table.metrics else "(none)"
    return (
        f"{_plural(n_records, 'record')}: {table.n_ok} ok, {table.n_failed} failed. "
        f"Metrics: {metrics}."
    )


def format_markdown(table: Table) -> str:
    """Format the header line, the table, the failed runs and notes as Markdown."""
    header = [*_key_columns(table), "seeds", "failed", *table.metrics]
    body = [
        [
            *_key_cells(table, row),
            str(row.seeds),
            str(row.failed),
            *(format_cell(row.metrics[name], row.seeds) for name in table.metrics),
        ]
        for row in table.rows
    ]
    n_keys = len(_key_columns(table))
    lines = [header_line(table), "", *_markdown_grid(header, body, n_keys), ""]
    lines.append(
        "Cells: mean ± sample std (ddof=1) over the ok runs of a row. "
        "(n=k) marks a metric found in only k of them."
    )
    if table.failed_runs:
        lines += ["", "Failed runs:"]
        lines += [_failed_line(table, run) for run in table.failed_runs]
    if table.notes:
        lines += ["", *(f"Note: {note}" for note in table.notes)]
    return "\n".join(lines) + "\n"


def _markdown_grid(header: list[str], body: list[list[str]], n_left: int) -> list[str]:
    # Key columns are left-aligned and count and metric columns right-aligned.
    cells = [[cell.replace("|", "\\|") for cell in row] for row in [header, *body]]
    widths = [max(3, *(len(row[i]) for row in cells)) for i in range(len(header))]

    def line(row: list[str]) -> str:
        padded = [
            cell.ljust(width) if i < n_left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        ":" + "-" * (width - 1) if i < n_left else "-" * (width - 1) + ":"
        for i, width in enumerate(widths)
    ]
    return [line(cells[0]), line(rule), *(line(row) for row in cells[1:])]


def _failed_line(table: Table, run: FailedRun) -> str:
    settings = [
        f"{key}={value}" for key, value in zip(table.row_keys, run.values, strict=True)
    ]
    settings.append(f"seed={run.seed}")
    return f"- {run.directory} ({', '.join(settings)}): {run.error}"


def format_csv(table: Table) -> str:
    """Format the table as CSV with a header line and one line per row.

    Columns: the row keys, seeds, failed, then `<metric>_mean`, `<metric>_std` and
    `<metric>_n` for each metric. Mean and std are empty where undefined.
    """
    header = [*_key_columns(table), "seeds", "failed"]
    for name in table.metrics:
        header += [f"{name}_mean", f"{name}_std", f"{name}_n"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in table.rows:
        line: list[Any] = [*_key_cells(table, row), row.seeds, row.failed]
        for name in table.metrics:
            summary = row.metrics[name]
            line += [_csv_number(summary.mean), _csv_number(summary.std), summary.n]
        writer.writerow(line)
    return buffer.getvalue()


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(value)


def write_table(
    sweep_dir: Path | Sequence[Path],
    rows: Sequence[str] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    out_dir: Path | None = None,
    strict: bool = False,
) -> Table:
    """Load the records of one or more sweep dirs, then write table.md and table.csv.

    The files go to `out_dir`, which is created if needed, or else to the first sweep
    dir. Raises `records.RecordsNotFoundError` if a sweep dir does not exist or
    contains no record.json, and with `strict` ValueError for a row key or metric
    that no record has (see `check_names`).
    """
    if isinstance(sweep_dir, str | os.PathLike):
        sweep_dirs = [Path(sweep_dir)]
    else:
        sweep_dirs = [Path(directory) for directory in sweep_dir]
    records = load_records(sweep_dirs)
    if strict:
        check_names(records, rows or [], metrics)
    table = build_table(records, rows=rows, metrics=metrics)
    target = Path(out_dir) if out_dir is not None else sweep_dirs[0]
    target.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target / "table.md", format_markdown(table))
    write_text_atomic(target / "table.csv", format_csv(table))
    return table
