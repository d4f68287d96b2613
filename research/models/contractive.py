"""Contractive autoencoder: a penalty on the Jacobian of the encoder."""

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from research.models.blocks import squared_error
from research.models.dense import DenseAE
from research.models.registry import register


def jacobian_squared_norm(
    encode_row: Callable[[jax.Array], jax.Array], x: jax.Array, forward: bool
) -> jax.Array:
    """Squared Frobenius norm of d encode_row(x_i) / d x_i for every row x_i of `x`.

    `forward` picks forward-mode autodiff (one pass per input feature) over
    reverse mode (one pass per latent unit). Both give the same values.
    """
    jacobian = jax.jacfwd(encode_row) if forward else jax.jacrev(encode_row)
    per_row = jax.vmap(jacobian)(x)  # (rows, latent_dim, n_features)
    return jnp.sum(jnp.square(per_row), axis=(-2, -1))


@register("contractive_ae")
class ContractiveAE(DenseAE):
    """Dense autoencoder whose loss adds `lam` times ||d latent / d input||_F^2.

    Per row the loss is `recon + lam * contractive`, where the reported term
    `contractive` is the unweighted squared Frobenius norm of the Jacobian of the
    encoder (latent code with respect to the input row), computed with JAX autodiff.
    """

    lam: float = 1e-3

    hparam_names: ClassVar[tuple[str, ...]] = ("lam",)

    def check_options(self) -> None:
        if not self.lam >= 0:
            raise ValueError(f"model.lam={self.lam} must be >= 0")

    def encoder_jacobian_squared_norm(self, x: jax.Array) -> jax.Array:
        """Return ||d encode(x_i) / d x_i||_F^2 per row, after `encode` has run."""
        # Linen does not allow raw JAX transforms over a bound submodule, so an
        # unbound copy of the encoder is applied to the bound encoder's parameters.
        # The parameters are the traced values of this call, so gradients of the
        # penalty reach them.
        encoder = self.encoder.clone(parent=None)
        variables: dict[str, Any] = {"params": self.encoder.variables["params"]}

        def encode_row(row: jax.Array) -> jax.Array:
            return encoder.apply(variables, row)

        # Forward mode costs one pass per input feature, reverse mode one per latent
        # unit, so take the cheaper one.
        forward = self.n_features <= self.latent_dim
        return jacobian_squared_norm(encode_row, x, forward)

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool,
        hparams: Mapping[str, jax.Array] | None = None,
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        # Encoding first also creates the encoder's parameters during `init`.
        latent = self.encode(x)
        reconstruction = self.decoder(latent)
        recon = squared_error(x, reconstruction)
        penalty = self.encoder_jacobian_squared_norm(x)
        loss = recon + self.hparam(hparams, "lam") * penalty
        return reconstruction, {"loss": loss, "recon": recon, "contractive": penalty}
