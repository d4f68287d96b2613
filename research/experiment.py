"""The run pipeline: data, autoencoder, features, classifier, metrics.

`run_experiment` returns one outcome per trained replica (`train.n_seeds`); the Hydra
job in `research.app` turns each into a run record.
"""

import dataclasses
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from research.data import (
    Dataset,
    Split,
    ae_budget_indices,
    ae_fit_indices,
    impute_median,
    label_budget_indices,
    load_dataset,
    make_scaler,
    split_indices,
)
from research.downstream import (
    build_classifier,
    evaluate_scores,
    fit_classifier,
    positive_scores,
)
from research.downstream.features import (
    FEATURES,
    SPLITS,
    build_features,
    check_feature_name,
    pca_features,
)
from research.encoders import train_autoencoder
from research.models import build_model
from research.training import (
    COMPILE_COUNTS,
    TRACE_COUNTS,
    TrainResult,
    TrainSettings,
)

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Prepared:
    """Scaled rows of each split and the row choices of one run."""

    dataset: Dataset
    split: Split
    x: dict[str, np.ndarray]  # split name -> scaled rows, float32
    y: dict[str, np.ndarray]  # split name -> labels
    fit_rows: np.ndarray  # positions in train the autoencoder is fit on
    val_fit_rows: np.ndarray  # positions in val used for early stopping
    labeled_rows: np.ndarray  # positions in train the classifier is fit on


@dataclasses.dataclass
class Outcome:
    """Result of one replica: metrics, or the reason it failed."""

    replica: int
    metrics: dict[str, float]
    error: str | None = None
    epochs_run: int = 0
    history: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    latent: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Test labels, scores and a feature sample for figures (see `figure_arrays`).
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)


def check_config(cfg: DictConfig) -> TrainSettings:
    """Validate what needs no data; raise ValueError naming the bad key."""
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int) or cfg.seed < 0:
        raise ValueError(f"seed={cfg.seed!r} must be an integer >= 0")
    settings = TrainSettings.from_config(OmegaConf.to_container(cfg.train))
    build_model(OmegaConf.to_container(cfg.model), n_features=1)
    check_feature_name(cfg.features.name)
    if cfg.classifier.name != "none":
        build_classifier(OmegaConf.to_container(cfg.classifier, resolve=True))
    make_scaler(cfg.scaler)
    return settings


def uses_autoencoder(cfg: DictConfig) -> bool:
    """Return whether the run trains an autoencoder."""
    return FEATURES[cfg.features.name] or cfg.classifier.name == "none"


def unused_config(cfg: DictConfig) -> list[str]:
    """Return the config groups and keys that cannot affect this run's numbers.

    Tables show them as "none" and count runs that differ only in them once.
    """
    if cfg.classifier.name == "none":
        return ["classifier", "labels", "features"]
    if cfg.features.name == "raw":
        return ["model", "train", "ae"]
    if cfg.features.name == "pca":
        return ["train", *(f"model.{k}" for k in cfg.model if k != "latent_dim")]
    return []


def prepare_data(cfg: DictConfig) -> Prepared:
    """Load, split and scale the data, and choose the fit and labeled rows."""
    dataset = load_dataset(cfg.dataset)
    split = split_indices(dataset.y, OmegaConf.to_container(cfg.split), cfg.seed)

    raw = {name: dataset.X[getattr(split, name)] for name in SPLITS}
    # Under dataset.missing=impute_median, medians come from the training rows only.
    raw = impute_median(raw, feature_names=dataset.feature_names)
    scaler = make_scaler(cfg.scaler).fit(raw["train"])
    x, y = {}, {}
    for name in SPLITS:
        x[name] = np.asarray(scaler.transform(raw[name]), np.float32)
        y[name] = dataset.y[getattr(split, name)]

    labeled = label_budget_indices(
        y["train"], cfg.labels.budget, cfg.labels.min_per_class, cfg.seed
    )
    fit_rows = ae_fit_indices(y["train"], cfg.ae.fit_on)
    fit_rows = ae_budget_indices(fit_rows, cfg.ae.budget, cfg.seed)

    log.info(
        "data %s: %d rows x %d features, %d positive; train %d / val %d / test %d; "
        "%d labeled, autoencoder fit on %d",
        dataset.name,
        len(dataset.y),
        dataset.X.shape[1],
        int(dataset.y.sum()),
        len(split.train),
        len(split.val),
        len(split.test),
        len(labeled),
        len(fit_rows),
    )
    return Prepared(
        dataset=dataset,
        split=split,
        x=x,
        y=y,
        fit_rows=fit_rows,
        val_fit_rows=ae_fit_indices(y["val"], cfg.ae.fit_on),
        labeled_rows=labeled,
    )


