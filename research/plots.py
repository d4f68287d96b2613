"""Paper figures: t-SNE, precision-recall curves, loss curves and sweep axes.

The figures use matplotlib's object API (`Figure`, no pyplot), so no GUI backend is
involved. Sizes are in inches: `COLUMN_WIDTH` is one column of a two-column paper,
and the text is 8 pt (7 pt for ticks and legends). `save_figure` writes a PNG at
300 dpi and a PDF with TrueType fonts, which publishers accept where Type 3 fails.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.manifold import TSNE

from research.plot_data import RECALL_GRID, mean_history, mean_pr_curve
from research.stats import MetricSummary
from research.table_style import load_display_names

# A column of a two-column paper is 3.25 to 3.5 in (ICML 3.25 in, IEEE 3.5 in).
COLUMN_WIDTH = 3.3
PAPER_RC = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.2,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
}
BAND_ALPHA = 0.2

# matplotlib's PDF backend subsets fonts with fontTools, which logs each step at INFO,
# the level of the Hydra job logs.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def paper_style() -> Any:
    """Return a context manager that sets the rcParams of `PAPER_RC`."""
    return matplotlib.rc_context(PAPER_RC)


def save_figure(figure: Figure, stem: Path) -> list[Path]:
    """Write `stem`.png (300 dpi) and `stem`.pdf; return both paths.

    A `.png` or `.pdf` suffix on `stem` is dropped. The PDF carries no creation
    date, so the same figure gives the same file.
    """
    stem = Path(stem)
    if stem.suffix in (".png", ".pdf"):
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.parent / f"{stem.name}.png", stem.parent / f"{stem.name}.pdf"]
    with paper_style():
        figure.savefig(paths[0], dpi=300, bbox_inches="tight")
        figure.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None})
    return paths


def tsne_embedding(
    rows: np.ndarray, seed: int = 0, perplexity: float = 30.0, max_iter: int = 1000
) -> np.ndarray:
    """Embed `rows` in 2-D with scikit-learn's t-SNE (PCA start, fixed seed).

    The perplexity is lowered to (n - 1) / 3 for small samples, because t-SNE needs
    it below the row count. One-column rows (a reconstruction error) start from a
    random layout, because a 2-D PCA start needs two columns. Raises ValueError for
    fewer than 4 rows.
    """
    # float64: on 113 scaled breast-cancer rows, scikit-learn 1.9's Barnes-Hut t-SNE
    # took 20 to 30 s with float32 input and 0.2 s with float64 (2-core CPU).
    rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    n_rows = len(rows)
    if n_rows < 4:
        raise ValueError(f"t-SNE needs at least 4 rows, got {n_rows}")
    tsne = TSNE(
        n_components=2,
        perplexity=min(perplexity, (n_rows - 1) / 3),
        init="pca" if rows.shape[1] >= 2 else "random",
        learning_rate="auto",
        max_iter=max_iter,
        random_state=seed,
    )
    return tsne.fit_transform(rows)


def tsne_figure(
    raw: np.ndarray,
    features: np.ndarray,
    labels: np.ndarray,
    features_name: str = "latent",
    *,
    seed: int = 0,
    perplexity: float = 30.0,
    max_iter: int = 1000,
    class_names: tuple[str, str] = ("normal", "positive"),
    titles: tuple[str, str] | None = None,
    width: float = COLUMN_WIDTH,
) -> Figure:
    """Draw t-SNE maps of the raw rows and the classifier features side by side.

    Runs with `features_name == "raw"` get the raw panel only. Points are coloured
    by class, positives drawn on top. `titles` default to "Raw input (scaled)" and
    "<features_name> features".
    """
    titles = titles or ("Raw input (scaled)", f"{features_name} features")
    panels = [(titles[0], raw)]
    if features_name != "raw":
        panels.append((titles[1], features))
    labels = np.asarray(labels)
    with paper_style():
        figure = Figure(figsize=(width, width / 2 + 0.45), layout="constrained")
        axes = figure.subplots(1, 2, squeeze=False)[0]
        for ax, (title, rows) in zip(axes, panels, strict=False):
            points = tsne_embedding(rows, seed, perplexity, max_iter)
            _scatter_classes(ax, points, labels, class_names)
            ax.set_title(title)
        if len(panels) == 1:
            axes[1].set_axis_off()
        # Below the panels, so that it never hides points.
        handles, names = axes[0].get_legend_handles_labels()
        figure.legend(
            handles,
            names,
            loc="outside lower center",
            ncols=2,
            frameon=False,
            markerscale=3,
            handletextpad=0.2,
        )
    return figure


def _scatter_classes(
    ax: Axes, points: np.ndarray, labels: np.ndarray, class_names: tuple[str, str]
) -> None:
    negative = labels != 1
    for mask, name, colour, size in (
        (negative, class_names[0], "0.72", 2.0),
        (~negative, class_names[1], "tab:red", 4.0),
    ):
        ax.scatter(
            *points[mask].T,
            s=size,
            c=colour,
            linewidths=0,
            rasterized=True,
            label=f"{name} ({int(mask.sum())})",
        )
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_linewidth(0.5)


def tsne_figure_from_arrays(arrays: Mapping[str, Any], **options: Any) -> Figure:
    """Draw `tsne_figure` from a run's arrays.npz contents (see plot_data).

    The features panel is titled with the display name of the features from
    configs/config.yaml, unless `options` give `titles`.
    """
    labels = np.asarray(arrays["test_labels"])[arrays["sample_rows"]]
    name = str(arrays["features_name"])
    display = load_display_names().value("features", name)
    options.setdefault("titles", ("Raw input (scaled)", f"{display} features"))
    return tsne_figure(
        arrays["sample_raw"], arrays["sample_features"], labels, name, **options
    )


def pr_figure(
    groups: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]],
    width: float = COLUMN_WIDTH,
) -> Figure:
    """Draw one precision-recall curve per group of runs, averaged over its runs.

    `groups` maps a legend label to (test labels, test scores) pairs, one per seed.
    A band shows ± std of the interpolated precision; the legend gives the mean ±
    std of the runs' average precision (AP). A dotted line marks the prevalence.
    """
    with paper_style():
        figure = Figure(figsize=(width, width * 0.8), layout="constrained")
        ax = figure.subplots()
        prevalences = []
        for label, runs in groups.items():
            mean, std, aps = mean_pr_curve(runs)
            ap = f"AP {np.mean(aps):.3f}"
            if len(aps) > 1:
                ap += f" ± {np.std(aps, ddof=1):.3f}"
            (line,) = ax.plot(RECALL_GRID, mean, label=f"{label} ({ap})")
            _band(ax, RECALL_GRID, mean, std, line.get_color(), len(runs))
            prevalences += [float(np.mean(labels == 1)) for labels, _ in runs]
        prevalence = float(np.mean(prevalences))
        ax.axhline(prevalence, color="0.5", linestyle=":", linewidth=0.8)
        ax.set(xlabel="Recall", ylabel="Precision", xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(loc="lower left", frameon=False)
    return figure


def _band(ax: Axes, x: Any, mean: Any, std: Any, colour: str, n_runs: int) -> None:
    if n_runs > 1:
        lower, upper = np.asarray(mean) - std, np.asarray(mean) + std
        ax.fill_between(x, lower, upper, color=colour, alpha=BAND_ALPHA, linewidth=0)


def loss_figure(
    groups: Mapping[str, Sequence[Mapping[str, Sequence[float | None]]]],
    keys: Sequence[str] = ("train/recon_loss", "val/recon_loss"),
    titles: Sequence[str] | None = None,
    log_y: bool = False,
    width: float = COLUMN_WIDTH,
) -> Figure:
    """Draw per-epoch curves of each history key, one panel per key.

    `groups` maps a legend label to the `history` dicts of its runs. Each line is
    the mean over the runs that reached the epoch, with a ± std band.
    """
    titles = list(titles) if titles is not None else list(keys)
    with paper_style():
        height = width * 0.7 if len(keys) == 1 else width / 2 + 0.6
        figure = Figure(figsize=(width, height), layout="constrained")
        axes = figure.subplots(1, len(keys), squeeze=False)[0]
        for ax, key, title in zip(axes, keys, titles, strict=True):
            for index, (label, histories) in enumerate(groups.items()):
                series = [history.get(key) or [] for history in histories]
                epochs, mean, std = mean_history(series)
                colour = f"C{index % 10}"
                # A marker keeps a run of one or two epochs visible.
                marker = "o" if len(epochs) <= 2 else None
                ax.plot(epochs, mean, color=colour, label=label, marker=marker, ms=3)
                _band(ax, epochs, mean, std, colour, len(series))
            ax.set(title=title, xlabel="Epoch")
            if log_y:
                ax.set_yscale("log")
        axes[0].legend(loc="upper right", frameon=False)
    return figure


def sweep_figure(
    lines: Mapping[str, Sequence[tuple[str, MetricSummary]]],
    x_label: str,
    y_label: str,
    log_x: bool = False,
    width: float = COLUMN_WIDTH,
) -> Figure:
    """Draw a metric against a sweep axis: one line per label, with a ± std band.

    `lines` maps a legend label to (x value, summary over seeds) pairs. Values that
    all parse as numbers are placed by value (on a log2 axis with `log_x`), others
    evenly in their given order.
    """
    x_values = list(dict.fromkeys(x for points in lines.values() for x, _ in points))
    numeric = all(_is_number(x) for x in x_values)
    if numeric:
        x_values.sort(key=float)
    position = {x: float(x) if numeric else i for i, x in enumerate(x_values)}
    with paper_style():
        figure = Figure(figsize=(width, width * 0.75), layout="constrained")
        ax = figure.subplots()
        for label, points in lines.items():
            kept = sorted((position[x], s) for x, s in points if s.mean is not None)
            xs = [x for x, _ in kept]
            means = np.array([s.mean for _, s in kept])
            stds = np.array([s.std or 0.0 for _, s in kept])
            (line,) = ax.plot(xs, means, marker="o", markersize=3, label=label)
            n_runs = min((s.n for _, s in kept), default=0)
            _band(ax, xs, means, stds, line.get_color(), n_runs)
        if log_x and numeric:
            ax.set_xscale("log", base=2)
        ax.set_xticks([position[x] for x in x_values], x_values)
        ax.minorticks_off()
        ax.set(xlabel=x_label, ylabel=y_label)
        ax.legend(loc="best", frameon=False)
    return figure


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
