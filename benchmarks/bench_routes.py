"""Is ``algorithm="auto"`` ever much slower than the best route?

Sweeps the embedding size q, T and the number of candidates; for each point
times ``predict_top_k`` on both routes (interleaved rounds, minimum) and
reports the route ``"auto"`` chooses (:func:`sk_conse._search.choose_algorithm`)
against the faster one. PASS
when the chosen route is never more than 10 % slower than the best, on this
OpenBLAS kernel and, in a child process, on the other one (the forced
Haswell kernel where the environment leaves the native one, Sandybridge
where Haswell is already native, the native one where a kernel is forced).

Usage::

    python benchmarks/bench_routes.py            # ~2-4 min on 2 cores
    python benchmarks/bench_routes.py --quick    # fewer points
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    best_of,
    format_table,
    label_embeddings,
    machine_description,
    peaked_probabilities,
)
from bench_predict import fit_conse, numpy_blas_kernel, other_kernel_env, row_ids

TARGET_SLOWDOWN = 1.10
N_SEEN = 1000
K = 20


def sweep(args) -> tuple[list, float]:
    rng = np.random.default_rng(0)
    rows, worst = [], 1.0
    qs = [20, 50, 150, 500] if args.quick else [20, 50, 150, 300, 500]
    Ts = [1, 5, 10, 32] if args.quick else [1, 3, 5, 10, 20, 32]
    sizes = [21_841] if args.quick else [4_096, 21_841]
    X = row_ids(args.n)
    for n_candidates in sizes:
        for q in qs:
            emb = label_embeddings(rng, n_candidates, q, np.float32)
            P = peaked_probabilities(rng, args.n, N_SEEN, np.float32)
            for T in Ts:
                clfs = {
                    route: fit_conse(emb, N_SEEN, P, T, route, np.float32)
                    for route in ("auto", "direct", "factorised")
                }
                chosen = clfs["auto"].algorithm_
                times = best_of(
                    {
                        route: (lambda c=clfs[route]: c.predict_top_k(X, K))
                        for route in ("direct", "factorised")
                    },
                    args.repeat,
                )
                best = min(times.values())
                ratio = times[chosen] / best
                worst = max(worst, ratio)
                rows.append(
                    [
                        f"{n_candidates:,}",
                        q,
                        T,
                        f"{times['direct']:.3f}",
                        f"{times['factorised']:.3f}",
                        chosen,
                        f"{ratio:.2f}",
                    ]
                )
    return rows, worst


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one-kernel", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    print(f"# route sweep, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"# command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    for line in machine_description():
        print("#", line)
    print(f"# NumPy's OpenBLAS kernel: {numpy_blas_kernel()}")
    env = os.environ.get("OPENBLAS_CORETYPE")
    print(f"# OPENBLAS_CORETYPE: {env or 'unset'}")
    from sk_conse._backend import _KERNEL_T_BASE, _KERNEL_T_PER_Q

    print(f"# rule: factorised up to T = {_KERNEL_T_BASE} + q * {_KERNEL_T_PER_Q:.3f}")
    print(f"# {N_SEEN} seen labels, n = {args.n:,} rows, k = {K}, float32")
    rows, worst = sweep(args)
    print(
        format_table(
            [
                "candidates",
                "q",
                "T",
                "direct (s)",
                "factorised (s)",
                "auto",
                "auto/best",
            ],
            rows,
        )
    )
    ok = worst <= TARGET_SLOWDOWN
    print(
        f"{'PASS' if ok else 'FAIL'}  auto never more than "
        f"{TARGET_SLOWDOWN - 1:.0%} slower than the best route: worst {worst:.2f}x"
    )
    if not args.one_kernel:
        other, name = other_kernel_env()
        print(f"\n# ---- the same sweep under the other kernel setting: {name} ----")
        sys.stdout.flush()
        extra = [*(sys.argv[1:] if argv is None else argv), "--one-kernel"]
        subprocess.run([sys.executable, __file__, *extra], env=other, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