def replica_features(
    cfg: DictConfig, data: Prepared, trained: dict[str, Any] | None, replica: int
) -> dict[str, np.ndarray]:
    """Return the classifier's features of each split for one replica."""
    name = cfg.features.name
    if name == "pca":
        latent_dim = cfg.model.latent_dim
        return pca_features(data.x, data.fit_rows, latent_dim, cfg.seed)
    latent = trained["latent"][replica] if trained else None
    errors = trained["errors"][replica] if trained else None
    return build_features(name, data.x, latent, errors)


def classify(
    cfg: DictConfig,
    features: Mapping[str, np.ndarray],
    data: Prepared,
    test_outputs: dict[str, np.ndarray] | None = None,
) -> dict[str, float]:
    """Fit the classifier on the labeled rows and score val and test.

    With `test_outputs`, stores the test scores and test features in it for figures.
    """
    for split, values in features.items():
        if not np.all(np.isfinite(values)):
            raise FloatingPointError(
                f"the {split} features contain non-finite values; the classifier "
                "was not fit"
            )
    estimator = build_classifier(OmegaConf.to_container(cfg.classifier, resolve=True))
    labeled = data.labeled_rows
    fit_classifier(estimator, features["train"][labeled], data.y["train"][labeled])
    test_scores = positive_scores(estimator, features["test"])
    if test_outputs is not None:
        test_outputs.update(scores=test_scores, features=features["test"])
    return evaluate_scores(
        data.y["val"],
        positive_scores(estimator, features["val"]),
        data.y["test"],
        test_scores,
    )


def score_by_recon_error(errors: Mapping[str, np.ndarray], data: Prepared):
    """Score rows by their reconstruction error alone: classifier=none."""
    for split in ("val", "test"):
        if not np.all(np.isfinite(errors[split])):
            raise FloatingPointError(
                f"the {split} reconstruction errors are not finite"
            )
    return evaluate_scores(data.y["val"], errors["val"], data.y["test"], errors["test"])


def run_experiment(cfg: DictConfig) -> tuple[list[Outcome], dict[str, Any]]:
    """Run the whole pipeline; return per-replica outcomes and shared run facts.

    Errors in data, config or training propagate; a replica whose training diverged
    gets an outcome with its error and no classifier metrics.
    """
    start = time.perf_counter()
    compiled_before = COMPILE_COUNTS.copy()
    settings = check_config(cfg)
    data = prepare_data(cfg)
    trained = train_autoencoder(cfg, settings, data) if uses_autoencoder(cfg) else None
    compiled = COMPILE_COUNTS - compiled_before
    facts = {
        "n_params": trained["n_params"] if trained else 0,
        "unused": unused_config(cfg),
        # Whether the encoder was trained in this run or restored from the cache.
        "encoder": trained["source"] if trained else None,
        "data_fingerprint": data.dataset.fingerprint(),
        "duplicate_rows": data.dataset.n_duplicate_rows,
        "rows": {k: len(v) for k, v in data.y.items()}
        | {"ae_fit": len(data.fit_rows), "labeled": len(data.labeled_rows)},
        # Traces so far in this process: equal in two records of one sequential sweep
        # when the later run reused the earlier run's executables.
        "traces": dict(TRACE_COUNTS),
    }
    # Without an autoencoder nothing differs between replicas: one outcome.
    n_replicas = settings.n_seeds if trained else 1
    outcomes = [_replica_outcome(cfg, data, r, trained) for r in range(n_replicas)]
    total = time.perf_counter() - start
    for outcome in outcomes:
        outcome.metrics["time/total"] = total
        outcome.metrics["compile/executables"] = compiled["executables"]
        outcome.metrics["compile/cache_hits"] = compiled["persistent_cache_hits"]
        if trained is not None:
            outcome.metrics["time/compile"] = trained["time/compile"]
            outcome.metrics["time/train"] = trained["result"].time_train
            outcome.metrics["time/encode"] = trained["time/encode"]
    return outcomes, facts


