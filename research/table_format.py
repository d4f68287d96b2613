"""Markdown and LaTeX formats of a sweep table, with the notes below it.

A cell reads `mean ± spread`, where the spread is the sample std (ddof=1) or the
half-width of a Student t confidence interval. `(n=k)` follows a cell over a different
number of runs than the others, and with a baseline `(+d)` gives the mean paired
difference, with † when the paired test is significant. The best mean of each column
is bold. The CSV formats are in `research.table_csv`.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from research.stats import (
    BOOTSTRAP_RESAMPLES,
    MIN_PAIRS,
    ci_halfwidth,
    lower_is_better,
    min_wilcoxon_pairs,
)
from research.table_csv import footer_line, plural
from research.table_style import MARKDOWN, Markup, TableStyle, escape_markdown

if TYPE_CHECKING:
    from research.table_baseline import Baseline
    from research.table_model import Cell, Table


def header_line(table: Table) -> str:
    """Return a one-line summary: record counts and metric names."""
    n_records = table.n_ok + table.n_failed
    metrics = ", ".join(table.metrics) if table.metrics else "(none)"
    return (
        f"{plural(n_records, 'record')}: {table.n_ok} ok, {table.n_failed} failed. "
        f"Metrics: {metrics}."
    )


def data_columns(table: Table) -> list[tuple[tuple[str, ...], str]]:
    """Return the (column group values, metric) of each data column, in order."""
    return [(column, name) for column in table.columns for name in table.metrics]


def cell_text(
    cell: Cell | None,
    name: str,
    style: TableStyle,
    markup: Markup,
    reference_n: int | None,
    best: bool = False,
    alpha: float = 0.05,
) -> str:
    """Format one metric of a cell: mean ± spread, (n=k), bold and the difference.

    `reference_n` is the run count that needs no `(n=k)` mark; None marks none.
    The difference to the baseline gets † when its p-value is below `alpha`.
    """
    summary = cell.metrics[name] if cell is not None else None
    if cell is None or summary is None or summary.mean is None:
        return markup.dash
    digits = style.decimals
    text = f"{summary.mean:.{digits}f}"
    spread = summary.std
    if style.errorbar == "ci":
        spread = ci_halfwidth(summary, style.ci_level)
    if spread is not None:
        text += f"{markup.pm}{spread:.{digits}f}"
    if best:
        text = markup.bold(text)
    if reference_n is not None and summary.n != reference_n:
        text += f" (n={summary.n})"
    comparison = cell.comparisons.get(name)
    if comparison is not None and comparison.difference is not None:
        rounded = round(comparison.difference, digits)
        sign = markup.minus if rounded < 0 else markup.plus
        mark = markup.dagger if comparison.significant(alpha) else ""
        text += f" ({sign}{abs(rounded):.{digits}f}{mark})"
    return text


def table_alpha(table: Table) -> float:
    """Return the significance level of the table's baseline tests (0.05 without)."""
    return table.baseline.alpha if table.baseline is not None else 0.05


def best_cells(table: Table, style: TableStyle) -> set[tuple[int, tuple, str]]:
    """Return (row index, column group, metric) of each column's best mean.

    Means are compared as displayed (rounded to `style.decimals`), so ties are all
    bold. A column where fewer than two cells have a mean, or all means tie, has no
    best cell. Lower is better for `stats.lower_is_better` metrics.
    """
    best = set()
    if not style.bold:
        return best
    for column, name in data_columns(table):
        means = {}
        for index, row in enumerate(table.rows):
            cell = row.cells.get(column)
            if cell is not None and cell.metrics[name].mean is not None:
                means[index] = round(cell.metrics[name].mean, style.decimals)
        if len(means) < 2 or len(set(means.values())) == 1:
            continue
        target = min(means.values()) if lower_is_better(name) else max(means.values())
        best |= {(i, column, name) for i, mean in means.items() if mean == target}
    return best


def modal_count(table: Table) -> int | None:
    """Return the most common run count over cells with a value (the larger on ties)."""
    counts = Counter(_cell_counts(table))
    if not counts:
        return None
    return max(counts, key=lambda n: (counts[n], n))


def column_label(table: Table, column: tuple, name: str, style: TableStyle) -> str:
    """Return the header of one data column for a one-row header (Markdown)."""
    metric = style.names.name(name)
    if not table.col_keys:
        return metric
    group = group_label(table, column, style)
    return group if len(table.metrics) == 1 else f"{group}: {metric}"


def group_label(table: Table, column: tuple, style: TableStyle) -> str:
    """Return the display values of a column group, joined by commas."""
    pairs = zip(table.col_keys, column, strict=True)
    return ", ".join(style.names.value(key, value) for key, value in pairs)


def key_headers(table: Table, style: TableStyle) -> list[str]:
    """Return the display names of the row keys, or ["row"] without row keys."""
    return [style.names.name(k) for k in table.row_keys] if table.row_keys else ["row"]


def key_cells(table: Table, values: tuple[str, ...], style: TableStyle) -> list[str]:
    """Return the display values of a row's keys, or ["all runs"] without row keys."""
    if not table.row_keys:
        return ["all runs"]
    pairs = zip(table.row_keys, values, strict=True)
    return [style.names.value(key, value) for key, value in pairs]


