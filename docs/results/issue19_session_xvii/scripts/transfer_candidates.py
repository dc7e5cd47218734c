"""Session (xvii), a prototype (no library change): emotion transfer as the shipped model does it
(scoring.transfer_pairs: each opening window asked for the three other quadrants, each decoded
by scoring.transfer_outcome),
decoded K times (seeds SEED * 1000 + k), each candidate scored by the model's own emotion
classifier E (its probability of the requested quadrant) and by the share of the tune's steps it
keeps; then the choice rules below, each a function of E and the steps kept only (the judge
only measures). Writes every candidate's figures (npz) and the rules' table.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/transfer_candidates.py \
      MODEL CACHE SPLIT SEED K OUT   (KEEP=b: transfer_keep b; TAG: the files' suffix)
"""
import json
import os
import pathlib
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import scoring

model, cache, split, seed, K, out = sys.argv[1:7]
seed, K, out = int(seed), int(K), pathlib.Path(out)
out.mkdir(parents=True, exist_ok=True)
sampler = pretrained.load_model(model)
if os.environ.get("KEEP"):  # another transfer_keep than the model's own
  sampler.steer(transfer_keep=float(os.environ["KEEP"]))
thresholds = judge.thresholds_of(sampler.facts)
arrays, _ = cache_lib.load(cache)
pairs = scoring.transfer_pairs(sampler, arrays, split)
tune, requested, real = pairs.tune, pairs.requested, pairs.real
quadrants = len(emotion_lib.EMOTIONS)
agree_KxP, keep_KxP, e_prob_KxP = [], [], []
for k in range(K):
  decoded, agrees, kept = scoring.transfer_outcome(sampler, pairs, thresholds,
                                                   seed * 1000 + k if k else seed,
                                                   sampler.temperature)
  agree_KxP.append(agrees)
  keep_KxP.append(kept)
  e_prob_KxP.append(sampler.classify(np.where(real, decoded, 0))[np.arange(len(tune)), requested])
  print(f"candidate {k}: judge {agree_KxP[-1].mean():.3f} kept {keep_KxP[-1].mean():.3f}", flush=True)
agree, keep, e_prob = map(np.array, (agree_KxP, keep_KxP, e_prob_KxP))
np.savez(out / f"candidates_{split}_seed{seed}{os.environ.get('TAG', '')}.npz", agree=agree, keep=keep, e_prob=e_prob,
         requested=requested)


def table(k_used):
  a, s, p = agree[:k_used], keep[:k_used], e_prob[:k_used]
  cols = np.arange(a.shape[1])
  lines = []
  for lam in (0.0, 0.02, 0.05, 0.1, 0.2):
    pick = np.argmax(s + lam * np.log(p + 1e-9), 0)
    lines.append((f"K {k_used} keep + {lam:g} log E", a[pick, cols], s[pick, cols]))
  for thr in (0.5, 0.7, 0.9):
    ok = p >= thr
    pick = np.where(ok.any(0), np.argmax(np.where(ok, s, -1), 0), np.argmax(p, 0))
    lines.append((f"K {k_used} most kept with E >= {thr:g}", a[pick, cols], s[pick, cols]))
  return lines


report = {"split": split, "seed": seed, "pairs": int(len(tune)), "rows": []}
for k_used in sorted({1, 2, 4, 8, K}):
  for name, a, s in table(k_used):
    per_q = {emotion_lib.EMOTIONS[q]: float(a[requested == q].mean()) for q in range(quadrants)}
    report["rows"].append({"rule": name, "judge": float(a.mean()), "kept": float(s.mean()),
                           "per_quadrant": per_q})
    print(f"{name:34s} judge {a.mean():.3f} kept {s.mean():.3f} "
          + " ".join(f"{q} {v:.2f}" for q, v in per_q.items()), flush=True)
(out / f"choice_{split}_seed{seed}{os.environ.get('TAG', '')}.json").write_text(json.dumps(report, indent=1))
