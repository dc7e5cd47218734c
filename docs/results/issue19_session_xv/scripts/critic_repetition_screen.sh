#!/usr/bin/env bash
# Session (xv): the shipped JSB model's realism critic refitted reading how each melody restates
# its bars (config.post.critic_repetition), on a copy of the run that shipped it, then the
# shipped sampling (K 32) at 8 and 16 bars on the validation chorales, seeds 0-2.
#   bash docs/results/issue19_session_xv/scripts/critic_repetition_screen.sh RUN CACHE COPY
# The control, the plain critic fitted again at another seed:
#   REPETITION=False SEED=1 NAME=jsb_critic_plain_seed1 bash ...critic_repetition_screen.sh RUN CACHE COPY
# Session (xvi)'s register screen: REGISTER=True, its sections and output folder (see its NOTE.md).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" CACHE="$2" COPY="$3" O="${O:-docs/results/issue19_session_xv}"
REPETITION="${REPETITION:-True}" SEED="${SEED:-0}" NAME="${NAME:-jsb_critic_repetition}"
REGISTER="${REGISTER:-False}" SECTION_BARS="${SECTION_BARS:-8}" SECTION_CORRELATION="${SECTION_CORRELATION:-0.7}"
rm -rf "$COPY"; mkdir -p "$COPY"; cp -r "$RUN/export" "$COPY/export"
PYTHONPATH=. .venv/bin/python -c "
import json, sys
from hrnnvae import post_training
report = post_training.fit_critic('$COPY/export', '$CACHE', per_emotion=1024, steps=3000, seed=$SEED,
                                  bars=16, input_kind='key_relative', min_real_windows=0,
                                  repetition=$REPETITION, register=$REGISTER,
                                  log=lambda m: print(m, flush=True))
print(json.dumps(report, indent=1))
" > $O/${NAME}_fit.log 2>&1
for BARS in 8 16; do
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$COPY" --cache="$CACHE" \
  --split=valid --temperatures=0.7 --top_ps=0.95 --guidances=1.75 --repeat_penalties=10 \
  --candidates=32 --section_bars=$SECTION_BARS --section_correlations=$SECTION_CORRELATION \
  --bars=$BARS --num_samples=64 \
  --seeds=0,1,2 --json=$O/${NAME}_${BARS}bars_valid.json \
  > $O/${NAME}_${BARS}bars_valid.log 2>&1
done
