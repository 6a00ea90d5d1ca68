"""The shared docstring text (sk_conse._docstrings) is filled in everywhere."""

import importlib
import inspect
import pkgutil
import re

import pytest

import sk_conse
from sk_conse._docstrings import DOCS, fill_doc, fill_text

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(sk_conse.__path__, prefix="sk_conse.")
    # _docstrings itself shows the placeholders it fills in
    if info.name not in ("sk_conse.conftest", "sk_conse._docstrings")
)
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _documented(module):
    """The module and every function, class, method and property it defines."""
    yield module.__name__, module
    for name, obj in vars(module).items():
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        yield f"{module.__name__}.{name}", obj
        if inspect.isclass(obj):
            for member_name, member in vars(obj).items():
                member = getattr(member, "__func__", member)
                yield f"{module.__name__}.{name}.{member_name}", member


@pytest.mark.parametrize("module_name", MODULES)
def test_no_docstring_keeps_a_placeholder(module_name):
    module = importlib.import_module(module_name)
    for where, obj in _documented(module):
        doc = getattr(obj, "__doc__", None)
        if isinstance(doc, str):
            assert not PLACEHOLDER.search(doc), f"{where} is not filled in"


def test_pieces_take_the_indentation_of_their_line():
    doc = "Summary.\n\n    Parameters\n    ----------\n    %(X_predict)s\n    "
    filled = fill_text(doc)
    first, second = DOCS["X_predict"].split("\n")
    assert f"\n    {first}\n    {second}\n" in filled
    # a reference after its label: continuation lines under the label's text
    cited = fill_text("        .. [1] %(xian2017)s")
    assert cited.split("\n")[1] == "           the Bad and the Ugly" + '", CVPR 2017.'


def test_an_unknown_piece_is_an_error_naming_it():
    with pytest.raises(KeyError, match="'nope'"):
        fill_text("    %(nope)s")


def test_fill_doc_fills_a_class_and_its_methods():
    @fill_doc
    class Cited:
        """A class.

        %(references_xian2017)s
        """

        def method(self):
            """A method, see [1]_.

            %(references_chao2016)s
            """

        @property
        def value(self):
            """A property: %(chao2016)s"""

    assert "Y. Xian" in Cited.__doc__
    assert "W.-L. Chao" in Cited.method.__doc__
    assert "W.-L. Chao" in Cited.value.__doc__
    assert "%(" not in inspect.getdoc(Cited) + inspect.getdoc(Cited.method)


def test_other_braces_and_percent_signs_are_left_alone():
    doc = 'Keys ``split{i}_test_score``; 75.1% top-1; ``{"unseen", "all"}``.'
    assert fill_text(doc) == doc
