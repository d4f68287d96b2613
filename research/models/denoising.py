"""Denoising autoencoder: reconstruct the clean row from a corrupted copy."""

from collections.abc import Mapping
from typing import ClassVar

import jax
import jax.numpy as jnp

from research.models.blocks import squared_error
from research.models.dense import DenseAE
from research.models.registry import register


def corrupt(
    x: jax.Array, key: jax.Array, noise_std: jax.Array, mask_prob: jax.Array
) -> jax.Array:
    """Add Gaussian noise of std `noise_std`, then zero each value with `mask_prob`."""
    noise_key, mask_key = jax.random.split(key)
    noisy = x + noise_std * jax.random.normal(noise_key, x.shape, x.dtype)
    keep = jax.random.uniform(mask_key, x.shape) >= mask_prob
    return jnp.where(keep, noisy, 0.0)


@register("dae")
class DenoisingAE(DenseAE):
    """Autoencoder whose input is corrupted in training only (rng stream `noise`).

    `encode` and `train=False` see the clean input, so features are deterministic.
    """

    noise_std: float = 0.1
    mask_prob: float = 0.1

    hparam_names: ClassVar[tuple[str, ...]] = ("noise_std", "mask_prob")

    def check_options(self) -> None:
        if not self.noise_std >= 0:
            raise ValueError(f"model.noise_std={self.noise_std} must be >= 0")
        if not 0 <= self.mask_prob < 1:
            raise ValueError(f"model.mask_prob={self.mask_prob} must be in [0, 1)")

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool,
        hparams: Mapping[str, jax.Array] | None = None,
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        inputs = x
        if train:
            inputs = corrupt(
                x,
                self.make_rng("noise"),
                self.hparam(hparams, "noise_std"),
                self.hparam(hparams, "mask_prob"),
            )
        reconstruction = self.decoder(self.encode(inputs))
        recon = squared_error(x, reconstruction)
        return reconstruction, {"loss": recon, "recon": recon}
