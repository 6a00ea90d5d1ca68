"""GPU benchmark of ConSE prediction at the paper's scale: CuPy and torch-CUDA.

For each library (CuPy through ``CupyBackend``, torch through
``TorchBackend("cuda")``), dtype and T (1, 10, all):

- the search layer (``sk_conse._search.ConSESearch``) by both routes (direct
  and factorised) on device-resident probabilities, batch by batch, with the
  host -> device copy of P and the device -> host copy of the top-k timed
  apart and added to an end-to-end figure;
- the public estimator end to end, transfers included:
  ``ConSEClassifier(device="cuda").predict_top_k`` on NumPy input (CuPy), and
  ``predict_top_k`` on a CUDA torch tensor under
  ``sklearn.config_context(array_api_dispatch=True)`` (torch; results copied
  back to NumPy inside the timing);
- the CPU path (``predict_top_k`` on NumPy, timed on ``--cpu-n`` rows and
  extrapolated, or ``--cpu-csv``), and the GPU top-k checked against it.

Not part of the test suite. Usage::

    python benchmarks/bench_gpu.py                  # needs a CUDA device
    python benchmarks/bench_gpu.py --libs torch     # torch-CUDA only
    python benchmarks/bench_gpu.py --dry-run        # NumPy + torch-CPU, tiny

Without a CUDA device (and without ``--dry-run``) it says so and exits 0; a
library that is missing (CuPy, or a CUDA build of torch) is skipped with a
message. TF32 stays off unless ``CUPY_TF32=1`` is set (torch: its default,
``torch.backends.cuda.matmul.allow_tf32 = False``): it keeps 10 mantissa bits
and can reorder near ties.
"""

from __future__ import annotations

import os

# scikit-learn's array API dispatch needs SciPy's array API support, which is
# read when SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sklearn
from _common import (
    PAPER,
    FrozenProba,
    format_table,
    label_embeddings,
    machine_description,
    peaked_probabilities,
)

from sk_conse import ConSEClassifier
from sk_conse._backend import (
    CupyBackend,
    NumpyBackend,
    TorchBackend,
    cuda_available,
)
from sk_conse._parallel import plan
from sk_conse._search import ConSESearch

TARGET_SPEEDUP = 20.0  # GPU end to end vs the CPU path, n = 50,000, float32


class Lib:
    """One array library on one device, as the benchmark drives it."""

    def __init__(self, name, backend, to_device, to_host, synchronize, estimator):
        self.name = name
        self.backend = backend
        self.to_device = to_device
        self.to_host = to_host
        self.synchronize = synchronize
        # "cuda": ConSEClassifier(device="cuda") on NumPy input; "dispatch":
        # input in this library under array_api_dispatch; "cpu": NumPy.
        self.estimator = estimator


def available_libs(names, dry_run):
    """The libraries to run, and a message for each one skipped."""
    libs, skipped = [], []
    if dry_run:
        libs.append(
            Lib(
                "numpy (dry run)",
                NumpyBackend(plan()),
                np.asarray,
                np.asarray,
                lambda: None,
                "cpu",
            )
        )
    for name in names:
        if name == "cupy":
            if dry_run:
                continue
            if not cuda_available():
                skipped.append("cupy: CuPy is not installed or sees no CUDA device")
                continue
            import cupy

            libs.append(
                Lib(
                    "cupy",
                    CupyBackend(),
                    cupy.asarray,
                    lambda a: a.get(),
                    lambda: cupy.cuda.get_current_device().synchronize(),
                    "cuda",
                )
            )
        elif name == "torch":
            try:
                import torch
            except ImportError:
                skipped.append("torch: not installed")
                continue
            if dry_run:
                device = "cpu"
            elif torch.cuda.is_available():
                device = "cuda"
            else:
                skipped.append("torch: no CUDA device (or a CPU-only build)")
                continue
            sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
            libs.append(
                Lib(
                    f"torch-{device}",
                    TorchBackend(device),
                    lambda a, d=device: torch.as_tensor(a, device=d),
                    lambda t: t.detach().cpu().numpy(),
                    sync,
                    "dispatch",
                )
            )
        else:
            raise SystemExit(f"unknown library {name!r}: use cupy, torch")
    return libs, skipped


def timed(lib, fn, repeat):
    """Minimum wall time of ``fn`` (device synchronised), and its last result."""
    result = fn()  # warm-up: kernel compilation, cuBLAS/cuSPARSE plans
    lib.synchronize()
    best = float("inf")
    for _ in range(repeat):
        lib.synchronize()
        t0 = time.perf_counter()
        result = fn()
        lib.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best, result


def search_top_k(search, P, k, batch):
    """ConSE top-k of device-resident probabilities through the search
    (raw top-K on the device, the certificate on the host)."""
    nx = search.backend
    n = P.shape[0]
    idx_out = nx.empty((n, k), np.int64)
    val_out = nx.empty((n, k), search.dtype)
    for start in range(0, n, batch):
        rows = slice(start, min(start + batch, n))
        idx, vals = search.ranked(search.embed(P[rows]), k)
        idx_out[rows] = idx
        val_out[rows] = vals
    return idx_out, val_out


