"""Emotion transfer through Sampler's transfer_edits (scoring.emotion_transfer, as the harness and
--mode=reconstruct --emotion=OTHER do it), on a split, at several budgets."""
import sys, json, numpy as np
from hrnnvae import pretrained
from hrnnvae.data import cache as cache_lib, emotion as emotion_lib
from hrnnvae.evaluation import scoring
split, budgets = sys.argv[1], [float(b) for b in sys.argv[2].split(",")]
sampler = pretrained.load("nottingham")
arrays, manifest = cache_lib.load("runs/nottingham_ship/data")
thr = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
rows = []
for budget in budgets:
  sampler.steer(transfer_edits=budget)
  r = scoring.emotion_transfer(sampler, arrays, thr, [0.7], 0, split)
  row = r["rows"][0]
  print(f"{split} transfer_edits {budget:g}: judge {row['judge_agreement']:.3f} kept {row['step_match']:.3f} "
        + " ".join(f"{k} {v:.2f}" for k, v in row["per_quadrant"].items()) + f" ({r['tunes']} tunes)", flush=True)
  rows.append({"transfer_edits": budget, **row})
json.dump(rows, open(sys.argv[3], "w"), indent=1)
