#!/usr/bin/env bash
# Session (xxxix): the shipped recipe's ELBO stage alone, to step 8000, from scratch: the base
# (xxx)-(xxxvii)'s arms ran from (runs/phr_elbo, lost with runs/), for the next session's
# spans fine-tune (docs/results/issue19_session_xxxii/scripts/fine_tune_bar_column.sh copies
# runs/phr_elbo). No stage after training (prior, critic, E, adapters, shipping). Run it again
# to resume from its last checkpoint (every 500 steps).
#   bash docs/results/issue19_session_xxxix/scripts/rebuild_elbo.sh CACHE
set -euo pipefail
cd "$(dirname "$0")/../../../.."
source launch/venv.sh
hrnnvae-train --config=configs/nottingham_ship.py --config.data.cache_dir="$1" \
  --config.train.max_steps=8000 --config.train.fit_latent_prior=False \
  --config.post.bar_adapter_steps=0 --config.post.transfer_adapter_steps=0 \
  --config.post.emotion_fit_steps=0 --config.post.critic_fit_steps=0 --config.post.ship_as= \
  --workdir=runs/phr_elbo >> runs/phr_elbo.log 2>&1
