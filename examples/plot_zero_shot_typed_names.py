"""
=====================================================
Zero-shot image classification of names you type
=====================================================

The class names are plain strings, typed by you: no training image, no
WordNet id. The recipe is the paper's, with parts that install offline:

* the seen classifier is a pretrained ImageNet-1k network,
  :class:`~sk_conse.EfficientNetLite0Classifier`, used frozen
  (:class:`~sklearn.frozen.FrozenEstimator`);
* each of its 1,000 labels (WordNet synsets) gets the MiniLM sentence vector
  of its lemma names ("tabby, tabby cat");
* each typed name gets the MiniLM vector of the name, from the *same*
  encoder (:func:`sk_conse.sentence_embeddings`), so both live in one space.

:class:`~sk_conse.ConSEClassifier` then ranks the typed names for any image
file. Here the images are CIFAR-10 test photos (32x32, upscaled by the
network's wrapper) and the names are CIFAR-10's ten class names; none of the
ten is an ImageNet-1k label. CIFAR-10 is downloaded once (163 MiB) by
:func:`sk_conse.datasets.fetch_cifar10`; where it cannot be (no network),
the example says so and stops.
"""

# %%
# The photos, as image files
# --------------------------
# The test images at positions 50 to 99 of each class (500 photos). The
# choices of this example (T = 10, MiniLM of the lemma names for the seen
# labels) were made on other images, positions 30 to 49.
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sk_conse import ConSEClassifier, EfficientNetLite0Classifier, sentence_embeddings
from sk_conse.datasets import fetch_cifar10
from sk_conse.embeddings import load_minilm, synset_texts

start = time.perf_counter()
try:
    cifar = fetch_cifar10("test", indices=slice(50, 100))
except OSError as exc:
    cifar = None
    print(
        f"Skipped: CIFAR-10 is not available here, so there is no photo to show.\n{exc}"
    )
else:
    folder = Path(tempfile.mkdtemp())
    files = []
    for i, image in zip(cifar.index, cifar.images):
        files.append(str(folder / f"cifar10_test_{i:05d}.png"))
        Image.fromarray(image).save(files[-1])
    truth = cifar.target_names[cifar.target]
    print(f"{len(files)} image files, e.g. {Path(files[0]).name} ({truth[0]})")

# %%
# The recipe
# ----------
# Everything below the ``if`` is the whole recipe: a frozen network with a
# file reader in front, label vectors for its 1,000 labels and for the typed
# names from one encoder, and ``fit``, which fits nothing (the network is
# frozen) and only reads the network's labels; any inputs and labels do.
if cifar is not None:

    def read_images(paths):
        return [Image.open(path).convert("RGB") for path in paths]

    cnn = EfficientNetLite0Classifier()
    network = make_pipeline(FunctionTransformer(read_images), cnn)
    encoder = load_minilm()
    seen = network.classes_  # the 1,000 ImageNet-1k WordNet ids
    vectors = sentence_embeddings(seen, encoder, names=synset_texts(seen))
    names = ["airplane", "automobile", "bird", "cat", "deer"]
    names += ["dog", "frog", "horse", "ship", "truck"]  # typed, any strings
    vectors.update(sentence_embeddings(names, encoder))

    clf = ConSEClassifier(
        FrozenEstimator(network), vectors, T=10, candidate_labels=names
    )
    clf.fit(files[:1], seen[:1])
    print(clf.predict(files[:5]), "true:", truth[:5])

# %%
# Accuracy on the 500 photos
# --------------------------
# One pass of the network over the files gives the ranking of the ten names
# for every photo. Chance is 0.1 for hit@1 and 0.3 for hit@3.
if cifar is not None:
    top, scores = clf.predict_top_k(files, 3)
    hit1 = np.mean(top[:, 0] == truth)
    hit3 = np.mean((top == truth[:, None]).any(axis=1))
    print(f"typed names, ConSE(10): hit@1 {hit1:.3f}, hit@3 {hit3:.3f}")
    for name in names:
        mine = truth == name
        print(f"  {name:10s} hit@1 {np.mean(top[mine, 0] == name):.2f}")

# %%
# Why one photo got its names
# ---------------------------
# :meth:`~sk_conse.ConSEClassifier.explain` lists the ten ImageNet labels the
# network saw in the photo, their weights, and what each adds to the score
# of each typed name.
if cifar is not None:
    i = int(np.flatnonzero(truth == "ship")[0])
    why = clf.explain(files[i : i + 1], k=3)
    name_of = dict(zip(cnn.classes_, cnn.class_names_))
    print(f"{Path(files[i]).name}, a {truth[i]}: ranked {why.candidates[0].tolist()}")
    for label, weight in zip(why.seen_labels[0], why.seen_weights[0]):
        print(f"  {name_of[label]:24s} weight {weight:.3f}")

    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_img.imshow(Image.open(files[i]))
    ax_img.set_title(f"true: {truth[i]}")
    ax_img.axis("off")
    contributions = why.contributions[0]  # (3 names, 10 seen labels)
    left = np.zeros(len(why.candidates[0]))
    for t, label in enumerate(why.seen_labels[0]):
        ax_bar.barh(
            why.candidates[0], contributions[:, t], left=left, label=name_of[label]
        )
        left += contributions[:, t]
    ax_bar.invert_yaxis()
    ax_bar.set_xlabel("cosine score, split by seen label")
    ax_bar.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    plt.show()

print(f"ran in {time.perf_counter() - start:.0f} s")
