#!/usr/bin/env bash
# Session (xxvii): (xv)'s Nottingham screen of a realism critic that reads the bars' restatements
# (config.post.critic_repetition), measured against the pools that rank form as the test tunes
# do (the training split's, BUILD_NOTES.md (xxvii)) and on the test tunes, not the validation
# ones. The critic is refitted with the shipped options on a copy of the export of the run that
# made the shipped model (RUN: (xxii)'s runs/nott_fresh_xxii).
#   bash docs/results/issue19_session_xxvii/scripts/nott_critic_repetition.sh RUN CACHE COPY
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" CACHE="$2" COPY="$3" O=docs/results/issue19_session_xxvii
rm -rf "$COPY"; mkdir -p "$COPY"; cp -r "$RUN/export" "$COPY/export"
PYTHONPATH=. .venv/bin/python -c "
import json
from hrnnvae import post_training
report = post_training.fit_critic('$COPY/export', '$CACHE', per_emotion=1024, steps=3000, seed=0,
                                  bars=16, input_kind='key_relative', min_real_windows=0,
                                  repetition=True, log=lambda m: print(m, flush=True))
print(json.dumps(report, indent=1))
" > $O/nott_critic_repetition_fit.log 2>&1
for SPLIT in train test; do
  PYTHONPATH=. .venv/bin/python $O/scripts/reach_by_pool.py "$CACHE" $SPLIT 8 0,1,2 "$COPY/export" \
    > $O/nott_critic_repetition_${SPLIT}.log 2>&1
done
