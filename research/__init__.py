"""Ablation experiments on autoencoder features for semi-supervised classification."""

import logging
import os

# XLA's C++ logging and JAX's backend discovery print start-up notes (for example about
# absent TPU or GPU plugins) that carry no information about the run. Real warnings
# still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Without this, each job on a shared GPU reserves 75% of its memory when jax loads.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)
