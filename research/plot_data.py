"""Data for the figures: per-run arrays, run selection and curves averaged over seeds.

Each run writes `arrays.npz` next to its record.json: the test labels and classifier
scores (for precision-recall curves) and a fixed-seed subsample of the test rows, raw
and as classifier features (for t-SNE). Nothing here imports matplotlib.
"""

from __future__ import annotations

import argparse
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve

from research.cli import split_names
from research.records import (
    RECORD_NAME,
    UNUSED,
    load_records,
    row_key_value,
    used_config_text,
)

ARRAYS_NAME = "arrays.npz"
# Recall values at which the precision of several runs is averaged.
RECALL_GRID = np.linspace(0.0, 1.0, 201)

logger = logging.getLogger(__name__)


def subsample_rows(labels: np.ndarray, n_negatives: int, seed: int = 0) -> np.ndarray:
    """Return sorted row positions: every positive row and `n_negatives` negative ones.

    The negatives are drawn without replacement with `seed`; all of them are kept
    when there are fewer.
    """
    labels = np.asarray(labels)
    positives = np.flatnonzero(labels == 1)
    negatives = np.flatnonzero(labels != 1)
    if len(negatives) > n_negatives:
        rng = np.random.default_rng(seed)
        negatives = rng.choice(negatives, size=n_negatives, replace=False)
    return np.sort(np.concatenate([positives, negatives]))


