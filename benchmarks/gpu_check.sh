#!/usr/bin/env bash
# The GPU check: everything minigan's CuPy path needs to show, in one run of under
# 10 minutes, for the first machine with a GPU (and for anyone who has one).
#
#   bash benchmarks/gpu_check.sh            # from the repository root
#
# 1. makes sure CuPy and a CUDA PyTorch can be imported, installing the GPU extra
#    for the CUDA major version that nvidia-smi (or nvcc) reports where they are
#    missing (pip install -e ".[gpu-cuda12]" or ".[gpu-cuda13]"); a machine that
#    cannot reach a package index says what it could not install and goes on;
# 2. runs the whole test suite: every device-parametrized test runs its CuPy twin
#    where a GPU is found, and tests/test_gpu_path.py its GPU-only tests;
# 3. runs `python -m minigan run mog --quick --device cuda`;
# 4. times dcgan_mnist on CuPy against PyTorch on CUDA (benchmarks/gan_step.py;
#    target: at most 2x PyTorch's time per step).
#
# Everything goes to $OUT (default runs/gpu_check): gpu_check.txt (the summary),
# setup.log, pytest.log, mog.log, mog_metrics.json, bench.log. At most 8 files, none deeper,
# so that a remote runner that brings back 8 files brings back all of them.
#
# Settings: PYTHON (default python3), MINIGAN_TEST_MNIST (MNIST's four files, for
# the MNIST tests; a folder .mnist/ in the repository root is used if present),
# NO_INSTALL=1 (never run pip), and the time limits below, in seconds.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-runs/gpu_check}
LIMIT_TESTS=${LIMIT_TESTS:-290}
LIMIT_MOG=${LIMIT_MOG:-110}
LIMIT_BENCH=${LIMIT_BENCH:-150}
mkdir -p "$OUT"
SUMMARY="$OUT/gpu_check.txt"
: > "$SUMMARY"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
[ -z "${MINIGAN_TEST_MNIST:-}" ] && [ -d .mnist ] && export MINIGAN_TEST_MNIST="$PWD/.mnist"

say() { echo "$*" | tee -a "$SUMMARY"; }
T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }

say "minigan GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "python: $(command -v "$PY") ($("$PY" -c 'import sys; print(sys.version.split()[0])' 2>&1))"
if command -v nvidia-smi >/dev/null; then
    say "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"
else
    say "gpu: no nvidia-smi here"
fi

# ---------------------------------------------------------------- 1. setup
cuda_major() {   # the CUDA major version the driver supports, else nvcc's
    local v=""
    command -v nvidia-smi >/dev/null && v=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9]*\).*/\1/p' | head -1)
    [ -z "$v" ] && v=$(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9]*\)\..*/\1/p' | head -1)
    echo "$v"
}
MAJOR=$(cuda_major)
say "cuda major version: ${MAJOR:-unknown}"
if [ -n "${NO_INSTALL:-}" ]; then
    say "NO_INSTALL is set: nothing is installed"
elif ! "$PY" -c "import cupy; cupy.cuda.runtime.getDeviceCount()" >/dev/null 2>&1; then
    case "$MAJOR" in
        12|13) EXTRA="gpu-cuda$MAJOR" ;;
        *) EXTRA="" ;;
    esac
    if [ -n "$EXTRA" ]; then
        say "CuPy missing: pip install -e \".[$EXTRA]\""
        timeout 240 "$PY" -m pip install -q --retries 1 --timeout 20 -e ".[$EXTRA]" >>"$OUT/setup.log" 2>&1 \
            || say "COULD NOT install the $EXTRA extra (no package index here?); install cupy-cuda${MAJOR}x by hand"
    else
        say "COULD NOT tell the CUDA version (nvidia-smi, nvcc): install minigan[gpu-cuda12] or [gpu-cuda13] by hand"
    fi
fi
if [ -z "${NO_INSTALL:-}" ] && ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1; then
    say "PyTorch with CUDA missing: pip install torch"
    timeout 240 "$PY" -m pip install -q --retries 1 --timeout 20 torch >>"$OUT/setup.log" 2>&1 \
        || say "COULD NOT install PyTorch (no package index here?): the benchmark needs it"
