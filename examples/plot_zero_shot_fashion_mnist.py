"""
======================================================
Zero-shot Fashion-MNIST: GloVe and MiniLM side by side
======================================================

A classifier that has never seen a sneaker or a shirt is asked to recognise
them. :class:`~sk_conse.ConSEClassifier` (Norouzi et al., ICLR 2014) does it
in two steps:

1. a probabilistic classifier is trained on the *seen* classes only, here a
   logistic regression on 8 of the 10 Fashion-MNIST classes;
2. for a new image, the semantic vectors of its ``T`` most likely seen
   classes are averaged, weighted by their probabilities, and the *unseen*
   class whose vector is closest in cosine similarity is predicted.

The semantic vectors ("label embeddings") here come from the class *names*
only: GloVe word vectors (averaged over the words of "Ankle boot") or the
MiniLM sentence encoder. We compare both on two seen/unseen splits, one where
ConSE works and one where it does not.
"""

# %%
# The data
# --------
# Fashion-MNIST ships with Debian (``apt-get install dataset-fashion-mnist``):
# 60,000 training and 10,000 test images of 28x28 grey pixels, 10 classes.
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_conse import ConSEClassifier
from sk_conse.datasets import load_fashion_mnist
from sk_conse.embeddings import (
    load_glove_6b_50d,
    load_minilm,
    sentence_embeddings,
    word_vector_embeddings,
)
from sk_conse.metrics import hit_at_k_score

train = load_fashion_mnist("train")
test = load_fashion_mnist("test")
names = train.target_names
y_train_all = names[train.target]
y_test_all = names[test.target]
print(names)

# %%
# Label embeddings from the class names
# -------------------------------------
# :func:`~sk_conse.embeddings.word_vector_embeddings` looks each name up in
# GloVe (400,000 words, 50 dimensions), averaging the words of multi-word
# names; :func:`~sk_conse.embeddings.sentence_embeddings` encodes each name as
# a whole with all-MiniLM-L6-v2 (384 dimensions). Both return a plain
# ``{label: vector}`` dictionary of unit vectors.
tic = time.perf_counter()
glove = word_vector_embeddings(names, load_glove_6b_50d())
print(f"GloVe: {len(glove)} labels x {glove['Sneaker'].size} dims")
minilm = sentence_embeddings(names, load_minilm())
print(f"MiniLM: {len(minilm)} labels x {minilm['Sneaker'].size} dims")
print(f"loaded and embedded in {time.perf_counter() - tic:.1f} s")

embeddings = {"GloVe 6B-50d": glove, "MiniLM-L6-v2": minilm}

# %%
# How similar are the names? Cosine similarities between the unit vectors
# show what each embedding "knows": with GloVe, "Sneaker" is close to
# "Sandal" and "Ankle boot", the footwear that will stay seen.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), constrained_layout=True)
for ax, (title, vectors) in zip(axes, embeddings.items()):
    S = np.array([vectors[n] for n in names])
    im = ax.imshow(S @ S.T, vmin=-0.2, vmax=1, cmap="viridis")
    ax.set_xticks(range(10), names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(10), names, fontsize=8)
    ax.set_title(f"{title}: cosine similarity of the names")
fig.colorbar(im, ax=axes, shrink=0.8)

# %%
# Seen classifier and ConSE
# -------------------------
# For each split, a PCA + logistic regression pipeline is trained on 8,000
# images of the 8 seen classes. It is fitted once and wrapped in
# :class:`~sklearn.frozen.FrozenEstimator`, so that the ConSE models with
# different ``T`` and embeddings share it instead of refitting it.
# ``T`` larger than the number of seen classes (8) combines them all.
splits = [("Sneaker", "Shirt"), ("Sandal", "T-shirt/top")]
Ts = [1, 2, 5, 10]
rng = np.random.RandomState(0)
results = {}  # (split, embedding) -> hit@1 per T
for unseen in splits:
    seen_rows = np.flatnonzero(~np.isin(y_train_all, unseen))
    rows = rng.choice(seen_rows, 8000, replace=False)
    X_train, y_train = train.data[rows] / 255.0, y_train_all[rows]
    test_rows = np.flatnonzero(np.isin(y_test_all, unseen))
    X_test, y_test = test.data[test_rows] / 255.0, y_test_all[test_rows]

    seen_model = make_pipeline(
        PCA(n_components=100, random_state=0),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_train)
    seen_test = ~np.isin(y_test_all, unseen)
    accuracy = seen_model.score(test.data[seen_test] / 255.0, y_test_all[seen_test])
    print(f"unseen {unseen}: seen-class test accuracy {accuracy:.3f}")
    for title, vectors in embeddings.items():
        scores = []
        for T in Ts:
            conse = ConSEClassifier(FrozenEstimator(seen_model), vectors, T=T)
            conse.fit(X_train, y_train)  # the frozen model is not refitted
            scores.append(
                hit_at_k_score(
                    y_test, conse.decision_function(X_test), labels=conse.classes_
                )
            )
        results[unseen, title] = scores
        print(f"  {title:13s} hit@1 for T={Ts}: {np.round(scores, 3)}")

# %%
# ``conse.classes_`` are the candidate labels: by default
# (``candidate_labels="unseen"``) every embedded label that the base model did
# not see, here the two held-out classes. Chance is therefore 0.5.
print(conse.classes_, conse.seen_classes_)

# %%
# Results
# -------
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True, constrained_layout=True)
for ax, unseen in zip(axes, splits):
    for title, marker in zip(embeddings, "os"):
        ax.plot(Ts, results[unseen, title], marker=marker, label=title)
    ax.axhline(0.5, color="grey", ls="--", lw=1, label="chance")
    ax.set_xscale("log")
    ax.set_xticks(Ts, [str(t) for t in Ts])
    ax.minorticks_off()
    ax.set_ylim(0.3, 1.02)
    ax.set_xlabel("T (most likely seen classes combined)")
    ax.set_title("unseen: " + " and ".join(unseen))
axes[0].set_ylabel("zero-shot hit@1 (accuracy)")
axes[0].legend(loc="lower left")

# %%
# On {Sneaker, Shirt} both embeddings work: a sneaker image looks most like
# the seen sandals and ankle boots, whose names are close to "Sneaker"; a
# shirt looks like a T-shirt, pullover or coat. MiniLM, which encodes whole
# names, is almost perfect.
#
# On {Sandal, T-shirt/top} MiniLM fails completely (one label wins for every
# image, hit@1 = 0.5) while GloVe does better than chance. Nothing in ConSE
# can fix this: it only knows what the label embedding says about how the
# names relate, and "Sandal" vs "T-shirt/top" must be told apart by their
# similarity to the *seen* names (sneaker, ankle boot, shirt, ...). Which
# embedding is best depends on the split: evaluate on several.
#
# ``T`` matters little here because there are only 8 seen classes and the
# classifier is confident; with the 1,000 ImageNet classes of the paper,
# ``T = 10`` clearly beat ``T = 1`` (see :ref:`user_guide`, and
# :ref:`sphx_glr_auto_examples_plot_tune_T_grid_search.py` to choose ``T`` by
# cross-validation).
