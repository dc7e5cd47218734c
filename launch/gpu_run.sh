#!/usr/bin/env bash
# The one prepared command of a GPU session: run THERE (a lent GPU, minutes long, no internet), or
# on a CPU for CI, from a checkout with the folder that launch/gpu_prepare.sh filled beside it.
#
#   launch/gpu_run.sh BUDGET_SECONDS OUT_DIR
#
# This script only sets up the environment: it installs the carried wheels that cannot be
# imported (no network) into OUT_DIR/site, puts that and the repo on PYTHONPATH, then runs
# `python -m hrnnvae.gpu_run BUDGET_SECONDS OUT_DIR`, which plans the budget, benchmarks, trains,
# evaluates and packs (its --help and hrnnvae/gpu_run/__main__.py say how, and which variables it reads:
# HRNNVAE_GPU_CARRY, HRNNVAE_GPU_PACK, HRNNVAE_GPU_RUN_TINY, HRNNVAE_GPU_RUNS, ...). PYTHON: the
# interpreter (default python3).
set -euo pipefail
T0=$(date +%s)  # the budget counts from here: the installs take part of it
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
CARRY="${HRNNVAE_GPU_CARRY:-runs/gpu_carry}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"

installed=()
if [ $# -eq 2 ] && [[ "$1" =~ ^[0-9]+$ ]]; then  # else hrnnvae.gpu_run explains the arguments
  SITE="$(realpath -m "$2")/site"  # first on PYTHONPATH, also on a later call that installs nothing
  export PYTHONPATH="$SITE:$PYTHONPATH"
  if [ -f "$CARRY/wheels/modules.txt" ]; then
    while read -r wheel module kind; do
      [ -z "$wheel" ] && continue
      if "$PYTHON" -c "import $module" 2>/dev/null; then continue; fi
      echo "gpu_run [$(( $(date +%s) - T0 )) s]: installing $wheel ($module is missing; $kind)"
      mkdir -p "$SITE"
      "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
          --target "$SITE" "$CARRY/wheels/$wheel" \
        || "$PYTHON" -m zipfile -e "$CARRY/wheels/$wheel" "$SITE"  # a wheel is a zip; no pip there?
      installed+=("--installed=$wheel:$module")
    done < "$CARRY/wheels/modules.txt"
  fi
fi
exec "$PYTHON" -m hrnnvae.gpu_run --started="$T0" "${installed[@]}" "$@"
