"""Downstream classifiers built from config, and their scores."""

import logging
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from hydra.utils import instantiate
from sklearn.base import ClassifierMixin

log = logging.getLogger(__name__)


def build_classifier(cfg: Mapping[str, Any]) -> ClassifierMixin:
    """Instantiate the estimator of a `classifier` config (its `estimator._target_`)."""
    if "estimator" not in cfg or "_target_" not in cfg["estimator"]:
        raise ValueError(
            f"classifier={cfg.get('name')!r} has no estimator._target_; name a "
            "scikit-learn estimator class there, as configs/classifier/logreg.yaml does"
        )
    return instantiate(cfg["estimator"], _convert_="all")


def fit_classifier(
    estimator: ClassifierMixin, features: np.ndarray, labels: np.ndarray
) -> ClassifierMixin:
    """Fit `estimator`, logging its warnings (for example non-convergence) once each.

    A k-nearest-neighbours estimator with as many neighbours as labeled rows or more
    would give every row the same score, so it gets one neighbour fewer than there
    are labeled rows (at least 1), with a logged warning.
    """
    neighbours = estimator.get_params().get("n_neighbors")
    if isinstance(neighbours, int) and neighbours >= len(labels):
        shrunk = max(1, len(labels) - 1)
        log.warning(
            "classifier n_neighbors=%d is not below the %d labeled rows; using %d",
            neighbours,
            len(labels),
            shrunk,
        )
        estimator.set_params(n_neighbors=shrunk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(features, labels)
    for message in sorted({f"{w.category.__name__}: {w.message}" for w in caught}):
        log.warning("classifier %s", message)
    return estimator


def positive_scores(estimator: ClassifierMixin, features: np.ndarray) -> np.ndarray:
    """Return a score per row that grows with the chance of the positive class (1)."""
    if hasattr(estimator, "predict_proba"):
        classes = list(estimator.classes_)
        return estimator.predict_proba(features)[:, classes.index(1)]
    return estimator.decision_function(features)
