#!/usr/bin/env bash
# issue 19 (x): the shipped Nottingham model trained on, warm, with the conductor told where each bar
# sits in its tune (model.tune_bar_positions) and whether it lies in an odd 16-bar part
# (model.part_bars=16, a learned shift zero at the start); with --control, the same steps without
# them. Does the conductor learn a B part? 16-bar windows (hop 4) of the shipped cache.
cd "$(dirname "$0")/../../.."  # the repository root; the cache: runs/nottingham_ship/data
run=runs/x_part; flags=(--config.model.tune_bar_positions=True --config.model.part_bars=16)
if [[ "${1:-}" == "--control" ]]; then run=runs/x_control; flags=(); fi
PYTHONPATH=. .venv/bin/hrnnvae-train --config=configs/nottingham_ship.py --workdir=$run \
  --config.data.cache_dir=runs/nottingham_ship/data --config.train.init_from=hrnnvae/pretrained/nottingham \
  --config.loss.aux_start_step=0 --config.loss.kl_warmup_steps=1 --config.train.learning_rate=4e-4 \
  --config.train.max_steps=${STEPS:-1000} --config.train.eval_every_steps=250 --config.train.min_steps=0 \
  --config.post.bar_adapter_steps=0 --config.post.critic_fit_steps=0 --config.post.emotion_fit_steps=0 \
  --config.post.ship_as= "${flags[@]}"