def run_arrays(
    labels: np.ndarray,
    scores: np.ndarray,
    raw: np.ndarray,
    features: np.ndarray,
    features_name: str,
    n_negatives: int = 2000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Return the arrays a run saves for figures, from its test split.

    `raw` contains the scaled input rows and `features` what the classifier saw. Only
    the rows of `subsample_rows(labels, n_negatives, seed)` of those two are kept.
    """
    rows = subsample_rows(labels, n_negatives, seed)
    return {
        "test_labels": np.asarray(labels, dtype=np.int8),
        "test_scores": np.asarray(scores, dtype=np.float64),
        "sample_rows": rows,
        "sample_raw": np.asarray(raw[rows], dtype=np.float32),
        "sample_features": np.asarray(features[rows], dtype=np.float32),
        "features_name": np.asarray(features_name),
    }


def save_arrays(directory: Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write `arrays` atomically to directory/arrays.npz (compressed); return it."""
    path = Path(directory) / ARRAYS_NAME
    temp = path.with_name(f".{ARRAYS_NAME}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temp, "xb") as file:
            np.savez_compressed(file, **arrays)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def load_arrays(directory: Path) -> dict[str, np.ndarray]:
    """Read directory/arrays.npz; raise FileNotFoundError naming the path if absent."""
    path = Path(directory) / ARRAYS_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found; runs write it when plots.arrays=true (the default)"
        )
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def save_run_outputs(directory: Path, arrays: Mapping[str, Any], plots: Any) -> None:
    """Save a run's arrays.npz and, with `plots.tsne`, its t-SNE figure.

    `plots` is the run's `plots` config block (or None for the defaults: arrays on,
    t-SNE off). Errors are logged, not raised, because the run's record is already
    written and a sweep should go on.
    """
    if not arrays or not _option(plots, "arrays", True):
        return
    try:
        save_arrays(directory, arrays)
    except OSError:
        logger.exception("Failed to write %s in %s", ARRAYS_NAME, directory)
        return
    if not _option(plots, "tsne", False):
        return
    from research.plots import save_figure, tsne_figure_from_arrays

    try:
        figure = tsne_figure_from_arrays(arrays)
        paths = save_figure(figure, Path(directory) / "tsne")
        logger.info("t-SNE figure in %s", paths[0])
    except (ValueError, OSError, RuntimeError):
        logger.exception("t-SNE figure failed for %s", directory)


def _option(block: Any, name: str, default: Any) -> Any:
    if block is None:
        return default
    return block.get(name, default)


def parse_where(items: Sequence[str]) -> dict[str, str]:
    """Parse KEY=VALUE filters, comma-separated or repeated; raise ValueError if bad."""
    where = {}
    for item in items:
        for part in item.split(","):
            key, has_value, value = part.partition("=")
            if not has_value or not key.strip():
                raise ValueError(f"filter {part!r} must be KEY=VALUE, e.g. seed=0")
            where[key.strip()] = value.strip()
    return where


def select_runs(
    dirs: Sequence[Path], where: Mapping[str, str] | None = None
) -> list[tuple[Path, dict]]:
    """Return the ok records under `dirs` (in sweep order) that match every filter.

    A filter key is an override key or a dotted config path, as for table rows.
    Raises records.RecordsNotFoundError for a directory without records and
    ValueError when no ok record matches.
    """
    where = dict(where or {})
    records = load_records(dirs)
    selected = [
        (path, record)
        for path, record in records
        if record.get("status") == "ok"
        and all(row_key_value(record, k) == v for k, v in where.items())
    ]
    if not selected:
        filters = ", ".join(f"{k}={v}" for k, v in where.items()) or "none"
        raise ValueError(
            f"no ok run among {len(records)} records matches the filters ({filters})"
        )
    return selected


def group_runs(
    runs: Sequence[tuple[Path, dict]], keys: Sequence[str]
) -> dict[tuple[str, ...], list[tuple[Path, dict]]]:
    """Group runs by their values of `keys`, in order of first occurrence.

    As in tables, runs that repeat another run's config (apart from config parts
    they did not use), seed and replica count once.
    """
    groups: dict[tuple[str, ...], list[tuple[Path, dict]]] = {}
    seen: set[tuple] = set()
    for path, record in runs:
        values = tuple(row_key_value(record, key) for key in keys)
        sample = (values, used_config_text(record) or str(path), record.get("replica"))
        if sample in seen:
            continue
        seen.add(sample)
        groups.setdefault(values, []).append((path, record))
    return groups


def run_directory(path: Path) -> Path:
    """Return the directory of a run given its record.json path or the directory."""
    path = Path(path)
    return path.parent if path.name == RECORD_NAME else path


def pr_curve(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Return the interpolated precision at each recall of `RECALL_GRID`.

    The interpolated precision at recall r is the best precision at any threshold
    with recall >= r, as in the PASCAL VOC evaluation.
    """
    precision, recall, _ = precision_recall_curve(labels, scores)
    # sklearn orders by decreasing recall, so a running max is the envelope.
    envelope = np.maximum.accumulate(precision)
    ascending_recall, ascending_envelope = recall[::-1], envelope[::-1]
    index = np.searchsorted(ascending_recall, RECALL_GRID, side="left")
    return ascending_envelope[np.clip(index, 0, len(ascending_recall) - 1)]


def mean_pr_curve(
    runs: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Average the interpolated PR curves of (labels, scores) pairs over runs.

    Returns the mean and std (ddof=0) of precision on `RECALL_GRID`, and each run's
    average precision (the AUPRC of the run records).
    """
    curves = np.stack([pr_curve(labels, scores) for labels, scores in runs])
    aps = [float(average_precision_score(labels, s)) for labels, s in runs]
    return curves.mean(axis=0), curves.std(axis=0), aps


def mean_history(
    histories: Sequence[Sequence[float | None]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average per-epoch values over runs of different lengths (early stopping).

    Returns epochs (from 1), and the mean and std (ddof=0) at each epoch over the
    runs that reached it; None and NaN values are left out.
    """
    length = max((len(values) for values in histories), default=0)
    table = np.full((len(histories), length), np.nan)
    for index, values in enumerate(histories):
        table[index, : len(values)] = [np.nan if v is None else v for v in values]
    counts = np.sum(~np.isnan(table), axis=0)
    filled = np.where(np.isnan(table), 0.0, table)
    mean = filled.sum(axis=0) / np.maximum(counts, 1)
    variance = (np.where(np.isnan(table), 0.0, (table - mean) ** 2)).sum(axis=0)
    std = np.sqrt(variance / np.maximum(counts, 1))
    mean[counts == 0] = np.nan
    return np.arange(1, length + 1), mean, std


def plot_argument_parser(description: str, by: bool = False) -> argparse.ArgumentParser:
    """Return a parser with the options that every plot script shares.

    DIR (one or more, searched for record.json), --where, --out, --width, --names
    and --raw-names; with `by`, also --by (the keys that name a line).
    """
    parser = argparse.ArgumentParser(description=description)
    if by:
        parser.add_argument(
            "--by",
            type=split_names,
            default=None,
            metavar="KEYS",
            help="comma-separated keys that name a configuration (default: the "
            "override keys whose values differ, as for table rows)",
        )
    parser.add_argument(
        "dirs",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="run or sweep directory, searched recursively for record.json files",
    )
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keep only runs with these values (comma-separated or repeated); keys "
        "are override keys or dotted config paths",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="STEM",
        help="output path without suffix; STEM.png and STEM.pdf are written",
    )
    parser.add_argument(
        "--width",
        type=float,
        default=None,
        metavar="INCHES",
        help="figure width (default: 3.3, one column of a two-column paper)",
    )
    parser.add_argument(
        "--names",
        type=Path,
        default=None,
        metavar="YAML",
        help="YAML file with `table.names` and `table.value_names` display names "
        "(default: configs/config.yaml)",
    )
    parser.add_argument(
        "--raw-names", action="store_true", help="show config values as they are"
    )
    return parser


def group_label(keys: Sequence[str], values: Sequence[str], names: Any) -> str:
    """Return the legend label of a group: its display values joined by commas.

    Values of keys the runs did not use ("none") are left out, unless all are.
    """
    if not keys:
        return "all runs"
    pairs = [(k, v) for k, v in zip(keys, values, strict=True) if v != UNUSED]
    if not pairs:
        return UNUSED
    return ", ".join(names.value(key, value) for key, value in pairs)
