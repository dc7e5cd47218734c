"""Where emotion transfers fail: for each (requested, own) quadrant pair on a split's opening windows,
the judge's agreement, the steps kept and what the judge said, at two transfer settings.

  PYTHONPATH=. python docs/results/issue19_session_xiv/scripts/failures_by_pair.py valid
"""
import numpy as np, collections
from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib, emotion as emotion_lib
from hrnnvae.evaluation import scoring
import sys
sampler = pretrained.load_model("nottingham")
th = judge.thresholds_of(sampler.facts)
arrays, _ = cache_lib.load("runs/nottingham_ship/data")
split = sys.argv[1]
rows = scoring.opening_windows(arrays, sampler.steps_per_bar, split)
meter = tuple(sampler.facts["time_signature"])
events = arrays["events"][rows].astype(np.int64); lengths = arrays["lengths"][rows].astype(np.int64)
mu = np.stack([sampler.encode(e[:n], meter) for e, n in zip(events, lengths)])
own = arrays["emotion"][rows].astype(np.int64)
tune = np.repeat(np.arange(len(rows)), 3)
req = (own[tune] + np.tile(np.arange(1, 4), len(rows))) % 4
E = emotion_lib.EMOTIONS
for g,k in [(1.25,1.0),(1.25,0.0)]:
  sampler.steer(transfer_guidance=g, transfer_keep=k)
  dec = sampler.decode_posterior(mu[tune], own[tune], req, events[tune], 0, None, lengths_B=lengths[tune])
  judged = judge.labels([d[:n] for d,n in zip(dec, lengths[tune])], sampler.steps_per_bar, th)
  real = np.arange(events.shape[1])[None] < lengths[tune, None]
  match = ((dec == events[tune]) & real).sum(1) / lengths[tune]
  print("guidance",g,"keep",k)
  for q in range(4):
    for o in range(4):
      sel=(req==q)&(own[tune]==o)
      if sel.any():
        c=collections.Counter(E[j] for j in judged[sel])
        print(f"  asked {E[q]:6s} from {E[o]:6s} n={sel.sum():3d} agree {np.mean(judged[sel]==q):.2f} kept {match[sel].mean():.2f} judged {dict(c)}")
