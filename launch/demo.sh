#!/usr/bin/env bash
# The main job on the bundled default data (the Bach chorales that ship with music21; no download):
# set up .venv, prepare the data cache, train the small bach_music21 model on the CPU to early
# stopping (a few minutes), then write one 32-bar melody per emotion (MIDI, WAV, PNG) to
# demo_out/, and four from the shipped Nottingham model to demo_out/nottingham/. Extra arguments
# go to hrnnvae-train (e.g. --config.train.max_steps=5);
# HRNNVAE_DEMO_LIMIT=N reads only N chorales (the CI test uses both to run this path quickly).
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/venv.sh
RUNS="${HRNNVAE_DEMO_DIR:-runs/demo}"
OUT="${HRNNVAE_DEMO_OUT:-demo_out}"
hrnnvae-data prepare --dataset=bach_music21 --out="$RUNS/data" \
   ${HRNNVAE_DEMO_LIMIT:+--limit=$HRNNVAE_DEMO_LIMIT}
hrnnvae-train --config=configs/bach_music21.py --config.data.cache_dir="$RUNS/data" \
  --workdir="$RUNS/train" "$@"
hrnnvae-sample --workdir="$RUNS/train" --emotion=happy,tense,sad,calm --bars=32 --output_dir="$OUT" --overwrite
# The Nottingham model that ships in the package needs no training: four tunes from it too.
if python -c "import sys; from hrnnvae import pretrained; sys.exit('nottingham' not in pretrained.available())"; then
  hrnnvae-sample --pretrained=nottingham --emotion=happy,tense,sad,calm --bars=16 \
    --output_dir="$OUT/nottingham" --overwrite
fi
echo "done: listen to $OUT/*.wav, open $OUT/*.mid in any DAW, look at $OUT/*.png ($OUT/manifest.json describes each)"
