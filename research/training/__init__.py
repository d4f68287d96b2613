"""The shared training loop and its compiled functions."""

from research.training.compiled import COMPILE_COUNTS, TRACE_COUNTS, make_optimizer
from research.training.loop import Trainer, TrainResult, TrainSettings

__all__ = [
    "COMPILE_COUNTS",
    "TRACE_COUNTS",
    "TrainResult",
    "TrainSettings",
    "Trainer",
    "make_optimizer",
]
