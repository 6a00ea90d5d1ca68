"""Shared helpers of the ConSE benchmarks: synthetic data, a frozen base
estimator and timing. Not part of the package or of the test suite."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

# Paper scale (Norouzi et al., ICLR 2014): 1,000 seen ImageNet labels, 500-d
# word vectors, 20,841 unseen + 1,000 seen candidates ("+1K").
PAPER = {"n_seen": 1000, "q": 500, "n_candidates": 21_841, "k": 20}
# The attribute benchmarks (AwA-like): 40 seen, 85 attributes, 10 unseen.
SMALL = {"n_seen": 40, "q": 85, "n_candidates": 10, "k": 5}


class FrozenProba(ClassifierMixin, BaseEstimator):
    """A base estimator whose ``predict_proba`` returns precomputed rows.

    ``X[:, 0]`` holds row ids into ``P``: ConSE's own cost is then measured
    without the base classifier's. For a torch or CuPy ``X`` (array API
    dispatch) the rows of the host ``P`` are copied to ``X``'s device, as a
    base model on the host would hand them over.
    """

    def __init__(self, P=None):
        self.P = P

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        library = type(X).__module__.split(".")[0]
        if library == "torch":  # under array_api_dispatch: rows go to X's device
            import torch

            ids = X[:, 0].detach().cpu().numpy().astype(np.intp)
            return torch.as_tensor(self.P[ids], device=X.device)
        if library == "cupy":
            import cupy

            return cupy.asarray(self.P[X[:, 0].get().astype(np.intp)])
        return self.P[np.asarray(X[:, 0], dtype=np.intp)]


def peaked_probabilities(
    rng: np.random.Generator, n: int, n_seen: int, dtype: Any, scale: float = 4.0
) -> np.ndarray:
    """Softmax of scaled Gaussian logits: a few labels take most of the mass."""
    P = np.empty((n, n_seen), dtype=dtype)
    for start in range(0, n, 8192):
        logits = rng.standard_normal((min(8192, n - start), n_seen)) * scale
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        P[start : start + len(logits)] = logits
    return P


def label_embeddings(
    rng: np.random.Generator, n_labels: int, q: int, dtype: Any
) -> dict[int, np.ndarray]:
    """Gaussian vectors for the integer labels ``0 .. n_labels - 1``."""
    vectors = rng.standard_normal((n_labels, q)).astype(dtype)
    return dict(zip(range(n_labels), vectors))


def per_sample_reference(
    P: np.ndarray, S0: np.ndarray, S1: np.ndarray, T: int, k: int
) -> np.ndarray:
    """ConSE one sample at a time with full argsorts, as public ZSL code does."""
    unit = S1 / np.linalg.norm(S1, axis=1, keepdims=True)
    labels = np.empty((len(P), k), dtype=np.intp)
    for i, p in enumerate(P):
        top = np.argsort(-p, kind="stable")[:T]
        w = p[top] / p[top].sum()
        f = w @ S0[top]
        scores = unit @ (f / np.linalg.norm(f))
        labels[i] = np.argsort(-scores, kind="stable")[:k]
    return labels


def write_fresh(n_bytes: int) -> None:
    """Allocate, write and free ``n_bytes`` (see :func:`best_of`)."""
    if n_bytes > 0:
        np.ones(n_bytes // 8, dtype=np.float64)


def best_of(
    fns: dict[str, Callable[[], Any]],
    repeat: int,
    warmup: bool = True,
    settle: float = 0.25,
    warm_bytes: int = 0,
) -> dict[str, float]:
    """Minimum wall time of each function over ``repeat`` interleaved rounds.

    Rounds interleave the functions so that load from other processes on a
    shared machine hits them alike; the minimum is the least disturbed run.
    Each call starts ``settle`` seconds after the previous one: OpenBLAS's
    worker threads spin for about 0.1 s after a GEMM (measured, 2 Zen 3
    cores: 0.11 CPU-s in the next 0.3 s, none after 0.25 s), and a call
    timed right after one shares the cores with them (decision_function at
    T = 10, same run: 0.44 s right after a 2-thread GEMM, 0.31 s 0.5 s
    later).

    ``warm_bytes``: the largest new array a function returns; before each
    call a quarter more than that is written and freed, so that the array
    finds free memory as on a bare-metal machine. The development machines
    are virtual machines with free page reporting (``dmesg``: "Free page
    reporting enabled"): memory freed more than about 2 s earlier goes back
    to the host, and the first write to it again costs the host's page
    faults (measured, 2026-12-07, AMD EPYC: 0.32-0.39 s for 358 MB after
    2.5-4 s idle, 0.04 s right after a free). :func:`fresh_write_cost`
    prints that cost in each run.
    """
    if warmup:
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            write_fresh(warm_bytes + warm_bytes // 4)
            time.sleep(settle)
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: min(ts) for name, ts in times.items()}


def fresh_write_cost(n_bytes: int, idle: float = 3.0) -> tuple[float, float]:
    """Seconds to allocate and write ``n_bytes`` right after freeing as
    many, and after ``idle`` seconds with nothing freed (the free page
    reporting of :func:`best_of`)."""
    write_fresh(n_bytes)
    t0 = time.perf_counter()
    write_fresh(n_bytes)
    hot = time.perf_counter() - t0
    time.sleep(idle)
    t0 = time.perf_counter()
    write_fresh(n_bytes)
    return hot, time.perf_counter() - t0


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` says."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> list[str]:
    """CPU model, cores, BLAS kernel and OpenBLAS environment, as lines."""
    from threadpoolctl import threadpool_info

    model = cpu_model()
    lines = [
        f"CPU: {model}, {os.cpu_count()} logical cores; "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    ]
    for info in threadpool_info():
        lines.append(
            f"{info['user_api']}: {info['internal_api']} {info.get('version')} "
            f"kernel={info.get('architecture')} threads={info['num_threads']}"
        )
    env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    lines.append(f"OpenBLAS environment: {env or 'none'}")
    return lines


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table with aligned columns."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])
