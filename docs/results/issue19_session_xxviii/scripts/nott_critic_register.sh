#!/usr/bin/env bash
# Session (xxviii): a Nottingham realism critic that also reads each melody's register
# (config.post.critic_register; measured on JSB only, (xvi)), chosen against the training tunes:
# the shipped model's 32-bar samples span 1.19 octaves against the training tunes' 1.41
# (the second thing that tells them apart there, after phrase similarity; (xxvii)). The critic is
# refitted with the shipped options plus register on a copy of the export of the run that made
# the shipped model (RUN: (xxii)'s runs/nott_fresh_xxii), then measured at the shipped sampling
# against the training tunes and the test tunes.
#   bash docs/results/issue19_session_xxviii/scripts/nott_critic_register.sh RUN CACHE COPY
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" CACHE="$2" COPY="$3" O=docs/results/issue19_session_xxviii
rm -rf "$COPY"; mkdir -p "$COPY"; cp -r "$RUN/export" "$COPY/export"
PYTHONPATH=. .venv/bin/python -c "
import json
from hrnnvae import post_training
report = post_training.fit_critic('$COPY/export', '$CACHE', per_emotion=1024, steps=3000, seed=0,
                                  bars=16, input_kind='key_relative', min_real_windows=0,
                                  register=True, log=lambda m: print(m, flush=True))
print(json.dumps(report, indent=1))
" > $O/nott_critic_register_fit.log 2>&1
for SPLIT in train test; do
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvii/scripts/reach_by_pool.py \
    "$CACHE" $SPLIT 8 0,1,2 "$COPY/export" > $O/nott_critic_register_${SPLIT}.log 2>&1
done