fi
say "$("$PY" -c 'import cupy; print("cupy", cupy.__version__, "on", cupy.cuda.runtime.getDeviceProperties(0)["name"].decode())' 2>&1 | tail -1)"
say "$("$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available:", torch.cuda.is_available())' 2>&1 | tail -1)"
say "minigan sees a GPU: $("$PY" -c 'from minigan import backend; print(backend.cuda_available(), backend._cupy_error or "")' 2>&1 | tail -1)"
say "mnist for tests: ${MINIGAN_TEST_MNIST:-(none: the MNIST tests skip)}"
say "setup done at $(elapsed) s"

# ---------------------------------------------------------------- 2. tests
PARALLEL=()
if "$PY" -c "import xdist" >/dev/null 2>&1; then
    PARALLEL=(-n "${JOBS:-8}")
fi
say ""
say "== tests: python -m pytest -q -x ${PARALLEL[*]} (limit ${LIMIT_TESTS} s)"
S=$(date +%s)
timeout "$LIMIT_TESTS" "$PY" -m pytest -q -x -p no:cacheprovider "${PARALLEL[@]}" -rs tests \
    >>"$OUT/pytest.log" 2>&1
RC=$?
say "exit code $RC after $(( $(date +%s) - S )) s$([ $RC = 124 ] && echo ' (TIMED OUT)')"
grep -E "^(FAILED|ERROR)" "$OUT/pytest.log" | head -20 | tee -a "$SUMMARY"
grep -E "[0-9]+ (passed|failed)" "$OUT/pytest.log" | tail -1 | tee -a "$SUMMARY"
say "tests skipped for want of a GPU: $(grep "SKIPPED.*no CUDA device" "$OUT/pytest.log" \
    | sed 's/^SKIPPED \[\([0-9]*\)\].*/\1/' | awk '{s += $1} END {print s + 0}') (0 where the GPU was found)"

# ---------------------------------------------------------------- 3. mog on cuda
say ""
say "== python -m minigan run mog --quick --device cuda (limit ${LIMIT_MOG} s)"
MOG_DIR=$(mktemp -d)
S=$(date +%s)
timeout "$LIMIT_MOG" "$PY" -m minigan run mog --quick --device cuda --no-progress \
    --out "$MOG_DIR/mog" >"$OUT/mog.log" 2>&1
RC=$?
say "exit code $RC after $(( $(date +%s) - S )) s$([ $RC = 124 ] && echo ' (TIMED OUT)')"
tail -3 "$OUT/mog.log" | tee -a "$SUMMARY"
if [ -f "$MOG_DIR/mog/metrics.json" ]; then
    cp "$MOG_DIR/mog/metrics.json" "$OUT/mog_metrics.json"
    "$PY" - "$OUT/mog_metrics.json" <<'EOF' | tee -a "$SUMMARY"
import json, sys
m = json.load(open(sys.argv[1]))
for run in ("gan", "pacgan2-rescaled"):
    if run in m:
        r = m[run]
        print(f"{run}: modes {r.get('modes')}, high quality {r.get('high_quality')}, "
              f"reverse KL {r.get('reverse_kl')}, {r.get('seconds', 0):.1f} s")
print(f"wall time {m.get('wall_time_s')} s, device {m.get('config', {}).get('device')}")
EOF
fi

# ---------------------------------------------------------------- 4. benchmark
say ""
say "== python benchmarks/gan_step.py --device cuda --workload dcgan_mnist (limit ${LIMIT_BENCH} s; target <= 2x)"
S=$(date +%s)
timeout "$LIMIT_BENCH" "$PY" benchmarks/gan_step.py --device cuda --workload dcgan_mnist \
    >"$OUT/bench.log" 2>&1
RC=$?
say "exit code $RC after $(( $(date +%s) - S )) s$([ $RC = 124 ] && echo ' (TIMED OUT)')"
tail -15 "$OUT/bench.log" | tee -a "$SUMMARY"

say ""
say "total $(elapsed) s"
