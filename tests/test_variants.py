import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from omegaconf import OmegaConf

from research.models import MODELS, build_model
from research.models.blocks import MLP
from research.models.sparse import l1_activity
from research.models.variational import active_units
from research.training import Trainer, TrainSettings
from research.training.compiled import structure_key
from tests.conftest import make_config

REPO = Path(__file__).resolve().parent.parent
CFG = {"hidden": [64, 32], "latent_dim": 8, "activation": "relu"}
SMALL = {"hidden": [6], "latent_dim": 3, "activation": "tanh"}


def init(model, x):
    rngs = {"params": jax.random.key(0), "noise": jax.random.key(1)}
    return model.init(rngs | {"sample": jax.random.key(2)}, x, train=True)


def apply(model, params, x, **kwargs):
    rngs = {"noise": jax.random.key(3), "sample": jax.random.key(4)}
    return model.apply(params, x, train=True, rngs=rngs, **kwargs)


def dense_count(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


@pytest.mark.parametrize(
    ("name", "term"), [("sparse_ae", "l1"), ("contractive_ae", "contractive")]
)
def test_penalty_variant_shapes_and_counts(name, term):
    model = build_model({"name": name, **CFG}, n_features=30)
    x = jax.random.normal(jax.random.key(0), (5, 30))
    params = init(model, x)
    reconstruction, terms = apply(model, params, x)
    assert reconstruction.shape == (5, 30)
    assert set(terms) == {"loss", "recon", term}
    for values in terms.values():
        assert values.shape == (5,)
    assert model.apply(params, x, method="encode").shape == (5, 8)
    # Same layers as `ae`: the penalty adds no parameters.
    count = sum(p.size for p in jax.tree.leaves(params))
    assert count == dense_count([30, 64, 32, 8]) + dense_count([8, 32, 64, 30])


def test_mlp_all_layers_keeps_names():
    mlp = MLP([5, 4, 2], "tanh", "identity")
    x = jax.random.normal(jax.random.key(0), (3, 7))
    params = mlp.init(jax.random.key(1), x)
    assert sorted(params["params"]) == ["dense_0", "dense_1", "dense_2"]
    outputs = mlp.apply(params, x, all_layers=True)
    assert [h.shape for h in outputs] == [(3, 5), (3, 4), (3, 2)]
    np.testing.assert_array_equal(outputs[-1], mlp.apply(params, x))


def test_l1_activity_matches_numpy():
    first = np.array([[1.0, -2.0], [0.0, 3.0]], np.float32)
    second = np.array([[-1.0], [0.5]], np.float32)
    np.testing.assert_allclose(l1_activity([first, second]), [4.0, 3.5])


def test_sparse_l1_term_on_known_activations():
    model = build_model({"name": "sparse_ae", **CFG, "l1": 0.5}, 30)
    x = jax.random.normal(jax.random.key(0), (4, 30))
    params = init(model, x)
    encoder = jax.tree.map(np.asarray, params["params"]["encoder"])
    first, second = encoder["dense_0"], encoder["dense_1"]
    h1 = np.maximum(np.asarray(x) @ first["kernel"] + first["bias"], 0)
    h2 = np.maximum(h1 @ second["kernel"] + second["bias"], 0)
    expected = np.abs(h1).sum(axis=1) + np.abs(h2).sum(axis=1)
    _, terms = apply(model, params, x)
    np.testing.assert_allclose(terms["l1"], expected, rtol=1e-5)
    loss_minus_recon = terms["loss"] - terms["recon"]
    np.testing.assert_allclose(loss_minus_recon, 0.5 * expected, rtol=1e-4)
    _, weighted = apply(model, params, x, hparams={"l1": 2.0})
    np.testing.assert_allclose(weighted["loss"] - weighted["recon"], 2.0 * expected)


def finite_difference_penalty(model, params, x, eps=1e-3):
    """Sum of squared central differences of `encode` over inputs and latents."""
    total = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        step = np.zeros(x.shape[1], np.float32)
        step[j] = eps
        up = model.apply(params, x + step, method="encode")
        down = model.apply(params, x - step, method="encode")
        total += np.sum(np.square((up - down) / (2 * eps)), axis=1)
    return total


@pytest.mark.parametrize(("n_features", "latent_dim"), [(4, 3), (3, 5)])
def test_contractive_matches_finite_differences(n_features, latent_dim):
    # (4, 3) takes the reverse-mode Jacobian and (3, 5) the forward-mode one.
    cfg = {"name": "contractive_ae", **SMALL, "latent_dim": latent_dim}
    model = build_model(cfg, n_features)
    x = jax.random.normal(jax.random.key(0), (5, n_features))
    params = init(model, x)
    _, terms = apply(model, params, x)
    expected = finite_difference_penalty(model, params, x)
    np.testing.assert_allclose(terms["contractive"], expected, rtol=1e-2)
    assert np.all(expected > 0)


def test_contractive_linear_encoder_exact():
    # A linear encoder x @ W + b has Jacobian W^T in every row.
    cfg = {"name": "contractive_ae", "hidden": [], "latent_dim": 3}
    model = build_model(cfg, 4)
    x = jax.random.normal(jax.random.key(0), (2, 4))
    params = init(model, x)
    kernel = params["params"]["encoder"]["dense_0"]["kernel"]
    _, terms = apply(model, params, x)
    expected = [float(jnp.sum(kernel**2))] * 2
    np.testing.assert_allclose(terms["contractive"], expected, rtol=1e-5)

    def penalty(p):
        return apply(model, p, x[:1])[1]["contractive"][0]

    grads = jax.grad(penalty)(params)["params"]["encoder"]["dense_0"]
    np.testing.assert_allclose(grads["kernel"], 2 * kernel, rtol=1e-5)
    np.testing.assert_array_equal(grads["bias"], 0.0)


@pytest.mark.parametrize(
    ("name", "term"), [("sparse_ae", "l1"), ("contractive_ae", "contractive")]
)
def test_penalty_gradients_reach_encoder(name, term):
    model = build_model({"name": name, **SMALL}, 4)
    x = jax.random.normal(jax.random.key(0), (8, 4))
    params = init(model, x)

    def mean_penalty(p):
        return jnp.mean(apply(model, p, x)[1][term])

    grads = jax.grad(mean_penalty)(params)["params"]
    assert float(jnp.abs(grads["encoder"]["dense_0"]["kernel"]).sum()) > 0
    # The penalties depend on the encoder only.
    for leaf in jax.tree.leaves(grads["decoder"]):
        np.testing.assert_array_equal(leaf, 0.0)


def test_kl_warmup_schedule():
    vae = build_model({"name": "vae", **CFG, "beta": 2.0, "kl_warmup_epochs": 4}, 3)
    base = {"beta": jnp.float32(2.0), "kl_warmup_epochs": jnp.float32(4.0)}
    betas = [float(vae.epoch_hparams(base, e)["beta"]) for e in range(1, 7)]
    assert betas == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]
    assert vae.epoch_hparams(base, 1)["beta"].dtype == jnp.float32
    # Without hparams the module's own fields are used.
    assert float(vae.epoch_hparams({}, 2)["beta"]) == 1.0
    no_warmup = build_model({"name": "vae", **CFG, "beta": 2.0}, 3)
    assert float(no_warmup.epoch_hparams({"beta": jnp.float32(2.0)}, 1)["beta"]) == 2.0
    ae = build_model({"name": "ae", **CFG}, 3)
    assert ae.epoch_hparams({"x": 1.0}, 5) == {"x": 1.0}