def _replica_outcome(
    cfg: DictConfig, data: Prepared, replica: int, trained: dict[str, Any] | None
) -> Outcome:
    outcome = Outcome(replica=replica, metrics={})
    if trained is not None:
        _add_training_facts(outcome, trained, data)
        if outcome.error:
            return outcome
    start = time.perf_counter()
    test_outputs: dict[str, np.ndarray] = {}
    try:
        if cfg.classifier.name == "none":
            metrics = score_by_recon_error(trained["errors"][replica], data)
            test_outputs["scores"] = trained["errors"][replica]["test"]
            test_outputs["features"] = trained["latent"][replica]["test"]
        else:
            features = replica_features(cfg, data, trained, replica)
            metrics = classify(cfg, features, data, test_outputs)
    except FloatingPointError as err:
        outcome.error = f"{type(err).__name__}: {err}"
        return outcome
    outcome.metrics |= metrics
    outcome.metrics["time/classify"] = time.perf_counter() - start
    outcome.arrays = figure_arrays(cfg, data, test_outputs)
    auprc = outcome.metrics.get("test/auprc", math.nan)
    if math.isfinite(auprc) and cfg.train.n_seeds > 1:
        log.info("replica %d: test/auprc %.4f", replica, auprc)
    return outcome


def _add_training_facts(outcome: Outcome, trained: dict[str, Any], data) -> None:
    r = outcome.replica
    result: TrainResult = trained["result"]
    outcome.epochs_run = result.epochs_run[r]
    outcome.history = {k: [e[r] for e in v] for k, v in result.history.items()}
    train_errors = trained["errors"][r]["train"][data.fit_rows]
    outcome.metrics["train/recon_loss"] = float(train_errors.mean())
    outcome.metrics["val/recon_loss"] = result.best_val_loss[r]
    outcome.metrics["best_epoch"] = result.best_epoch[r]
    diagnostics = trained["diagnostics"][r]
    outcome.latent = diagnostics
    outcome.metrics["latent/dead_units"] = len(diagnostics["dead_units"])
    outcome.metrics["latent/active_units"] = diagnostics["active_units"]
    if "kl_per_dim" in diagnostics and diagnostics["active_units"] == 0:
        log.warning(
            "replica %d: no active latent unit (variance of the posterior mean above "
            "0.01 on the fit rows); the VAE may have collapsed to its prior",
            r,
        )
    if result.failures[r]:
        outcome.error = f"training failed: {result.failures[r]}"


def figure_arrays(
    cfg: DictConfig, data: Prepared, test_outputs: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Return what a replica saves in arrays.npz (see plot_data.run_arrays).

    `test_outputs` contains the replica's test scores and features. Returns an empty
    dict without them or with plots.arrays=false.
    """
    from research.plot_data import run_arrays

    wanted = OmegaConf.select(cfg, "plots.arrays", default=True)
    if "scores" not in test_outputs or not wanted:
        return {}
    name = "latent" if cfg.classifier.name == "none" else str(cfg.features.name)
    return run_arrays(
        data.y["test"],
        test_outputs["scores"],
        data.x["test"],
        test_outputs["features"],
        name,
        n_negatives=int(OmegaConf.select(cfg, "plots.tsne_negatives", default=2000)),
    )
