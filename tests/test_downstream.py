import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from research.downstream import (
    binary_metrics,
    build_classifier,
    evaluate_scores,
    f1_threshold,
    positive_scores,
)
from tests.conftest import make_config


def brute_force_best_f1(labels, scores):
    return max(
        f1_score(labels, scores >= t, zero_division=0) for t in np.unique(scores)
    )


def test_f1_threshold_is_best_on_val():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = labels * 0.5 + rng.normal(size=200)
    threshold = f1_threshold(labels, scores)
    best = f1_score(labels, scores >= threshold)
    assert best == pytest.approx(brute_force_best_f1(labels, scores))


def test_f1_threshold_without_positives():
    assert f1_threshold(np.zeros(5, int), np.arange(5.0)) == math.inf


def test_binary_metrics_match_sklearn():
    labels = np.array([0, 0, 1, 1, 0, 1, 0, 0])
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.6, 0.3])
    metrics = binary_metrics(labels, scores, threshold=0.35)
    predicted = scores >= 0.35
    assert metrics["auprc"] == pytest.approx(average_precision_score(labels, scores))
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(labels, scores))
    assert metrics["f1"] == pytest.approx(f1_score(labels, predicted))
    # Predicted positive: 0.35, 0.4, 0.6, 0.8, 0.9 -> 3 true positives of 5.
    assert metrics["precision"] == pytest.approx(3 / 5)
    assert metrics["recall"] == pytest.approx(1.0)
    assert metrics["balanced_accuracy"] == pytest.approx((1.0 + 3 / 5) / 2)


def test_one_class_metrics_are_nan():
    metrics = binary_metrics(np.zeros(4, int), np.arange(4.0), threshold=2.0)
    assert math.isnan(metrics["roc_auc"])
    assert math.isnan(metrics["auprc"])


def test_threshold_ignores_test_rows():
    rng = np.random.default_rng(1)
    val_labels = rng.integers(0, 2, 50)
    val_scores = rng.normal(size=50) + val_labels
    test_labels = rng.integers(0, 2, 50)
    first = evaluate_scores(val_labels, val_scores, test_labels, rng.normal(size=50))
    second = evaluate_scores(val_labels, val_scores, test_labels, rng.normal(size=50))
    assert first["val/threshold"] == second["val/threshold"]
    assert first["val/f1"] == second["val/f1"]
    assert set(first) >= {"test/auprc", "test/roc_auc", "test/f1", "val/auprc"}


@pytest.mark.parametrize("name", ["logreg", "random_forest"])
def test_classifier_configs_build_and_score(name):
    cfg = make_config(f"classifier={name}", "seed=3")
    from omegaconf import OmegaConf

    estimator = build_classifier(OmegaConf.to_container(cfg.classifier, resolve=True))
    assert estimator.get_params()["class_weight"] == "balanced"
    if name == "random_forest":
        assert estimator.get_params()["random_state"] == 3
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = (x[:, 0] > 0).astype(int)
    estimator.fit(x, y)
    scores = positive_scores(estimator, x)
    assert roc_auc_score(y, scores) > 0.9


def test_classifier_without_target_raises():
    with pytest.raises(ValueError, match="no estimator._target_"):
        build_classifier({"name": "mine", "estimator": {"C": 1.0}})
