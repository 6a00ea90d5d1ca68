"""The compiled-code cache is a convenience, never a requirement (issue 26).

A damaged entry (half a ``.nbc`` file, a garbage ``.nbi`` index) is deleted
with a warning naming the folder and the kernel compiled again; a folder that
cannot be written leaves the kernels compiled in memory, without an error.
"""

import glob
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import sk_conse

nb = pytest.importorskip("numba")

from sk_conse._kernel_cache import cached  # noqa: E402

# Fits a small ConSE on the factorised route (three compiled kernels) and
# predicts, with every warning shown.
_PREDICT = textwrap.dedent(
    """
    import warnings
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sk_conse import ConSEClassifier
    from sk_conse import _kernels
    assert _kernels.available()
    warnings.simplefilter("always")
    rng = np.random.RandomState(0)
    labels = [f"l{i}" for i in range(12)]
    vectors = dict(zip(labels, rng.randn(12, 8)))
    y = np.repeat(labels[:6], 10)
    X = np.array([vectors[label] for label in y]) @ rng.randn(8, 4)
    model = ConSEClassifier(
        LogisticRegression(), vectors, T=2, algorithm="factorised", device="cpu"
    ).fit(X, y)
    print(" ".join(model.predict(X[::10])))
    """
)


def _predict_in_a_fresh_process(cache_dir):
    root = os.path.dirname(os.path.dirname(sk_conse.__file__))
    env = {**os.environ, "SK_CONSE_CACHE_DIR": str(cache_dir), "PYTHONPATH": root}
    done = subprocess.run(
        [sys.executable, "-c", _PREDICT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split(), done.stderr


def test_damaged_cache_is_discarded_and_recompiled(tmp_path):
    """The issue's case: half of each ``.nbc`` file and a garbage ``.nbi``
    made every later predict fail with UnpicklingError."""
    expected, stderr = _predict_in_a_fresh_process(tmp_path)
    assert "Warning" not in stderr, stderr
    folder = tmp_path / "numba"
    data = sorted(glob.glob(str(folder / "*.nbc")))
    index = sorted(glob.glob(str(folder / "*.nbi")))
    assert len(data) >= 3
    assert len(index) >= 3
    for path in data:
        with open(path, "rb") as f:
            content = f.read()
        with open(path, "wb") as f:
            f.write(content[: len(content) // 2])
    with open(index[0], "wb") as f:
        f.write(b"not a numba index")

    labels, stderr = _predict_in_a_fresh_process(tmp_path)
    assert labels == expected
    assert "damaged entry" in stderr, stderr
    assert f"cache in {folder} has" in stderr, stderr
    # The entries were written again: the next process reads them quietly.
    labels, stderr = _predict_in_a_fresh_process(tmp_path)
    assert labels == expected
    assert "Warning" not in stderr, stderr


def test_unwritable_cache_folder_compiles_in_memory(tmp_path):
    blocked = tmp_path / "a_file"
    blocked.write_text("a file where the cache folder would be")
    expected, stderr = _predict_in_a_fresh_process(blocked / "cache")
    assert len(expected) == 6
    assert "Warning" not in stderr, stderr

    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        labels, stderr = _predict_in_a_fresh_process(read_only)
    finally:
        read_only.chmod(0o755)
    assert labels == expected
    assert "Warning" not in stderr, stderr
    if os.geteuid() != 0:  # root writes anyway
        assert list(read_only.iterdir()) == []


def _triple(x):
    return 3 * x


def _dispatcher(monkeypatch, folder):
    monkeypatch.setenv("SK_CONSE_CACHE_DIR", str(folder))
    return cached(nb.njit(_triple))


def test_garbage_index_is_discarded_in_process(monkeypatch, tmp_path):
    assert _dispatcher(monkeypatch, tmp_path)(2) == 6
    (index,) = glob.glob(str(tmp_path / "numba" / "*_triple*.nbi"))
    with open(index, "wb") as f:
        f.write(b"\x80\x05garbage")
    with pytest.warns(RuntimeWarning, match="damaged entry for _triple"):
        assert _dispatcher(monkeypatch, tmp_path)(2) == 6
    reread = _dispatcher(monkeypatch, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert reread(2) == 6
    assert reread.stats.cache_hits


def test_failed_save_leaves_the_kernel_compiled_in_memory(monkeypatch, tmp_path):
    """A folder that stops being writable after the dispatcher was set up."""
    from numba.core.caching import IndexDataCacheFile

    def refuse(self, name, data):
        raise PermissionError(13, "Permission denied", name)

    monkeypatch.setattr(IndexDataCacheFile, "_save_data", refuse)
    dispatcher = _dispatcher(monkeypatch, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(dispatcher(np.arange(3)), [0, 3, 6])
    assert not glob.glob(str(tmp_path / "numba" / "*_triple*.nbc"))
