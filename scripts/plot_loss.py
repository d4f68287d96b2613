"""Draw per-epoch training and validation loss curves from run records.

Usage from the repository root:

    python scripts/plot_loss.py SWEEP --by model --out results/loss_models
    python scripts/plot_loss.py RUN_DIR --keys train/recon_loss,val/recon_loss

One panel per history key, one line per configuration (the values of the --by
keys), averaged over its runs with a ± std band. Runs without a history (raw
features) are left out. Writes STEM.png and STEM.pdf (default: loss_curves in the
first DIR). Exits with status 2 when no run matches or none has a history.
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
    group_runs,
    parse_where,
    plot_argument_parser,
    select_runs,
)
from research.plots import COLUMN_WIDTH, loss_figure, save_figure  # noqa: E402
from research.records import RecordsNotFoundError  # noqa: E402
from research.table_style import load_display_names  # noqa: E402
from research.tables import default_row_keys  # noqa: E402


def parse_args(argv: list[str] | None = None):
    """Parse the command line."""
    parser = plot_argument_parser(
        "Draw per-epoch loss curves from run records, averaged over seeds.",
        by=True,
    )
    parser.add_argument(
        "--keys",
        type=split_names,
        default=["train/recon_loss", "val/recon_loss"],
        metavar="NAMES",
        help="comma-separated history keys, one panel each (default: "
        "train/recon_loss,val/recon_loss, comparable across variants; train/loss "
        "is each variant's own objective)",
    )
    parser.add_argument("--log-y", action="store_true", help="log-scale loss axis")
    args = parser.parse_args(argv)
    args.parser = parser
    return args


def main(argv: list[str] | None = None) -> int:
    """Draw the figure and return the exit status."""
    args = parse_args(argv)
    try:
        runs = select_runs(args.dirs, parse_where(args.where))
        names = load_display_names(args.names, args.raw_names)
    except (RecordsNotFoundError, ValueError) as error:
        args.parser.error(str(error))
    runs = [(path, record) for path, record in runs if record.get("history")]
    if not runs:
        args.parser.error("no matching run has a training history")
    keys = args.by if args.by is not None else default_row_keys(runs)
    groups = {
        group_label(keys, values, names): [record["history"] for _, record in members]
        for values, members in group_runs(runs, keys).items()
    }
    titles = [names.name(key) for key in args.keys]
    figure = loss_figure(
        groups, args.keys, titles, args.log_y, width=args.width or COLUMN_WIDTH
    )
    paths = save_figure(figure, args.out or args.dirs[0] / "loss_curves")
    print(f"{len(runs)} runs in {len(groups)} lines. Wrote {paths[0]} and {paths[1]}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
