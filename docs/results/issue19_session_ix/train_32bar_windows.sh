#!/usr/bin/env bash
# issue 19 (ix): the shipped Nottingham model trained on, warm, on 32-bar windows (hop 8): does the conductor learn a B part?
cd "$(dirname "$0")/../../.."  # the repository root; the cache: see NOTE.md
PYTHONPATH=. .venv/bin/hrnnvae-train --config=configs/nottingham_ship.py --workdir=runs/n32/run \
  --config.data.cache_dir=runs/n32/data --config.train.init_from=hrnnvae/pretrained/nottingham \
  --config.loss.aux_start_step=0 --config.loss.kl_warmup_steps=1 --config.train.learning_rate=4e-4 \
  --config.train.max_steps=1600 --config.train.eval_every_steps=400 --config.train.min_steps=0 \
  --config.post.bar_adapter_steps=0 --config.post.critic_fit_steps=0 --config.post.emotion_fit_steps=0 \
  --config.post.ship_as=
