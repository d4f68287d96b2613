"""Per-replica early stopping and failure bookkeeping of the training loop."""

import math
from collections.abc import Mapping

import numpy as np

# Epoch metrics of a variant whose loss is the reconstruction error alone.
_PLAIN_KEYS = {
    "train/loss",
    "train/recon_loss",
    "train/params_finite",
    "val/recon_loss",
}


def _non_finite(train_loss: float, val_loss: float, params_finite: bool) -> str | None:
    """Return why a replica's epoch failed, or None if all its values are finite."""
    if not math.isfinite(train_loss):
        return f"non-finite training loss ({train_loss})"
    if not params_finite:
        return "non-finite parameters (from a non-finite gradient)"
    if not math.isfinite(val_loss):
        return f"non-finite validation reconstruction loss ({val_loss})"
    return None


class EarlyStopping:
    """Per-replica early stopping and failure bookkeeping on the host."""

    def __init__(self, n_seeds: int, patience: int):
        self.patience = patience
        self.active = np.ones(n_seeds, bool)
        self.best_val = np.full(n_seeds, np.inf)
        self.best_epoch = np.zeros(n_seeds, int)
        self.epochs_run = np.zeros(n_seeds, int)
        self.failures: list[str | None] = [None] * n_seeds

    def update(
        self, epoch: int, host: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, list[str]]:
        """Record one epoch's losses.

        Returns which replicas improved, and a log message for each replica that
        stopped or failed in this epoch.
        """
        train_loss = host["train/loss"]
        val_loss = host["val/recon_loss"]
        params_finite = host["train/params_finite"]
        self.epochs_run[self.active] = epoch
        improved = np.zeros_like(self.active)
        events = []
        name = "training" if len(self.active) == 1 else "replica {}"
        for r in np.flatnonzero(self.active):
            failure = _non_finite(train_loss[r], val_loss[r], params_finite[r])
            if failure:
                self.failures[r] = f"{failure} at epoch {epoch}"
                self.active[r] = False
                events.append(f"{name.format(r)} failed: {self.failures[r]}")
            elif val_loss[r] < self.best_val[r]:
                self.best_val[r], self.best_epoch[r] = val_loss[r], epoch
                improved[r] = True
            elif self.patience and epoch - self.best_epoch[r] >= self.patience:
                self.active[r] = False
                events.append(
                    f"{name.format(r)} stopped early at epoch {epoch}: no lower val "
                    f"recon for {self.patience} epochs; keeping epoch "
                    f"{self.best_epoch[r]} (val recon {self.best_val[r]:.4f})"
                )
        return improved, events

    def describe(self, epoch: int, epochs: int, host, rate: float) -> str:
        """Return the log line of one epoch: means over replicas that ran it."""
        ran = self.epochs_run == epoch
        ran = ran if ran.any() else np.ones_like(ran)
        train_loss = float(np.mean(host["train/loss"][ran]))
        train_recon = float(np.mean(host["train/recon_loss"][ran]))
        val_loss = float(np.mean(host["val/recon_loss"][ran]))
        line = f"epoch {epoch:>3}/{epochs}  train loss {train_loss:.4f}  "
        if set(host) - _PLAIN_KEYS:  # the loss has terms beyond the recon error
            line += f"train recon {train_recon:.4f}  "
        line += f"val recon {val_loss:.4f}  {rate:,.0f} rows/s"
        if len(self.active) > 1:
            line += f"  replicas active {int(self.active.sum())}/{len(self.active)}"
        return line
