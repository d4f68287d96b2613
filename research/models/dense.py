"""Dense autoencoder: an MLP encoder to a linear latent code and a mirrored decoder."""

from collections.abc import Mapping, Sequence
from typing import ClassVar

import flax.linen as nn
import jax

from research.models.blocks import MLP, squared_error
from research.models.registry import register


@register("ae")
class DenseAE(nn.Module):
    """Plain autoencoder trained on the mean squared reconstruction error.

    The encoder has layers `hidden` then `latent_dim`; the decoder has layers
    `decoder_hidden` (the reverse of `hidden` when None) then `n_features`. Hidden
    layers use `activation` (`decoder_activation` in the decoder, when set), the latent
    layer `latent_activation` and the output layer `output_activation`.

    `__call__` returns the reconstruction and a dict of per-row loss terms: `loss` is
    the training objective and `recon` the mean squared error over features, which is
    comparable across variants.
    """

    n_features: int
    hidden: Sequence[int]
    latent_dim: int
    activation: str = "relu"
    latent_activation: str = "identity"
    decoder_hidden: Sequence[int] | None = None
    decoder_activation: str | None = None
    output_activation: str = "identity"

    # Scalar hyperparameters read through `hparams` so that a jitted training step
    # receives them as arrays: changing one does not recompile.
    hparam_names: ClassVar[tuple[str, ...]] = ()

    def setup(self) -> None:
        self.encoder = MLP(
            [*self.hidden, self.latent_dim], self.activation, self.latent_activation
        )
        self.decoder = self.make_decoder()

    def make_decoder(self) -> MLP:
        """Build the decoder MLP from the decoder fields."""
        hidden = self.decoder_hidden
        if hidden is None:
            hidden = list(reversed(self.hidden))
        activation = self.decoder_activation or self.activation
        return MLP([*hidden, self.n_features], activation, self.output_activation)

    def check_options(self) -> None:
        """Raise ValueError for an option value outside its valid range."""

    def encode(self, x: jax.Array) -> jax.Array:
        return self.encoder(x)

    def hparam(self, hparams: Mapping[str, jax.Array] | None, name: str):
        """Return hyperparameter `name` from `hparams`, else the module's own field."""
        if hparams is not None and name in hparams:
            return hparams[name]
        return getattr(self, name)

    def epoch_hparams(
        self, hparams: Mapping[str, jax.Array], epoch: int
    ) -> dict[str, jax.Array]:
        """Return the hyperparameters for training epoch `epoch` (counted from 1).

        The training loop calls it before every epoch with the run's base values. A
        variant with a schedule overrides it, and must keep every array's shape and
        dtype so that the compiled epoch is reused. This base class has no schedule.
        """
        return dict(hparams)

    def __call__(
        self,
        x: jax.Array,
        *,
        train: bool,
        hparams: Mapping[str, jax.Array] | None = None,
    ) -> tuple[jax.Array, dict[str, jax.Array]]:
        reconstruction = self.decoder(self.encode(x))
        recon = squared_error(x, reconstruction)
        return reconstruction, {"loss": recon, "recon": recon}
