#!/usr/bin/env bash
# Session (xxvi): the shipped JSB model sampled with one realism critic (its own, seed 0) and with
# the mean of three (seeds 0, 1, 2; critic_ensemble.py), 16 bars, seeds 0-5, the shipped sampling
# (jsb_six_seeds.sh's settings): validation chorales for both, then the test chorales for the
# ensemble (the single critic's test rows are (xxv)'s and jsb_critic_seeds.sh's).
#   bash docs/results/issue19_session_xxvi/scripts/jsb_critic_ensemble.sh RUN CACHE OUT
# OUT: jsb_critic_seeds.sh's, holding run_critic_seed1/ and run_critic_seed2/.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" CACHE="$2" OUT="$3"
SWEEP=(--cache="$CACHE" --temperatures=0.7 --top_ps=0.95 --guidances=1.75 --repeat_penalties=10
       --candidates=32 --section_bars=4 --section_correlations=1.0 --num_samples=64
       --seeds=0,1,2,3,4,5 --bars=16)
OTHERS="$OUT/run_critic_seed1/export,$OUT/run_critic_seed2/export"
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$RUN/export" "${SWEEP[@]}" \
  --split=valid --json="$OUT/sweep_valid_16bars_critic_seed0.json" \
  > "$OUT/sweep_valid_16bars_critic_seed0.log" 2>&1
for SPLIT in valid test; do
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvi/scripts/critic_ensemble.py \
    "$OTHERS" --workdir="$RUN/export" "${SWEEP[@]}" --split=$SPLIT \
    --json="$OUT/sweep_${SPLIT}_16bars_critic_ensemble012.json" \
    > "$OUT/sweep_${SPLIT}_16bars_critic_ensemble012.log" 2>&1
done
