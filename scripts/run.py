"""Hydra entry point: one run of the pipeline, or a sweep with -m.

python scripts/run.py                                   # one run, defaults
python scripts/run.py -m model=ae,dae,vae seed=0,1,2    # a sweep ending in a table
"""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

# Runnable from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from research.app import run_job  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> float | None:
    return run_job(cfg)


if __name__ == "__main__":
    main()
