"""Pure functions of one replica: the training epoch, evaluation and encoding.

`research.training.loop` maps them over replicas and compiles them once per shape.
"""

from collections.abc import Callable, Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from research.training.compiled import TRACE_COUNTS

Params = dict
Hparams = Mapping[str, jax.Array]


def batch_plan(n_rows: int, batch_size: int, drop_last: bool) -> tuple[int, int]:
    """Return (batches per epoch, rows per batch) for `n_rows` training rows.

    Without `drop_last` the last batch is padded with masked rows so that every batch
    has one shape; a batch size above `n_rows` shrinks to `n_rows`.
    """
    batch_size = min(batch_size, n_rows)
    if drop_last:
        return n_rows // batch_size, batch_size
    return -(-n_rows // batch_size), batch_size


def make_epoch_fn(
    model: nn.Module, tx: optax.GradientTransformation, n_rows: int, batch_plan_: tuple
) -> Callable:
    """Build `epoch(params, opt_state, active, data, key, epoch_num, hparams)`.

    It trains one replica for one epoch; `key` is the replica's loop key, into which
    the epoch number is folded.

    The epoch shuffles the rows, gathers them into minibatches inside the compiled
    call, runs `lax.scan` over the minibatches and returns the new state and the
    epoch's mean loss terms. An inactive replica (early-stopped or failed) keeps its
    parameters.
    """
    n_batches, batch_size = batch_plan_
    padded = n_batches * batch_size > n_rows

    def loss_fn(params, batch, weights, key, hparams):
        noise_key, sample_key = jax.random.split(key)
        _, terms = model.apply(
            params,
            batch,
            train=True,
            hparams=hparams,
            rngs={"noise": noise_key, "sample": sample_key},
        )
        if weights is None:
            means = {k: jnp.mean(v) for k, v in terms.items()}
        else:
            total = jnp.maximum(jnp.sum(weights), 1.0)
            means = {k: jnp.sum(v * weights) / total for k, v in terms.items()}
        return means["loss"], means

    def step(carry, xs):
        params, opt_state, hparams = carry
        batch, rows, key = xs
        if padded:
            # Padding slots hold -1 and get weight 0.
            weights = (rows >= 0).astype(batch.dtype)
            count = jnp.sum(weights)
        else:
            weights, count = None, jnp.float32(batch_size)
        grads, terms = jax.grad(loss_fn, has_aux=True)(
            params, batch, weights, key, hparams
        )
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return (params, opt_state, hparams), (terms, count)

    def epoch(params, opt_state, active, data, key, epoch_num, hparams):
        TRACE_COUNTS["epoch"] += 1
        perm_key, step_key = jax.random.split(jax.random.fold_in(key, epoch_num))
        order = jax.random.permutation(perm_key, n_rows)
        n_slots = n_batches * batch_size
        if n_slots <= n_rows:
            order = order[:n_slots]
        else:
            order = jnp.concatenate([order, -jnp.ones(n_slots - n_rows, order.dtype)])
        rows = order.reshape(n_batches, batch_size)
        # One gather of the whole shuffled epoch is faster on CPU than one per step
        # (about 6 % on the reference network), at the cost of a copy of the rows.
        batches = data[jnp.maximum(rows, 0)]
        keys = jax.random.split(step_key, n_batches)
        carry = (params, opt_state, hparams)
        (new_params, new_opt_state, _), (terms, counts) = jax.lax.scan(
            step, carry, (batches, rows, keys)
        )
        metrics = {k: jnp.sum(v * counts) / jnp.sum(counts) for k, v in terms.items()}
        # A non-finite gradient leaves non-finite parameters behind (with adam, sgd and
        # the other optax optimizers), so one check per epoch finds it without a
        # per-step gradient norm.
        metrics["params_finite"] = jnp.all(
            jnp.asarray([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(new_params)])
        )

        def keep_if_inactive(new, old):
            return jnp.where(active, new, old)

        new_params = jax.tree.map(keep_if_inactive, new_params, params)
        new_opt_state = jax.tree.map(keep_if_inactive, new_opt_state, opt_state)
        return new_params, new_opt_state, metrics

    return epoch


def make_rowwise_fn(model: nn.Module, method: str, chunk: int) -> Callable:
    """Build `fn(params, data, hparams)` that applies `method` in chunks of rows.

    `method="recon"` returns each row's reconstruction error (train=False); any other
    name is a module method of one argument, such as `encode` (the deterministic
    latent code of each row). Chunks bound the memory of
    large inputs; the padding rows of the last chunk are cut off.
    """

    def per_chunk(params, x, hparams):
        if method == "recon":
            return model.apply(params, x, train=False, hparams=hparams)[1]["recon"]
        return model.apply(params, x, method=method)

    def fn(params, data, hparams):
        TRACE_COUNTS[method] += 1
        n_rows = data.shape[0]
        n_chunks = -(-n_rows // chunk)
        padded = jnp.pad(data, ((0, n_chunks * chunk - n_rows), (0, 0)))
        chunks = padded.reshape(n_chunks, chunk, data.shape[1])
        out = jax.lax.map(lambda x: per_chunk(params, x, hparams), chunks)
        return out.reshape(n_chunks * chunk, *out.shape[2:])[:n_rows]

    return fn
