#!/usr/bin/env bash
# Run HERE, on a machine that reaches the package registries, before a GPU session. It fills one
# git-ignored folder (default runs/gpu_carry) with what launch/gpu_run.sh needs on the lent GPU
# machine, which has no internet and lacks two of our dependencies:
#   wheels/  ml-collections and tensorboardX at the versions this venv runs (so the GPU runs what
#            CI tested), plus protobuf, PyYAML and tqdm, which that machine has: gpu_run.sh
#            installs each only where it cannot be imported; modules.txt maps wheel -> module;
#   caches/  nottingham/ and jsb_chorales/ (both with --transpose=5, as configs/nottingham.py and
#            configs/jsb_chorales.py expect): examples.npz and manifest.json alone, all that
#            training and evaluation read.
# It checks that the working tree and the folder together stay well under the 64 MiB that travel,
# and prints the `carry` path to name.
#
#   launch/gpu_prepare.sh [OUT_FOLDER] [--datasets=DIR] [--limit=N] [--no-wheels] [--dry-run]
# --datasets: the raw datasets (nottingham/, jsb_chorales/); default $HRNNVAE_DATASETS, and one of
#   the two is required. --limit=N reads only N files per dataset (CI's tiny runs). --no-wheels
#   skips the download (CI). --dry-run prints what it would do and does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

OUT_FOLDER=runs/gpu_carry
DATASETS="${HRNNVAE_DATASETS:-}"
LIMIT=""
WHEELS=1
DRY_RUN=0
for arg in "$@"; do
  case "$arg" in
    --datasets=*) DATASETS="${arg#*=}" ;;
    --limit=*) LIMIT="${arg#*=}" ;;
    --no-wheels) WHEELS=0 ;;
    --dry-run) DRY_RUN=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    -*) echo "gpu_prepare: unknown option $arg (see --help)" >&2; exit 2 ;;
    *) OUT_FOLDER="$arg" ;;
  esac
done
if [ -z "$DATASETS" ]; then
  echo "gpu_prepare: where are the raw datasets? pass --datasets=DIR or set HRNNVAE_DATASETS" >&2
  exit 2
fi

# The venv's python when there is one: it has hrnnvae and the versions the wheels are pinned to.
# launch/venv.sh is not sourced: it would reinstall whenever setup.cfg changed.
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

# What the GPU machine lacks (its image has jax, flax, optax, orbax, chex, absl, numpy, tqdm,
# protobuf, PyYAML; not these), and fallbacks for what they import, installed there only if missing.
REQUIRED="ml-collections:ml_collections tensorboardX:tensorboardX"
FALLBACK="protobuf:google.protobuf PyYAML:yaml tqdm:tqdm"
PLATFORMS="--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64"

pinned() {  # NAME==VERSION as installed here, else NAME (the newest)
  "$PYTHON" - "$1" <<'EOF'
import importlib.metadata as m, sys
try:
  print(f"{sys.argv[1]}=={m.version(sys.argv[1])}")
except m.PackageNotFoundError:
  print(sys.argv[1])
EOF
}

run() {  # echo the command; run it unless --dry-run
  echo "+ $*"
  if [ "$DRY_RUN" = 0 ]; then "$@"; fi
}

if [ "$WHEELS" = 1 ]; then
  WHEEL_DIR="$OUT_FOLDER/wheels"
  # One version of each: two wheels of one package stop the whole install there.
  run rm -rf "$WHEEL_DIR"
  run mkdir -p "$WHEEL_DIR"
  modules=()
  for kind in required fallback; do
    if [ "$kind" = required ]; then list="$REQUIRED"; else list="$FALLBACK"; fi
    for entry in $list; do
      name="${entry%%:*}" module="${entry#*:}"
      spec="$(pinned "$name")"
      # shellcheck disable=SC2086
      if ! run "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
             --implementation cp $PLATFORMS -d "$WHEEL_DIR" "$spec"; then
        if [ "$kind" = required ]; then echo "gpu_prepare: cannot download $spec" >&2; exit 1; fi
        echo "gpu_prepare: no wheel for the fallback $spec; the GPU machine has it anyway" >&2
        continue
      fi
      modules+=("$name $module $kind")
    done
  done
  if [ "$DRY_RUN" = 0 ]; then
    # wheel file -> the module gpu_run.sh tries to import before installing it
    : > "$WHEEL_DIR/modules.txt"
    for line in "${modules[@]}"; do
      read -r name module kind <<<"$line"
      norm="$(echo "$name" | tr 'A-Z-' 'a-z_')"
      file="$(cd "$WHEEL_DIR" && ls | awk -v n="$norm" 'tolower($0) ~ "^"n"-" && /\.whl$/' | head -1)"
      [ -n "$file" ] && echo "$file $module $kind" >> "$WHEEL_DIR/modules.txt"
    done
    cat "$WHEEL_DIR/modules.txt"
  fi
fi

for dataset in nottingham jsb_chorales; do
  if [ ! -d "$DATASETS/$dataset" ]; then
    echo "gpu_prepare: no $DATASETS/$dataset: pass --datasets=DIR or set HRNNVAE_DATASETS" >&2
    exit 1
  fi
  extra=(--transpose=5)  # configs/nottingham.py and configs/jsb_chorales.py train on +-5 semitones
  if [ -n "$LIMIT" ]; then extra+=("--limit=$LIMIT"); fi
  # prepare skips a cache that is up to date with these options
  run "$PYTHON" -m hrnnvae.data.main prepare --dataset="$dataset" --source="$DATASETS/$dataset" \
    --out="$OUT_FOLDER/caches/$dataset" "${extra[@]}"
  if [ "$DRY_RUN" = 0 ]; then  # the two files train and eval read; nothing else travels
    find "$OUT_FOLDER/caches/$dataset" -mindepth 1 ! -name examples.npz ! -name manifest.json \
      -exec rm -rf {} +
  fi
done
[ "$DRY_RUN" = 1 ] && exit 0

# The working tree (tracked, and untracked but not ignored) travels too: hrnnvae/gpu_run/travel.py
# counts both, refuses over its limit and names the carry (the tests read the same count).
"$PYTHON" -m hrnnvae.gpu_run.travel "$OUT_FOLDER"
