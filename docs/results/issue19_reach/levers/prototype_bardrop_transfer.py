"""Prototype (issue 19 (vi)): emotion transfer on the bar-dropout model with the bars' latents
scaled by alpha (1: the model as it is; 0: z alone, the decoder prior samples use), z moved by
the attribute vector times `shift`. Wrote bardrop_transfer_z_alone.json (alpha 1 and 0, shifts
0 / 1.5 / 3) and bardrop_transfer_bar_latents_scaled.json (alpha 0.25 and 0.5, shifts 1.5 / 3).

  python docs/results/issue19_reach/levers/prototype_bardrop_transfer.py runs/bardrop_shipped \
      out.json 1,0 0,1.5,3
"""
import json
import sys

import numpy as np

from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import scoring
from hrnnvae.sample import Sampler

sampler = Sampler.load(sys.argv[1])
arrays, manifest = cache_lib.load("runs/nottingham_ship/data")
thresholds = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
moved, z_dims, out = sampler.transfer_latents, sampler.hp.latent_dim, {}
for alpha in [float(a) for a in sys.argv[3].split(",")]:
  for shift in [float(s) for s in sys.argv[4].split(",")]:
    sampler.transfer_shift = shift

    def scaled(mu, own, requested, alpha=alpha):
      latents = np.array(moved(mu, own, requested))
      latents[:, z_dims:] *= alpha
      return latents

    sampler.transfer_latents = scaled
    row = scoring.emotion_transfer(sampler, arrays, thresholds, [sampler.temperature], 0)["rows"][0]
    print(alpha, shift, round(row["judge_agreement"], 3), round(row["step_match"], 3), flush=True)
    out[f"{alpha}_{shift}"] = row
json.dump(out, open(sys.argv[2], "w"), indent=1)
