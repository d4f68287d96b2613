"""Paired comparison of each table cell with the baseline cell of the same keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from research.records import UNUSED, metric_value, row_key_value
from research.stats import TESTS, paired_test

if TYPE_CHECKING:
    from research.table_model import Cell, Table


@dataclass(frozen=True)
class Baseline:
    """The key=value that selects the baseline runs, and the paired test settings.

    `test` is one of `stats.TESTS`, and a difference is significant when the
    test's p-value is below `alpha`.
    """

    key: str
    value: str
    alpha: float = 0.05
    test: str = "auto"

    @classmethod
    def parse(cls, text: str, alpha: float = 0.05, test: str = "auto") -> Baseline:
        """Parse `KEY=VALUE`; raise ValueError for bad text, alpha or test."""
        key, has_value, value = text.partition("=")
        if not has_value or not key.strip() or not value.strip():
            raise ValueError(f"baseline {text!r} must be KEY=VALUE, e.g. features=raw")
        if not 0 < alpha < 1:
            raise ValueError(f"significance level {alpha!r} must be in (0, 1)")
        if test not in TESTS:
            raise ValueError(f"unknown paired test {test!r}; valid: {', '.join(TESTS)}")
        return cls(key.strip(), value.strip(), alpha, test)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


def compare_with_baseline(table: Table, baseline: Baseline) -> None:
    """Set the paired tests of every cell against its baseline cell, in place.

    The baseline cell of a cell has the baseline value for the baseline key and the
    same value for every other row and column key. There a baseline value of "none"
    (a config group the baseline runs did not use) matches any value. Runs pair up
    by seed and replica. Cells with the baseline value get `is_baseline`. Raises
    ValueError when the baseline key is not a row or column key, or when no cell
    has the baseline value.
    """
    if baseline.key not in table.keys:
        keys = ", ".join(table.keys) or "none"
        raise ValueError(
            f"baseline key {baseline.key!r} must be a row or column key; "
            f"the table's keys are: {keys}"
        )
    index = table.keys.index(baseline.key)
    cells = {
        row.values + column: cell
        for row in table.rows
        for column, cell in row.cells.items()
    }
    base_cells = {k: c for k, c in cells.items() if k[index] == baseline.value}
    if not base_cells:
        found = ", ".join(sorted({values[index] for values in cells}))
        raise ValueError(
            f"baseline {baseline} matches no run; {baseline.key} has: {found}"
        )
    for values, cell in cells.items():
        if values in base_cells:
            cell.is_baseline = True
            continue
        match = _baseline_cell(values, base_cells, index)
        if match is None:
            continue
        for name in table.metrics:
            differences = paired_differences(cell.runs, match.runs, name)
            cell.comparisons[name] = paired_test(
                differences, baseline.alpha, baseline.test
            )


def _baseline_cell(
    values: tuple[str, ...], base_cells: dict[tuple[str, ...], Cell], index: int
) -> Cell | None:
    """Return the baseline cell that matches `values`, preferring exact matches."""
    best, best_exact = None, -1
    for base_values, cell in base_cells.items():
        exact = 0
        for position, (value, base_value) in enumerate(
            zip(values, base_values, strict=True)
        ):
            if position == index:
                continue
            if value == base_value:
                exact += 1
            elif base_value != UNUSED:
                break
        else:
            if exact > best_exact:
                best, best_exact = cell, exact
    return best


def paired_differences(runs: list[dict], base_runs: list[dict], name: str) -> list:
    """Return metric `name` of each run minus that of the baseline run it pairs with.

    A run pairs with the baseline run of the same seed and replica. Runs without a
    partner, or where either value is missing or not finite, are left out.
    """
    partners: dict[tuple[str, int], dict] = {}
    for record in base_runs:
        partners.setdefault(_pair_key(record), record)
    differences = []
    for record in runs:
        partner = partners.get(_pair_key(record))
        if partner is None:
            continue
        value, base_value = metric_value(record, name), metric_value(partner, name)
        if value is not None and base_value is not None:
            differences.append(value - base_value)
    return differences


def _pair_key(record: dict) -> tuple[str, int]:
    return row_key_value(record, "seed"), record.get("replica", 0)
