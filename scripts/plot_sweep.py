"""Draw a metric against one sweep axis, one line per model, with a ± std band.

Usage from the repository root:

    python scripts/plot_sweep.py SWEEP --x model.latent_dim --lines model \\
        --metric test/auprc --log-x --out results/latent_size_auprc
    python scripts/plot_sweep.py SWEEP --x labels.budget --lines model,features

Each point is the mean over the runs (seeds and replicas) of one line and x value,
grouped as in the tables, so repeated raw-feature runs count once. Writes STEM.png
and STEM.pdf (default: sweep_<x> in the first DIR). Exits with status 2 for a key or
metric that no record has.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import research  # noqa: F401
except ImportError:
    # Lets the script run from a checkout where the package is not installed.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from research.cli import split_names  # noqa: E402
from research.plot_data import (  # noqa: E402
    group_label,
    parse_where,
    plot_argument_parser,
    select_runs,
)
from research.plots import COLUMN_WIDTH, save_figure, sweep_figure  # noqa: E402
from research.records import RecordsNotFoundError  # noqa: E402
from research.table_style import load_display_names  # noqa: E402
from research.tables import build_table, check_names  # noqa: E402


def parse_args(argv: list[str] | None = None):
    """Parse the command line."""
    parser = plot_argument_parser("Draw a metric against a sweep axis.")
    parser.add_argument(
        "--x",
        required=True,
        metavar="KEY",
        help="the sweep axis, e.g. model.latent_dim or labels.budget",
    )
    parser.add_argument(
        "--lines",
        type=split_names,
        default=["model"],
        metavar="KEYS",
        help="comma-separated keys, one line per value (default: model)",
    )
    parser.add_argument(
        "--metric",
        default="test/auprc",
        help="metric on the y axis (default: %(default)s)",
    )
    parser.add_argument("--log-x", action="store_true", help="log2-scale x axis")
    args = parser.parse_args(argv)
    args.parser = parser
    return args


def main(argv: list[str] | None = None) -> int:
    """Draw the figure and return the exit status."""
    args = parse_args(argv)
    try:
        runs = select_runs(args.dirs, parse_where(args.where))
        check_names(runs, args.lines, [args.metric], [args.x])
        names = load_display_names(args.names, args.raw_names)
    except (RecordsNotFoundError, ValueError) as error:
        args.parser.error(str(error))
    table = build_table(runs, args.lines, [args.metric], cols=[args.x])
    lines = {
        group_label(args.lines, row.values, names): [
            (column[0], cell.metrics[args.metric]) for column, cell in row.cells.items()
        ]
        for row in table.rows
    }
    figure = sweep_figure(
        lines,
        names.name(args.x),
        names.name(args.metric),
        args.log_x,
        width=args.width or COLUMN_WIDTH,
    )
    stem = args.out or args.dirs[0] / f"sweep_{args.x.replace('/', '_')}"
    paths = save_figure(figure, stem)
    print(
        f"{len(lines)} lines over {len(table.columns)} values of {args.x}. "
        f"Wrote {paths[0]} and {paths[1]}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
