#!/usr/bin/env bash
# Session (xxiv): JSB's sad quadrant at guidance G (the others as shipped: 1.75, tense 1.5), on a
# copy of the shipped model whose sampling facts say guidance_sad=G (critic, E and prior as
# shipped), measured as jsb_six_seeds.sh measures the shipped model (six seeds, 8 and 16 bars).
#   bash docs/results/issue19_session_xxiv/scripts/jsb_sad_guidance.sh G CACHE OUT [SPLIT] [BARS...]
# BARS: the lengths to measure (default 16 8).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
GUIDANCE="$1" CACHE="$2" OUT="$3" SPLIT="${4:-valid}"
LENGTHS=("${@:5}")
[ ${#LENGTHS[@]} -gt 0 ] || LENGTHS=(16 8)
MODEL="$OUT/model_sad_$GUIDANCE"
mkdir -p "$OUT"
rm -rf "$MODEL" && cp -r hrnnvae/pretrained/jsb_chorales "$MODEL"
PYTHONPATH=. .venv/bin/python -c "
from hrnnvae import post_training
post_training.set_sampling('$MODEL', {'guidance_sad': $GUIDANCE}, chosen_by='a screen (session xxiv)')"
for BARS in "${LENGTHS[@]}"; do
  PYTHONPATH=. .venv/bin/python launch/sampling_sweep.py --workdir="$MODEL" --cache="$CACHE" \
    --split="$SPLIT" --temperatures=0.7 --top_ps=0.95 --guidances=1.75 --repeat_penalties=10 \
    --candidates=32 --section_bars=4 --section_correlations=1.0 --num_samples=64 \
    --seeds=0,1,2,3,4,5 --bars=$BARS --json="$OUT/sweep_${SPLIT}_${BARS}bars_sad$GUIDANCE.json" \
    > "$OUT/sweep_${SPLIT}_${BARS}bars_sad$GUIDANCE.log" 2>&1
done
rm -rf "$MODEL"
