#!/usr/bin/env bash
# Session (xxx): two fine-tunes from one ELBO state (the shipped recipe to step 8000,
# runs/phr_elbo), both reading their samples at the sampling users hear (T 0.7, top-p 0.95),
# one with the phrases' similarity in the realism term, to step 10000 (the shipped recipe's),
# then the fitted latent prior and the realism critic (the bar and transfer adapters and E's fit
# are left out: prior samples never read them). Run side by side on the 2 cores.
#   bash docs/results/issue19_session_xxx/scripts/fine_tune_arms.sh CACHE
set -euo pipefail
CACHE="$1"
source launch/venv.sh
common=(--config=configs/nottingham_ship.py --config.data.cache_dir="$CACHE"
        --config.train.eval_every_steps=1000 --config.post.bar_adapter_steps=0
        --config.post.transfer_adapter_steps=0 --config.post.emotion_fit_steps=0
        --config.post.ship_as= --config.loss.aux_sample_temperature=0.7
        --config.loss.aux_sample_top_p=0.95)
for arm in t07 t07_phrases; do
  [[ -d runs/phr_$arm ]] || cp -r runs/phr_elbo runs/phr_$arm
done
hrnnvae-train "${common[@]}" --workdir=runs/phr_t07 > runs/phr_t07.log 2>&1 &
hrnnvae-train "${common[@]}" --workdir=runs/phr_t07_phrases --config.loss.realism_phrases=True \
  > runs/phr_t07_phrases.log 2>&1 &
wait
