#!/usr/bin/env bash
# Session (xxii): a Nottingham model measured as the shipped one's Part 1 figures are (test split):
# realism and the judge at 16 and 32 bars at the shipped sampling (T 0.7, top-p 0.95, repeat
# penalty 1.5, 8-bar reach, K 1 and 16; seeds 0-2), the judge at T 1 (top-p 0.95 / 1, K 16), and
# reconstruction, whole test tunes, interpolation and transfer over seeds 0-7
# (launch/reconstruct_check.py, greedy and T 0.7).
#   bash docs/results/issue19_session_xxii/scripts/nott_measure.sh MODEL CACHE MIDI_DIR OUT
# MODEL: --workdir=RUN or --pretrained=nottingham.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
MODEL="$1" CACHE="$2" MIDI_DIR="$3" OUT="$4"
mkdir -p "$OUT"
SWEEP=(PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py "$MODEL" --cache="$CACHE" --split=test
       --repeat_penalties=1.5 --attention_bars=8 --seeds=0,1,2)
for BARS in 16 32; do
  env "${SWEEP[@]}" --temperatures=0.7 --top_ps=0.95 --candidates=1,16 --bars=$BARS \
    --json="$OUT/sweep_test_${BARS}bars.json" > "$OUT/sweep_test_${BARS}bars.log" 2>&1
done
env "${SWEEP[@]}" --temperatures=1.0 --top_ps=0.95,1.0 --candidates=16 --bars=16 \
  --json="$OUT/sweep_test_T1.json" > "$OUT/sweep_test_T1.log" 2>&1
PYTHONPATH=. .venv/bin/python launch/reconstruct_check.py "$MODEL" --cache="$CACHE" \
  --midi_dir="$MIDI_DIR" --temperatures=0.0001,0.7 --transfer_seeds=0,1,2,3,4,5,6,7 \
  > "$OUT/reconstruct_check.log" 2>&1
