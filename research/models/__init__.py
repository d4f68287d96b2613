"""Autoencoder variants and the registry that names them.

Importing this package registers the built-in variants: ae, dae, vae.
"""

from research.models import denoising, dense, variational  # noqa: F401  (registers)
from research.models.registry import (
    MODELS,
    build_model,
    get_model_class,
    model_hparams,
    register,
)

__all__ = ["MODELS", "build_model", "get_model_class", "model_hparams", "register"]
