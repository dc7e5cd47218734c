#!/usr/bin/env bash
# Session (xxviii): a Nottingham realism critic refitted with the shipped options plus OPTIONS
# (post_training.fit_critic keywords) on a copy of the export of the run that made the shipped
# model (RUN: (xxii)'s runs/nott_fresh_xxii), then measured at the shipped sampling, 32 bars,
# K 16, reach 8, seeds 0-2, against the training tunes and the test tunes
# (nott_critic_NAME_{fit,train,test}.log). The two screens of (xxviii):
#   bash .../nott_critic_screen.sh RUN CACHE COPY register "register=True"
#     (the samples' 32-bar range is 1.19 octaves against the training tunes' 1.41)
#   bash .../nott_critic_screen.sh RUN CACHE COPY 32bars "bars=32, repetition=True"
#     (whole 32-bar spans and the bars' restatements: phrase similarity 0.834 against 0.765)
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" CACHE="$2" COPY="$3" NAME="$4" OPTIONS="$5" O=docs/results/issue19_session_xxviii
rm -rf "$COPY"; mkdir -p "$COPY"; cp -r "$RUN/export" "$COPY/export"
PYTHONPATH=. .venv/bin/python -c "
import json
from hrnnvae import post_training
shipped = dict(per_emotion=1024, steps=3000, seed=0, bars=16, input_kind='key_relative',
               min_real_windows=0)
report = post_training.fit_critic('$COPY/export', '$CACHE', **{**shipped, **dict($OPTIONS)},
                                  log=lambda m: print(m, flush=True))
print(json.dumps(report, indent=1))
" > $O/nott_critic_${NAME}_fit.log 2>&1
for SPLIT in train test; do
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvii/scripts/reach_by_pool.py \
    "$CACHE" $SPLIT 8 0,1,2 "$COPY/export" > $O/nott_critic_${NAME}_${SPLIT}.log 2>&1
done
