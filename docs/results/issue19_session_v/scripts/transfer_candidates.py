"""Prototype: transfer candidates chosen by E. Dumps per-candidate judge/E/kept to npz."""
import sys, time
import numpy as np
from hrnnvae import pretrained, judge
from hrnnvae.data import cache as cache_lib, emotion as emotion_lib
from hrnnvae.evaluation import scoring

split = sys.argv[1]; keeps = [float(k) for k in sys.argv[2].split(",")]; K = int(sys.argv[3])
sampler = pretrained.load("nottingham")
arrays, manifest = cache_lib.load("runs/nottingham_ship/data")
thr = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
rows = scoring.opening_windows(arrays, sampler.steps_per_bar, split)
meter = tuple(sampler.facts["time_signature"])
events = arrays["events"][rows].astype(np.int64); lengths = arrays["lengths"][rows].astype(np.int64)
mu = np.stack([sampler.encode(e[:n], meter) for e, n in zip(events, lengths)])
own = arrays["emotion"][rows].astype(np.int64)
tune = np.repeat(np.arange(len(rows)), 3)
req = (own[tune] + np.tile(np.arange(1, 4), len(rows))) % 4
real = np.arange(events.shape[1])[None] < lengths[tune, None]
out = {"req": req, "own": own[tune], "E_real": sampler.classify(events)}
t0 = time.time()
for keep in keeps:
  sampler.steer(transfer_keep=keep)
  J, P, M = [], [], []
  for k in range(K):
    dec = sampler.decode_posterior(mu[tune], own[tune], req, events[tune], 1000 * k, 0.7)
    dec = np.where(real, dec, 0)
    J.append(judge.labels([d[:n] for d, n in zip(dec, lengths[tune])], sampler.steps_per_bar, thr))
    P.append(sampler.classify(dec)[np.arange(len(req)), req])
    M.append(((dec == events[tune]) & real).sum(1) / lengths[tune])
  out[f"J{keep:g}"], out[f"P{keep:g}"], out[f"M{keep:g}"] = map(np.array, (J, P, M))
  print(keep, "judge", (out[f"J{keep:g}"] == req).mean(), "kept", out[f"M{keep:g}"].mean(), time.time() - t0, flush=True)
np.savez(f"/tmp/tc/{split}_{sys.argv[2]}_{K}.npz", **out)
