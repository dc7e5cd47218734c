#!/usr/bin/env bash
# Session (xv): the shipped Nottingham model's realism critic refitted reading how each melody
# restates its bars (config.post.critic_repetition), on a copy of an export reconstituted from
# the shipped folder (docs/results/issue19_session_xiv/ship/reship.py's RUN), then the shipped
# sampling (K 16, 8-bar reach) at 32 bars on the validation tunes, seeds 0-2, beside the shipped
# model's own critic.
#   bash docs/results/issue19_session_xv/scripts/nott_critic_repetition_screen.sh RUN CACHE COPY
set -euo pipefail
cd "$(dirname "$0")/../../../.."
RUN="$1" CACHE="$2" COPY="$3" O=docs/results/issue19_session_xv
rm -rf "$COPY"; mkdir -p "$COPY"; cp -r "$RUN/export" "$COPY/export"
PYTHONPATH=. .venv/bin/python -c "
import json
from hrnnvae import post_training
report = post_training.fit_critic('$COPY/export', '$CACHE', per_emotion=1024, steps=3000, seed=0,
                                  bars=16, input_kind='key_relative', min_real_windows=0,
                                  repetition=True, log=lambda m: print(m, flush=True))
print(json.dumps(report, indent=1))
" > $O/nott_critic_repetition_fit.log 2>&1
SETTINGS=(--split=valid --temperatures=0.7 --top_ps=0.95 --repeat_penalties=1.5 --candidates=16
          --attention_bars=8 --bars=32 --num_samples=64 --seeds=0,1,2)
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$COPY" --cache="$CACHE" \
  "${SETTINGS[@]}" --json=$O/nott_critic_repetition_32bars_valid.json \
  > $O/nott_critic_repetition_32bars_valid.log 2>&1
PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --pretrained=nottingham --cache="$CACHE" \
  "${SETTINGS[@]}" --json=$O/nott_shipped_32bars_valid.json > $O/nott_shipped_32bars_valid.log 2>&1
