"""The data of a sweep table: rows of cells, failed runs and the input records.

`research.tables.build_table` fills them from run records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from research.stats import MetricSummary, PairedTest

if TYPE_CHECKING:
    from research.table_baseline import Baseline


@dataclass
class Cell:
    """The runs of one row and column group: counts, summaries and baseline tests."""

    seeds: int
    failed: int
    metrics: dict[str, MetricSummary]
    runs: list[dict] = field(default_factory=list)  # the ok records
    comparisons: dict[str, PairedTest] = field(default_factory=dict)
    is_baseline: bool = False


@dataclass
class TableRow:
    """One combination of row key values and its cells, by column group values."""

    values: tuple[str, ...]
    cells: dict[tuple[str, ...], Cell]

    @property
    def seeds(self) -> int:
        return sum(cell.seeds for cell in self.cells.values())

    @property
    def failed(self) -> int:
        return sum(cell.failed for cell in self.cells.values())

    @property
    def metrics(self) -> dict[str, MetricSummary]:
        """Metric summaries of a row with a single cell (a table without columns)."""
        if len(self.cells) != 1:
            raise ValueError(f"row {self.values} has {len(self.cells)} cells, not 1")
        return next(iter(self.cells.values())).metrics


@dataclass(frozen=True)
class FailedRun:
    """A run whose status is not "ok": its directory, key values, seed and error."""

    directory: str
    values: tuple[str, ...]  # row key values, then column key values
    seed: str
    error: str


@dataclass(frozen=True)
class RunEntry:
    """One input record, with its key values and whether it was counted."""

    path: Path
    record: dict
    values: tuple[str, ...]  # row key values, then column key values
    counted: bool  # False for a repeat of another run's config and seed


@dataclass
class Table:
    """Sweep table: key and metric names, rows, failed runs, input runs and notes."""

    row_keys: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: list[TableRow]
    failed_runs: list[FailedRun]
    notes: list[str]
    col_keys: tuple[str, ...] = ()
    columns: list[tuple[str, ...]] = field(default_factory=lambda: [()])
    runs: list[RunEntry] = field(default_factory=list)
    baseline: Baseline | None = None
    filled: int = 0  # cells repeated from runs that ignore a key (see table_fill)

    @property
    def keys(self) -> tuple[str, ...]:
        return self.row_keys + self.col_keys

    def unique_cells(self) -> list[Cell]:
        """Return each cell once, although filled cells appear in several places."""
        cells = {id(c): c for row in self.rows for c in row.cells.values()}
        return list(cells.values())

    @property
    def n_ok(self) -> int:
        return sum(cell.seeds for cell in self.unique_cells())

    @property
    def n_failed(self) -> int:
        return sum(cell.failed for cell in self.unique_cells())
