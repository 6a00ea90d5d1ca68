# One entry point for people and CI. `make demo` and `make test` each install
# everything they need first (Debian packages with the real data, then the
# Python packages), so both work on a fresh machine.

PYTHON ?= python3
PIP := $(PYTHON) -m pip
# Real data from Debian: WordNet 3.0 (the label hierarchy) and Fashion-MNIST.
APT_PACKAGES := wordnet-base dataset-fashion-mnist
# torch, pinned (an open range can pull a new multi-GB build), and where it
# comes from: TORCH_INDEX empty (the default) takes it from the Python package
# index like every other package; on Linux that is the CUDA build (about
# 3 GB with its nvidia-* packages). For the CPU build, set the PyTorch CPU
# index once on the command line:
#   make install TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH := torch==2.13.0
TORCH_INDEX ?=
# (An extra index: torch's dependencies still come from PyPI at their pins,
# and of torch==2.13.0 pip takes the CPU index's 2.13.0+cpu, the higher
# version by PEP 440.)
TORCH_FROM = $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX))
# Tested versions of everything the extras pull in: `make install` and
# `make test` (so CI) install these, so that a new release of pytest,
# scikit-learn or NumPy cannot turn CI red overnight. Written by
# `make constraints` (uv's resolver), never by hand. pyproject.toml keeps
# ranges for users.
CONSTRAINTS := constraints.txt
# The package with what runs it (all), CuPy (gpu), and the extras for
# working on it: the test suite, the docs build and the linter.
EXTRAS := .[all,gpu,test,docs,lint]
# The resolver that writes constraints.txt, pinned like everything else.
UV := uv==0.13.8
# Extra flags for `uv pip compile`: UV_FLAGS=--upgrade moves every pin to the
# newest release that pyproject.toml allows.
UV_FLAGS ?=
# The tests whose results hang on floating-point rounding: `make test` runs
# them a second time under the other OpenBLAS kernel (test-other-kernel).
NUMERICAL_TESTS := tests/test_search.py tests/test_backend.py \
	tests/test_conse.py tests/test_bad_input.py tests/test_array_api.py \
	tests/test_same_answer.py tests/test_kernels.py
# The environment of that second run. Empty: chosen from this one (see
# test-other-kernel). `make test OTHER_KERNEL=OPENBLAS_CORETYPE=Sandybridge`
# picks one by hand.
OTHER_KERNEL ?=

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-system install-python demo test test-other-kernel \
	constraints docs docs-build main-job-docs bench clean

install: install-system install-python

