"""Session (xvii): transfer_candidates.py's candidates (npz) read back, the choice rules' figures as
means over the seeds given.  python transfer_choice_table.py DIR SPLIT TAG SEEDS(0,1,2) K(1,4,8)"""
import sys

import numpy as np

folder, split, tag, seeds, ks = sys.argv[1:6]
files = [np.load(f"{folder}/candidates_{split}_seed{s}{tag}.npz") for s in seeds.split(",")]
QUADS = ("happy", "tense", "sad", "calm")


def pick(rule, agree, keep, e_prob):
  kind, value = rule
  if kind == "keep+logE":
    return np.argmax(keep + value * np.log(e_prob + 1e-9), 0)
  ok = e_prob >= value
  return np.where(ok.any(0), np.argmax(np.where(ok, keep, -1), 0), np.argmax(e_prob, 0))


rules = [("keep+logE", v) for v in (0.0, 0.05, 0.1, 0.2, 1.0)] + [("E>=", v) for v in (0.5, 0.7, 0.9)]
for k in map(int, ks.split(",")):
  for rule in rules:
    judges, keeps, per_q = [], [], []
    for f in files:
      a, s, p, req = f["agree"][:k], f["keep"][:k], f["e_prob"][:k], f["requested"]
      chosen = pick(rule, a, s, p)
      cols = np.arange(a.shape[1])
      judges.append(a[chosen, cols].mean())
      keeps.append(s[chosen, cols].mean())
      per_q.append([a[chosen, cols][req == q].mean() for q in range(4)])
    q = np.mean(per_q, 0)
    print(f"K {k:2d} {rule[0]:10s}{rule[1]:<5g} judge {np.mean(judges):.3f} "
          f"({' '.join(f'{j:.3f}' for j in judges)}) kept {np.mean(keeps):.3f} "
          + " ".join(f"{n} {v:.2f}" for n, v in zip(QUADS, q)))
