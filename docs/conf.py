"""Sphinx configuration of the sk_conse documentation.

Build (offline, executes every example of ../examples):

    python -m sphinx -b html -W --keep-going docs docs/_build/html

Nothing is fetched from the network: intersphinx is off unless
``SK_CONSE_DOCS_INTERSPHINX=1`` is set (it downloads the inventories of
Python, NumPy, SciPy and scikit-learn), and ``SK_CONSE_DOCS_NO_GALLERY=1``
builds the pages without running the examples (a quick check of the prose
and the API pages).
"""

import os
import re
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# No progress bars from Hugging Face libraries (transformers' "Loading
# weights") in the examples' captured output.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "sphinxext"))

import sk_conse

# -- Project -----------------------------------------------------------------

project = "sk_conse"
author = "The sk_conse developers"
copyright = "2025, The sk_conse developers"
version = sk_conse.__version__
release = sk_conse.__version__

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # Copies MathJax 3 (inside its PyPI wheel) into _static/mathjax and points
    # mathjax_path at it: the built pages render math without network.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
]

_WITH_GALLERY = os.environ.get("SK_CONSE_DOCS_NO_GALLERY", "") in ("", "0")
_WITH_INTERSPHINX = os.environ.get("SK_CONSE_DOCS_INTERSPHINX", "") not in ("", "0")

if _WITH_GALLERY:
    extensions.append("sphinx_gallery.gen_gallery")
if _WITH_INTERSPHINX:
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }

templates_path = ["_templates"]
# main_job/: the table, CSV file and figure that `make main-job-docs` writes
# (`python -m sk_conse --out docs/main_job`), included by main_job.rst.
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "**.ipynb_checkpoints",
    "main_job",
]
if not _WITH_GALLERY:
    exclude_patterns.append("auto_examples")
    # The pages link to the examples, which are not built in this mode.
    suppress_warnings = ["ref.ref", "toc.not_readable"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc ----------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

_ROUTING_HELPER = re.compile(r"set_\w+_request")


def _skip_routing_helpers(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated ``set_*_request`` methods (metadata
    routing helpers, documented by scikit-learn), as scikit-learn's own API
    pages do."""
    if _ROUTING_HELPER.fullmatch(name):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_routing_helpers)


# -- HTML ----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sk_conse {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_sidebars = {"install": [], "quickstart": [], "api": []}
html_show_sourcelink = False

# -- sphinx-gallery ------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Execute every example, not only the ones starting with plot_ (which is
    # the default pattern too: stated here so nobody narrows it by mistake).
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "doc_module": ("sk_conse",),
    "backreferences_dir": "gen_modules/backreferences",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
    "capture_repr": ("_repr_html_", "__repr__"),
    # The value of a last expression is shown, but not the reprs of
    # matplotlib objects and lists of them
    # (``<matplotlib.legend.Legend object at 0x...>``).
    "ignore_repr_types": r"matplotlib|^<class 'list'>$",
}

# Third-party noise printed while the examples run; the examples' own warnings
# still show.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="gensim.*")
warnings.filterwarnings(
    "ignore", category=UserWarning, message="Matplotlib is currently using agg"
)
