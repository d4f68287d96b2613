"""Variational autoencoder with a diagonal Gaussian posterior."""

from collections.abc import Mapping
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from research.models.blocks import MLP, squared_error
from research.models.dense import DenseAE
from research.models.registry import register

# The log-variance is squashed into [-LOGVAR_BOUND, LOGVAR_BOUND] with a scaled tanh, so
# exp(logvar) stays below about 2.2e4 and cannot overflow float32; the gradient stays
# non-zero, unlike a hard clip.
LOGVAR_BOUND = 10.0


# A latent dimension is active when the variance over rows of its posterior mean
# exceeds this value, the criterion of Burda, Grosse and Salakhutdinov, "Importance
# Weighted Autoencoders" (arXiv:1509.00519).
ACTIVE_UNIT_THRESHOLD = 0.01


def gaussian_kl_per_dim(mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """KL(N(mean, exp(logvar)) || N(0, 1)) of each latent dimension, per row."""
    return 0.5 * (jnp.exp(logvar) + jnp.square(mean) - 1.0 - logvar)


def gaussian_kl(mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """KL(N(mean, exp(logvar)) || N(0, I)) per row, summed over latent dimensions."""
    return jnp.sum(gaussian_kl_per_dim(mean, logvar), axis=-1)


def active_units(
    posterior_means: jax.Array, threshold: float = ACTIVE_UNIT_THRESHOLD
) -> int:
    """Count latent dimensions whose posterior mean varies over rows by > `threshold`.

    `posterior_means` has shape (rows, latent_dim), as `encode` returns it.
    """
    variance = jnp.var(jnp.asarray(posterior_means), axis=0)
    return int(jnp.sum(variance > threshold))


@register("vae")
class VariationalAE(DenseAE):
    """VAE with a unit-variance Gaussian decoder; `encode` returns the posterior mean.

    The objective per row is 0.5 * (sum of squared errors over features) plus
    `beta` times the KL term. The `recon` term stays the mean squared error over
    features.
    Sampling in training uses the rng stream `sample`. With `kl_warmup_epochs` = W
    > 0, `epoch_hparams` scales `beta` by min(1, epoch / W), counting from epoch 1.
    """

    beta: float = 1.0
    kl_warmup_epochs: int = 0

    # The warm-up length is only read on the host by `epoch_hparams`, but listing it
    # here keeps it out of the compiled structure, so a sweep over it compiles once.
    hparam_names: ClassVar[tuple[str, ...]] = ("beta", "kl_warmup_epochs")

    def check_options(self) -> None:
        if not self.beta >= 0:
            raise ValueError(f"model.beta={self.beta} must be >= 0")
        warmup = self.kl_warmup_epochs
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(
                f"model.kl_warmup_epochs={warmup!r} must be an integer >= 0 "
                "(0 turns the warm-up off)"
            )
        if self.latent_activation != "identity":
            raise ValueError(
                f"model.latent_activation={self.latent_activation!r} is not supported "
                "by model=vae, whose latent is a Gaussian sample; use identity"
            )

    def setup(self) -> None:
        self.encoder = MLP(list(self.hidden), self.activation, self.activation)
        self.mean_head = nn.Dense(self.latent_dim)
        self.logvar_head = nn.Dense(self.latent_dim)
        self.decoder = self.make_decoder()

    def posterior(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Return the posterior mean and bounded log-variance of each row."""
        h = self.encoder(x)
        raw_logvar = self.logvar_head(h)
        logvar = LOGVAR_BOUND * jnp.tanh(raw_logvar / LOGVAR_BOUND)
        return self.mean_head(h), logvar

    def encode(self, x: jax.Array) -> jax.Array:
        return self.posterior(x)[0]

    def kl_per_dim(self, x: jax.Array) -> jax.Array:
        """Return the KL term of each row and latent dimension, shape (B, latent_dim).

        Its sum over dimensions is the `kl` term of `__call__`.
        """
        return gaussian_kl_per_dim(*self.posterior(x))

    def epoch_hparams(
        self, hparams: Mapping[str, jax.Array], epoch: int
    ) -> dict[str, jax.Array]:
        """Return `hparams` with `beta` scaled by the KL warm-up factor of `epoch`.

        The factor is min(1, epoch / kl_warmup_epochs), or 1 without warm-up, and
        `epoch` counts from 1. The new `beta` is a float32 scalar array like the old
        one, so a compiled step takes it without recompiling.
        """
        warmup = jnp.asarray(self.hparam(hparams, "kl_warmup_epochs"), jnp.float32)
        ramp = jnp.minimum(1.0, epoch / jnp.maximum(warmup, 1.0))
        scale = jnp.where(warmup > 0, ramp, 1.0)
        beta = jnp.asarray(self.hparam(hparams, "beta"), jnp.float32)
        return {**hparams, "beta": beta * scale}

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool,
        hparams: Mapping[str, jax.Array] | None = None,
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        mean, logvar = self.posterior(x)
        latent = mean
        if train:
            eps = jax.random.normal(self.make_rng("sample"), mean.shape, mean.dtype)
            latent = mean + jnp.exp(0.5 * logvar) * eps
        reconstruction = self.decoder(latent)
        kl = gaussian_kl(mean, logvar)
        half_sse = 0.5 * jnp.sum(jnp.square(reconstruction - x), axis=-1)
        loss = half_sse + self.hparam(hparams, "beta") * kl
        recon = squared_error(x, reconstruction)
        return reconstruction, {"loss": loss, "recon": recon, "kl": kl}
