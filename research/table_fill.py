"""Repeat the cells of runs that ignore a key across the rows and columns they match.

A run that does not use a config group shows "none" for keys under it, such as the
model of a raw-feature run. In a table with rows by model and columns by features,
its cell would sit alone in a "none" row. `fill_unused` copies such a cell into every
row (or column) that has the same values for the other keys and no cell of its own
there. It then drops the "none" row (or column) if all its cells found a place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from research.records import UNUSED

if TYPE_CHECKING:
    from research.table_model import Cell, Table, TableRow


def matches(source: tuple[str, ...], target: tuple[str, ...]) -> bool:
    """Return whether `target` can take the cells of `source`.

    It must differ, have the same value wherever `source` has one, and a value of
    its own wherever `source` has "none".
    """
    if source == target or UNUSED not in source:
        return False
    return all(
        target_value != UNUSED if value == UNUSED else target_value == value
        for value, target_value in zip(source, target, strict=True)
    )


def fill_unused(table: Table) -> int:
    """Fill empty cells from matching "none" rows and columns, in place.

    Cells are shared, not copied. Returns the number of cells filled.
    """
    filled = 0
    for source in list(table.rows):
        targets = [row for row in table.rows if matches(source.values, row.values)]
        count, placed_all = _fill_row_cells(source, targets)
        filled += count
        if targets and placed_all:
            table.rows.remove(source)
    for source in list(table.columns):
        targets = [column for column in table.columns if matches(source, column)]
        if not targets:
            continue
        placed_all = True
        for row in table.rows:
            cell = row.cells.get(source)
            if cell is not None:
                count = _place(row, cell, targets)
                filled += count
                placed_all = placed_all and count > 0
        if placed_all:
            table.columns.remove(source)
            for row in table.rows:
                row.cells.pop(source, None)
    return filled


def _fill_row_cells(source: TableRow, targets: list[TableRow]) -> tuple[int, bool]:
    """Copy each cell of `source` into the targets lacking its column."""
    filled, placed_all = 0, True
    for column, cell in source.cells.items():
        placed = 0
        for target in targets:
            if column not in target.cells:
                target.cells[column] = cell
                placed += 1
        filled += placed
        placed_all = placed_all and placed > 0
    return filled, placed_all


def _place(row: TableRow, cell: Cell, columns: list[tuple[str, ...]]) -> int:
    """Put `cell` into each of `columns` that `row` has no cell in; return how many."""
    placed = 0
    for column in columns:
        if column not in row.cells:
            row.cells[column] = cell
            placed += 1
    return placed
