#!/usr/bin/env bash
# Session (xxiii): the shipped sampling's realism and judge over three more test seeds (3-5) at
# 16 and 32 bars (K 16) and at T 1 (top-p 0.95 / 1, 16 bars), so that the one-command run and the
# shipped model are compared on six seeds where three leave them within the seeds' spread.
#   bash docs/results/issue19_session_xxiii/scripts/more_seeds.sh MODEL CACHE OUT
# MODEL: --workdir=RUN or --pretrained=nottingham.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
MODEL="$1" CACHE="$2" OUT="$3"
mkdir -p "$OUT"
SWEEP=(PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py "$MODEL" --cache="$CACHE" --split=test
       --repeat_penalties=1.5 --attention_bars=8 --seeds=3,4,5 --candidates=16)
for BARS in 16 32; do
  env "${SWEEP[@]}" --temperatures=0.7 --top_ps=0.95 --bars=$BARS \
    --json="$OUT/sweep_test_${BARS}bars_seeds345.json" > "$OUT/sweep_test_${BARS}bars_seeds345.log" 2>&1
done
env "${SWEEP[@]}" --temperatures=1.0 --top_ps=0.95,1.0 --bars=16 \
  --json="$OUT/sweep_test_T1_seeds345.json" > "$OUT/sweep_test_T1_seeds345.log" 2>&1
