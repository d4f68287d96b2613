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

import jax
import numpy as np
from omegaconf import DictConfig, OmegaConf

from research.data import (
    Dataset,
    Split,
    ae_fit_indices,
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
from research.models import build_model
from research.training import (
    COMPILE_COUNTS,
    TRACE_COUNTS,
    Trainer,
    TrainResult,
    TrainSettings,
)

log = logging.getLogger(__name__)

FEATURES = ("latent", "raw")


@dataclasses.dataclass
class Prepared:
    """Scaled rows of each split and the row choices of one run."""

    dataset: Dataset
    split: Split
    x: dict[str, np.ndarray]  # split name -> scaled rows, float32
    y: dict[str, np.ndarray]  # split name -> labels
    fit_rows: np.ndarray  # positions in train the autoencoder is fit on
    val_fit_rows: np.ndarray  # positions in val used for early stopping
    labeled_rows: np.ndarray  # positions in train the classifier sees


@dataclasses.dataclass
class Outcome:
    """Result of one replica: metrics, or the reason it failed."""

    replica: int
    metrics: dict[str, float]
    error: str | None = None
    epochs_run: int = 0
    history: dict[str, list[float]] = dataclasses.field(default_factory=dict)


def check_config(cfg: DictConfig) -> TrainSettings:
    """Validate what needs no data; raise ValueError naming the bad key."""
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int) or cfg.seed < 0:
        raise ValueError(f"seed={cfg.seed!r} must be an integer >= 0")
    settings = TrainSettings.from_config(OmegaConf.to_container(cfg.train))
    build_model(OmegaConf.to_container(cfg.model), n_features=1)
    if cfg.features.name not in FEATURES:
        raise ValueError(
            f"unknown features={cfg.features.name!r}; "
            f"valid names: {', '.join(FEATURES)}"
        )
    build_classifier(OmegaConf.to_container(cfg.classifier, resolve=True))
    make_scaler(cfg.scaler)
    return settings


def prepare_data(cfg: DictConfig) -> Prepared:
    """Load, split and scale the data, and choose the fit and labeled rows."""
    dataset = load_dataset(cfg.dataset)
    split = split_indices(dataset.y, OmegaConf.to_container(cfg.split), cfg.seed)
    scaler = make_scaler(cfg.scaler).fit(dataset.X[split.train])
    x, y = {}, {}
    for name in ("train", "val", "test"):
        rows = getattr(split, name)
        x[name] = np.asarray(scaler.transform(dataset.X[rows]), np.float32)
        y[name] = dataset.y[rows]
    labeled = label_budget_indices(
        y["train"], cfg.labels.budget, cfg.labels.min_per_class, cfg.seed
    )
    log.info(
        "data %s: %d rows x %d features, %d positive; train %d / val %d / test %d; "
        "%d labeled",
        dataset.name,
        len(dataset.y),
        dataset.X.shape[1],
        int(dataset.y.sum()),
        len(split.train),
        len(split.val),
        len(split.test),
        len(labeled),
    )
    return Prepared(
        dataset=dataset,
        split=split,
        x=x,
        y=y,
        fit_rows=ae_fit_indices(y["train"], cfg.ae.fit_on),
        val_fit_rows=ae_fit_indices(y["val"], cfg.ae.fit_on),
        labeled_rows=labeled,
    )


def learn_features(
    cfg: DictConfig, settings: TrainSettings, data: Prepared
) -> tuple[list[dict[str, np.ndarray]], dict[str, Any]]:
    """Train the autoencoder and encode every split, per replica.

    Returns one {split: features} dict per replica, and training information: the
    TrainResult and timings. Raw features skip training.
    """
    if cfg.features.name == "raw":
        return [dict(data.x)] * settings.n_seeds, {}
    model = build_model(OmegaConf.to_container(cfg.model), data.x["train"].shape[1])
    trainer = Trainer(model, settings, data.x["train"].shape[1])
    result = trainer.fit(
        data.x["train"][data.fit_rows], data.x["val"][data.val_fit_rows], cfg.seed
    )
    start, compile_before = time.perf_counter(), trainer.compile_seconds
    all_rows = np.concatenate([data.x["train"], data.x["val"], data.x["test"]])
    latent = np.asarray(
        jax.device_get(trainer.rowwise("encode", result.params, all_rows))
    )
    errors = np.asarray(
        jax.device_get(trainer.rowwise("recon", result.params, all_rows))
    )
    encode_compile = trainer.compile_seconds - compile_before
    encode_seconds = time.perf_counter() - start - encode_compile
    bounds = np.cumsum([len(data.x["train"]), len(data.x["val"])])
    features = [
        dict(zip(("train", "val", "test"), np.split(z, bounds), strict=True))
        for z in latent
    ]
    train_errors = errors[:, : bounds[0]][:, data.fit_rows]
    info = {
        "result": result,
        "n_params": sum(x.size for x in jax.tree.leaves(result.params))
        // settings.n_seeds,
        "train_recon": train_errors.mean(axis=1),
        "time/encode": encode_seconds,
        "time/compile": trainer.compile_seconds,
    }
    return features, info


