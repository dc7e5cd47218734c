#!/usr/bin/env bash
# The main job on the bundled default data (the Bach chorales that ship with music21; no download):
# set up .venv, prepare the data cache, print its statistics, then train the small bach_music21
# model on the CPU to early stopping (a few minutes). Later stages extend this script.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/venv.sh
OUT="${HRNNVAE_DEMO_DIR:-runs/demo}"
hrnnvae-data prepare --dataset=bach_music21 --out="$OUT/data"
hrnnvae-train --config=configs/bach_music21.py --config.data.cache_dir="$OUT/data" \
  --workdir="$OUT/train" "$@"
echo "trained model: $OUT/train/export (metrics: $OUT/train/metrics.jsonl)"
