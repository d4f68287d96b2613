"""Data sets, stratified splits, label budgets and feature scalers."""

from research.data.missing import MISSING_POLICIES, impute_median
from research.data.scaling import SCALER_NAMES, make_scaler
from research.data.sources import (
    CREDITCARD_FEATURES,
    CREDITCARD_LABEL,
    Dataset,
    count_duplicate_rows,
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
    "MISSING_POLICIES",
    "SCALER_NAMES",
    "SPLIT_NAMES",
    "Dataset",
    "Split",
    "ae_budget_indices",
    "ae_fit_indices",
    "count_duplicate_rows",
    "impute_median",
    "label_budget_indices",
    "load_dataset",
    "make_scaler",
    "split_indices",
]