def classify(
    cfg: DictConfig, features: Mapping[str, np.ndarray], data: Prepared
) -> dict[str, float]:
    """Fit the classifier on the labeled rows and score val and test."""
    for split, values in features.items():
        if not np.all(np.isfinite(values)):
            raise FloatingPointError(
                f"the {split} features contain non-finite values; the classifier "
                "was not fit"
            )
    estimator = build_classifier(OmegaConf.to_container(cfg.classifier, resolve=True))
    labeled = data.labeled_rows
    fit_classifier(estimator, features["train"][labeled], data.y["train"][labeled])
    return evaluate_scores(
        data.y["val"],
        positive_scores(estimator, features["val"]),
        data.y["test"],
        positive_scores(estimator, features["test"]),
    )


def run_experiment(cfg: DictConfig) -> tuple[list[Outcome], dict[str, Any]]:
    """Run the whole pipeline; return per-replica outcomes and shared run facts.

    Errors in data, config or training propagate; a replica whose training diverged
    gets an outcome with its error and no classifier metrics.
    """
    start = time.perf_counter()
    compiled_before = COMPILE_COUNTS.copy()
    settings = check_config(cfg)
    data = prepare_data(cfg)
    features, info = learn_features(cfg, settings, data)
    compiled = COMPILE_COUNTS - compiled_before
    result: TrainResult | None = info.get("result")
    facts = {
        "n_params": info.get("n_params", 0),
        # Config groups this run ignored: raw features need no autoencoder.
        "unused": ["model", "train", "ae"] if result is None else [],
        "data_fingerprint": data.dataset.fingerprint(),
        "rows": {k: len(v) for k, v in data.y.items()}
        | {"ae_fit": len(data.fit_rows), "labeled": len(data.labeled_rows)},
        # Traces so far in this process: equal in two records of one sequential sweep
        # when the later run reused the earlier run's executables.
        "traces": dict(TRACE_COUNTS),
    }
    outcomes = []
    for replica, replica_features in enumerate(features):
        outcomes.append(_replica_outcome(cfg, data, replica, replica_features, info))
    total = time.perf_counter() - start
    for outcome in outcomes:
        outcome.metrics["time/total"] = total
        outcome.metrics["compile/executables"] = compiled["executables"]
        outcome.metrics["compile/cache_hits"] = compiled["persistent_cache_hits"]
        if result is not None:
            outcome.metrics["time/compile"] = info["time/compile"]
            outcome.metrics["time/train"] = result.time_train
            outcome.metrics["time/encode"] = info["time/encode"]
    return outcomes, facts


def _replica_outcome(cfg, data, replica, features, info) -> Outcome:
    result: TrainResult | None = info.get("result")
    outcome = Outcome(replica=replica, metrics={})
    if result is not None:
        outcome.epochs_run = result.epochs_run[replica]
        outcome.history = {
            k: [e[replica] for e in v] for k, v in result.history.items()
        }
        outcome.metrics["train/recon_loss"] = float(info["train_recon"][replica])
        outcome.metrics["val/recon_loss"] = result.best_val_loss[replica]
        outcome.metrics["best_epoch"] = result.best_epoch[replica]
        if result.failures[replica]:
            outcome.error = f"training failed: {result.failures[replica]}"
            return outcome
    start = time.perf_counter()
    try:
        outcome.metrics |= classify(cfg, features, data)
    except FloatingPointError as err:
        outcome.error = f"{type(err).__name__}: {err}"
        return outcome
    outcome.metrics["time/classify"] = time.perf_counter() - start
    auprc = outcome.metrics.get("test/auprc", math.nan)
    if math.isfinite(auprc) and cfg.train.n_seeds > 1:
        log.info("replica %d: test/auprc %.4f", replica, auprc)
    return outcome
