# Session (xxxvi): how the sampling settings change the samples' rests (the realism test's rest
# share and the share of samples with any rest), for one run's export, 32 bars, 16 an emotion,
# seed 0, K 1 (no critic), against the training spans' 0.008 and 0.354.
#   PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxxvi/scripts/rests_by_setting.py RUN
import sys

import numpy as np

from hrnnvae import pretrained
from hrnnvae.evaluation import realism, scoring

sampler = pretrained.load_model(sys.argv[1] + "/export")
sampler.use_prior("auto")
requested = scoring.requested_emotions(16)
for temperature, top_p in ((0.7, 0.95), (1.0, 0.95), (1.0, 1.0)):
  sampler.steer(temperature=temperature, top_p=top_p, candidates=1)
  events = np.stack([m.events for m in sampler.sample(requested, 32, 0)])
  rests = realism.feature_columns(events, sampler.steps_per_bar,
                                  ["rest_share/rest share"])["rest_share/rest share"]
  print(f"T {temperature} top-p {top_p} K 1: rest share {rests.mean():.4f}, "
        f"samples with a rest {(rests > 0).mean():.3f}", flush=True)
