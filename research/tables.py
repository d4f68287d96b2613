"""Aggregate the run records of sweeps into a table of mean ± std over seeds.

A row is one combination of values of the row keys, a column group one combination of
values of the column keys, and a cell contains the runs of one row and column group over
all seeds and replicas. Key values come from the job's Hydra overrides, or else from
the resolved config by dotted path. Rows and column groups appear in the order in
which their values first occur in sweep order (records sorted by job number, see
`records.find_records`), which for Hydra's basic sweeper follows the order of the
override values on the command line. Only runs with status "ok" are averaged. Other
runs are counted as failed and listed below the Markdown table.

The data classes are in `research.table_model`, the formats in `research.table_format`
(Markdown), `research.table_latex` and `research.table_csv`, and the paired tests
against a baseline in `research.table_baseline`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from research.records import (
    MISSING,
    load_records,
    metric_value,
    override_items,
    parse_overrides,
    row_key_value,
    used_config_text,
    write_text_atomic,
)
from research.stats import summarize
from research.table_baseline import Baseline, compare_with_baseline
from research.table_csv import format_csv, format_runs_csv, plural
from research.table_fill import fill_unused
from research.table_format import format_markdown
from research.table_latex import format_latex
from research.table_model import Cell, FailedRun, RunEntry, Table, TableRow
from research.table_style import TableStyle

DEFAULT_METRICS = ("test/auprc", "test/roc_auc", "test/f1")
ALL_RUNS = "all runs"


def default_row_keys(
    records: Sequence[tuple[Path, dict]], exclude: Sequence[str] = ()
) -> list[str]:
    """Return the override keys whose values differ between records.

    Keys in `exclude` (the column keys) are left out. If no other key differs, all
    other override keys are returned, and if there are none, an empty list (one row
    for all runs).
    """
    keys: list[str] = []
    for _, record in records:
        for key, _ in override_items(record):
            if key not in keys and key not in exclude:
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
    records: Sequence[tuple[Path, dict]],
    rows: Sequence[str],
    metrics: Sequence[str],
    cols: Sequence[str] = (),
) -> None:
    """Raise ValueError for a key or metric that no record has, listing valid ones.

    Catches typos such as `--rows modle` before they pool every run into one row.
    """
    known_keys = sorted({key for _, r in records for key, _ in parse_overrides(r)})
    for kind, names in (("row", rows), ("column", cols)):
        for key in names:
            if all(row_key_value(r, key, False) == MISSING for _, r in records):
                raise ValueError(
                    f"{kind} key {key!r} is in no record; use an override key "
                    f"({', '.join(known_keys) or 'none found'}) or a dotted config "
                    "path such as model.latent_dim"
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
    cols: Sequence[str] = (),
    baseline: Baseline | None = None,
    fill: bool = True,
) -> Table:
    """Group `records` (pairs of record.json path and record) into rows and cells.

    `rows` and `cols` list the row and column keys (override keys or dotted config
    paths). `rows=None` selects `default_row_keys`, and an empty list puts all runs in
    one row. Records are expected in sweep order, as `load_records` returns them.
    With `fill`, cells of runs that ignore a key also fill the matching empty cells
    (see `table_fill.fill_unused`). With a `baseline`, each cell gets paired tests
    against its baseline cell (see `table_baseline.compare_with_baseline`), which
    raises ValueError when the baseline key is not a row or column key or no run has
    the baseline value.
    """
    col_keys = tuple(cols)
    row_keys = tuple(default_row_keys(records, col_keys) if rows is None else rows)
    table = Table(row_keys, tuple(metrics), [], [], [], col_keys, [], [], baseline)
    groups = _group_runs(table, records)
    table.rows = [
        TableRow(row_values, {c: _build_cell(runs, metrics) for c, runs in by.items()})
        for row_values, by in groups.items()
    ]
    if fill:
        table.filled = fill_unused(table)
    table.notes = _notes(table)
    if baseline is not None:
        compare_with_baseline(table, baseline)
    return table


def _group_runs(
    table: Table, records: Sequence[tuple[Path, dict]]
) -> dict[tuple[str, ...], dict[tuple[str, ...], list[dict]]]:
    """Fill table.runs, failed_runs and columns; return row -> column -> records."""
    groups: dict[tuple[str, ...], dict[tuple[str, ...], list[dict]]] = {}
    seen: set[tuple] = set()
    n_rows = len(table.row_keys)
    for path, record in records:
        values = tuple(row_key_value(record, key) for key in table.keys)
        # Two runs with the same config (apart from groups they did not use), seed,
        # replica and status are one sample, such as the raw-feature runs of a sweep
        # over the model.
        config = used_config_text(record) or str(path)
        sample = (values, config, record.get("replica", 0), record.get("status"))
        counted = sample not in seen
        seen.add(sample)
        table.runs.append(RunEntry(Path(path), record, values, counted))
        if not counted:
            continue
        row_values, col_values = values[:n_rows], values[n_rows:]
        if col_values not in table.columns:
            table.columns.append(col_values)
        groups.setdefault(row_values, {}).setdefault(col_values, []).append(record)
        if record.get("status") != "ok":
            table.failed_runs.append(_failed_run(path, record, values))
    if not table.columns:
        table.columns.append(())
    return groups


def _build_cell(records: list[dict], metrics: Sequence[str]) -> Cell:
    ok_records = [record for record in records if record.get("status") == "ok"]
    summaries = {}
    for name in metrics:
        found = [metric_value(record, name) for record in ok_records]
        summaries[name] = summarize([value for value in found if value is not None])
    failed = len(records) - len(ok_records)
    return Cell(len(ok_records), failed, summaries, ok_records)


def _failed_run(path: Path, record: dict, values: tuple[str, ...]) -> FailedRun:
    seed = row_key_value(record, "seed")
    error = record.get("error") or f"status {record.get('status')!r}, no error given"
    return FailedRun(str(Path(path).parent), values, seed, " ".join(str(error).split()))


def _notes(table: Table) -> list[str]:
    notes = []
    all_values = [row.values + column for row in table.rows for column in row.cells]
    for index, key in enumerate(table.keys):
        if all(values[index] == MISSING for values in all_values):
            kind = "Row" if index < len(table.row_keys) else "Column"
            notes.append(f"{kind} key {key!r} was not found in any record.")
    if table.n_ok:
        cells = table.unique_cells()
        for name in table.metrics:
            if all(cell.metrics[name].n == 0 for cell in cells):
                notes.append(f"Metric {name!r} is missing or null in every ok run.")
    repeats = sum(1 for run in table.runs if not run.counted)
    if repeats:
        notes.append(
            f"{plural(repeats, 'run')} repeated the config and seed of another run "
            "in its row (apart from config groups the runs did not use) and counted "
            "once."
        )
    return notes


def write_table(
    sweep_dir: Path | Sequence[Path],
    rows: Sequence[str] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    out_dir: Path | None = None,
    strict: bool = False,
    *,
    cols: Sequence[str] = (),
    baseline: Baseline | None = None,
    style: TableStyle | None = None,
    tex: bool = False,
) -> Table:
    """Load the records of one or more sweep dirs and write the table files.

    Writes table.md, table.csv (one line per run), table_summary.csv (one line per
    cell) and, with `tex`, table.tex. The files go to `out_dir`, which is created if
    needed, or else to the first sweep dir. Raises `records.RecordsNotFoundError` if
    a sweep dir does not exist or contains no record.json, ValueError for a baseline
    that matches no run, and with `strict` ValueError for a key or metric that no
    record has (see `check_names`).
    """
    if isinstance(sweep_dir, str | os.PathLike):
        sweep_dirs = [Path(sweep_dir)]
    else:
        sweep_dirs = [Path(directory) for directory in sweep_dir]
    records = load_records(sweep_dirs)
    if strict:
        check_names(records, rows or [], metrics, cols)
    table = build_table(records, rows, metrics, cols, baseline)
    style = style or TableStyle()
    target = Path(out_dir) if out_dir is not None else sweep_dirs[0]
    target.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target / "table.md", format_markdown(table, style))
    write_text_atomic(target / "table.csv", format_runs_csv(table))
    write_text_atomic(target / "table_summary.csv", format_csv(table))
    if tex:
        write_text_atomic(target / "table.tex", format_latex(table, style))
    return table
