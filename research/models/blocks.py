"""Building blocks shared by the autoencoder variants."""

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": nn.relu,
    "tanh": jnp.tanh,
    "gelu": nn.gelu,
    "elu": nn.elu,
    "sigmoid": nn.sigmoid,
    "leaky_relu": nn.leaky_relu,
    "identity": lambda x: x,
}


def get_activation(
    name: str, key: str = "activation"
) -> Callable[[jax.Array], jax.Array]:
    """Return the activation function called `name`; raise ValueError if unknown.

    `key` names the config option in the error message.
    """
    if name not in ACTIVATIONS:
        valid = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown model.{key}={name!r}; valid names: {valid}")
    return ACTIVATIONS[name]


class MLP(nn.Module):
    """Dense layers of the given widths.

    Every layer but the last is followed by `activation`, the last by
    `final_activation` ("identity" leaves it linear, as for a latent code or a
    reconstruction in scaled units).
    """

    widths: Sequence[int]
    activation: str = "relu"
    final_activation: str = "identity"

    @nn.compact
    def __call__(
        self, x: jax.Array, *, all_layers: bool = False
    ) -> jax.Array | list[jax.Array]:
        """Apply the layers to `x` and return the last layer's output.

        With `all_layers=True` return the list of every layer's output after its
        activation instead. Its last entry is the usual output.
        """
        outputs = []
        for i, width in enumerate(self.widths):
            x = nn.Dense(width, name=f"dense_{i}")(x)
            last = i == len(self.widths) - 1
            x = get_activation(self.final_activation if last else self.activation)(x)
            outputs.append(x)
        return outputs if all_layers else x


def squared_error(x: jax.Array, reconstruction: jax.Array) -> jax.Array:
    """Mean squared error over features, one value per row."""
    return jnp.mean(jnp.square(reconstruction - x), axis=-1)
