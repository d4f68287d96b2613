"""Draw the precision-recall curves of several configurations in one figure.

Usage from the repository root:

    python scripts/plot_pr.py SWEEP --by model --out results/pr_models
    python scripts/plot_pr.py SWEEP_A SWEEP_B --by features,model \\
        --where classifier=logreg

One line per configuration (the values of the --by keys), averaged over its runs
(seeds and replicas) from their arrays.npz, with a ± std band. Writes STEM.png and
STEM.pdf (default: pr_curves in the first DIR). Exits with status 2 when no run
matches or no matching run has arrays.npz.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

try:
    import research  # noqa: F401
except ImportError:
    # Lets the script run from a checkout where the package is not installed.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from research.plot_data import (  # noqa: E402
    group_label,
    group_runs,
    load_arrays,
    parse_where,
    plot_argument_parser,
    run_directory,
    select_runs,
)
from research.plots import COLUMN_WIDTH, pr_figure, save_figure  # noqa: E402
from research.records import RecordsNotFoundError  # noqa: E402
from research.table_style import load_display_names  # noqa: E402
from research.tables import default_row_keys  # noqa: E402

log = logging.getLogger("plot_pr")


def parse_args(argv: list[str] | None = None):
    """Parse the command line."""
    parser = plot_argument_parser(
        "Draw precision-recall curves, one per configuration, averaged over seeds.",
        by=True,
    )
    args = parser.parse_args(argv)
    args.parser = parser
    return args


def collect_curves(runs, keys, names) -> dict[str, list]:
    """Return legend label -> (test labels, test scores) of each run with arrays."""
    curves = {}
    for values, members in group_runs(runs, keys).items():
        pairs = []
        for path, _ in members:
            try:
                arrays = load_arrays(run_directory(path))
            except FileNotFoundError as error:
                log.warning("Skipping a run: %s", error)
                continue
            pairs.append((arrays["test_labels"], arrays["test_scores"]))
        if pairs:
            curves[group_label(keys, values, names)] = pairs
    return curves


def main(argv: list[str] | None = None) -> int:
    """Draw the figure and return the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    try:
        runs = select_runs(args.dirs, parse_where(args.where))
        names = load_display_names(args.names, args.raw_names)
    except (RecordsNotFoundError, ValueError) as error:
        args.parser.error(str(error))
    keys = args.by if args.by is not None else default_row_keys(runs)
    curves = collect_curves(runs, keys, names)
    if not curves:
        args.parser.error("no matching run has an arrays.npz with test scores")
    figure = pr_figure(curves, width=args.width or COLUMN_WIDTH)
    paths = save_figure(figure, args.out or args.dirs[0] / "pr_curves")
    counts = ", ".join(f"{label}: {len(pairs)}" for label, pairs in curves.items())
    print(f"Runs per line: {counts}. Wrote {paths[0]} and {paths[1]}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
