"""Registry that maps a config name (`model.name`) to an autoencoder module class."""

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import flax.linen as nn

from research.models.blocks import get_activation

MODELS: dict[str, type[nn.Module]] = {}

ACTIVATION_KEYS = (
    "activation",
    "latent_activation",
    "decoder_activation",
    "output_activation",
)


def register(name: str) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator that registers an autoencoder module under `name`."""

    def decorator(cls: type[nn.Module]) -> type[nn.Module]:
        if name in MODELS and MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered")
        MODELS[name] = cls
        return cls

    return decorator


def get_model_class(name: str) -> type[nn.Module]:
    """Return the module class registered as `name`; raise ValueError if unknown."""
    if name not in MODELS:
        valid = ", ".join(sorted(MODELS))
        raise ValueError(f"unknown model={name!r}; valid names: {valid}")
    return MODELS[name]


def build_model(model_cfg: Mapping[str, Any], n_features: int) -> nn.Module:
    """Build the module named by `model_cfg["name"]` from the other config keys.

    Raises ValueError for an unknown name, an unknown key or a width below 1.
    """
    cls = get_model_class(model_cfg["name"])
    fields = {f.name for f in dataclasses.fields(cls)} - {"parent", "name"}
    kwargs = {k: v for k, v in model_cfg.items() if k != "name"}
    unknown = sorted(set(kwargs) - fields)
    if unknown:
        raise ValueError(
            f"model={model_cfg['name']} does not take {', '.join(unknown)}; "
            f"its options are {', '.join(sorted(fields - {'n_features'}))}"
        )
    for key in ("hidden", "decoder_hidden"):
        if kwargs.get(key) is not None:
            kwargs[key] = _widths(key, kwargs[key])
    latent_dim = kwargs.get("latent_dim")
    if not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"model.latent_dim={latent_dim!r} must be an integer >= 1")
    for key in ACTIVATION_KEYS:
        if kwargs.get(key) is not None:
            get_activation(kwargs[key], key)
    model = cls(n_features=n_features, **kwargs)
    model.check_options()
    return model


def _widths(key: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(
            f"model.{key}={value!r} must be a list of layer widths, such as [64,32]"
        )
    if not all(isinstance(w, int) and w >= 1 for w in value):
        raise ValueError(
            f"model.{key}={list(value)} must hold integer layer widths >= 1"
        )
    return tuple(value)


def model_hparams(model: nn.Module) -> dict[str, float]:
    """Return the scalar hyperparameters that the training step takes as arrays."""
    return {name: float(getattr(model, name)) for name in model.hparam_names}
