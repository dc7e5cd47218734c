#!/usr/bin/env bash
# Session (xvi): the shipped JSB model's realism critic refitted also reading where each melody
# sits as written (config.post.critic_register; realism.register_features), on a copy of the run
# that shipped it, then the shipped sampling (K 32, 4-bar sections at correlation 1) at 16 and 8
# bars on the validation chorales, seeds 0-2.
#   bash docs/results/issue19_session_xvi/scripts/critic_register_screen.sh RUN CACHE COPY
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" CACHE="$2" COPY="$3" O=docs/results/issue19_session_xvi NAME=jsb_critic_register
rm -rf "$COPY"; mkdir -p "$COPY"; cp -r "$RUN/export" "$COPY/export"
PYTHONPATH=. .venv/bin/python -c "
import json
from hrnnvae import post_training
report = post_training.fit_critic('$COPY/export', '$CACHE', per_emotion=1024, steps=3000, seed=0,
                                  bars=16, input_kind='key_relative', min_real_windows=0,
                                  repetition=True, register=True, log=lambda m: print(m, flush=True))
print(json.dumps(report, indent=1))
" > $O/${NAME}_fit.log 2>&1
for BARS in 16 8; do
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$COPY" --cache="$CACHE" \
  --split=valid --temperatures=0.7 --top_ps=0.95 --guidances=1.75 --repeat_penalties=10 \
  --candidates=32 --section_bars=4 --section_correlations=1.0 --bars=$BARS --num_samples=64 \
  --seeds=0,1,2 --json=$O/${NAME}_${BARS}bars_valid.json > $O/${NAME}_${BARS}bars_valid.log 2>&1
done
