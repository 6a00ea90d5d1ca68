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
file. The images are the two photos that ship with scikit-learn
(:func:`sklearn.datasets.load_sample_images`: a Chinese temple and a
flower), so the example runs offline; none of the typed names is an
ImageNet-1k label.
"""

# %%
# The recipe
# ----------
# A frozen network that reads image files, label vectors for its 1,000
# labels and for the typed names from one encoder, and ``fit``, which fits
# nothing (the network is frozen) and only reads the network's labels: any
# inputs and labels of the right length do.
import time

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_images
from sklearn.frozen import FrozenEstimator

from sk_conse import ConSEClassifier, EfficientNetLite0Classifier, sentence_embeddings
from sk_conse.embeddings import load_minilm, synset_texts

start = time.perf_counter()
files = load_sample_images().filenames  # china.jpg, flower.jpg
network = EfficientNetLite0Classifier().fit()  # loads the weights; reads files
encoder = load_minilm()
seen = network.classes_  # the 1,000 ImageNet-1k WordNet ids
vectors = sentence_embeddings(seen, encoder, names=synset_texts(seen))
names = ["temple", "pagoda", "garden", "flower", "tulip", "insect"]
names += ["lake", "bicycle", "cat", "ship"]  # typed, any strings
vectors.update(sentence_embeddings(names, encoder))

clf = ConSEClassifier(FrozenEstimator(network), vectors, T=10, candidate_labels=names)
clf.fit(files[:1], seen[:1])
top, scores = clf.predict_top_k(files, 3)
for path, ranked, score in zip(files, top, scores):
    print(f"{path.rsplit('/', 1)[-1]:12s}", ", ".join(ranked), score.round(3))

# %%
# Why each photo got its names
# ----------------------------
# :meth:`~sk_conse.ConSEClassifier.explain` lists the ten ImageNet labels the
# network saw in each photo (WordNet ids: ``network.class_names_`` holds
# their readable names), their weights, and what each adds to the score of
# each typed name.
why = clf.explain(files, k=3)
name_of = dict(zip(network.classes_, network.class_names_))
for path, labels, weights in zip(files, why.seen_labels, why.seen_weights):
    readable = [f"{name_of[w]} ({p:.2f})" for w, p in zip(labels[:4], weights[:4])]
    print(f"{path.rsplit('/', 1)[-1]}: {', '.join(readable)}, ...")

fig, axes = plt.subplots(2, 2, figsize=(10, 6), width_ratios=(1, 1.4))
for row, path in enumerate(files):
    ax_img, ax_bar = axes[row]
    ax_img.imshow(Image.open(path))
    ax_img.axis("off")
    contributions = why.contributions[row]  # (3 names, 10 seen labels)
    left = np.zeros(len(why.candidates[row]))
    for t, label in enumerate(why.seen_labels[row]):
        ax_bar.barh(
            why.candidates[row],
            contributions[:, t],
            left=left,
            label=name_of[label],
        )
        left += contributions[:, t]
    ax_bar.invert_yaxis()
    ax_bar.set_xlabel("cosine score, split by seen label")
    ax_bar.legend(fontsize=6, loc="lower right", ncols=2)
fig.tight_layout()
plt.show()

print(f"ran in {time.perf_counter() - start:.0f} s")
