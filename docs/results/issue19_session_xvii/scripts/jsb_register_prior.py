"""Session (xvii): does JSB's register offset come from the fitted latent prior? The mean MIDI
pitch of 16-bar prior samples (64 an emotion, seed 0, guidance 1, K 1) from the fitted prior and
from N(0, I), and of the greedy decodes of the validation chorales' own latents (mu, z alone as
prior samples decode it).
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xvii/scripts/jsb_register_prior.py CACHE
"""
import pathlib
import sys

import numpy as np

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import realism

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from jsb_register import mean_pitch  # noqa: E402


sampler = pretrained.load_model("jsb_chorales")
arrays, manifest = cache_lib.load(sys.argv[1])
spb = sampler.steps_per_bar
sampler.steer(emotion_guidance=1.0, quadrant_guidance=(0.0,) * 4, candidates=1)
for kind in ("fitted", "standard"):
  sampler.use_prior(kind)
  row = [f"{name} {np.nanmean(mean_pitch([m.events for m in sampler.sample([q] * 64, 16, 0)])):.1f}"
         for q, name in enumerate(emotion_lib.EMOTIONS)]
  print(f"prior {kind}: " + ", ".join(row), flush=True)
real = realism.real_tunes(arrays, 16, spb, judge.thresholds_of(manifest), split="valid")
mu, _ = sampler.posterior(real.events, np.full(len(real.events), real.events.shape[1]),
                          np.full(len(real.events), spb))
z_alone = np.asarray(sampler.hp.without_bar_latents(np.asarray(mu))) if sampler.hp.prior_drops_bar_latents else np.asarray(mu)
decoded = sampler.decode(z_alone, list(real.quadrants), real.events.shape[1], 0, temperature=1e-4,
                         emotion_guidance=1.0, z_alone=sampler.hp.prior_drops_bar_latents)
print(f"validation chorales {np.nanmean(mean_pitch(real.events)):.1f}; greedy decodes of their "
      f"z alone {np.nanmean(mean_pitch(decoded)):.1f}", flush=True)
