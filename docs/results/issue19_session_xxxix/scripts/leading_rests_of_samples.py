"""Session (xxxix): the share of a model's prior samples that begin with a rest (as
where_rests_are.py counts the real spans'), PER_EMOTION samples a quadrant at its own sampling.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxxix/scripts/leading_rests_of_samples.py \
      MODEL PER_EMOTION BARS [SEED]
"""
import sys

import numpy as np

from hrnnvae.sample import Sampler

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from where_rests_are import rest_steps  # noqa: E402

model, per_emotion, bars = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
samples = Sampler.load(model).sample([0, 1, 2, 3] * per_emotion, bars, seed=seed)
leading = [rest_steps(m.events, len(m.events))[0] for m in samples]
print(f"{model}: {len(samples)} samples of {bars} bars (seed {seed}); begin with a rest: "
      f"{np.mean(leading):.3f}")
