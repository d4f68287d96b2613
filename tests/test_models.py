import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.models import MODELS, build_model, model_hparams
from research.models.variational import LOGVAR_BOUND, gaussian_kl

CFG = {"hidden": [64, 32], "latent_dim": 8, "activation": "relu"}
RNGS = {"params": 0, "noise": 1, "sample": 2}


def init(model, x):
    rngs = {k: jax.random.key(v) for k, v in RNGS.items()}
    return model.init(rngs, x, train=True)


def dense_count(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


@pytest.mark.parametrize("name", ["ae", "dae", "vae"])
def test_variant_shapes(name):
    model = build_model({"name": name, **CFG}, n_features=30)
    x = jnp.ones((5, 30))
    params = init(model, x)
    reconstruction, terms = model.apply(
        params,
        x,
        train=True,
        rngs={"noise": jax.random.key(3), "sample": jax.random.key(4)},
    )
    assert reconstruction.shape == (5, 30)
    assert terms["loss"].shape == (5,)
    assert terms["recon"].shape == (5,)
    assert model.apply(params, x, method="encode").shape == (5, 8)


def test_parameter_counts_exact():
    encoder_decoder = dense_count([30, 64, 32, 8]) + dense_count([8, 32, 64, 30])
    assert encoder_decoder == 8678
    expected = {"ae": encoder_decoder, "dae": encoder_decoder}
    # The VAE's encoder ends in two heads (mean and log-variance) of 32 -> 8.
    expected["vae"] = encoder_decoder + 32 * 8 + 8
    for name, count in expected.items():
        params = init(build_model({"name": name, **CFG}, 30), jnp.ones((1, 30)))
        assert sum(p.size for p in jax.tree.leaves(params)) == count, name


def test_vae_kl_matches_numpy():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(4, 3)).astype(np.float32)
    logvar = rng.normal(size=(4, 3)).astype(np.float32)
    var = np.exp(logvar)
    # KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2) / 2 - 1/2, per dimension.
    expected = np.sum(-0.5 * logvar + (var + mean**2) / 2 - 0.5, axis=1)
    np.testing.assert_allclose(gaussian_kl(mean, logvar), expected, rtol=1e-5)


def test_vae_loss_terms_and_beta():
    model = build_model({"name": "vae", **CFG, "beta": 1.0}, 30)
    x = jax.random.normal(jax.random.key(0), (6, 30))
    params = init(model, x)
    rngs = {"sample": jax.random.key(5)}
    _, terms = model.apply(params, x, train=True, rngs=rngs)
    _, terms_b3 = model.apply(params, x, train=True, rngs=rngs, hparams={"beta": 3.0})
    np.testing.assert_allclose(
        terms_b3["loss"] - terms["loss"], 2.0 * terms["kl"], rtol=1e-4, atol=1e-5
    )
    assert np.all(np.asarray(terms["kl"]) >= 0)


def test_vae_logvar_bounded_on_huge_input():
    model = build_model({"name": "vae", **CFG}, 30)
    params = init(model, jnp.ones((1, 30)))
    x = jnp.full((2, 30), 1e6)
    _, logvar = model.apply(params, x, method="posterior")
    assert np.all(np.abs(np.asarray(logvar)) <= LOGVAR_BOUND)
    _, terms = model.apply(params, x, train=True, rngs={"sample": jax.random.key(0)})
    assert np.all(np.isfinite(np.asarray(terms["kl"])))


def test_dae_noise_only_in_training():
    model = build_model({"name": "dae", **CFG, "noise_std": 0.5, "mask_prob": 0.3}, 30)
    x = jax.random.normal(jax.random.key(0), (8, 30))
    params = init(model, x)
    clean_rec, _ = model.apply(params, x, train=False)
    plain = build_model({"name": "ae", **CFG}, 30)
    np.testing.assert_allclose(
        clean_rec, plain.apply(params, x, train=False)[0], rtol=1e-6
    )
    noisy_a, _ = model.apply(params, x, train=True, rngs={"noise": jax.random.key(1)})
    noisy_b, _ = model.apply(params, x, train=True, rngs={"noise": jax.random.key(2)})
    assert not np.allclose(noisy_a, clean_rec)
    assert not np.allclose(noisy_a, noisy_b)
    latent_1 = model.apply(params, x, method="encode")
    latent_2 = model.apply(params, x, method="encode")
    np.testing.assert_array_equal(latent_1, latent_2)


