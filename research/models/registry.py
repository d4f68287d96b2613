"""Registry that maps a config name (`model.name`) to an autoencoder module class."""

import dataclasses
import importlib
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


def import_variant_module(module: Any, name: str) -> None:
    """Import `module` (the `model.module` key) so that its `@register` calls run.

    Raises ValueError when the import fails or the module does not register `name`.
    """
    if not isinstance(module, str) or not module:
        raise ValueError(
            f"model.module={module!r} must be a dotted Python module name, such as "
            "myvariants.tiny"
        )
    try:
        importlib.import_module(module)
    except ImportError as err:
        raise ValueError(
            f"model.module={module!r} could not be imported ({err}); check that the "
            "directory containing its top-level package is on PYTHONPATH"
        ) from err
    if name not in MODELS:
        raise ValueError(
            f"model.module={module!r} was imported but registers no model {name!r}; "
            f"decorate the class with @register({name!r})"
        )


def build_model(model_cfg: Mapping[str, Any], n_features: int) -> nn.Module:
    """Build the module named by `model_cfg["name"]` from the other config keys.

    An optional `module` key names a Python module to import first, so that a
    variant defined outside this package registers itself. Raises ValueError for an
    unknown name, a failed import, an unknown key or a width below 1.
    """
    if model_cfg.get("module") is not None:
        import_variant_module(model_cfg["module"], model_cfg["name"])
    cls = get_model_class(model_cfg["name"])
    fields = {f.name for f in dataclasses.fields(cls)} - {"parent", "name"}
    kwargs = {k: v for k, v in model_cfg.items() if k not in ("name", "module")}
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
