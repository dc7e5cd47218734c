#!/usr/bin/env bash
# Session (xxxvii): the rest arm with rests BOOST times likelier at sampling (scripts/rest_boost.py,
# a prototype), at guidance 1.25 (rests_guidance_sweep.sh's choice), T 0.7, top-p 0.95, r 1.5,
# K 16, 8-bar reach: the validation split's 32-bar spans, seeds 0-2; then what gives them away
# (the training spans, in the tunes' mix; the model's own guidance 1) for the rest share.
#   bash docs/results/issue19_session_xxxvii/scripts/rest_boost_sweep.sh RUN CACHE OUT_PREFIX BOOST
set -euo pipefail
RUN="$1" CACHE="$2" OUT="$3" BOOST="$4"
here="$(dirname "$0")"
export PYTHONPATH=.
.venv/bin/python "$here/rest_boost.py" "$BOOST" sampling_sweep --workdir="$RUN" --cache="$CACHE" \
  --split=valid --temperatures=0.7 --top_ps=0.95 --guidances=1.25 --repeat_penalties=1.5 \
  --candidates=16 --attention_bars=8 --bars=32 --num_samples=64 --seeds=0,1,2 \
  --json="${OUT}_boost${BOOST}_32_valid.json" > "${OUT}_boost${BOOST}_32_valid.log" 2>&1
.venv/bin/python "$here/rest_boost.py" "$BOOST" giveaway_check --cache="$CACHE" --split=train \
  --models="$RUN/export" --bars=32 --json="${OUT}_boost${BOOST}_giveaways32_train.json" \
  > "${OUT}_boost${BOOST}_giveaways32_train.log" 2>&1