def test_dae_without_noise_equals_ae():
    model = build_model({"name": "dae", **CFG}, 30)
    x = jax.random.normal(jax.random.key(0), (8, 30))
    params = init(model, x)
    off = {"noise_std": 0.0, "mask_prob": 0.0}
    rec, _ = model.apply(
        params, x, train=True, hparams=off, rngs={"noise": jax.random.key(1)}
    )
    np.testing.assert_allclose(rec, model.apply(params, x, train=False)[0], rtol=1e-6)


def test_reference_fraud_network_layers():
    # 30 -> 100 tanh -> 50 relu | 50 -> 50 tanh -> 100 tanh -> 30 relu.
    cfg = {
        "name": "ae",
        "hidden": [100],
        "latent_dim": 50,
        "activation": "tanh",
        "latent_activation": "relu",
        "decoder_hidden": [50, 100],
        "output_activation": "relu",
    }
    model = build_model(cfg, 30)
    x = jax.random.normal(jax.random.key(0), (16, 30))
    params = init(model, x)
    count = sum(p.size for p in jax.tree.leaves(params))
    assert count == dense_count([30, 100, 50]) + dense_count([50, 50, 100, 30])
    latent = model.apply(params, x, method="encode")
    assert latent.shape == (16, 50)
    assert float(latent.min()) >= 0.0
    reconstruction, _ = model.apply(params, x, train=False)
    assert float(reconstruction.min()) >= 0.0
    decoder = params["params"]["decoder"]
    assert decoder["dense_0"]["kernel"].shape == (50, 50)
    assert decoder["dense_1"]["kernel"].shape == (50, 100)


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (
            {"name": "vae", "latent_activation": "relu"},
            "latent_activation='relu' is not",
        ),
        ({"name": "vae", "beta": -1.0}, "model.beta=-1.0 must be >= 0"),
        ({"name": "dae", "noise_std": -0.1}, "model.noise_std=-0.1 must be >= 0"),
        ({"name": "dae", "mask_prob": 1.5}, "model.mask_prob=1.5 must be in [0, 1)"),
        ({"name": "ae", "latent_dim": 2.5}, "model.latent_dim=2.5 must be an integer"),
    ],
)
def test_variant_option_ranges(cfg, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_model({**CFG, **cfg}, 30)


def test_registry_lists_builtins():
    assert {"ae", "dae", "vae", "sparse_ae", "contractive_ae"} <= set(MODELS)
    assert all(issubclass(cls, nn.Module) for cls in MODELS.values())


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (
            {"name": "convae", **CFG},
            "unknown model='convae'; valid names: ae, contractive_ae, dae, "
            "sparse_ae, vae",
        ),
        ({"name": "ae", **CFG, "beta": 2.0}, "model=ae does not take beta"),
        (
            {"name": "ae", **CFG, "latent_dim": 0},
            "latent_dim=0 must be an integer >= 1",
        ),
        ({"name": "ae", **CFG, "hidden": [64, 0]}, "integer layer widths >= 1"),
        ({"name": "ae", **CFG, "hidden": "64,32"}, "must be a list of layer widths"),
        ({"name": "ae", **CFG, "decoder_hidden": [-1]}, "decoder_hidden=[-1]"),
        ({"name": "ae", **CFG, "activation": "swish2"}, "unknown model.activation"),
        (
            {"name": "ae", **CFG, "output_activation": "soft"},
            "unknown model.output_activation='soft'",
        ),
    ],
)
def test_build_model_errors(cfg, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_model(cfg, 30)


def test_model_hparams_per_variant():
    assert model_hparams(build_model({"name": "ae", **CFG}, 3)) == {}
    dae = build_model({"name": "dae", **CFG, "noise_std": 0.2, "mask_prob": 0.0}, 3)
    assert model_hparams(dae) == {"noise_std": 0.2, "mask_prob": 0.0}
    vae = build_model({"name": "vae", **CFG, "beta": 4.0}, 3)
    assert model_hparams(vae) == {"beta": 4.0, "kl_warmup_epochs": 0.0}
