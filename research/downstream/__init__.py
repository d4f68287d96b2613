"""Classifiers on learned features and the metrics that score them."""

from research.downstream.classifiers import (
    build_classifier,
    fit_classifier,
    positive_scores,
)
from research.downstream.metrics import binary_metrics, evaluate_scores, f1_threshold

__all__ = [
    "binary_metrics",
    "build_classifier",
    "evaluate_scores",
    "f1_threshold",
    "fit_classifier",
    "positive_scores",
]