def fit_estimator(emb, n_seen, P_host, T, device, batch_size):
    y = np.repeat(np.arange(n_seen), 2)
    clf = ConSEClassifier(
        FrozenProba(P_host),
        emb,
        T=T,
        candidate_labels="all",
        device=device,
        batch_size=batch_size,
    )
    return clf.fit(np.zeros((len(y), 1)), y)


def estimator_run(lib, clf, X_host, k):
    """``predict_top_k`` end to end, results back in NumPy."""
    if lib.estimator == "dispatch":
        X = lib.to_device(X_host)
        with sklearn.config_context(array_api_dispatch=True):
            labels, scores = clf.predict_top_k(X, k)
        return lib.backend.to_numpy(labels), lib.backend.to_numpy(scores)
    return clf.predict_top_k(X_host, k)


def load_cpu_csv(path):
    """``dtype,T,n,seconds`` rows -> {(dtype, T): seconds per row}."""
    out = {}
    with open(path) as fh:
        for row in csv.DictReader(fh):
            out[(row["dtype"], row["T"])] = float(row["seconds"]) / int(row["n"])
    return out


def cpu_estimator_time(emb, n_seen, P_host, T, k):
    """Seconds per row of NumPy ``predict_top_k`` on the CPU, and its labels."""
    clf = fit_estimator(emb, n_seen, P_host, T, "cpu", 1024)
    X = np.arange(len(P_host), dtype=float)[:, None]
    clf.predict_top_k(X[:64], k)
    t0 = time.perf_counter()
    labels, _ = clf.predict_top_k(X, k)
    return (time.perf_counter() - t0) / len(P_host), labels, clf.algorithm_


