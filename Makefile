# One entry point for people and CI. `make demo` and `make test` each install
# everything they need first (Debian packages with the real data, then the
# Python packages), so both work on a fresh machine.

PYTHON ?= python3
PIP := $(PYTHON) -m pip
# Real data from Debian: WordNet 3.0 (the label hierarchy) and Fashion-MNIST.
APT_PACKAGES := wordnet-base dataset-fashion-mnist
# The CPU build of torch is pinned here, never as an open range: an unpinned
# torch can pull a multi-GB CUDA build.
TORCH := torch==2.13.0
# The ImageNet-21k label list ships inside timm's wheel; timm's own
# dependencies (torchvision) are not needed and break beside a pinned torch.
TIMM := timm==1.0.31

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-system install-python demo test docs docs-build bench clean

install: install-system install-python

install-system:
	@if dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		echo "Debian packages present: $(APT_PACKAGES)"; \
	else \
		$(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $(APT_PACKAGES); \
	fi

install-python:
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet --no-deps $(TIMM)
	$(PIP) install --quiet -e ".[all,gpu]"

# The main job: a real zero-shot evaluation (table on stdout, plot in results/).
demo: install
	$(PYTHON) -m sk_conse

# What CI runs: lint, the docs build (which executes every gallery example on
# real data), then the test suite with the doctests.
test: install
	$(PYTHON) -m ruff check sk_conse tests examples benchmarks docs
	$(PYTHON) -m ruff format --check sk_conse tests examples benchmarks docs
	$(MAKE) --no-print-directory docs-build
	$(PYTHON) -m pytest

# Builds the docs offline and runs every gallery example (warnings are errors).
docs: install docs-build

docs-build:
	$(PYTHON) -m sphinx -b html -W --keep-going docs docs/_build/html

bench: install
	$(PYTHON) benchmarks/bench_predict.py

clean:
	rm -rf docs/_build docs/auto_examples docs/generated docs/gen_modules \
		docs/sg_execution_times.rst results .pytest_cache
