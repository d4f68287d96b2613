"""CSV formats of a sweep table, and the provenance footer shared by all formats."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from research.records import hardware_text, metric_value, row_key_value

if TYPE_CHECKING:
    from research.table_model import RunEntry, Table


def plural(count: int, noun: str) -> str:
    """Return "1 run" or "3 runs"."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _short_commit(commit: Any) -> str:
    if not commit:
        return "unknown"
    text = str(commit)
    base, dirty, _ = text.partition("-dirty")
    return base[:12] + ("-dirty" if dirty else "")


def compute_seconds(runs: Iterable[RunEntry]) -> float | None:
    """Return the summed `time/total` of the jobs behind `runs`, or None if none has it.

    Replicas of one job share its `time/total`, so each job directory counts once.
    Repeated runs count too, because they ran.
    """
    per_job: dict[str, float] = {}
    for run in runs:
        seconds = metric_value(run.record, "time/total")
        if seconds is None:
            continue
        job = run.record.get("job")
        directory = job.get("output_dir") if isinstance(job, dict) else None
        if not directory:
            parent = run.path.parent
            directory = parent.parent if parent.name.startswith("replica_") else parent
        per_job.setdefault(str(directory), seconds)
    return sum(per_job.values()) if per_job else None


def format_duration(seconds: float | None) -> str:
    """Format seconds as "45.2 s", "12.3 min" or "3.4 h"; None gives "not recorded"."""
    if seconds is None:
        return "not recorded"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def footer_line(table: Table) -> str:
    """Return the provenance line: commits, run count, hardware and compute time.

    Example: "Commit 0a48ee02ba89; 18 runs; 2-core Intel(R) Xeon(R) Processor;
    compute time 27.3 s." Commits are shortened to 12 characters.
    """
    records = [run.record for run in table.runs]
    commits = _unique(_short_commit(r.get("git_commit")) for r in records)
    known = [r["hardware"] for r in records if isinstance(r.get("hardware"), dict)]
    hardware = _unique(hardware_text(h) for h in known) or ["hardware not recorded"]
    label = "Commit" if len(commits) == 1 else "Commits"
    return (
        f"{label} {', '.join(commits)}; {plural(len(records), 'run')}; "
        f"{'; '.join(hardware)}; compute time "
        f"{format_duration(compute_seconds(table.runs))}."
    )


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(value)


def _write_csv(header: list[str], lines: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return buffer.getvalue()


def format_csv(table: Table) -> str:
    """Format the table as CSV with a header line and one line per cell.

    Columns: the row keys (or `row`), the column keys, seeds, failed, then
    `<metric>_mean`, `<metric>_std` and `<metric>_n` for each metric, and with a
    baseline `<metric>_diff` (mean paired difference) and `<metric>_p`. Numbers are
    empty where undefined.
    """
    key_header = list(table.row_keys) if table.row_keys else ["row"]
    header = [*key_header, *table.col_keys, "seeds", "failed"]
    for name in table.metrics:
        header += [f"{name}_mean", f"{name}_std", f"{name}_n"]
        if table.baseline is not None:
            header += [f"{name}_diff", f"{name}_p"]
    lines = []
    for row in table.rows:
        keys = list(row.values) if table.row_keys else ["all runs"]
        for column in table.columns:
            cell = row.cells.get(column)
            if cell is None:
                continue
            line: list[Any] = [*keys, *column, cell.seeds, cell.failed]
            for name in table.metrics:
                summary = cell.metrics[name]
                line += [_csv_number(summary.mean), _csv_number(summary.std), summary.n]
                if table.baseline is not None:
                    test = cell.comparisons.get(name)
                    line += [
                        _csv_number(test.difference if test else None),
                        _csv_number(test.p_value if test else None),
                    ]
            lines.append(line)
    return _write_csv(header, lines)


def format_runs_csv(table: Table) -> str:
    """Format every input record as one CSV line, for analysis outside the table.

    Columns: run (the record's directory), status, the row and column keys, seed,
    replica, counted (0 for a repeat of another run's config and seed), the table's
    metrics, then every other metric in any record (sorted), git_commit and error.
    """
    others = sorted(
        {name for run in table.runs for name in run.record.get("metrics") or {}}
        - set(table.metrics)
    )
    metrics = [*table.metrics, *others]
    header = ["run", "status", *table.keys, "seed", "replica", "counted"]
    header += [*metrics, "git_commit", "error"]
    lines = []
    for run in table.runs:
        record = run.record
        line: list[Any] = [str(Path(run.path).parent), record.get("status")]
        line += [*run.values, row_key_value(record, "seed")]
        line += [record.get("replica", 0), int(run.counted)]
        line += [_csv_number(metric_value(record, name)) for name in metrics]
        line += [record.get("git_commit") or "", record.get("error") or ""]
        lines.append(line)
    return _write_csv(header, lines)
