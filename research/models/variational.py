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


def gaussian_kl(mean: jax.Array, logvar: jax.Array) -> jax.Array:
    """KL(N(mean, exp(logvar)) || N(0, I)) per row, summed over latent dimensions."""
    return 0.5 * jnp.sum(jnp.exp(logvar) + jnp.square(mean) - 1.0 - logvar, axis=-1)


@register("vae")
class VariationalAE(DenseAE):
    """VAE with a unit-variance Gaussian decoder; `encode` returns the posterior mean.

    The objective per row is 0.5 * (sum of squared errors over features) plus
    `beta` times the KL term; `recon` stays the mean squared error over features.
    Sampling in training uses the rng stream `sample`.
    """

    beta: float = 1.0

    hparam_names: ClassVar[tuple[str, ...]] = ("beta",)

    def check_options(self) -> None:
        if not self.beta >= 0:
            raise ValueError(f"model.beta={self.beta} must be >= 0")
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
