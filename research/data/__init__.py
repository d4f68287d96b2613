"""Data sets, stratified splits, label budgets and feature scalers."""

from research.data.scaling import SCALER_NAMES, make_scaler
from research.data.sources import (
    CREDITCARD_FEATURES,
    CREDITCARD_LABEL,
    Dataset,
    load_dataset,
)
from research.data.splits import (
    AE_FIT_CHOICES,
    SPLIT_NAMES,
    Split,
    ae_budget_indices,
    ae_fit_indices,
    label_budget_indices,
    split_indices,
)

__all__ = [
    "AE_FIT_CHOICES",
    "CREDITCARD_FEATURES",
    "CREDITCARD_LABEL",
    "SCALER_NAMES",
    "SPLIT_NAMES",
    "Dataset",
    "Split",
    "ae_budget_indices",
    "ae_fit_indices",
    "label_budget_indices",
    "load_dataset",
    "make_scaler",
    "split_indices",
]
