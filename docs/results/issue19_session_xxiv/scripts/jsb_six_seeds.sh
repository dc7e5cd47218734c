#!/usr/bin/env bash
# Session (xxiv): a JSB model's realism and judge on the test chorales over six seeds
# (0-5), at 8 and 16 bars, with the shipped sampling (as (xix)'s jsb_screen_measure.sh: T 0.7,
# top-p 0.95, guidance 1.75 with tense at 1.5 from the model's own settings, repeat penalty 10,
# K 32, 4-bar sections sharing one latent), so that JSB's figures rest on as many seeds as
# Nottingham's do since (xxiii). Seeds 0-2 reproduce (xix)'s rows.
#   bash docs/results/issue19_session_xxiv/scripts/jsb_six_seeds.sh MODEL CACHE OUT
# MODEL: --pretrained=jsb_chorales (the shipped model: jsb_six_seeds/) or --workdir=RUN (a run
# of the one command, e.g. runs/jsb_sad15_xxiv, with its own sampling settings).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
MODEL="$1" CACHE="$2" OUT="$3"
mkdir -p "$OUT"
for BARS in 8 16; do
  PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py "$MODEL" --cache="$CACHE" \
    --split=test --temperatures=0.7 --top_ps=0.95 --guidances=1.75 --repeat_penalties=10 \
    --candidates=32 --section_bars=4 --section_correlations=1.0 --num_samples=64 \
    --seeds=0,1,2,3,4,5 --bars=$BARS --json="$OUT/sweep_test_${BARS}bars_seeds0-5.json" \
    > "$OUT/sweep_test_${BARS}bars_seeds0-5.log" 2>&1
done
