"""Sparse autoencoder: an L1 penalty on the hidden activations of the encoder."""

from collections.abc import Mapping
from typing import ClassVar

import jax
import jax.numpy as jnp

from research.models.blocks import squared_error
from research.models.dense import DenseAE
from research.models.registry import register


def l1_activity(hidden_outputs: list[jax.Array]) -> jax.Array:
    """Sum of |activation| over the units of all layers in `hidden_outputs`, per row."""
    per_layer = [jnp.sum(jnp.abs(h), axis=-1) for h in hidden_outputs]
    return sum(per_layer[1:], start=per_layer[0])


@register("sparse_ae")
class SparseAE(DenseAE):
    """Dense autoencoder whose loss adds `l1` times the L1 norm of the hidden units.

    The penalised units are the outputs, after activation, of the encoder's `hidden`
    layers. The latent layer and the decoder are not penalised. Per row the loss is
    `recon + l1 * l1_term`, where the reported term `l1` is the unweighted sum of
    |h| over those units, so it stays comparable across values of the weight.

    The loop averages the per-row loss over the batch. That is the penalty of
    Keras' `activity_regularizer=regularizers.l1(l1)` on the hidden layers with a
    mean-squared-error loss, in Keras versions that divide the activity loss by the
    batch size as its documentation states. Keras 3 releases before the fix in
    keras-team/keras pull request 22021 (January 2026) sum it over the batch.
    """

    l1: float = 1e-4

    hparam_names: ClassVar[tuple[str, ...]] = ("l1",)

    def check_options(self) -> None:
        if not self.l1 >= 0:
            raise ValueError(f"model.l1={self.l1} must be >= 0")
        if not self.hidden:
            raise ValueError(
                "model=sparse_ae penalises the hidden layers of the encoder, but "
                "model.hidden is empty; give at least one width, such as [64]"
            )

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool,
        hparams: Mapping[str, jax.Array] | None = None,
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        *hidden_outputs, latent = self.encoder(x, all_layers=True)
        reconstruction = self.decoder(latent)
        recon = squared_error(x, reconstruction)
        activity = l1_activity(hidden_outputs)
        loss = recon + self.hparam(hparams, "l1") * activity
        return reconstruction, {"loss": loss, "recon": recon, "l1": activity}
