"""``python -m sk_conse``: the zero-shot Fashion-MNIST evaluation (see ``_main``)."""

from ._main import main

if __name__ == "__main__":
    raise SystemExit(main())
