"""Session (xli): a fine-tune's realism MMD against the training spans it reads (realism_mmd)
and against the validation split's spans (realism_heldout_mmd, loss.realism_heldout), with the
samples' and the training spans' phrase similarity, as means over blocks of logged steps.
  python docs/results/issue19_session_xli/scripts/heldout_trace.py RUN [BLOCK]
"""
import json
import sys

import numpy as np

run, block = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100
rows = [json.loads(line) for line in open(f"{run}/metrics.jsonl")]
rows = [r for r in rows if "train/realism_heldout_mmd" in r]
names = ("realism_mmd", "realism_heldout_mmd", "sample_phrase_similarity",
         "real_phrase_similarity", "sample_bar_repetition", "real_bar_repetition")
print(f"{run}: {len(rows)} logged fine-tune steps, means over blocks of {block} steps")
print("steps".ljust(13) + "".join(f"{n[:22]:>24s}" for n in names) + "   held-out - training")
start = rows[0]["step"] if rows else 0
while rows:
  chunk = [r for r in rows if start <= r["step"] < start + block]
  rows = [r for r in rows if r["step"] >= start + block]
  if chunk:
    means = [np.mean([r[f"train/{n}"] for r in chunk]) for n in names]
    print(f"{start}-{start + block - 1}".ljust(13) + "".join(f"{m:24.4f}" for m in means)
          + f"   {means[1] - means[0]:+.4f}  ({len(chunk)} logged)")
  start += block
