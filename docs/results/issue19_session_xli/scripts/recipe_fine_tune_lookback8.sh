#!/usr/bin/env bash
# Session (xli): the shipped recipe's own fine-tune (configs/nottingham_ship.py: emotion weight 2
# with the density cap, the realism term at 10 per quadrant on the batch's windows, 2,000 steps
# to step 10000, the last state exported) from (xl)'s 8-bar lookback ELBO (runs/lookback8_elbo,
# step 8000), with the model's lookback flags; then the fitted latent prior and the realism
# critic (the adapters and E's fit left out: prior samples never read them). Its control is the
# shipped model (the same recipe without the lookback, another ELBO run). Run it again to resume.
#   bash docs/results/issue19_session_xli/scripts/recipe_fine_tune_lookback8.sh CACHE
set -euo pipefail
cd "$(dirname "$0")/../../../.."
source launch/venv.sh
ARM=lb8_recipe
[[ -d runs/$ARM ]] || cp -r runs/lookback8_elbo runs/$ARM
hrnnvae-train --config=configs/nottingham_ship.py --config.data.cache_dir="$1" \
  --config.model.lookback_input=True "--config.model.lookback_bars=(8,)" \
  --config.post.bar_adapter_steps=0 --config.post.transfer_adapter_steps=0 \
  --config.post.emotion_fit_steps=0 --config.post.ship_as= \
  --workdir=runs/$ARM >> runs/$ARM.log 2>&1
