import dataclasses

import jax
import numpy as np
import pytest

from research.models import build_model
from research.training import TRACE_COUNTS, Trainer, TrainSettings, make_optimizer
from research.training.compiled import OPTIMIZERS
from research.training.steps import batch_plan

CFG = {"hidden": [32, 16], "latent_dim": 4, "activation": "relu"}


def trainer_for(name, n_features=30, **settings):
    model = build_model({"name": name, **CFG}, n_features)
    return Trainer(model, TrainSettings(**settings), n_features)


@pytest.mark.parametrize("name", ["ae", "dae", "vae"])
def test_loop_lowers_recon_loss(cancer_rows, name):
    trainer = trainer_for(name, epochs=15, patience=0, batch_size=32)
    result = trainer.fit(cancer_rows[:400], cancer_rows[400:], seed=0)
    val = [epoch[0] for epoch in result.history["val/recon_loss"]]
    assert result.failures == [None]
    assert result.epochs_run == [15]
    assert min(val[-3:]) < 0.8 * val[0], val


def test_epoch_traced_once_with_partial_batch(cancer_rows):
    # 401 rows in batches of 64: six full batches and one partial one.
    assert batch_plan(401, 64, drop_last=False) == (7, 64)
    trainer = trainer_for("dae", epochs=4, patience=0, batch_size=64)
    before = TRACE_COUNTS["epoch"]
    trainer.fit(cancer_rows[:401], cancer_rows[401:], seed=0)
    assert TRACE_COUNTS["epoch"] - before == 1


def test_second_fit_reuses_compiled_epoch(cancer_rows):
    first = trainer_for("vae", epochs=2, patience=0, lr=1e-3)
    first.fit(cancer_rows[:300], cancer_rows[300:400], seed=0)
    traces = dict(TRACE_COUNTS)
    # Another seed, learning rate and beta: same shapes, so no new trace.
    model = build_model({"name": "vae", **CFG, "beta": 0.5}, 30)
    second = Trainer(model, TrainSettings(epochs=2, patience=0, lr=3e-3), 30)
    result = second.fit(cancer_rows[:300], cancer_rows[300:400], seed=7)
    assert dict(TRACE_COUNTS) == traces
    assert second.compile_seconds == 0.0
    assert result.failures == [None]


def test_learning_rate_reaches_cached_executable(cancer_rows):
    # The executable is built for lr=1e-2; a run with lr=0 must not move its parameters.
    trainer_for("ae", epochs=1, patience=0, lr=1e-2).fit(
        cancer_rows[:300], cancer_rows[300:400], seed=0
    )
    frozen = trainer_for("ae", epochs=3, patience=0, lr=1e-2)
    frozen.settings = dataclasses.replace(frozen.settings, lr=0.0)
    result = frozen.fit(cancer_rows[:300], cancer_rows[300:400], seed=0)
    assert frozen.compile_seconds == 0.0
    val = [epoch[0] for epoch in result.history["val/recon_loss"]]
    assert val[0] == val[1] == val[2]


def test_same_seed_same_result(cancer_rows):
    results = [
        trainer_for("dae", epochs=3, patience=0).fit(
            cancer_rows[:300], cancer_rows[300:], 3
        )
        for _ in range(2)
    ]
    assert results[0].history == results[1].history


def test_early_stopping_keeps_best_params(cancer_rows):
    # A large learning rate makes the validation loss rise after a few epochs.
    trainer = trainer_for("ae", epochs=40, patience=3, lr=0.05, optimizer="sgd")
    result = trainer.fit(cancer_rows[:300], cancer_rows[300:], seed=0)
    val = [epoch[0] for epoch in result.history["val/recon_loss"]]
    best = result.best_epoch[0]
    assert result.best_val_loss[0] == pytest.approx(min(val))
    assert val[best - 1] == pytest.approx(min(val))
    recon = trainer.rowwise(
        "recon", result.params, jax.numpy.asarray(cancer_rows[300:])
    )
    assert float(recon.mean()) == pytest.approx(min(val), rel=1e-5)
    if result.epochs_run[0] < 40:
        assert result.epochs_run[0] - best == 3


