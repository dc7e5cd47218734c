#!/usr/bin/env bash
# Session (xl): the shipped recipe's ELBO stage to step 8000 from scratch, as (xxxix)'s
# rebuild_elbo.sh, with the decoder also reading the sounding pitch and the event at the same
# place 8 bars back (model.lookback_input, lookback_bars=(8,)): the matching bar of the previous
# 8-bar period, which real tunes restate (their 4-bar phrases two apart agree 0.830, next door
# 0.762) and the shipped model does not (0.885 two apart, 0.833 next door: no period). (c)'s
# :phrase_lookback read 4 and 8 bars back and copied the next phrase too (32-bar phrase
# similarity 0.869). Then the fitted latent prior (for the screen); no other stage. Run it
# again to resume from its last checkpoint (every 500 steps). Judge it against runs/phr_elbo
# (the same recipe without the lookback) by the phrases by distance (phrase_structure.py) and
# the draws of training tunes (draws_by_family.py), both at 32 bars.
#   bash docs/results/issue19_session_xl/scripts/lookback8_elbo.sh CACHE
set -euo pipefail
cd "$(dirname "$0")/../../../.."
source launch/venv.sh
hrnnvae-train --config=configs/nottingham_ship.py --config.data.cache_dir="$1" \
  --config.model.lookback_input=True "--config.model.lookback_bars=(8,)" \
  --config.train.max_steps=8000 \
  --config.post.bar_adapter_steps=0 --config.post.transfer_adapter_steps=0 \
  --config.post.emotion_fit_steps=0 --config.post.critic_fit_steps=0 --config.post.ship_as= \
  --workdir=runs/lookback8_elbo >> runs/lookback8_elbo.log 2>&1