def note_lines(table: Table, style: TableStyle, reference_n: int | None) -> list[str]:
    """Return the sentences below the table: cells, bold, dashes and the baseline.

    `reference_n` is the run count of unmarked cells, or None for a table whose
    `seeds` column gives the count of each row.
    """
    spread = "sample std (ddof=1)"
    if style.errorbar == "ci":
        spread = f"half-width of the {style.ci_level:.0%} Student t confidence interval"
    if reference_n is None:
        lines = [
            f"Cells: mean ± {spread} over the ok runs of a row. "
            "(n=k) marks a metric found in only k of them."
        ]
    else:
        marked = any(n != reference_n for n in _cell_counts(table))
        mark = "; (n=k) marks a cell over k runs." if marked else "."
        lines = [
            f"Cells: mean ± {spread} over {plural(reference_n, 'ok run')} "
            f"(seeds and replicas){mark}"
        ]
    if best_cells(table, style):
        lower = [style.names.name(m) for m in table.metrics if lower_is_better(m)]
        which = f" (lower is better for {', '.join(lower)})" if lower else ""
        lines.append(f"Bold: the best mean of each column{which}.")
    lines += _missing_lines(table)
    if table.filled:
        lines.append(
            "Runs that do not use a key (none) fill every matching cell, so their "
            "numbers repeat."
        )
    if table.baseline is not None:
        lines.append(_baseline_sentence(table.baseline))
        untested = any(
            test.p_value is None and test.n
            for cell in table.unique_cells()
            for test in cell.comparisons.values()
        )
        if untested:
            lines.append(
                f"Differences over fewer than {MIN_PAIRS} pairs are not tested."
            )
    return lines


def _cell_counts(table: Table) -> list[int]:
    """Return the run count of every metric of every cell that has a value."""
    return [
        cell.metrics[name].n
        for row in table.rows
        for cell in row.cells.values()
        for name in table.metrics
        if cell.metrics[name].n
    ]


def _missing_lines(table: Table) -> list[str]:
    undefined = sum(
        cell.seeds - cell.metrics[name].n
        for cell in table.unique_cells()
        for name in table.metrics
    )
    parts = []
    if table.n_failed:
        parts.append(plural(table.n_failed, "failed run"))
    if undefined:
        parts.append(f"{plural(undefined, 'undefined metric value')} (NaN or null)")
    if not parts:
        return []
    return [f"Left out: {' and '.join(parts)}; — marks a cell with no value left."]


def _baseline_sentence(baseline: Baseline) -> str:
    resamples = f"{BOOTSTRAP_RESAMPLES:,} resamples"
    tests = {
        "wilcoxon": "two-sided Wilcoxon signed-rank test",
        "bootstrap": f"two-sided paired bootstrap ({resamples})",
        "auto": "two-sided Wilcoxon signed-rank test, or paired bootstrap "
        f"({resamples}) for cells with fewer than "
        f"{min_wilcoxon_pairs(baseline.alpha)} non-zero pairs",
    }
    return (
        f"In brackets: mean paired difference to the baseline {baseline} (runs "
        f"with the same seed, replica and other keys); † p < {baseline.alpha:g}, "
        f"{tests[baseline.test]}."
    )


def markdown_grid(header: list[str], body: list[list[str]], n_left: int) -> list[str]:
    """Return Markdown table lines; the first `n_left` columns are left-aligned."""
    cells = [[escape_markdown(c) for c in row] for row in [header, *body]]
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


def format_markdown(table: Table, style: TableStyle | None = None) -> str:
    """Format the header line, the table, notes, failed runs and footer as Markdown.

    Without column keys the table has `seeds` and `failed` columns, and (n=k) marks
    a metric found in fewer runs than its row has.
    """
    style = style or TableStyle()
    counts = not table.col_keys
    reference = None if counts else modal_count(table)
    best = best_cells(table, style)
    header = key_headers(table, style) + (["seeds", "failed"] if counts else [])
    header += [column_label(table, c, m, style) for c, m in data_columns(table)]
    body = []
    for index, row in enumerate(table.rows):
        line = key_cells(table, row.values, style)
        if counts:
            line += [str(row.seeds), str(row.failed)]
        for column, name in data_columns(table):
            cell = row.cells.get(column)
            n = cell.seeds if counts and cell else reference
            flag = (index, column, name) in best
            alpha = table_alpha(table)
            line.append(cell_text(cell, name, style, MARKDOWN, n, flag, alpha))
        body.append(line)
    n_keys = len(key_headers(table, style))
    lines = [header_line(table), "", *markdown_grid(header, body, n_keys), ""]
    lines += note_lines(table, style, None if counts else reference)
    if table.failed_runs:
        lines += ["", "Failed runs:"]
        lines += [_failed_line(table, run) for run in table.failed_runs]
    if table.notes:
        lines += ["", *(f"Note: {note}" for note in table.notes)]
    lines += ["", footer_line(table)]
    return "\n".join(lines) + "\n"


def _failed_line(table: Table, run: Any) -> str:
    pairs = zip(table.keys, run.values, strict=True)
    settings = [f"{key}={value}" for key, value in pairs]
    settings.append(f"seed={run.seed}")
    return f"- {run.directory} ({', '.join(settings)}): {run.error}"
