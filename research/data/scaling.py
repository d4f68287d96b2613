"""Feature scalers selected by the top-level `scaler` config key."""

from __future__ import annotations

from sklearn.base import TransformerMixin
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

SCALER_NAMES = ("standard", "minmax", "none")


def make_scaler(name: str) -> TransformerMixin:
    """Return a new, unfitted scikit-learn transformer for the scaler `name`.

    "standard" subtracts the mean and divides by the population standard deviation,
    "minmax" maps each feature to [0, 1] and "none" returns its input unchanged. Fit
    it on training rows only, so that validation and test rows do not leak into the
    statistics.
    """
    if name == "standard":
        return StandardScaler()
    if name == "minmax":
        return MinMaxScaler()
    if name == "none":
        # With func=None, FunctionTransformer passes its input through unchanged.
        return FunctionTransformer(func=None)
    raise ValueError(f"invalid scaler={name!r}; valid names are {list(SCALER_NAMES)}")
