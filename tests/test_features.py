import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

import research.experiment as experiment
from research.data import ae_budget_indices
from research.downstream import build_classifier, fit_classifier
from research.downstream.features import build_features, pca_features
from research.encoders import latent_diagnostics
from tests.conftest import FAST, make_config

CLASSIFIERS = [
    "logreg",
    "linear_svm",
    "svm_rbf",
    "knn",
    "random_forest",
    "hist_gbt",
    "mlp",
]


@pytest.fixture(scope="module")
def data():
    return experiment.prepare_data(make_config(*FAST, "ae.budget=200"))


def test_pca_matches_sklearn(data):
    features = pca_features(data.x, data.fit_rows, n_components=5, seed=0)
    pca = PCA(n_components=5, random_state=0).fit(data.x["train"][data.fit_rows])
    for split in ("train", "val", "test"):
        expected = pca.transform(data.x[split])
        np.testing.assert_allclose(features[split], expected, rtol=1e-4, atol=1e-4)
        assert features[split].shape == (len(data.y[split]), 5)


def test_pca_fit_on_fit_rows_only(data):
    features = pca_features(data.x, data.fit_rows, n_components=3, seed=0)
    on_all_rows = PCA(n_components=3, random_state=0).fit(data.x["train"])
    assert not np.allclose(
        np.abs(features["test"]),
        np.abs(on_all_rows.transform(data.x["test"])),
        atol=1e-3,
    )


def test_pca_too_many_components(data):
    with pytest.raises(ValueError, match="model.latent_dim=31 needs at most 30"):
        pca_features(data.x, data.fit_rows, n_components=31, seed=0)


def test_raw_and_combined_features(data):
    latent = {s: np.ones((len(data.y[s]), 4), np.float32) for s in data.x}
    errors = {s: np.arange(len(data.y[s]), dtype=np.float32) for s in data.x}
    raw = build_features("raw", data.x, None, None)
    for split in data.x:
        np.testing.assert_array_equal(raw[split], data.x[split])
    both = build_features("latent_raw", data.x, latent, errors)
    assert both["test"].shape == (len(data.y["test"]), 4 + 30)
    np.testing.assert_array_equal(both["val"][:, 4:], data.x["val"])
    recon = build_features("recon_error", data.x, latent, errors)
    np.testing.assert_array_equal(recon["train"][:, 0], errors["train"])


def test_raw_features_scaled_on_train_only(data):
    x = data.dataset.X
    train = x[data.split.train]
    expected = (x[data.split.test] - train.mean(axis=0)) / train.std(axis=0)
    np.testing.assert_allclose(data.x["test"], expected, rtol=1e-4, atol=1e-4)


def test_ae_budget_draws_from_selected_rows():
    normal = np.array([1, 3, 4, 8, 9, 12])
    drawn = ae_budget_indices(normal, 4, seed=0)
    assert len(drawn) == 4
    assert set(drawn) <= set(normal)
    np.testing.assert_array_equal(drawn, ae_budget_indices(normal, 4, seed=0))
    assert not np.array_equal(drawn, ae_budget_indices(normal, 4, seed=5))
    np.testing.assert_array_equal(ae_budget_indices(normal, "all", 0), normal)
    with pytest.raises(ValueError, match="ae.budget=7 exceeds the 6 training rows"):
        ae_budget_indices(normal, 7, seed=0)
    with pytest.raises(ValueError, match="invalid ae.budget=0"):
        ae_budget_indices(normal, 0, seed=0)


def test_ae_budget_sets_fit_rows(data):
    assert len(data.fit_rows) == 200
    assert set(data.fit_rows) <= set(range(len(data.y["train"])))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_configs_follow_seed(name):
    cfg = make_config(f"classifier={name}", "seed=7")
    estimator = build_classifier(OmegaConf.to_container(cfg.classifier, resolve=True))
    params = estimator.get_params()
    if "random_state" in params and name != "logreg":
        assert params["random_state"] == 7
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    y = (x[:, 0] > 0).astype(int)
    fit_classifier(estimator, x, y)
    assert estimator.score(x, y) > 0.8


def test_knn_shrinks_to_labeled_rows(caplog):
    estimator = KNeighborsClassifier(n_neighbors=5)
    fit_classifier(estimator, np.eye(3), np.array([0, 1, 1]))
    assert estimator.n_neighbors == 2
    assert "n_neighbors=5 is not below the 3 labeled rows; using 2" in caplog.text
    same = KNeighborsClassifier(n_neighbors=3)
    fit_classifier(same, np.eye(3), np.array([0, 1, 1]))
    assert same.n_neighbors == 2


def test_classifier_none_scores_recon_error(monkeypatch):
    seen = {}

    def spy(val_labels, val_scores, test_labels, test_scores):
        seen["val"], seen["test"] = val_scores, test_scores
        return {"test/auprc": 0.5}

    monkeypatch.setattr(experiment, "evaluate_scores", spy)
    cfg = make_config(*FAST, "classifier=none", "ae.fit_on=normal")
    outcomes, facts = experiment.run_experiment(cfg)
    assert outcomes[0].metrics["test/auprc"] == 0.5
    assert facts["unused"] == ["classifier", "labels", "features"]
    assert seen["test"].ndim == 1
    assert np.all(seen["test"] >= 0)


@pytest.mark.parametrize(
    ("overrides", "unused"),
    [
        (["features=latent"], []),
        (["features=raw"], ["model", "train", "ae"]),
        (["classifier=none"], ["classifier", "labels", "features"]),
    ],
)
def test_unused_config(overrides, unused):
    assert experiment.unused_config(make_config(*overrides)) == unused


def test_unused_config_for_pca():
    unused = experiment.unused_config(make_config("features=pca"))
    assert "train" in unused
    assert "model.name" in unused
    assert "model.latent_dim" not in unused


def test_latent_diagnostics_dead_and_active():
    latent = np.zeros((50, 3), np.float32)
    latent[:, 1] = np.linspace(-1, 1, 50)  # variance about 0.35: active
    latent[:, 2] = 0.05 * np.linspace(-1, 1, 50)  # varies, but variance below 0.01
    info = latent_diagnostics(latent, None)
    assert info["dead_units"] == [0]
    assert info["active_units"] == 1
    assert "kl_per_dim" not in info


def test_impute_median_uses_training_rows(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] > 0.6).astype(int)
    x[::10, 1] = np.nan  # missing cells in every split
    frame = pd.DataFrame(x, columns=["a", "b", "c"]).assign(label=y)
    frame.to_csv(tmp_path / "m.csv", index=False)
    cfg = make_config(
        "dataset=csv",
        f"dataset.path={tmp_path / 'm.csv'}",
        "dataset.missing=impute_median",
        "scaler=none",
    )
    data = experiment.prepare_data(cfg)
    train_column = data.dataset.X[data.split.train, 1]
    median = np.median(train_column[np.isfinite(train_column)])
    for split in ("train", "val", "test"):
        rows = getattr(data.split, split)
        missing = np.isnan(data.dataset.X[rows, 1])
        assert missing.any(), split
        assert np.all(np.isfinite(data.x[split]))
        np.testing.assert_allclose(data.x[split][missing, 1], median, rtol=1e-6)
