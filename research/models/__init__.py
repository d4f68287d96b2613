"""Autoencoder variants and the registry that names them.

Importing this package registers the built-in variants: ae, dae, vae, sparse_ae and
contractive_ae. A config key `model.module` registers variants from other modules.
"""

from research.models import (  # noqa: F401  (registers)
    contractive,
    denoising,
    dense,
    sparse,
    variational,
)
from research.models.registry import (
    MODELS,
    build_model,
    get_model_class,
    import_variant_module,
    model_hparams,
    register,
)

__all__ = [
    "MODELS",
    "build_model",
    "get_model_class",
    "import_variant_module",
    "model_hparams",
    "register",
]
