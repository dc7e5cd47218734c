#!/usr/bin/env bash
# Session (xvii): Nottingham 32-bar prior samples in 8-bar sections whose latents follow session
# (xvi)'s AABB form plan (its form_plan_prototype.py at correlation PLAN: the sweep's correlation
# 0.123 means the plan), beside one latent (the shipped sampling) and four sections sharing one
# latent; validation tunes, the shipped sampling otherwise (K 16, 8-bar reach), seeds 0-2.
#   PLAN=0.7 SECTIONS=0,8 CORRS=0.123,1.0 NAME=... bash nott_form_screen.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
O=docs/results/issue19_session_xvii
PYTHONPATH=. .venv/bin/python ${SCRIPT:-docs/results/issue19_session_xvi/scripts/form_plan_prototype.py} $PLAN \
  --pretrained=nottingham --cache=runs/nottingham_ship/data --split=${SPLIT:-valid} \
  --temperatures=0.7 --top_ps=0.95 --guidances=1.0 --repeat_penalties=1.5 --candidates=16 \
  --attention_bars=8 --section_bars=$SECTIONS --section_correlations=$CORRS --bars=${BARS:-32} \
  --num_samples=64 --seeds=${SEEDS:-0,1,2} --json=$O/$NAME.json > $O/$NAME.log 2>&1
