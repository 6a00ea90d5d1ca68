"""Time two checkouts of sk_conse on the same machine, interleaved.

For a change of the engine: ``predict_top_k`` at the paper's scale (1,000
seen labels, 500-d vectors, 21,841 candidates, k = 20, float32) at T = 1, 10
and all, with the bare GEMM of the direct formulation as the yardstick.
Each checkout runs in its own interpreter, alternately, so that both see the
same machine load::

    git worktree add /tmp/old 85d1311
    python benchmarks/compare_engines.py /tmp/old . --n 10000 --rounds 2

Run it once as the environment is and once with ``env -u OPENBLAS_CORETYPE
-u OPENBLAS_L2_SIZE`` (the native OpenBLAS kernel). Fixed seeds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

_CHILD = textwrap.dedent(
    """
    import sys, time, warnings
    import numpy as np
    warnings.simplefilter("ignore")
    sys.path.insert(0, {root!r})
    import sk_conse
    from sk_conse import ConSEClassifier
    from sklearn.base import BaseEstimator, ClassifierMixin

    assert sk_conse.__file__.startswith({root!r}), sk_conse.__file__


    class Frozen(ClassifierMixin, BaseEstimator):
        def __init__(self, P=None):
            self.P = P

        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict_proba(self, X):
            return self.P[np.asarray(X)[:, 0].astype(int)]


    rng = np.random.RandomState(0)
    n, n_seen, q, n_cand = {n}, 1000, 500, 21841
    V = rng.randn(n_seen + n_cand, q).astype(np.float32)
    emb = dict(zip(range(n_seen + n_cand), V))
    P = np.exp(rng.randn(n, n_seen).astype(np.float32) * 3)
    P /= P.sum(1, keepdims=True)
    X = np.arange(n, dtype=float)[:, None]
    times = {{}}
    for T in (1, 10, None):
        clf = ConSEClassifier(Frozen(P), emb, T=T)
        clf.fit(np.zeros((n_seen, 1)), np.arange(n_seen))
        clf.predict_top_k(X[:2048], 20)
        best = np.inf
        for _ in range({repeat}):
            t = time.perf_counter()
            clf.predict_top_k(X, 20)
            best = min(best, time.perf_counter() - t)
        times["all" if T is None else T] = best
    A = rng.randn(n, q).astype(np.float32)
    B = rng.randn(q, n_cand).astype(np.float32)
    A @ B
    gemm = np.inf
    for _ in range({repeat}):
        t = time.perf_counter()
        A @ B
        gemm = min(gemm, time.perf_counter() - t)
    print(gemm, times[1], times[10], times["all"])
    """
)


def _run(root: Path, n: int, repeat: int) -> list[float]:
    code = _CHILD.format(root=str(root.resolve()), n=n, repeat=repeat)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return [float(v) for v in out.stdout.split()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="checkout of the old engine")
    parser.add_argument("new", type=Path, help="checkout of the new engine")
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    import numpy  # noqa: F401 - loads NumPy's OpenBLAS for threadpoolctl
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    kernels = {i.get("architecture") for i in blas}
    print(f"# OpenBLAS kernel(s): {sorted(map(str, kernels))}; n = {args.n}")
    print("| checkout | GEMM (s) | T=1 (s) | T=10 (s) | T=all (s) |")
    print("|---|---|---|---|---|")
    for _ in range(args.rounds):
        for name, root in (("old", args.old), ("new", args.new)):
            gemm, t1, t10, tall = _run(root, args.n, args.repeat)
            print(f"| {name} | {gemm:.3f} | {t1:.3f} | {t10:.3f} | {tall:.3f} |")


if __name__ == "__main__":
    main()
