"""The LaTeX format of a sweep table: a booktabs `table` float.

The output needs only `\\usepackage{booktabs}`: symbols are math-mode or plain ASCII
commands, so a plain `article` compiles it with pdflatex.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from research.table_csv import footer_line
from research.table_format import (
    best_cells,
    cell_text,
    data_columns,
    group_label,
    key_cells,
    key_headers,
    modal_count,
    note_lines,
    table_alpha,
)
from research.table_style import LATEX, TableStyle, escape_latex

if TYPE_CHECKING:
    from research.table_model import Table


def format_latex(table: Table, style: TableStyle | None = None) -> str:
    """Format the table as a LaTeX `table` float with booktabs rules and notes.

    Repeated leading key values are left blank, and a small gap separates groups of
    the first key. `style.caption` and `style.label` are inserted as they are (so
    the caption may contain LaTeX). The provenance footer is a comment at the top,
    and also the last note unless `style.footer` is False.
    """
    style = style or TableStyle()
    n_keys = len(key_headers(table, style))
    spec = "@{}" + "l" * n_keys + "r" * len(data_columns(table)) + "@{}"
    lines = [
        f"% {footer_line(table)}",
        "% Written by scripts/make_table.py; needs \\usepackage{booktabs}.",
        r"\begin{table}[t]",
        r"\centering",
    ]
    if style.caption:
        lines.append(rf"\caption{{{style.caption}}}")
    if style.label:
        lines.append(rf"\label{{{style.label}}}")
    lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule"]
    lines += header_rows(table, style)
    lines.append(r"\midrule")
    lines += body_rows(table, style)
    lines += [r"\bottomrule", r"\end{tabular}", r"\par\smallskip"]
    notes = note_lines(table, style, modal_count(table))
    if style.footer:
        notes.append(footer_line(table))
    lines += [
        r"\begin{minipage}{\linewidth}\footnotesize",
        " ".join(escape_latex(note) for note in notes),
        r"\end{minipage}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def _row(cells: list[str]) -> str:
    return " & ".join(cells) + r" \\"


def header_rows(table: Table, style: TableStyle) -> list[str]:
    """Return the header lines: column groups over metrics, or metrics over groups."""
    keys = [escape_latex(name) for name in key_headers(table, style)]
    blank = [""] * len(keys)
    metrics = [escape_latex(style.names.name(m)) for m in table.metrics]
    if not table.col_keys:
        return [_row(keys + metrics)]
    groups = [escape_latex(group_label(table, c, style)) for c in table.columns]
    if len(metrics) == 1:
        first = len(keys) + 1
        last = len(keys) + len(groups)
        return [
            _row(blank + [rf"\multicolumn{{{len(groups)}}}{{c}}{{{metrics[0]}}}"]),
            rf"\cmidrule(l){{{first}-{last}}}",
            _row(keys + groups),
        ]
    width = len(metrics)
    spans = [rf"\multicolumn{{{width}}}{{c}}{{{group}}}" for group in groups]
    rules = [
        rf"\cmidrule(lr){{{start}-{start + width - 1}}}"
        for start in range(len(keys) + 1, len(keys) + 1 + width * len(groups), width)
    ]
    return [_row(blank + spans), " ".join(rules), _row(keys + metrics * len(groups))]


def body_rows(table: Table, style: TableStyle) -> list[str]:
    """Return one line per table row, with \\addlinespace between first-key groups."""
    reference = modal_count(table)
    best = best_cells(table, style)
    alpha = table_alpha(table)
    lines = []
    for index, keys in iter_key_rows(table, style):
        if index > 0 and len(keys) > 1 and keys[0]:
            lines.append(r"\addlinespace")
        row = table.rows[index]
        cells = [escape_latex(key) for key in keys]
        for column, name in data_columns(table):
            flag = (index, column, name) in best
            cell = row.cells.get(column)
            cells.append(cell_text(cell, name, style, LATEX, reference, flag, alpha))
        lines.append(_row(cells))
    return lines


def iter_key_rows(table: Table, style: TableStyle) -> Iterator[tuple[int, list[str]]]:
    """Yield (row index, key cells), blanking leading values equal to the row above.

    Only leading key columns are blanked (never the last), as in a grouped table.
    """
    previous: list[str] = []
    for index, row in enumerate(table.rows):
        cells = key_cells(table, row.values, style)
        shown = list(cells)
        for position in range(len(cells) - 1):
            if cells[: position + 1] != previous[: position + 1]:
                break
            shown[position] = ""
        previous = cells
        yield index, shown
