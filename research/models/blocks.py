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


def get_activation(name: str) -> Callable[[jax.Array], jax.Array]:
    """Return the activation function called `name`; raise ValueError if unknown."""
    if name not in ACTIVATIONS:
        valid = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown model.activation={name!r}; valid names: {valid}")
    return ACTIVATIONS[name]


class MLP(nn.Module):
    """Dense layers of the given widths, each followed by the activation.

    With `activate_last=False` the last layer is linear, as for a latent code or a
    reconstruction in scaled units.
    """

    widths: Sequence[int]
    activation: str = "relu"
    activate_last: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = get_activation(self.activation)
        for i, width in enumerate(self.widths):
            x = nn.Dense(width, name=f"dense_{i}")(x)
            if self.activate_last or i < len(self.widths) - 1:
                x = act(x)
        return x


def squared_error(x: jax.Array, reconstruction: jax.Array) -> jax.Array:
    """Mean squared error over features, one value per row."""
    return jnp.mean(jnp.square(reconstruction - x), axis=-1)
