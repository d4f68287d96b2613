"""Feature sets for the downstream classifier, built from one replica's outputs."""

from collections.abc import Mapping

import numpy as np
from sklearn.decomposition import PCA

SPLITS = ("train", "val", "test")

# Feature sets and whether they need a trained autoencoder.
FEATURES = {
    "latent": True,  # the encoder's deterministic latent code
    "raw": False,  # the scaled input rows: the baseline without an autoencoder
    "pca": False,  # PCA of the scaled rows, fit on the autoencoder's fit rows
    "latent_raw": True,  # latent code and scaled rows side by side
    "recon_error": True,  # the per-row reconstruction error as the only feature
}


def check_feature_name(name: str) -> None:
    """Raise ValueError unless `name` is a known feature set."""
    if name not in FEATURES:
        raise ValueError(
            f"unknown features={name!r}; valid names: {', '.join(FEATURES)}"
        )


def pca_features(
    x: Mapping[str, np.ndarray], fit_rows: np.ndarray, n_components: int, seed: int
) -> dict[str, np.ndarray]:
    """Project every split on the principal components of the training fit rows.

    Raises ValueError when `n_components` exceeds the rows or columns available.
    """
    fit = x["train"][fit_rows]
    limit = min(fit.shape)
    if n_components > limit:
        raise ValueError(
            f"features=pca with model.latent_dim={n_components} needs at most "
            f"{limit} components (the fit rows are {fit.shape[0]} x {fit.shape[1]}); "
            "lower model.latent_dim"
        )
    pca = PCA(n_components=n_components, random_state=seed).fit(fit)
    return {s: pca.transform(x[s]).astype(np.float32) for s in SPLITS}


def build_features(
    name: str,
    x: Mapping[str, np.ndarray],
    latent: Mapping[str, np.ndarray] | None,
    errors: Mapping[str, np.ndarray] | None,
) -> dict[str, np.ndarray]:
    """Return the `name` feature matrix of each split.

    `x` contains the scaled rows. `latent` and `errors` contain one replica's latent
    codes and reconstruction errors (None when no autoencoder was trained). PCA features
    are built by `pca_features`, not here.
    """
    if name == "raw":
        return {s: x[s] for s in SPLITS}
    if name == "latent":
        return {s: latent[s] for s in SPLITS}
    if name == "latent_raw":
        return {s: np.concatenate([latent[s], x[s]], axis=1) for s in SPLITS}
    if name == "recon_error":
        return {s: errors[s][:, None] for s in SPLITS}
    raise ValueError(f"features={name!r} is not built by build_features")
