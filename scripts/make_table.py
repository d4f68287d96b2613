"""Print the mean ± std table of sweep dirs and write it to table.md and table.csv.

Usage from the repository root:

    python scripts/make_table.py multirun/2026-12-04/15-00-00
    python scripts/make_table.py SWEEP_A SWEEP_B --rows model,model.latent_dim \\
        --metrics test/auprc,val/auprc --out results/latent_dim

Exits with status 2 if a sweep dir does not exist or contains no record.json.
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
from research.tables import DEFAULT_METRICS, format_markdown, write_table  # noqa: E402


def split_names(text: str) -> list[str]:
    """Split a comma-separated list, dropping blanks, so "" gives an empty list."""
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Aggregate the record.json files of Hydra sweeps into a table of "
        "mean ± sample std over seeds, one row per configuration.",
    )
    parser.add_argument(
        "sweep_dirs",
        nargs="+",
        type=Path,
        metavar="SWEEP_DIR",
        help="directory searched recursively for record.json files",
    )
    parser.add_argument(
        "--rows",
        type=split_names,
        default=None,
        metavar="KEYS",
        help="comma-separated row keys: override keys or dotted config paths "
        "(default: the override keys whose values differ; '' for one row)",
    )
    parser.add_argument(
        "--metrics",
        type=split_names,
        default=",".join(DEFAULT_METRICS),
        metavar="NAMES",
        help="comma-separated metric names (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="directory for table.md and table.csv (default: the first SWEEP_DIR)",
    )
    args = parser.parse_args(argv)
    args.parser = parser
    return args


def main(argv: list[str] | None = None) -> int:
    """Write table.md and table.csv, print the table and return the exit status."""
    args = parse_args(argv)
    try:
        table = write_table(
            args.sweep_dirs, args.rows, args.metrics, args.out, strict=True
        )
    except (RecordsNotFoundError, ValueError) as error:
        args.parser.error(str(error))
    print(format_markdown(table), end="")
    out_dir = args.out if args.out is not None else args.sweep_dirs[0]
    print(f"\nWrote {out_dir / 'table.md'} and {out_dir / 'table.csv'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