def gpu_description(libs) -> list[str]:
    lines = []
    for lib in libs:
        if lib.name == "cupy":
            import cupy

            props = cupy.cuda.runtime.getDeviceProperties(0)
            lines.append(
                f"GPU (CuPy {cupy.__version__}): {props['name'].decode()}, "
                f"CUPY_TF32={os.environ.get('CUPY_TF32', 'unset (off)')}"
            )
        elif lib.name == "torch-cuda":
            import torch

            lines.append(
                f"GPU (torch {torch.__version__}, CUDA {torch.version.cuda}): "
                f"{torch.cuda.get_device_name(0)}, "
                f"allow_tf32={torch.backends.cuda.matmul.allow_tf32}"
            )
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=8192)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--T", dest="Ts", default="1,10,all")
    parser.add_argument("--libs", default="cupy,torch", help="cupy,torch")
    parser.add_argument("--cpu-n", type=int, default=4096, help="CPU rows to time")
    parser.add_argument("--cpu-csv", help="CPU figures: columns dtype,T,n,seconds")
    parser.add_argument(
        "--dry-run", action="store_true", help="NumPy and torch-CPU, tiny scale"
    )
    args = parser.parse_args(argv)
    args.Ts = args.Ts.split(",")

    libs, skipped = available_libs(args.libs.split(","), args.dry_run)
    for line in skipped:
        print(f"bench_gpu: skipped {line}")
    if not libs:
        print(
            "bench_gpu: no GPU run: no CUDA device for CuPy or torch "
            "(pip install cupy-cuda12x, or a CUDA build of torch). Use --dry-run "
            "to check the script's logic on NumPy and torch-CPU."
        )
        return 0
    cfg = dict(PAPER)
    if args.dry_run:
        cfg.update(n_seen=50, q=16, n_candidates=3000, k=5)
        args.n, args.batch, args.cpu_n, args.repeat = 3000, 1024, 1000, 1
    k, n_seen, q = cfg["k"], cfg["n_seen"], cfg["q"]
    print(f"# ConSE GPU benchmark, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    for line in machine_description() + gpu_description(libs):
        print("#", line)
    if args.dry_run:
        print("# DRY RUN on NumPy and torch-CPU at a tiny scale: figures mean nothing")
    print(
        f"# {n_seen} seen, q={q}, {cfg['n_candidates']:,} candidates, k={k}, "
        f"n={args.n:,}, device batches of {args.batch}; min of {args.repeat}"
    )
    cpu_csv = load_cpu_csv(args.cpu_csv) if args.cpu_csv else None
    rows, checks = [], []
    t_start = time.perf_counter()
    rng = np.random.default_rng(0)
    for dtype in args.dtypes.split(","):
        # Host data, the same for every library and for the CPU path.
        emb = label_embeddings(rng, cfg["n_candidates"], q, np.dtype(dtype))
        vectors = np.stack([emb[i] for i in range(cfg["n_candidates"])])
        S0 = vectors[:n_seen]
        P_host = peaked_probabilities(rng, args.n, n_seen, np.dtype(dtype))
        X_host = np.arange(args.n, dtype=float)[:, None]
        m = min(args.cpu_n, args.n)
        cpu = {}
        for T in args.Ts:
            Tv = None if T == "all" else int(T)
            per_row, labels, route = cpu_estimator_time(emb, n_seen, P_host[:m], Tv, k)
            source = f"NumPy CPU, {m} rows extrapolated"
            if cpu_csv and (dtype, T) in cpu_csv:
                per_row, source = cpu_csv[(dtype, T)], args.cpu_csv
            cpu[T] = (per_row * args.n, labels, route)
            rows.append(
                [
                    dtype,
                    T,
                    "cpu",
                    f"predict_top_k ({route}; {source})",
                    per_row * args.n,
                    "",
                    "",
                    1.0,
                ]
            )
        for lib in libs:
            nx = lib.backend
            h2d, P = timed(lib, lambda lib=lib, a=P_host: lib.to_device(a), args.repeat)
            unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
            unit_t = nx.asarray(np.ascontiguousarray(unit.T))
            A = lib.to_device(np.ascontiguousarray(P_host[:, :q]))
            gemm, _ = timed(
                lib, lambda A=A, u=unit_t, nx=nx: nx.matmul(A, u), args.repeat
            )
            del A
            rows.append(
                [dtype, "-", lib.name, "GEMM (n x q) @ (q x n_cand)", gemm, "", "", ""]
            )
            rows.append(
                [dtype, "-", lib.name, "host->device copy of P", h2d, "", "", ""]
            )
            for T in args.Ts:
                Tv = n_seen if T == "all" else int(T)
                cpu_total, cpu_labels, cpu_route = cpu[T]
                best = None
                for route in ("direct", "factorised"):
                    search = ConSESearch(nx, vectors, S0, Tv, algorithm=route)
                    t, (idx, vals) = timed(
                        lib,
                        lambda s=search, P=P: search_top_k(s, P, k, args.batch),
                        args.repeat,
                    )
                    d2h, _ = timed(
                        lib,
                        lambda i=idx, v=vals, nx=nx: (nx.to_numpy(i), nx.to_numpy(v)),
                        args.repeat,
                    )
                    e2e = h2d + t + d2h
                    rows.append(
                        [
                            dtype,
                            T,
                            lib.name,
                            f"search top-{k}, {route}",
                            t,
                            d2h,
                            e2e,
                            cpu_total / e2e,
                        ]
                    )
                    if best is None or e2e < best[0]:
                        best = (e2e, route, nx.to_numpy(idx))
                    del search, idx, vals
                # The public estimator, end to end (transfers included).
                device = "cuda" if lib.estimator == "cuda" else "cpu"
                clf = fit_estimator(
                    emb, n_seen, P_host, None if T == "all" else Tv, device, args.batch
                )
                est, (labels, _) = timed(
                    lib,
                    lambda c=clf, lib=lib, X=X_host: estimator_run(lib, c, X, k),
                    args.repeat,
                )
                how = {
                    "cuda": "device='cuda', NumPy in/out",
                    "dispatch": "array_api_dispatch, tensor in, NumPy out",
                    "cpu": "NumPy in/out",
                }[lib.estimator]
                rows.append(
                    [
                        dtype,
                        T,
                        lib.name,
                        f"ConSEClassifier.predict_top_k ({clf.algorithm_}; {how})",
                        est,
                        "",
                        est,
                        cpu_total / est,
                    ]
                )
                for what, got in [("search", best[2]), ("estimator", labels)]:
                    same = float(np.mean(np.all(got[:m] == cpu_labels, axis=1)))
                    checks.append(
                        (
                            f"{dtype} T={T} {lib.name}: {what} top-{k} equals CPU "
                            f"({cpu_route}) on {m} rows",
                            same == 1.0 or (dtype == "float32" and same >= 0.999),
                            f"identical rows {same:.4%}",
                        )
                    )
                if dtype == "float32" and not args.dry_run:
                    for what, t in [
                        (f"search ({best[1]})", best[0]),
                        ("estimator", est),
                    ]:
                        checks.append(
                            (
                                f"float32 T={T} {lib.name}: {what} end to end vs CPU",
                                cpu_total / t >= TARGET_SPEEDUP,
                                f"{cpu_total / t:.1f}x (target >= {TARGET_SPEEDUP:.0f}x)",  # noqa: E501,
                            )
                        )
            del P
    table = [
        [
            d,
            T,
            lib,
            what,
            f"{t:.4f}",
            f"{d2h:.4f}" if d2h != "" else "",
            f"{e:.4f}" if e != "" else "",
            f"{s:.1f}" if s != "" else "",
        ]
        for d, T, lib, what, t, d2h, e, s in rows
    ]
    print()
    print(
        format_table(
            [
                "dtype",
                "T",
                "library",
                "what",
                "time (s)",
                "device->host (s)",
                "end to end (s)",
                "CPU / end to end",
            ],
            table,
        )
    )
    print(
        "\nsearch end to end = host->device copy of P + search + device->host of "
        "the top-k; the estimator rows include every transfer."
    )
    print()
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    print(f"\n(total {time.perf_counter() - t_start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
