"""Session (xxiii): the test split's likelihood figures (teacher-forced, greedy, greedy onset
pitch, onset pitch with own and shuffled z), exactly as shipping measures them for the
manifest (evaluation.scoring.likelihood_row), for a run's export before it ships.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxiii/scripts/likelihood.py MODEL CACHE
MODEL: a run, its export/ or a shipped name (pretrained.load_model).
"""
import json
import sys

import numpy as np

from hrnnvae import pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import scoring

model, cache = sys.argv[1:3]
sampler = pretrained.load_model(model)
arrays, _ = cache_lib.load(cache)
row = scoring.likelihood_row(sampler, arrays)
print(json.dumps({k: float(v) if np.isfinite(v) else None for k, v in row.items()}, indent=1))
