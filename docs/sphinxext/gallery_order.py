"""Order of the examples in the sphinx-gallery index: from first steps to the
paper's setting. Examples not listed come last, by file name."""

import os

_ORDER = [
    "plot_zero_shot_fashion_mnist.py",
    "plot_tune_T_grid_search.py",
    "plot_explain_predictions.py",
    "plot_temperature_calibration.py",
    "plot_cnn_features_images.py",
    "plot_imagenet_wordnet.py",
    "plot_paper_comparison.py",
]


class ExampleOrder:
    """``within_subsection_order`` key: the listed order, then by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(str(filename))
        rank = _ORDER.index(name) if name in _ORDER else len(_ORDER)
        return f"{rank:03d}{name}"

    def __repr__(self):
        return "<ExampleOrder>"
