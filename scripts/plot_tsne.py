"""Draw t-SNE maps of one run's raw test rows and classifier features, side by side.

Usage from the repository root:

    python scripts/plot_tsne.py multirun/2026-12-04/15-00-00/3
    python scripts/plot_tsne.py SWEEP --where model=vae,model.latent_dim=8,seed=0 \\
        --out results/tsne_vae_8

Reads the run's arrays.npz: every positive test row and a fixed-seed sample of the
negative ones (`plots.tsne_negatives`, 2000 by default). Writes STEM.png and STEM.pdf
(default: tsne in the run's directory). Exits with status 2 when no run matches.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import research  # noqa: F401
except ImportError:
    # Lets the script run from a checkout where the package is not installed.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from research.plot_data import (  # noqa: E402
    group_label,
    load_arrays,
    parse_where,
    plot_argument_parser,
    run_directory,
    select_runs,
    subsample_rows,
)
from research.plots import COLUMN_WIDTH, save_figure, tsne_figure  # noqa: E402
from research.records import RecordsNotFoundError  # noqa: E402
from research.table_style import load_display_names  # noqa: E402


def parse_args(argv: list[str] | None = None):
    """Parse the command line."""
    parser = plot_argument_parser(
        "Draw t-SNE maps of a run's raw test rows and its classifier features. With "
        "several matching runs, the first in sweep order is drawn."
    )
    parser.add_argument("--seed", type=int, default=0, help="t-SNE seed (default: 0)")
    parser.add_argument(
        "--perplexity", type=float, default=30.0, help="t-SNE perplexity (default: 30)"
    )
    parser.add_argument(
        "--max-iter", type=int, default=1000, help="t-SNE iterations (default: 1000)"
    )
    parser.add_argument(
        "--negatives",
        type=int,
        default=None,
        metavar="N",
        help="keep only N of the stored negative rows (default: all stored)",
    )
    parser.add_argument(
        "--class-names",
        default="normal,positive",
        metavar="NEG,POS",
        help="legend names of class 0 and class 1 (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    args.parser = parser
    return args


def main(argv: list[str] | None = None) -> int:
    """Draw the figure of the first matching run and return the exit status."""
    args = parse_args(argv)
    try:
        path, record = select_runs(args.dirs, parse_where(args.where))[0]
        directory = run_directory(path)
        arrays = load_arrays(directory)
        names = load_display_names(args.names, args.raw_names)
    except (RecordsNotFoundError, FileNotFoundError, ValueError) as error:
        args.parser.error(str(error))

    labels = arrays["test_labels"][arrays["sample_rows"]]
    keep = slice(None)
    if args.negatives is not None:
        keep = subsample_rows(labels, args.negatives, args.seed)
    features_name = str(arrays["features_name"])
    display = group_label(["features"], [features_name], names)
    class_names = tuple(args.class_names.split(",", 1))
    if len(class_names) != 2:
        args.parser.error("--class-names must be two names separated by a comma")

    figure = tsne_figure(
        arrays["sample_raw"][keep],
        arrays["sample_features"][keep],
        labels[keep],
        features_name,
        seed=args.seed,
        perplexity=args.perplexity,
        max_iter=args.max_iter,
        class_names=class_names,
        titles=("Raw input (scaled)", f"{display} features"),
        width=args.width or COLUMN_WIDTH,
    )
    paths = save_figure(figure, args.out or directory / "tsne")
    overrides = " ".join(record.get("overrides") or []) or "no overrides"
    print(f"t-SNE of {directory} ({overrides}): wrote {paths[0]} and {paths[1]}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
