"""The package's folders: each honours its environment variable and expands ``~``."""

from pathlib import Path

import pytest

from sk_conse import _folders
from sk_conse.datasets import get_data_home
from sk_conse.synsets import embedding_cache_dir


@pytest.mark.parametrize(
    ("variable", "folder"),
    [
        ("SK_CONSE_CACHE_DIR", embedding_cache_dir),
        ("SK_CONSE_DATA", get_data_home),
    ],
)
def test_environment_variable_expands_the_home_folder(monkeypatch, variable, folder):
    monkeypatch.setenv(variable, "~/sk_conse_test_folder")
    assert folder() == Path.home() / "sk_conse_test_folder"
    assert "~" not in str(folder())


def test_given_folder_expands_the_home_folder():
    assert embedding_cache_dir("~/x") == Path.home() / "x"
    assert get_data_home("~/x") == Path.home() / "x"


def test_kernel_cache_follows_the_embedding_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SK_CONSE_CACHE_DIR", str(tmp_path))
    assert _folders.kernel_cache() == tmp_path / "numba"
    monkeypatch.delenv("SK_CONSE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _folders.kernel_cache() == tmp_path / "xdg" / "sk_conse" / "numba"