install-system:
	@if dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		echo "Debian packages present: $(APT_PACKAGES)"; \
	else \
		$(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $(APT_PACKAGES); \
	fi

install-python:
	$(PIP) install --quiet -c $(CONSTRAINTS) $(TORCH_FROM) $(TORCH)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e "$(EXTRAS)"

# The main job: a real zero-shot evaluation (table on stdout, plot in results/).
demo: install
	$(PYTHON) -m sk_conse

# What CI runs: lint, the docs build (which executes every gallery example on
# real data), the test suite with the doctests, then the numerical tests again
# under the other OpenBLAS kernel. The second run goes ahead when the first
# fails (the log then tells kernel-specific failures from the rest); `make`
# fails if either did.
test: install
	$(PYTHON) -m ruff check sk_conse tests examples benchmarks docs
	$(PYTHON) -m ruff format --check sk_conse tests examples benchmarks docs
	$(MAKE) --no-print-directory docs-build
	@echo "Main run: $$($(PYTHON) -c "$$BLAS_KERNEL")" \
		"(OPENBLAS_CORETYPE=$${OPENBLAS_CORETYPE-unset}," \
		"OPENBLAS_L2_SIZE=$${OPENBLAS_L2_SIZE-unset})"
	@echo "$(PYTHON) -m pytest"; $(PYTHON) -m pytest; status=$$?; \
	SK_CONSE_DISABLE_NUMBA=1 $(PYTHON) -m pytest -p no:cacheprovider $(NUMERICAL_TESTS) || status=1; \
	$(OTHER_KERNEL_RUN) || status=1; \
	exit $$status

# The numerical tests under the other OpenBLAS kernel: OPENBLAS_CORETYPE=Haswell
# (with OPENBLAS_L2_SIZE=512) where OPENBLAS_CORETYPE is unset, both unset
# where it is set. Both runs print the kernel threadpoolctl reports
# (internal_api/architecture), so the CI log shows which two ran. Where the
# CPU's own kernel already is Haswell (AVX2 CPUs such as AMD Zen), the two
# runs use the same kernel and a NOTE says so. These variables are set here
# only, never in the tests. (A shell snippet, not a sub-make, so that
# `make -n test` runs nothing.)
test-other-kernel:
	@$(OTHER_KERNEL_RUN)

OTHER_KERNEL_RUN = ( \
	if [ -n "$(OTHER_KERNEL)" ]; then \
		set -- env $(OTHER_KERNEL); \
	elif [ -n "$${OPENBLAS_CORETYPE:-}" ]; then \
		set -- env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE; \
	else \
		set -- env OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512; \
	fi; \
	main=$$($(PYTHON) -c "$$BLAS_KERNEL") && \
	other=$$("$$@" $(PYTHON) -c "$$BLAS_KERNEL") || exit 1; \
	if [ "$$main" = "$$other" ] && [ -z "$(OTHER_KERNEL)" ]; then \
		echo "NOTE: $$* runs the main run's kernel ($$main) on this CPU;" \
			"using Sandybridge (AVX, other rounding) as the other kernel"; \
		set -- env OPENBLAS_CORETYPE=Sandybridge OPENBLAS_L2_SIZE=512; \
		other=$$("$$@" $(PYTHON) -c "$$BLAS_KERNEL") || exit 1; \
	fi; \
	echo "Other-kernel run: $$other ($$*)"; \
	echo "$$* $(PYTHON) -m pytest -p no:cacheprovider $(NUMERICAL_TESTS)"; \
	"$$@" $(PYTHON) -m pytest -p no:cacheprovider $(NUMERICAL_TESTS) \
)

# Rewrites constraints.txt with uv's resolver, from pyproject.toml's extras
# and the torch pin above. Pins already in the file stay where they still fit
# (so adding a dependency changes nothing else); `make constraints
# UV_FLAGS=--upgrade` moves every pin to the newest allowed release. Then run
# `make test` (it installs the new pins) and commit the diff if it passes.
constraints:
	$(PIP) install --quiet $(UV)
	echo "$(TORCH)" | $(PYTHON) -m uv pip compile pyproject.toml - \
		$(foreach extra,all gpu test docs lint,--extra $(extra)) $(UV_FLAGS) \
		--custom-compile-command "make constraints" -o $(CONSTRAINTS)

# Builds the docs offline and runs every gallery example (warnings are errors).
docs: install docs-build

docs-build:
	$(PYTHON) -m sphinx -b html -W --keep-going docs docs/_build/html

# Reruns the main job into docs/main_job/: the table, CSV file and figure
# that docs/main_job.rst shows (tests/test_main_job_docs.py checks a row of
# the committed table against a fresh run). Commit the diff.
main-job-docs:
	$(PYTHON) -m sk_conse --out docs/main_job

bench: install
	$(PYTHON) benchmarks/bench_predict.py

clean:
	rm -rf docs/_build docs/auto_examples docs/generated docs/gen_modules \
		docs/sg_execution_times.rst results .pytest_cache

# Prints the BLAS of NumPy and SciPy as threadpoolctl names it, for example
# "openblas/Haswell openblas/Haswell".
define BLAS_KERNEL
import numpy, scipy.linalg, threadpoolctl
info = threadpoolctl.threadpool_info()
print(" ".join(f"{i['internal_api']}/{i.get('architecture', '?')}" for i in info
               if i["user_api"] == "blas"))
endef
export BLAS_KERNEL
