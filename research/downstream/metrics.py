"""Binary classification metrics with a threshold chosen on the validation split."""

import math

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)


def f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """Return the score threshold that maximises F1 on (`labels`, `scores`).

    Rows with a score at or above the threshold are predicted positive. With no
    positive row the threshold is +inf, so nothing is predicted positive.
    """
    if not np.any(labels == 1):
        return math.inf
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    # The last precision/recall pair has no threshold (recall 0 by convention).
    precision, recall = precision[:-1], recall[:-1]
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall,
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    return float(thresholds[int(np.argmax(f1))])


def binary_metrics(
    labels: np.ndarray, scores: np.ndarray, threshold: float
) -> dict[str, float]:
    """Return threshold-free and thresholded metrics; undefined ones are NaN.

    AUPRC is the average precision. ROC AUC is undefined when only one class is
    present; precision is 0 when nothing is predicted positive.
    """
    predicted = (scores >= threshold).astype(int)
    both_classes = len(np.unique(labels)) == 2
    return {
        "auprc": float(average_precision_score(labels, scores))
        if np.any(labels == 1)
        else math.nan,
        "roc_auc": float(roc_auc_score(labels, scores)) if both_classes else math.nan,
        "f1": float(f1_score(labels, predicted, zero_division=0)),
        "precision": float(precision_score(labels, predicted, zero_division=0)),
        "recall": float(recall_score(labels, predicted, zero_division=0)),
        "balanced_accuracy": float(balanced_accuracy_score(labels, predicted))
        if both_classes
        else math.nan,
    }


def evaluate_scores(
    val_labels: np.ndarray,
    val_scores: np.ndarray,
    test_labels: np.ndarray,
    test_scores: np.ndarray,
) -> dict[str, float]:
    """Return `val/...` and `test/...` metrics at the F1-best validation threshold.

    The threshold is stored as `val/threshold`; test rows never influence it.
    """
    threshold = f1_threshold(val_labels, val_scores)
    metrics = {"val/threshold": threshold}
    for split, labels, scores in (
        ("val", val_labels, val_scores),
        ("test", test_labels, test_scores),
    ):
        for name, value in binary_metrics(labels, scores, threshold).items():
            metrics[f"{split}/{name}"] = value
    return metrics
