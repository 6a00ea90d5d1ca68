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
# Tested versions of everything the extras pull in: `make install` and
# `make test` (so CI) install these, so that a new release of pytest,
# scikit-learn or NumPy cannot turn CI red overnight. Refreshed by
# `make constraints`, never by hand. pyproject.toml keeps ranges for users.
CONSTRAINTS := constraints.txt
EXTRAS := .[all,gpu]
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
	test-latest constraints freeze-constraints docs docs-build bench clean

install: install-system install-python

install-system:
	@if dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
		echo "Debian packages present: $(APT_PACKAGES)"; \
	else \
		$(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $(APT_PACKAGES); \
	fi

install-python:
	$(PIP) install --quiet -c $(CONSTRAINTS) $(TORCH)
	$(PIP) install --quiet -c $(CONSTRAINTS) --no-deps $(TIMM)
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

# The suite against the newest releases: installs without the constraints,
# upgrading every dependency (pip's eager strategy; torch and timm stay at the
# pins above), then runs pytest, but for tests/test_ci_config.py (it checks
# constraints.txt, stale here by design). It changes this environment:
# `make install` or `make test` puts the tested versions back.
test-latest: install-system
	$(PIP) install --quiet --no-deps $(TIMM)
	$(PIP) install --quiet --upgrade --upgrade-strategy eager $(TORCH) -e "$(EXTRAS)"
	@$(PIP) freeze | grep -i -E '^(numpy|scipy|scikit-learn|pytest)=='
	$(PYTHON) -m pytest --ignore=tests/test_ci_config.py

# Refreshes constraints.txt, in one command: the newest releases (test-latest
# installs them and runs the suite), then, only if the suite passed, the pins
# of what is now installed. The pins come from this environment rather than
# from a throwaway virtualenv: they are then exactly the versions the suite
# just passed with, and no second copy of torch is installed. Then checks the
# new pins against pyproject.toml (tests/test_ci_config.py). Commit the diff.
constraints: test-latest
	$(MAKE) --no-print-directory freeze-constraints
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/test_ci_config.py

# Writes constraints.txt from this environment alone (no install, no tests):
# every package that sk_conse[all,gpu], torch and timm (without its
# dependencies, as installed) pull in, at its installed version; torch without
# its local "+cpu" tag so that the pin also matches the PyPI build.
freeze-constraints:
	$(PYTHON) -c "$$FREEZE_PINS" "sk_conse$(EXTRAS:.%=%)" "$(TORCH)" "!$(TIMM)" \
		> $(CONSTRAINTS).tmp
	mv $(CONSTRAINTS).tmp $(CONSTRAINTS)

# Builds the docs offline and runs every gallery example (warnings are errors).
docs: install docs-build

docs-build:
	$(PYTHON) -m sphinx -b html -W --keep-going docs docs/_build/html

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

# The requirements closure of the arguments (a "!" first: that package only),
# pinned at the installed versions, as constraints.txt.
define FREEZE_PINS
import platform, sys
from importlib.metadata import PackageNotFoundError, distribution
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

todo = [(Requirement(a.lstrip("!")), not a.startswith("!")) for a in sys.argv[1:]]
seen, pins = set(), {}
while todo:
    req, deps = todo.pop()
    key = (canonicalize_name(req.name), frozenset(req.extras), deps)
    if key in seen:
        continue
    seen.add(key)
    try:
        dist = distribution(req.name)
    except PackageNotFoundError:
        sys.exit(f"{req.name} is required but not installed: run make install")
    pins[key[0]] = f"{dist.metadata['Name']}=={dist.version.split('+')[0]}"
    envs = [{"extra": extra} for extra in ("", *req.extras)]
    for line in (dist.requires or []) if deps else []:
        sub = Requirement(line)
        if sub.marker is None or any(sub.marker.evaluate(e) for e in envs):
            todo.append((sub, True))
pins.pop("sk-conse")
print("# Tested versions of everything sk_conse[all,gpu], torch and timm pull in.")
print("# Generated by `make constraints` (see the Makefile); do not edit by hand.")
print(f"# Python {platform.python_version()}, {sys.platform} {platform.machine()}.")
print("\n".join(pin for _, pin in sorted(pins.items())))
endef
export FREEZE_PINS
