#!/usr/bin/env bash
# The GPU checks and figures in one run of at most 8 minutes (benchmarks/README.md, "GPU"):
#   (a) the GPU tests, (b) time to quality, (c) generation throughput and memory,
#   (d) the grid search of parallel_grid.py on one Dask worker per GPU.
# Run from anywhere on a machine with CUDA, with the "dask" and "tests" extras installed:
#   bash benchmarks/gpu.sh [--data-home DIR]      (default: $VAEAUG_DATA or ../shared/data)
# It stops with an error where torch sees no CUDA device; a failing step is reported and the
# next one runs, and the script then exits with 1.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's vaeaug, also in workers
PYTHON=${PYTHON:-python}

"$PYTHON" - <<'EOF' || exit 1
import sys

import torch

if not torch.cuda.is_available():
    sys.exit("gpu.sh: torch sees no CUDA device; run it on a machine with a GPU.")
try:
    import distributed  # noqa: F401
except ImportError:
    sys.exit('gpu.sh: Dask is missing; python -m pip install ".[dask,tests]"')
names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
print(f"GPUs: {len(names)} ({', '.join(names)}); torch {torch.__version__}")
EOF
N_GPUS=$("$PYTHON" -c "import torch; print(torch.cuda.device_count())")

FAILED=()
section() { printf '\n== %s (%s s so far) ==\n' "$1" "$SECONDS"; }

section "(a) GPU tests"
timeout 90 "$PYTHON" -m pytest tests/test_gpu.py -m gpu -q -p no:cacheprovider || FAILED+=("(a)")

section "(b) time to quality, MNIST, seed 0"
timeout 180 "$PYTHON" benchmarks/time_to_quality.py "$@" --device cuda --epochs 12 \
    --plain-epochs 20 --stop-at-target --seeds 0 || FAILED+=("(b)")

section "(c) generation throughput and peak memory"
timeout 100 "$PYTHON" benchmarks/generation.py "$@" --repeats 1 || FAILED+=("(c)")

section "(d) grid search on $N_GPUS Dask worker(s), one per GPU"
PORT=8786
"$PYTHON" -m dask scheduler --port "$PORT" --no-dashboard >/tmp/gpu-sh-scheduler.log 2>&1 &
PIDS=($!)
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
for ((i = 0; i < N_GPUS; i++)); do
    CUDA_VISIBLE_DEVICES=$i "$PYTHON" -m dask worker "tcp://127.0.0.1:$PORT" --nworkers 1 --nthreads 1 \
        --no-dashboard >"/tmp/gpu-sh-worker-$i.log" 2>&1 &
    PIDS+=($!)
done
timeout 120 "$PYTHON" - "$PORT" "$N_GPUS" <<'EOF'
import os
import sys

import torch
from distributed import Client

from vaeaug.engine._device import resolve_device


def gpu_of_this_worker():
    device = resolve_device("auto")  # "cuda": the worker's only visible GPU
    name = torch.cuda.get_device_name(device)
    return os.environ["CUDA_VISIBLE_DEVICES"], str(device), torch.cuda.device_count(), name


with Client(f"tcp://127.0.0.1:{sys.argv[1]}", timeout=60) as client:
    client.wait_for_workers(int(sys.argv[2]), timeout=60)
    for worker, (visible, device, count, name) in sorted(client.run(gpu_of_this_worker).items()):
        print(f"worker {worker}: CUDA_VISIBLE_DEVICES={visible}, device='auto' -> {device}, "
              f"sees {count} GPU ({name})")
EOF
[ $? -eq 0 ] || FAILED+=("(d) workers")
timeout 120 "$PYTHON" benchmarks/parallel_grid.py --scheduler "tcp://127.0.0.1:$PORT" \
    --device cuda --max-epochs 10 || FAILED+=("(d)")

section "done"
if ((${#FAILED[@]})); then
    echo "gpu.sh: failed: ${FAILED[*]}" >&2
    exit 1
fi