def test_kl_warmup_does_not_recompile():
    short = build_model({"name": "vae", **CFG, "kl_warmup_epochs": 2}, 3)
    long = build_model({"name": "vae", **CFG, "kl_warmup_epochs": 50}, 3)
    assert structure_key(short) == structure_key(long)
    traces = []

    @jax.jit
    def scaled_beta(hparams):
        traces.append(1)
        return hparams["beta"] * 1.0

    base = {"beta": jnp.float32(1.0), "kl_warmup_epochs": jnp.float32(2.0)}
    for epoch in (1, 2, 3):
        scaled_beta(short.epoch_hparams(base, epoch))
    assert len(traces) == 1


def test_kl_per_dim_sums_to_kl():
    model = build_model({"name": "vae", **CFG}, 30)
    x = jax.random.normal(jax.random.key(0), (6, 30))
    params = init(model, x)
    per_dim = model.apply(params, x, method="kl_per_dim")
    assert per_dim.shape == (6, 8)
    assert np.all(np.asarray(per_dim) >= 0)
    _, terms = apply(model, params, x)
    np.testing.assert_allclose(per_dim.sum(axis=1), terms["kl"], rtol=1e-5)


def test_active_units_counts_varying_dims():
    rng = np.random.default_rng(0)
    means = np.stack(
        [rng.normal(0, 1.0, 500), rng.normal(0, 0.01, 500), np.full(500, 3.0)], axis=1
    )
    assert active_units(means) == 1
    assert active_units(means, threshold=1e-6) == 2


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"name": "sparse_ae", "l1": -1.0}, "model.l1=-1.0 must be >= 0"),
        ({"name": "sparse_ae", "hidden": []}, "model.hidden is empty"),
        ({"name": "contractive_ae", "lam": -0.1}, "model.lam=-0.1 must be >= 0"),
        ({"name": "vae", "kl_warmup_epochs": -1}, "kl_warmup_epochs=-1 must be"),
        ({"name": "vae", "kl_warmup_epochs": 1.5}, "kl_warmup_epochs=1.5 must be"),
        ({"name": "ae", "module": ""}, "must be a dotted Python module name"),
        ({"name": "tiny_ae", "module": "json"}, "registers no model 'tiny_ae'"),
    ],
)
def test_variant_option_errors(cfg, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_model({**CFG, **cfg}, 30)


def test_module_import_error_names_module():
    cfg = {"name": "tiny_ae", "module": "no_such_package.variants", **CFG}
    with pytest.raises(ValueError) as err:
        build_model(cfg, 30)
    message = str(err.value)
    assert "model.module='no_such_package.variants' could not be imported" in message
    assert "No module named 'no_such_package'" in message
    assert "PYTHONPATH" in message


@pytest.fixture
def tiny_package(tmp_path):
    """Write the example variant of docs/adding_a_variant.md under `tmp_path`."""
    doc = (REPO / "docs" / "adding_a_variant.md").read_text()
    package = tmp_path / "myvariants"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tiny.py").write_text(fenced_block(doc, "python"))
    model_dir = tmp_path / "configs" / "model"
    model_dir.mkdir(parents=True)
    (model_dir / "tiny_ae.yaml").write_text(fenced_block(doc, "yaml"))
    registered = dict(MODELS)
    yield tmp_path
    # Undo an in-process import, so that tiny_ae is not registered in other tests.
    MODELS.clear()
    MODELS.update(registered)
    for name in ("myvariants.tiny", "myvariants"):
        sys.modules.pop(name, None)


def fenced_block(markdown, language):
    """Return the first fenced code block of `language` in `markdown`."""
    match = re.search(rf"```{language}\n(.*?)```", markdown, re.DOTALL)
    assert match, f"no {language} block in the doc"
    return match.group(1)


def test_module_key_registers_variant(tiny_package, monkeypatch):
    monkeypatch.syspath_prepend(str(tiny_package))
    cfg = OmegaConf.load(tiny_package / "configs" / "model" / "tiny_ae.yaml")
    model = build_model(OmegaConf.to_container(cfg), 30)
    assert type(model).__name__ == "TinyAE"
    assert MODELS["tiny_ae"] is type(model)
    x = jax.random.normal(jax.random.key(0), (4, 30))
    _, terms = apply(model, init(model, x), x)
    assert set(terms) == {"loss", "recon", "code_norm"}


@pytest.mark.parametrize(
    ("overrides", "term"),
    [
        (["model=sparse_ae"], "train/l1"),
        (["model=contractive_ae"], "train/contractive"),
        (["model=beta_vae"], "train/kl"),
        (["model=vae", "model.kl_warmup_epochs=3"], "train/kl"),
    ],
)
def test_config_composes_and_trains(cancer_rows, overrides, term):
    cfg = make_config(*overrides)
    model = build_model(OmegaConf.to_container(cfg.model), 30)
    settings = TrainSettings(epochs=1, patience=0, batch_size=64)
    result = Trainer(model, settings, 30).fit(
        cancer_rows[:200], cancer_rows[200:300], seed=0
    )
    assert result.failures == [None]
    assert np.isfinite(result.history[term][0][0])


def test_beta_vae_config_is_vae():
    cfg = make_config("model=beta_vae").model
    assert cfg.name == "vae"
    assert cfg.beta == 4.0


@pytest.mark.slow
def test_external_variant_sweep(tiny_package):
    sweep = tiny_package / "sweep"
    search_path = f"hydra.searchpath=[file://{tiny_package / 'configs'}]"
    python_path = os.pathsep.join(
        p for p in (str(tiny_package), os.environ.get("PYTHONPATH")) if p
    )
    result = subprocess.run(
        [sys.executable, "scripts/run.py", "-m", "model=tiny_ae", "seed=0,1"]
        + ["train.epochs=2", search_path, f"hydra.sweep.dir={sweep}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": python_path},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(p.read_text()) for p in sweep.rglob("record.json")]
    assert len(records) == 2
    assert [r["status"] for r in records] == ["ok", "ok"], records[0].get("error")
    assert [r["config"]["model"]["name"] for r in records] == ["tiny_ae"] * 2
    assert "train/code_norm" in records[0]["history"]
    assert (sweep / "table.md").exists()
