"""Training-loop variants timed by scripts/bench_train.py, and machine facts.

Each variant has `warm_up()` (returns compile seconds), `epoch(rep)` (returns seconds
for one epoch), `samples` (rows per epoch over all models) and `models`.
"""

import dataclasses
import os
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from research.models import build_model
from research.training import Trainer, TrainSettings


@dataclasses.dataclass(frozen=True)
class Workload:
    """A network (as a model config and as layer widths and activations) and a batch."""

    title: str
    model: dict
    layers: tuple[int, ...]
    activations: tuple[str, ...]
    batch: int

    def flops_per_sample(self) -> int:
        """Return the training FLOPs per row: 6 per weight (forward 2, backward 4).

        Biases, activations and the optimizer update are left out, so this slightly
        undercounts the work.
        """
        pairs = zip(self.layers[:-1], self.layers[1:], strict=True)
        return 6 * sum(a * b for a, b in pairs)


REFERENCE = Workload(
    title="the reference fraud network (30-100-50-50-100-30), batch 256",
    model={
        "name": "ae",
        "hidden": [100],
        "latent_dim": 50,
        "activation": "tanh",
        "latent_activation": "relu",
        "decoder_hidden": [50, 100],
        "decoder_activation": "tanh",
        "output_activation": "relu",
    },
    layers=(30, 100, 50, 50, 100, 30),
    activations=("tanh", "relu", "tanh", "tanh", "relu"),
    batch=256,
)
DEFAULT = Workload(
    title="the default model=ae (30-64-32-8-32-64-30), batch 64",
    model={"name": "ae", "hidden": [64, 32], "latent_dim": 8, "activation": "relu"},
    layers=(30, 64, 32, 8, 32, 64, 30),
    activations=("relu", "relu", "identity", "relu", "relu", "identity"),
    batch=64,
)


def nominal_peak() -> tuple[float, str]:
    """Return the CPU's nominal fp32 peak in GFLOP/s and how it was computed.

    Peak = cores x clock x FLOPs per cycle per core, where a core retires two FMA
    instructions per cycle: 2 x 16 lanes x 2 = 64 FLOPs with AVX-512, 32 with AVX2.
    Single-FMA-unit AVX-512 parts reach half of this figure.
    """
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    flags = next((ln for ln in info.splitlines() if ln.startswith("flags")), "")
    mhz = next((ln for ln in info.splitlines() if ln.startswith("cpu MHz")), "")
    ghz = float(mhz.split(":")[1]) / 1000 if mhz else float("nan")
    per_cycle = 8  # SSE: 4 lanes x (add + multiply)
    if " fma" in flags:
        per_cycle = 32
    if "avx512f" in flags:
        per_cycle = 64
    cores = os.cpu_count() or 1
    peak = cores * ghz * per_cycle
    formula = f"{cores} cores x {ghz:.2f} GHz x {per_cycle} FLOPs/cycle"
    return peak, formula


def cpu_name() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    for line in info.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


class ProjectLoop:
    """Variant (a) or (c): one epoch of Trainer.fit per measurement."""

    def __init__(self, work: Workload, x: np.ndarray, n_seeds: int):
        settings = TrainSettings(
            batch_size=work.batch, drop_last=True, epochs=1, patience=0, n_seeds=n_seeds
        )
        self.trainer = Trainer(build_model(work.model, 30), settings, 30)
        self.x, self.val = x, x[:1024]
        self.models = n_seeds
        self.samples = (len(x) // work.batch) * work.batch * n_seeds

    def warm_up(self) -> float:
        self.trainer.fit(self.x, self.val, seed=0)
        return self.trainer.compile_seconds

    def epoch(self, rep: int) -> float:
        return self.trainer.fit(self.x, self.val, seed=rep).time_train


class PerStepLoop:
    """Variant (b): host-side shuffling and slicing, one jitted step per minibatch."""

    def __init__(self, work: Workload, x: np.ndarray):
        model = build_model(work.model, 30)
        self.params = model.init(jax.random.key(0), jnp.zeros((1, 30)), train=False)
        tx = optax.adam(1e-3)
        self.opt_state = tx.init(self.params)
        self.x, self.models, self.batch = x, 1, work.batch
        self.samples = (len(x) // work.batch) * work.batch

        def loss_fn(params, batch):
            return jnp.mean(model.apply(params, batch, train=True)[1]["loss"])

        @jax.jit
        def step(params, opt_state, batch):
            loss, grads = jax.value_and_grad(loss_fn)(params, batch)
            updates, opt_state = tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        self.step = step

    def warm_up(self) -> float:
        start = time.perf_counter()
        batch = self.x[: self.batch]
        jax.block_until_ready(self.step(self.params, self.opt_state, batch))
        return time.perf_counter() - start

    def epoch(self, rep: int) -> float:
        start = time.perf_counter()
        order = np.random.default_rng(rep).permutation(len(self.x))
        params, opt_state, losses = self.params, self.opt_state, []
        size = self.batch
        for i in range(len(self.x) // size):
            batch = self.x[order[i * size : (i + 1) * size]]
            params, opt_state, loss = self.step(params, opt_state, batch)
            losses.append(loss)
        jax.block_until_ready(jnp.stack(losses).mean())
        return time.perf_counter() - start


class TorchLoop:
    """Variant (d): the same network in PyTorch with a DataLoader."""

    def __init__(self, work: Workload, x: np.ndarray):
        import torch
        from torch import nn

        self.torch, self.models, self.batch = torch, 1, work.batch
        self.data = torch.utils.data.TensorDataset(torch.from_numpy(x))
        self.samples = (len(x) // work.batch) * work.batch
        modules = {"tanh": nn.Tanh, "relu": nn.ReLU, "identity": nn.Identity}
        layers = []
        for i, name in enumerate(work.activations):
            layers += [nn.Linear(work.layers[i], work.layers[i + 1]), modules[name]()]
        self.model = nn.Sequential(*layers)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)

    def warm_up(self) -> float:
        return 0.0

    def epoch(self, rep: int) -> float:
        torch = self.torch
        generator = torch.Generator().manual_seed(rep)
        loader = torch.utils.data.DataLoader(
            self.data,
            batch_size=self.batch,
            shuffle=True,
            drop_last=True,
            generator=generator,
        )
        start = time.perf_counter()
        for (batch,) in loader:
            self.optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(self.model(batch), batch)
            loss.backward()
            self.optimizer.step()
        return time.perf_counter() - start


def measure(variants: dict, reps: int) -> dict[str, dict]:
    """Warm every variant up, then time `reps` epochs of each, interleaved."""
    compile_seconds = {}
    for name, variant in variants.items():
        print(f"warm-up {name}", flush=True)
        compile_seconds[name] = variant.warm_up()
        variant.epoch(0)
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for rep in range(1, reps + 1):
        for name, variant in variants.items():
            rates[name].append(variant.samples / variant.epoch(rep))
        summary = ", ".join(f"{n.split()[0]} {r[-1]:,.0f}" for n, r in rates.items())
        print(f"repetition {rep}/{reps}: samples/s {summary}", flush=True)
    return {
        name: {
            "rates": rates[name],
            "models": variants[name].models,
            "compile": compile_seconds[name],
        }
        for name in variants
    }
