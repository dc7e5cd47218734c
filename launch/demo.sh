#!/usr/bin/env bash
# The main job on the bundled default data (the Bach chorales that ship with music21; no download):
# set up .venv, prepare the data cache, print its statistics. Later stages extend this script.
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/venv.sh
OUT="${HRNNVAE_DEMO_DIR:-runs/demo}"
hrnnvae-data prepare --dataset=bach_music21 --out="$OUT/data" "$@"
