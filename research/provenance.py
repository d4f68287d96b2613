"""Library versions and the git commit, recorded with every run."""

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "scikit-learn", "hydra-core")


@functools.cache
def library_versions() -> dict[str, str]:
    """Return the installed version of Python and of each package in PACKAGES."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@functools.cache
def git_commit() -> str | None:
    """Return the commit of the checkout holding this package, or None outside git.

    A checkout with uncommitted changes gets the suffix `-dirty`.
    """
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True
        )
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if commit.returncode != 0:
        return None
    return commit.stdout.strip() + ("-dirty" if status.stdout.strip() else "")
