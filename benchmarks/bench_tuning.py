"""Tuning benchmark: GridSearchCV with and without ``memory``, and ConSEClassifierCV.

The main job's setting (``python -m sk_conse``): Fashion-MNIST images, the
base classifier PCA(100) + standardisation + logistic regression, GloVe 6B
50-d vectors of the 10 class names. A grid of 5 values of ``T`` x 4 values of
``seen_penalty`` is scored by hit@1 on 4 class-disjoint folds
(:class:`sk_conse.ClassDisjointKFold`), with every class name a candidate
(``candidate_labels="all"``, so the penalty matters), by

1. ``GridSearchCV`` without memory: one base fit per grid point and fold;
2. ``GridSearchCV`` with ``ConSEClassifier(memory=<fresh directory>)``: one
   base fit per fold, read back from the cache by the other grid points;
3. the same with the cache left by 2 (a rerun);
4. ``ConSEClassifierCV``: one base fit per fold, kept in memory, and the
   base's ``predict_proba`` run once per fold.

Each counts its base fits (a file written by every fit, wherever it runs) and
adds the refit on all the data. All four must choose the same grid point with
the same mean scores; the script says so. One run, fixed seeds; the machine's
load (``uptime``) is printed before and after, as ratios from one run are
what to compare on a shared machine.

The base estimator runs with one BLAS thread (``--blas-threads``): on these
2-core machines shared with other jobs, the logistic regression's small
matrix products were 25-80x slower on 2 OpenBLAS threads (0.23 s against 6 to
19 s for one fit of 12,000 images, measured under a load of 6-7).

Usage::

    python benchmarks/bench_tuning.py              # 6,000 training images
    python benchmarks/bench_tuning.py --n 2000     # quicker
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV

TS = [1, 2, 3, 5, 10]
PENALTIES = [0.0, 0.1, 0.2, 0.4]
N_SPLITS = 4


class CountedFit(ClassifierMixin, BaseEstimator):
    """Fits a clone of ``estimator`` and appends a line to ``log`` each time."""

    def __init__(self, estimator=None, log=None):
        self.estimator = estimator
        self.log = log

    def fit(self, X, y):
        with open(self.log, "a") as f:
            f.write("fit\n")
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


def _uptime() -> str:
    try:
        return subprocess.run(
            ["uptime"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):  # pragma: no cover
        return "uptime: unavailable"


def _data(n: int, seed: int):
    from sk_conse.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist
    from sk_conse.embeddings import load_glove_6b_50d, word_vector_embeddings

    names = np.array(FASHION_MNIST_CLASSES)
    X, y = load_fashion_mnist("train", return_X_y=True, flatten=True)
    rng = np.random.RandomState(seed)
    # n images, stratified: n // 10 of each class.
    rows = np.concatenate(
        [rng.permutation(np.flatnonzero(y == c))[: n // 10] for c in range(10)]
    )
    rows = np.sort(rows)
    vectors = word_vector_embeddings(names.tolist(), load_glove_6b_50d())
    return X[rows], names[y[rows]], vectors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=6000, help="training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    from sk_conse import ClassDisjointKFold, ConSEClassifier, make_hit_at_k_scorer
    from sk_conse._conse_cv import ConSEClassifierCV
    from sk_conse._main import _seen_classifier

    print(f"before: {_uptime()}")
    X, y, vectors = _data(args.n, args.seed)
    grid = {"T": TS, "seen_penalty": PENALTIES}
    cv = ClassDisjointKFold(n_splits=N_SPLITS, shuffle=True, random_state=args.seed)
    scorer = make_hit_at_k_scorer(k=1)
    print(
        f"Fashion-MNIST, {len(y)} training images (10 classes, {len(y) // 10} "
        f"each), GloVe 50-d; grid T={TS} x seen_penalty={PENALTIES}; "
        f"{N_SPLITS} class-disjoint folds; hit@1, candidate_labels='all'; "
        f"{args.blas_threads} BLAS thread(s)"
    )

    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        threadpool_limits(args.blas_threads, user_api="blas"),
    ):
        log = Path(tmp) / "fits.log"
        base = CountedFit(_seen_classifier(args.seed), str(log))
        cache = str(Path(tmp) / "cache")

        def conse(memory=None):
            return ConSEClassifier(base, vectors, candidate_labels="all", memory=memory)

        runs = [
            ("GridSearchCV, no memory", lambda: GridSearchCV(conse(), grid, cv=cv,
                                                             scoring=scorer)),
            ("GridSearchCV, memory (cold)", lambda: GridSearchCV(
                conse(cache), grid, cv=cv, scoring=scorer)),
            ("GridSearchCV, memory (warm rerun)", lambda: GridSearchCV(
                conse(cache), grid, cv=cv, scoring=scorer)),
            ("ConSEClassifierCV", lambda: ConSEClassifierCV(
                base, vectors, Ts=TS, seen_penalties=PENALTIES, cv=cv,
                scoring=scorer, candidate_labels="all")),
        ]  # fmt: skip
        for name, make in runs:
            if log.exists():
                log.unlink()
            search = make()
            t0 = time.perf_counter()
            search.fit(X, y)
            seconds = time.perf_counter() - t0
            n_fits = len(log.read_text().splitlines()) if log.exists() else 0
            rows.append((name, seconds, n_fits, search))
            print(f"  {name}: {seconds:.1f} s, {n_fits} base fits", flush=True)

    reference = rows[0][3]
    same = all(
        s.best_params_ == reference.best_params_
        and np.array_equal(
            s.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"]
        )
        for *_, s in rows
    )
    base_s = rows[0][1]
    print()
    header = f"{'method':<34} {'wall (s)':>9} {'base fits':>10} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for name, seconds, n_fits, _ in rows:
        print(f"{name:<34} {seconds:9.1f} {n_fits:10d} {base_s / seconds:8.1f}x")
    print()
    print(
        f"best: {reference.best_params_}, mean hit@1 {reference.best_score_:.3f}; "
        f"same choice and mean scores in all runs: {'yes' if same else 'NO'}"
    )
    print(f"after: {_uptime()}")
    print(f"python {sys.version.split()[0]}, pid {os.getpid()}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
