"""Aggregate the record.json files of sweeps into paper tables (Markdown, LaTeX, CSV).

Usage from the repository root:

    python scripts/make_table.py multirun/2026-12-04/15-00-00
    python scripts/make_table.py SWEEP_A SWEEP_B --rows model,model.latent_dim \\
        --cols classifier --metrics test/auprc,test/f1 --tex --out results/latent
    python scripts/make_table.py SWEEP --rows model --cols features \\
        --baseline features=raw --errorbar ci --tex

Writes table.md, table.csv (one line per run), table_summary.csv (one line per cell)
and, with --tex, table.tex. Exits with status 2 if a sweep dir does not exist or
contains no record.json, or for a key, metric or baseline that no record has.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    import research  # noqa: F401
except ImportError:
    # Lets the script run from a checkout where the package is not installed.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from research.records import RecordsNotFoundError  # noqa: E402
from research.stats import TESTS  # noqa: E402
from research.table_baseline import Baseline  # noqa: E402
from research.table_style import (  # noqa: E402
    ERRORBARS,
    TableStyle,
    load_display_names,
)
from research.tables import DEFAULT_METRICS, format_markdown, write_table  # noqa: E402


def split_names(text: str) -> list[str]:
    """Split a comma-separated list, dropping blanks, so "" gives an empty list."""
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Aggregate the record.json files of Hydra sweeps into a table of "
        "mean ± std over seeds: rows and column groups by config keys.",
    )
    parser.add_argument(
        "sweep_dirs",
        nargs="+",
        type=Path,
        metavar="SWEEP_DIR",
        help="directory searched recursively for record.json files",
    )

    layout = parser.add_argument_group("layout")
    layout.add_argument(
        "--rows",
        type=split_names,
        default=None,
        metavar="KEYS",
        help="comma-separated row keys: override keys or dotted config paths "
        "(default: the override keys whose values differ; '' for one row)",
    )
    layout.add_argument(
        "--cols",
        type=split_names,
        default=[],
        metavar="KEYS",
        help="comma-separated column group keys, e.g. classifier (default: none)",
    )
    layout.add_argument(
        "--metrics",
        type=split_names,
        default=",".join(DEFAULT_METRICS),
        metavar="NAMES",
        help="comma-separated metric names, in column order (default: %(default)s)",
    )

    _add_cell_options(parser.add_argument_group("cells"))
    _add_baseline_options(parser.add_argument_group("paired comparison"))
    _add_output_options(parser.add_argument_group("output"))
    args = parser.parse_args(argv)
    args.parser = parser
    return args


def _add_cell_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--errorbar",
        choices=ERRORBARS,
        default="std",
        help="after ±: the sample std, or the half-width of the Student t "
        "confidence interval of the mean (default: %(default)s)",
    )
    group.add_argument(
        "--ci-level",
        type=float,
        default=0.95,
        metavar="P",
        help="confidence level for --errorbar ci (default: %(default)s)",
    )
    group.add_argument(
        "--decimals",
        type=int,
        default=3,
        metavar="N",
        help="decimals of every number in a cell (default: %(default)s)",
    )
    group.add_argument(
        "--no-bold",
        action="store_true",
        help="do not set the best mean of each column in bold",
    )


def _add_baseline_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--baseline",
        default=None,
        metavar="KEY=VALUE",
        help="add to each cell its mean paired difference (same seed, replica and "
        "other keys) to the cells with KEY=VALUE, e.g. features=raw; KEY must be a "
        "row or column key",
    )
    group.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="significance level of the paired test (default: %(default)s)",
    )
    group.add_argument(
        "--test",
        choices=TESTS,
        default="auto",
        help="paired test: Wilcoxon signed-rank, paired bootstrap, or auto: Wilcoxon "
        "where enough pairs let it reach --alpha, else bootstrap (default: auto)",
    )


def _add_output_options(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory for the table files (default: the first SWEEP_DIR)",
    )
    group.add_argument("--tex", action="store_true", help="also write table.tex")
    group.add_argument("--caption", default=None, help="LaTeX caption, as it is")
    group.add_argument("--label", default=None, help="LaTeX label, e.g. tab:latent")
    group.add_argument(
        "--no-footer",
        action="store_true",
        help="keep the commit, hardware and compute line out of the LaTeX notes "
        "(it stays as a comment)",
    )
    group.add_argument(
        "--names",
        type=Path,
        default=None,
        metavar="YAML",
        help="YAML file whose `table.names` and `table.value_names` give display names "
        "(default: configs/config.yaml)",
    )
    group.add_argument(
        "--raw-names",
        action="store_true",
        help="show config keys, values and metric names as they are",
    )


def main(argv: list[str] | None = None) -> int:
    """Write the table files, print the Markdown table and return the exit status."""
    args = parse_args(argv)
    try:
        names = load_display_names(args.names, args.raw_names)
        style = TableStyle(
            decimals=args.decimals,
            errorbar=args.errorbar,
            ci_level=args.ci_level,
            bold=not args.no_bold,
            names=names,
            caption=args.caption,
            label=args.label,
            footer=not args.no_footer,
        )
        baseline = None
        if args.baseline is not None:
            baseline = Baseline.parse(args.baseline, args.alpha, args.test)
        table = write_table(
            args.sweep_dirs,
            args.rows,
            args.metrics,
            args.out,
            strict=True,
            cols=args.cols,
            baseline=baseline,
            style=style,
            tex=args.tex,
        )
    except (RecordsNotFoundError, ValueError) as error:
        args.parser.error(str(error))
    print(format_markdown(table, style), end="")
    out_dir = args.out if args.out is not None else args.sweep_dirs[0]
    written = ["table.md", "table.csv", "table_summary.csv"]
    written += ["table.tex"] if args.tex else []
    print(f"\nWrote {', '.join(written)} to {out_dir}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
