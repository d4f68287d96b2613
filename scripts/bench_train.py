"""Benchmark the training loop against a per-step loop and PyTorch, side by side.

    python scripts/bench_train.py                      # writes results/bench_train.md
    python scripts/bench_train.py --reps 3 --rows 50000 --skip-sweep --out /tmp/b.md

Workloads: the reference network of the public credit-card fraud notebook (30 -> 100
tanh -> 50 relu -> 50 tanh -> 100 tanh -> 30 relu) at batch 256, and the default
model=ae at batch 64; MSE, Adam 1e-3, random float32 rows shuffled each epoch, the last
partial batch dropped. The variants run in one process, interleaved, after a warm-up:

  (a) the project's loop (research.training.Trainer: one compiled call per epoch)
  (b) a plain per-step loop: one jitted step called from Python per minibatch
  (c) the project's loop with train.n_seeds=8, counted per model
  (d) an idiomatic PyTorch loop (DataLoader, zero_grad, backward, step), if installed
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax  # noqa: E402

from research.benchmarks import (  # noqa: E402
    DEFAULT,
    REFERENCE,
    PerStepLoop,
    ProjectLoop,
    TorchLoop,
    Workload,
    cpu_name,
    measure,
    nominal_peak,
)
from research.provenance import git_commit, library_versions  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FULL_ROWS = 284_807


def speed_table(work: Workload, results: dict[str, dict]) -> list[str]:
    peak, _ = nominal_peak()
    base = statistics.median(results["(a) project loop"]["rates"])
    lines = [
        "| variant | samples/s (median) | min - max | time per sample / (a) | "
        "compile s | GFLOP/s | of peak |",
        "| :-- | --: | --: | --: | --: | --: | --: |",
    ]
    for name, result in results.items():
        rates = result["rates"]
        median = statistics.median(rates)
        gflops = median * work.flops_per_sample() / 1e9
        lines.append(
            f"| {name} | {median:,.0f} | {min(rates):,.0f} - {max(rates):,.0f} | "
            f"{base / median:.2f} | {result['compile']:.2f} | "
            f"{gflops:.1f} | {gflops / peak:.1%} |"
        )
    return lines


def sweep_throughput() -> list[str]:
    """Run the demo sweep in a subprocess; count its compilations from the records."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "scripts/run.py", "-m", "experiment=demo",
             f"hydra.sweep.dir={tmp}"],
            cwd=REPO, check=True, capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        records = [json.loads(p.read_text()) for p in Path(tmp).rglob("record.json")]
    per_model: dict[str, list[int]] = {}
    for record in records:
        name = record["config"]["model"]["name"]
        per_model.setdefault(name, []).append(record["metrics"]["compile/executables"])
    lines = [
        f"Command: `python scripts/run.py -m experiment=demo` ({len(records)} jobs), "
        f"{seconds:.1f} s end to end including Python start-up, "
        f"{seconds / len(records):.2f} s per job.",
        "",
        "| model | jobs | jobs that compiled | executables compiled |",
        "| :-- | --: | --: | --: |",
    ]
    for name, counts in per_model.items():
        compiled = sum(1 for c in counts if c > 0)
        lines.append(f"| {name} | {len(counts)} | {compiled} | {sum(counts)} |")
    return lines


CLASSIFIER_SWEEP = ["classifier=logreg,random_forest,knn,svm_rbf", "seed=0,1"]


def cache_saving() -> list[str]:
    """Time one classifier sweep without and with the encoder cache, in subprocesses."""
    lines = [
        "| encoder cache | jobs | jobs that trained | seconds end to end |",
        "| :-- | --: | --: | --: |",
    ]
    for label, use_cache in (("off", False), ("on (empty at the start)", True)):
        with tempfile.TemporaryDirectory() as tmp:
            cache = [f"train.encoder_cache_dir={tmp}/cache"] if use_cache else []
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "scripts/run.py", "-m", *CLASSIFIER_SWEEP, *cache,
                 f"hydra.sweep.dir={tmp}/sweep"],
                cwd=REPO, check=True, capture_output=True, text=True,
            )  # fmt: skip
            seconds = time.perf_counter() - start
            records = [
                json.loads(p.read_text()) for p in Path(tmp).rglob("record.json")
            ]
        trained = sum(1 for r in records if r.get("encoder") == "trained")
        lines.append(f"| {label} | {len(records)} | {trained} | {seconds:.1f} |")
        print(f"classifier sweep, cache {label}: {seconds:.1f} s", flush=True)
    return lines


def scale_child(rows: int) -> None:
    """Print one JSON line: seconds per epoch and peak RSS for `rows` rows."""
    x = np.random.default_rng(0).normal(size=(rows, 30)).astype(np.float32)
    loop = ProjectLoop(REFERENCE, x, n_seeds=1)
    loop.warm_up()
    seconds = statistics.median(loop.epoch(rep) for rep in range(1, 4))
    print(json.dumps({"rows": rows, "epoch_s": seconds, "peak_rss_mib": peak_rss()}))


