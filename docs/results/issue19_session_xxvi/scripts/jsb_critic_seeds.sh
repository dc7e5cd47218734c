#!/usr/bin/env bash
# Session (xxvi): how much of the shipped JSB model's judge margin is its realism critic's fit
# seed. A copy of RUN (the shipped model's run folder, e.g. runs/jsb_sad_reship as (xxv)'s
# jsb_sad_reship.py reconstituted it; its export is the shipped model) has its critic fitted
# again exactly as shipped
# (post_training.fit_critic with the shipped report's options: 3,000 steps, 1,024 samples per
# emotion, 16 bars, key-relative, repetition features, every quadrant) at each SEED, then the
# shipped sampling is measured on the test chorales over seeds 0-5 at 16 bars
# (jsb_six_seeds.sh's settings). Seed 0 is the shipped critic.
#   bash docs/results/issue19_session_xxvi/scripts/jsb_critic_seeds.sh RUN CACHE OUT SEED...
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" CACHE="$2" OUT="$3"; shift 3
mkdir -p "$OUT"
for SEED in "$@"; do
  rm -rf "$OUT/run_critic_seed$SEED"; cp -r "$RUN" "$OUT/run_critic_seed$SEED"
  EXPORT="$OUT/run_critic_seed$SEED/export"
  PYTHONPATH=. .venv/bin/python -c "
from hrnnvae import post_training
r = post_training.fit_critic('$EXPORT', '$CACHE', per_emotion=1024, steps=3000, seed=$SEED,
                             bars=16, input_kind='key_relative', min_real_windows=0,
                             repetition=True, register=False)
print('critic seed $SEED final loss', r['final_loss'])" > "$OUT/fit_seed$SEED.log" 2>&1
  PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$EXPORT" --cache="$CACHE" \
    --split=test --temperatures=0.7 --top_ps=0.95 --guidances=1.75 --repeat_penalties=10 \
    --candidates=32 --section_bars=4 --section_correlations=1.0 --num_samples=64 \
    --seeds=0,1,2,3,4,5 --bars=16 --json="$OUT/sweep_test_16bars_critic_seed$SEED.json" \
    > "$OUT/sweep_test_16bars_critic_seed$SEED.log" 2>&1
done
