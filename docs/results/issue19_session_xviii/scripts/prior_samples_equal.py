"""Session (xviii): the JSB model shipped from the one call from an empty folder draws the same
prior samples as the model shipped before it (the resumed run RUN's export): 16-bar samples of
every quadrant at the model's own sampling, seeds 0 and 1, compared event for event.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xviii/scripts/prior_samples_equal.py RUN
"""
import sys

import numpy as np

from hrnnvae import pretrained
from hrnnvae.exports import model_dir
from hrnnvae.sample import Sampler

shipped, before = pretrained.load("jsb_chorales"), Sampler.load(model_dir(sys.argv[1]))
for seed in (0, 1):
  ours = [m.events for m in shipped.sample([0, 1, 2, 3] * 4, 16, seed)]
  theirs = [m.events for m in before.sample([0, 1, 2, 3] * 4, 16, seed)]
  print(f"seed {seed}: {sum(np.array_equal(a, b) for a, b in zip(ours, theirs))} of {len(ours)} "
        "samples equal", flush=True)
