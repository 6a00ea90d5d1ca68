#!/usr/bin/env bash
# GPU check of sk_conse on a machine with a CUDA device, in one go (< 8 min):
#
#   1. installs cupy-cuda12x with pip when CuPy is missing (torch is used as
#      installed; a CPU-only torch build just skips its CUDA parts);
#   2. runs the GPU tests: `pytest -m gpu` (the cupy and torch-cuda backend
#      parametrizations and every test marked gpu), then any test id naming
#      cupy or torch-cuda that is not marked gpu;
#   3. runs benchmarks/bench_gpu.py: CuPy and torch-CUDA at n = 50,000, float32
#      (search layer by both routes and the public estimator, transfers
#      included) against the NumPy CPU path, and prints its table.
#
# Without a CUDA device it prints why and exits 0; `--dry-run` then runs
# bench_gpu.py --dry-run (NumPy and torch-CPU, tiny scale) to check the logic.
#
# Usage:  bash benchmarks/gpu_check.sh [--dry-run]
# Env:    GPU_CHECK_N (default 50000), GPU_CHECK_DTYPES (default float32),
#         GPU_CHECK_BUDGET_S (default 480: the bench is skipped, with a
#         message, when the tests left too little of it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python}
N=${GPU_CHECK_N:-50000}
DTYPES=${GPU_CHECK_DTYPES:-float32}
BUDGET=${GPU_CHECK_BUDGET_S:-480}
DRY_RUN=0
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "gpu_check: unknown argument $arg" >&2; exit 2 ;;
    esac
done
start=$SECONDS
elapsed() { echo $((SECONDS - start)); }

has_cuda_device() {
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
        return 0
    fi
    "$PY" - <<'EOF' >/dev/null 2>&1
import sys
try:
    import torch
    sys.exit(0 if torch.cuda.is_available() else 1)
except Exception:
    sys.exit(1)
EOF
}

if ! has_cuda_device; then
    echo "gpu_check: SKIPPED: no CUDA device here (nvidia-smi lists none and" \
         "torch.cuda.is_available() is False); nothing GPU-side was run."
    if [[ $DRY_RUN == 1 ]]; then
        echo "gpu_check: --dry-run: bench_gpu.py logic on NumPy and torch-CPU"
        "$PY" benchmarks/bench_gpu.py --dry-run --dtypes float32
    fi
    exit 0
fi

echo "== gpu_check $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname)"
nvidia-smi -L 2>/dev/null || true

# 1. CuPy
if ! "$PY" -c 'import cupy' >/dev/null 2>&1; then
    echo "== installing cupy-cuda12x"
    if ! "$PY" -m pip install -q 'cupy-cuda12x>=13'; then
        echo "gpu_check: WARNING: pip could not install cupy-cuda12x;" \
             "the cupy tests will skip and bench_gpu.py runs torch only."
    fi
fi
"$PY" - <<'EOF'
from sk_conse._backend import cuda_available
try:
    import cupy
    print(f"CuPy {cupy.__version__}: CUDA device seen = {cuda_available()}")
except Exception as exc:
    print(f"CuPy unavailable: {exc!r}")
try:
    import torch
    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}): "
          f"cuda available = {torch.cuda.is_available()}")
except Exception as exc:
    print(f"torch unavailable: {exc!r}")
EOF

# 2. tests. The array API tests set SCIPY_ARRAY_API themselves (subprocesses).
status=0
echo "== pytest -m gpu ($(elapsed) s)"
"$PY" -m pytest -m gpu -q -p no:cacheprovider tests/ || status=$?
# pytest exits 5 when nothing was collected: not a failure here.
if [[ $status == 5 ]]; then status=0; fi
echo "== cupy / torch-cuda test ids not marked gpu ($(elapsed) s)"
rc=0
"$PY" -m pytest -q -p no:cacheprovider tests/ -m "not gpu" \
    -k "cupy or torch-cuda or torch_cuda" || rc=$?
if [[ $rc != 0 && $rc != 5 ]]; then status=$rc; fi

# 3. benchmark, within what is left of the budget.
left=$((BUDGET - $(elapsed)))
if (( left < 120 )); then
    echo "gpu_check: bench_gpu.py SKIPPED: only ${left} s left of ${BUDGET} s"
else
    echo "== bench_gpu.py n=$N dtypes=$DTYPES ($(elapsed) s; ${left} s left)"
    timeout "$left" "$PY" benchmarks/bench_gpu.py --n "$N" --dtypes "$DTYPES" \
        --libs cupy,torch || {
        rc=$?
        echo "gpu_check: bench_gpu.py exited $rc"
        status=$rc
    }
fi
echo "== gpu_check done in $(elapsed) s, status $status"
exit "$status"