def test_non_finite_loss_fails_replica(cancer_rows):
    rows = cancer_rows[:200].copy()
    rows[5, 3] = np.inf
    result = trainer_for("ae", epochs=5, patience=0).fit(rows, cancer_rows[200:300], 0)
    assert result.failures[0] is not None
    assert "non-finite training loss" in result.failures[0]
    assert "at epoch 1" in result.failures[0]
    assert result.epochs_run == [1]


def test_replicas_differ_and_train(cancer_rows):
    trainer = trainer_for("ae", epochs=3, patience=0, n_seeds=3)
    result = trainer.fit(cancer_rows[:300], cancer_rows[300:], seed=0)
    first_epoch = result.history["train/loss"][0]
    assert len(first_epoch) == 3
    assert len(set(first_epoch)) == 3
    latent = trainer.rowwise("encode", result.params, jax.numpy.asarray(cancer_rows))
    assert latent.shape == (3, len(cancer_rows), 4)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, "train.epochs=0 must be an integer >= 1"),
        ({"batch_size": -4}, "train.batch_size=-4"),
        ({"patience": -1}, "train.patience=-1"),
        ({"lr": 0}, "train.lr=0 must be a number > 0"),
        (
            {"optimizer": "adamm"},
            "unknown train.optimizer=.adamm.; valid names: adabelief",
        ),
        ({"optimizer": "lbfgs"}, "unknown train.optimizer=.lbfgs."),
        ({"optimizer_kwargs": {"rhoo": 0.9}}, "do not fit optax.adam"),
        ({"epoch": 3}, "unknown train options"),
    ],
)
def test_train_settings_errors(changes, message):
    cfg = dataclasses.asdict(TrainSettings()) | changes
    if "epoch" in changes:
        cfg = {"epoch": 3}
    with pytest.raises(ValueError, match=message):
        TrainSettings.from_config(cfg)


@pytest.mark.slow
def test_every_listed_optimizer_trains(cancer_rows):
    tiny = build_model({"name": "ae", "hidden": [4], "latent_dim": 2}, 3)
    for name in OPTIMIZERS:
        settings = TrainSettings(epochs=1, patience=0, optimizer=name, batch_size=64)
        result = Trainer(tiny, settings, 3).fit(
            cancer_rows[:64, :3], cancer_rows[64:96, :3], seed=0
        )
        assert result.failures == [None], name


def test_optimizer_kwargs_reach_optax():
    tx = make_optimizer("adadelta", 1.0, {"rho": 0.5})
    state = tx.init({"w": np.zeros(2, np.float32)})
    assert float(state.hyperparams["rho"]) == 0.5
    assert float(state.hyperparams["learning_rate"]) == 1.0
    with pytest.raises(ValueError, match="unknown train.optimizer='chain'"):
        make_optimizer("chain", 0.1)


def test_stopped_replica_stops_updating(cancer_rows):
    # Few fit rows and a large step size overfit quickly, so replicas stop early.
    trainer = trainer_for("ae", epochs=60, patience=2, lr=0.02, n_seeds=4)
    result = trainer.fit(cancer_rows[:30], cancer_rows[300:], seed=0)
    stops = result.epochs_run
    assert len(set(stops)) > 1, stops
    val = np.asarray(result.history["val/recon_loss"])  # epochs x replicas
    for r, stop in enumerate(stops):
        # After its last epoch a replica's parameters, and so its loss, stay fixed.
        assert np.all(val[stop - 1 :, r] == val[stop - 1, r]), r
        assert result.best_val_loss[r] == pytest.approx(val[:stop, r].min())
    recon = trainer.rowwise(
        "recon", result.params, jax.numpy.asarray(cancer_rows[300:])
    )
    np.testing.assert_allclose(recon.mean(axis=1), result.best_val_loss, rtol=1e-5)