def peak_rss() -> float:
    """Return this process's peak resident memory in MiB.

    VmHWM from /proc is per process image; getrusage's ru_maxrss would report the
    parent's peak in a child started by fork and exec.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_table(sizes: list[int]) -> list[str]:
    lines = [
        "| rows | data MiB | epoch s (median of 3) | samples/s | peak RSS MiB |",
        "| --: | --: | --: | --: | --: |",
    ]
    for rows in sizes:
        output = subprocess.run(
            [sys.executable, __file__, "--scale-child", str(rows)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        result = json.loads(output.strip().splitlines()[-1])
        data_mib = rows * 30 * 4 / 2**20
        rate = (rows // REFERENCE.batch) * REFERENCE.batch / result["epoch_s"]
        lines.append(
            f"| {rows:,} | {data_mib:.1f} | {result['epoch_s']:.3f} | {rate:,.0f} | "
            f"{result['peak_rss_mib']:.0f} |"
        )
        print(f"scale {rows:,} rows: {result['epoch_s']:.3f} s per epoch", flush=True)
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS, help="rows of data")
    parser.add_argument("--reps", type=int, default=5, help="timed epochs per variant")
    parser.add_argument("--seeds", type=int, default=8, help="replicas of (c)")
    parser.add_argument("--out", type=Path, default=REPO / "results/bench_train.md")
    parser.add_argument("--skip-sweep", action="store_true", help="skip the demo sweep")
    parser.add_argument("--skip-scale", action="store_true", help="skip the scale runs")
    parser.add_argument("--no-torch", action="store_true", help="skip variant (d)")
    parser.add_argument(
        "--cache-only",
        action="store_true",
        help="time only the classifier sweep without and with the encoder cache",
    )
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def build_variants(args: argparse.Namespace, work: Workload) -> dict:
    x = np.random.default_rng(0).normal(size=(args.rows, 30)).astype(np.float32)
    variants = {
        "(a) project loop": ProjectLoop(work, x, n_seeds=1),
        "(b) per-step loop": PerStepLoop(work, x),
        f"(c) project loop, n_seeds={args.seeds}, per model": ProjectLoop(
            work, x, n_seeds=args.seeds
        ),
    }
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: skipping (d); pip install torch", flush=True)
    else:
        if not args.no_torch:
            variants["(d) PyTorch loop"] = TorchLoop(work, x)
    return variants


def report(args, speed_lines, sweep_lines, scale_lines, elapsed: float) -> str:
    peak, how = nominal_peak()
    versions = library_versions()
    try:
        import torch

        versions["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        versions["torch"] = "not installed"
    lines = [
        "# Training-loop benchmark",
        "",
        f"Produced by `python scripts/bench_train.py --reps {args.reps}` at commit "
        f"`{git_commit()}` in {elapsed:.0f} s.",
        "",
        f"Machine: {cpu_name()}, {os.cpu_count()} cores, JAX backend "
        f"{jax.default_backend()} ({jax.devices()[0].device_kind}). Versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        "",
        f"In each speed table, every variant ran {args.reps} timed epochs of "
        f"{args.rows:,} rows x 30, interleaved with the others after a warm-up epoch. "
        "Samples/s of (c) count the rows of all replicas, so its time per sample is "
        "per model. `time per sample / (a)` above 1 means (a) is faster. GFLOP/s "
        "counts 6 FLOPs per weight per row; the nominal fp32 peak is "
        f"{peak:.0f} GFLOP/s ({how}).",
        *speed_lines,
    ]
    if sweep_lines:
        lines += ["", "## Sweep throughput", "", *sweep_lines]
    if scale_lines:
        lines += ["", "## Scale: the project loop, one replica", "", *scale_lines]
    return "\n".join(lines) + "\n"


def write_cache_report(args, lines: list[str], elapsed: float) -> None:
    """Write the encoder-cache comparison to --out and print it."""
    text = "\n".join(
        [
            "# Encoder cache: time a classifier sweep saves",
            "",
            "Produced by `python scripts/bench_train.py --cache-only --out "
            f"{args.out}` at commit `{git_commit()}` in {elapsed:.0f} s on "
            f"{cpu_name()}, {os.cpu_count()} cores.",
            "",
            f"Sweep: `python scripts/run.py -m {' '.join(CLASSIFIER_SWEEP)}` on the "
            "bundled data (default model=ae, up to 100 epochs): the 4 classifiers of "
            "one seed share one encoder.",
            "",
            *lines,
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)


def main() -> None:
    args = parse_args()
    if args.scale_child:
        scale_child(args.scale_child)
        return
    start = time.perf_counter()
    if args.cache_only:
        write_cache_report(args, cache_saving(), time.perf_counter() - start)
        return
    speed_lines = []
    for work in (REFERENCE, DEFAULT):
        print(f"speed: {work.title}", flush=True)
        results = measure(build_variants(args, work), args.reps)
        speed_lines += ["", f"## Speed: {work.title}", "", *speed_table(work, results)]
    sweep_lines = [] if args.skip_sweep else sweep_throughput()
    sizes = [10_000, 50_000, FULL_ROWS]
    scale_lines = [] if args.skip_scale else scale_table(sizes)
    elapsed = time.perf_counter() - start
    text = report(args, speed_lines, sweep_lines, scale_lines, elapsed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
