"""GPU (CuPy) benchmark of ConSE prediction at the paper's scale.

Runs the kernel routes (direct and factorised, T = 1, 10 and all) on CuPy
arrays generated on the device, times host <-> device transfers apart, adds
them to an end-to-end figure, checks the GPU top-k against the CPU on a
subset, and compares with the CPU path (a short CPU run in this script,
extrapolated linearly, or ``--cpu-csv``). Not part of the test suite.

Usage::

    python benchmarks/bench_gpu.py              # needs CuPy and a CUDA device
    python benchmarks/bench_gpu.py --dry-run    # NumPy, tiny scale: logic only

Without CuPy or a device (and without ``--dry-run``) it says so and exits 0.
TF32 stays off unless ``CUPY_TF32=1`` is set: it keeps 10 mantissa bits and can
reorder near ties.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PAPER, FrozenProba, format_table, machine_description

from sk_conse import ConSEClassifier
from sk_conse._backend import cuda_available, to_numpy
from sk_conse._kernel import CandidateSearch, embed, rank_top_k, top_t_weights

TARGET_SPEEDUP = 20.0  # GPU end to end vs the CPU path, n = 50,000


def get_xp(dry_run: bool):
    if dry_run:
        return np
    if not cuda_available():
        return None
    import cupy

    return cupy


def synchronize(xp) -> None:
    if xp is not np:
        xp.cuda.get_current_device().synchronize()


def timed(xp, fn, repeat):
    """Minimum wall time of ``fn`` (device synchronised), and its last result."""
    result = fn()  # warm-up: kernel compilation, cuSPARSE/cuBLAS plans
    best = float("inf")
    for _ in range(repeat):
        synchronize(xp)
        t0 = time.perf_counter()
        result = fn()
        synchronize(xp)
        best = min(best, time.perf_counter() - t0)
    return best, result


def device_data(xp, cfg, n, dtype, seed=0):
    """Seen/candidate vectors and peaked probabilities, made on the device."""
    rs = xp.random.RandomState(seed)
    n_seen, q, n_cand = cfg["n_seen"], cfg["q"], cfg["n_candidates"]
    vectors = rs.standard_normal((n_cand, q)).astype(dtype)
    P = xp.empty((n, n_seen), dtype=dtype)
    for start in range(0, n, 8192):
        logits = rs.standard_normal((min(8192, n - start), n_seen)) * 4.0
        logits -= logits.max(axis=1, keepdims=True)
        e = xp.exp(logits)
        P[start : start + len(e)] = e / e.sum(axis=1, keepdims=True)
    return vectors, P


def kernel_top_k(search, P, S0, T, k, batch, buffer):
    """ConSE top-k of device-resident probabilities, batch by batch."""
    xp = search.xp
    n = P.shape[0]
    idx_out = xp.empty((n, k), dtype=xp.int64)
    val_out = xp.empty((n, k), dtype=P.dtype)
    for start in range(0, n, batch):
        rows = slice(start, min(start + batch, n))
        weights = top_t_weights(P[rows], T)
        F = embed(*weights, S0)
        S = search.scores(F, weights=weights, out=buffer)
        idx, vals = rank_top_k(S, k, search.n_candidates)
        idx_out[rows] = idx
        val_out[rows] = vals
    return idx_out, val_out


def load_cpu_csv(path):
    """``dtype,T,n,seconds`` rows -> {(dtype, T): seconds per row}."""
    out = {}
    with open(path) as fh:
        for row in csv.DictReader(fh):
            out[(row["dtype"], row["T"])] = float(row["seconds"]) / int(row["n"])
    return out


def cpu_estimator_time(vectors_np, P_np, n_seen, T, k, dtype):
    """Seconds per row of ConSEClassifier.predict_top_k on the CPU."""
    emb = dict(zip(range(len(vectors_np)), vectors_np))
    y = np.repeat(np.arange(n_seen), 2)
    clf = ConSEClassifier(
        FrozenProba(P_np), emb, T=T, candidate_labels="all", device="cpu"
    ).fit(np.zeros((len(y), 1)), y)
    X = np.arange(len(P_np), dtype=float)[:, None]
    clf.predict_top_k(X[:64], k)
    t0 = time.perf_counter()
    labels, _ = clf.predict_top_k(X, k)
    return (time.perf_counter() - t0) / len(P_np), labels, clf.algorithm_


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=8192)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--T", dest="Ts", default="1,10,all")
    parser.add_argument("--cpu-n", type=int, default=4096, help="CPU rows to time")
    parser.add_argument("--cpu-csv", help="CPU figures: columns dtype,T,n,seconds")
    parser.add_argument("--dry-run", action="store_true", help="NumPy, tiny scale")
    args = parser.parse_args(argv)
    args.Ts = args.Ts.split(",")

    xp = get_xp(args.dry_run)
    if xp is None:
        print(
            "bench_gpu: no GPU run: CuPy is not installed or sees no CUDA device "
            "(pip install 'sk_conse[gpu]'). Use --dry-run to check the script's "
            "logic on NumPy."
        )
        return 0
    cfg = dict(PAPER)
    if args.dry_run:
        cfg.update(n_seen=50, q=16, n_candidates=3000, k=5)
        args.n, args.batch, args.cpu_n, args.repeat = 3000, 1024, 1000, 1
    k, n_seen = cfg["k"], cfg["n_seen"]
    print(f"# ConSE GPU benchmark, {time.strftime('%Y-%m-%d %H:%M')}")
    for line in machine_description():
        print("#", line)
    if xp is not np:
        props = xp.cuda.runtime.getDeviceProperties(0)
        print(
            f"# GPU: {props['name'].decode()}, CuPy {xp.__version__}, "
            f"CUPY_TF32={os.environ.get('CUPY_TF32', 'unset (off)')}"
        )
    else:
        print("# DRY RUN on NumPy at a tiny scale: the figures mean nothing")
    print(
        f"# {n_seen} seen, q={cfg['q']}, {cfg['n_candidates']:,} candidates, "
        f"k={k}, n={args.n:,}, device batches of {args.batch}"
    )
    cpu_csv = load_cpu_csv(args.cpu_csv) if args.cpu_csv else None
    rows, checks = [], []
    t_start = time.perf_counter()
    for dtype in args.dtypes.split(","):
        vectors, P = device_data(xp, cfg, args.n, dtype)
        S0 = vectors[:n_seen]
        # Host copies: what a user's base classifier would hand over.
        P_host = to_numpy(P)
        vectors_np = to_numpy(vectors)
        h2d, _ = timed(xp, lambda P_host=P_host: xp.asarray(P_host), args.repeat)
        padded = -(-cfg["n_candidates"] // 64) * 64
        buffer = xp.empty((args.batch, padded), dtype=dtype)
        # The bare GEMM of the direct formulation, on the device.
        A = xp.asarray(P[:, : cfg["q"]])
        unit = vectors / xp.sqrt((vectors * vectors).sum(axis=1, keepdims=True))
        gemm, _ = timed(xp, lambda A=A, unit=unit: A @ unit.T, args.repeat)
        rows.append([dtype, "-", "device GEMM (n x q) @ (q x n_cand)", gemm, "", ""])
        rows.append([dtype, "-", "host->device copy of P", h2d, "", ""])
        del A
        for T in args.Ts:
            Tv = n_seen if T == "all" else int(T)
            best = None
            for factorised in (False, True):
                search = CandidateSearch(vectors, S0, factorised=factorised)
                route = "factorised" if factorised else "direct"
                t, (idx, vals) = timed(
                    xp,
                    lambda s=search, Tv=Tv, P=P, S0=S0, b=buffer: kernel_top_k(
                        s, P, S0, Tv, k, args.batch, b
                    ),
                    args.repeat,
                )
                d2h, _ = timed(
                    xp, lambda i=idx, v=vals: (to_numpy(i), to_numpy(v)), args.repeat
                )
                end_to_end = h2d + t + d2h
                rows.append([dtype, T, f"kernel top-{k}, {route}", t, d2h, end_to_end])
                if best is None or end_to_end < best[0]:
                    best = (end_to_end, route, to_numpy(idx))
                del search
            # CPU figure and agreement on a subset.
            m = min(args.cpu_n, args.n)
            per_row, cpu_labels, cpu_route = cpu_estimator_time(
                vectors_np, P_host[:m], n_seen, None if T == "all" else Tv, k, dtype
            )
            if cpu_csv and (dtype, T) in cpu_csv:
                per_row, source = cpu_csv[(dtype, T)], args.cpu_csv
            else:
                source = f"this machine's CPU, {m} rows extrapolated"
            cpu_total = per_row * args.n
            rows.append([dtype, T, f"CPU predict_top_k ({source})", cpu_total, "", ""])
            same = float(np.mean(np.all(best[2][:m] == cpu_labels, axis=1)))
            checks.append(
                (
                    f"{dtype} T={T}: GPU top-{k} equals CPU ({cpu_route}) on {m} rows",
                    same == 1.0 or (dtype == "float32" and same >= 0.999),
                    f"identical rows {same:.4%}",
                )
            )
            if dtype == "float32":
                checks.append(
                    (
                        f"float32 T={T}: GPU end to end ({best[1]}) vs CPU path",
                        cpu_total / best[0] >= TARGET_SPEEDUP,
                        f"{cpu_total / best[0]:.1f}x (target >= {TARGET_SPEEDUP:.0f}x)",
                    )
                )
    table = [
        [
            d,
            T,
            what,
            f"{t:.4f}",
            f"{d2h:.4f}" if d2h != "" else "",
            f"{e:.4f}" if e != "" else "",
        ]
        for d, T, what, t, d2h, e in rows
    ]
    print()
    print(
        format_table(
            ["dtype", "T", "what", "time (s)", "device->host (s)", "end to end (s)"],
            table,
        )
    )
    print("\nend to end = host->device copy of P + kernel + device->host of top-k")
    print()
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    print(f"\n(total {time.perf_counter() - t_start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
