#!/usr/bin/env bash
# Session (xxxi): which latents' 32-bar samples a fine-tune moved: a run's prior samples from its
# fitted latent prior and from N(0, I), at T 0.7, top-p 0.95, reach 8, repeat penalty 1 and 1.5,
# K 1 and 16, seed 0, 64 an emotion, against all 944 training spans of 32 bars.
#   bash docs/results/issue19_session_xxxi/scripts/prior_diagnostic.sh RUN CACHE OUT_PREFIX
set -euo pipefail
RUN="$1" CACHE="$2" OUT="$3"
for prior in fitted standard; do
  PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$RUN" --cache="$CACHE" \
    --split=train --temperatures=0.7 --top_ps=0.95 --repeat_penalties=1.0,1.5 \
    --candidates=1,16 --attention_bars=8 --bars=32 --num_samples=64 --seeds=0 --prior=$prior \
    --json="${OUT}_diag_$prior.json" > "${OUT}_diag_$prior.log" 2>&1
done
