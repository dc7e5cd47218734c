#!/usr/bin/env bash
# The validation screen of session (xi): the shipped sampling (T 0.7, top-p 0.95, repeat penalty
# 1.5, K 16 by the critic, 8-bar reach), 64 samples an emotion, seeds 0-2, at 32 and 16 bars,
# against the validation split's real spans.
#   bash docs/results/issue19_session_xi/sweep_valid.sh NAME --pretrained=nottingham
#   bash docs/results/issue19_session_xi/sweep_valid.sh tbp --workdir=runs/tbp_ship
set -euo pipefail
cd "$(dirname "$0")/../../.."
NAME="$1" MODEL="$2" CACHE="${CACHE:-runs/tbp_ship/data}" OUT=docs/results/issue19_session_xi
for BARS in 32 16; do
  PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py "$MODEL" --cache="$CACHE" --split=valid \
    --temperatures=0.7 --top_ps=0.95 --repeat_penalties=1.5 --candidates=16 --attention_bars=8 \
    --bars=$BARS --num_samples=64 --seeds=0,1,2 --json=$OUT/${NAME}_k16_${BARS}bars_valid.json \
    > $OUT/${NAME}_k16_${BARS}bars_valid.log 2>&1
done
