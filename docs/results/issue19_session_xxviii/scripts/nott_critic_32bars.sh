#!/usr/bin/env bash
# Session (xxviii): a Nottingham realism critic fitted on whole 32-bar spans (944 training spans
# against 32-bar samples; config.post.critic_bars 32, never tried: the shipped critic reads
# 16-bar windows) that also reads how each melody restates its bars (critic_repetition), so that
# it sees the form that tells 32-bar samples from the training tunes first (phrase similarity
# 0.834 against 0.765; (xxvii)). Refitted on a copy of the export of the run that made the shipped
# model (RUN: (xxii)'s runs/nott_fresh_xxii), then measured at the shipped sampling, 32 bars,
# against the training tunes and the test tunes.
#   bash docs/results/issue19_session_xxviii/scripts/nott_critic_32bars.sh RUN CACHE COPY
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" CACHE="$2" COPY="$3" O=docs/results/issue19_session_xxviii
rm -rf "$COPY"; mkdir -p "$COPY"; cp -r "$RUN/export" "$COPY/export"
PYTHONPATH=. .venv/bin/python -c "
import json
from hrnnvae import post_training
report = post_training.fit_critic('$COPY/export', '$CACHE', per_emotion=1024, steps=3000, seed=0,
                                  bars=32, input_kind='key_relative', min_real_windows=0,
                                  repetition=True, log=lambda m: print(m, flush=True))
print(json.dumps(report, indent=1))
" > $O/nott_critic_32bars_fit.log 2>&1
for SPLIT in train test; do
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvii/scripts/reach_by_pool.py \
    "$CACHE" $SPLIT 8 0,1,2 "$COPY/export" > $O/nott_critic_32bars_${SPLIT}.log 2>&1
done
