"""Transfer favouring the tune with its mode moved by rule (launch/transfer_floor.py's degree moves)
instead of the tune itself; ENCODE_MAPPED=1 also encodes the bars' latents from the moved tune.

  PYTHONPATH=. python docs/results/issue19_session_xiv/scripts/mode_moved_keep.py nottingham CACHE valid 1.25:1,1.5:2
(GUIDANCE:KEEP pairs)
"""
import numpy as np, collections, sys, json
sys.path.insert(0, "launch")
import transfer_floor as tf
from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib, emotion as emotion_lib
from hrnnvae.evaluation import scoring
name, cache, split = sys.argv[1], sys.argv[2], sys.argv[3]
grid = [tuple(map(float, s.split(":"))) for s in sys.argv[4].split(",")]
sampler = pretrained.load_model(name)
th = judge.thresholds_of(sampler.facts)
arrays, _ = cache_lib.load(cache)
spb = sampler.steps_per_bar
rows = scoring.opening_windows(arrays, spb, split)
meter = tuple(sampler.facts["time_signature"])
events = arrays["events"][rows].astype(np.int64); lengths = arrays["lengths"][rows].astype(np.int64)
mu = np.stack([sampler.encode(e[:n], meter) for e, n in zip(events, lengths)])
own = arrays["emotion"][rows].astype(np.int64)
tune = np.repeat(np.arange(len(rows)), 3)
req = (own[tune] + np.tile(np.arange(1, 4), len(rows))) % 4
def mapped(melody, n, requested):
  wants_major = requested in (0, 3)
  m = melody[:n].copy()
  for _ in range(2):
    if bool(judge.features([m], spb).is_major[0]) != wants_major:
      m = tf._change_mode(m, spb, wants_major)
  out = melody.copy(); out[:n] = m; return out
targets = np.stack([mapped(events[t], lengths[t], r) for t, r in zip(tune, req)])
real = np.arange(events.shape[1])[None] < lengths[tune, None]
print("target differs from tune on", float((((targets != events[tune]) & real).sum(1)/lengths[tune]).mean()))
E = emotion_lib.EMOTIONS
import os
if os.environ.get("ENCODE_MAPPED"):
  mu_t = np.stack([sampler.encode(e[:lengths[t]], meter) for e, t in zip(targets, tune)])
  z = sampler.transfer_latents(mu_t, own[tune], req)
else:
  z = sampler.transfer_latents(mu[tune], own[tune], req)
for g, k in grid:
  dec = sampler.decode(z, req, events.shape[1], 0, None, emotion_guidance=g, keep=targets,
                       keep_bias=k, transfer=True)
  judged = judge.labels([d[:n] for d, n in zip(dec, lengths[tune])], spb, th)
  agree = judged == req
  match = ((dec == events[tune]) & real).sum(1) / lengths[tune]
  print(f"g {g} keep {k}: judge {agree.mean():.3f} kept {match.mean():.3f} " +
        " ".join(f"{E[q]} {agree[req==q].mean():.2f}/{match[req==q].mean():.2f}" for q in range(4)), flush=True)
