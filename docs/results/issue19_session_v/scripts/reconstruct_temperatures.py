"""Whole tunes of a split through Sampler.reconstruct (as --mode=reconstruct), and interpolation
ends, at several temperatures. Usage: PYTHONPATH=. python SCRIPT valid 0.0001,0.3,0.5,0.7"""
import sys, pathlib, json, numpy as np
from hrnnvae import pretrained, melody_io
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import scoring
sys.path.insert(0, "launch")
import reconstruct_check as rc
split = sys.argv[1]; temps = [float(t) for t in sys.argv[2].split(",")]
sampler = pretrained.load("nottingham")
arrays, manifest = cache_lib.load("runs/nottingham_ship/data")
names = sorted(n for n, s in manifest["split_of_piece"].items() if s == split)
midi = pathlib.Path("/work/shared/datasets/nottingham/MIDI/melody")
tunes = [melody_io.read_melody(midi / f"{n}.mid") for n in names if (midi / f"{n}.mid").is_file()]
print(split, len(tunes), "tunes", flush=True)


def interpolation_ends(split):
  """scoring.interpolation_ends on `split`'s opening windows (the same code, any split)."""
  rows = scoring.opening_windows(arrays, sampler.steps_per_bar, split)
  meter = tuple(sampler.facts["time_signature"])
  events = arrays["events"][rows].astype(np.int64); lengths = arrays["lengths"][rows].astype(np.int64)
  mu = np.stack([sampler.encode(e[:n], meter) for e, n in zip(events, lengths)])
  pairs = [(i, i + 1) for i in range(0, len(rows) - 1, 2)]
  ends_z = np.concatenate([scoring.slerp(mu[a], mu[b], np.array([0.0, 1.0])) for a, b in pairs])
  emotions = np.repeat([int(arrays["emotion"][rows[a]]) for a, _ in pairs], 2)
  decoded = sampler.decode(ends_z, emotions, events.shape[1], 0)
  inputs = np.array([index for pair in pairs for index in pair])
  real = np.arange(events.shape[1])[None] < lengths[inputs][:, None]
  return {"step_match": float((((decoded == events[inputs]) & real).sum(1) / lengths[inputs]).mean())}
for t in temps:
  matches, keys = [], []
  for events, meter in tunes:
    spb = sampler.bar_steps(meter)
    dec = sampler.reconstruct(events, meter, [None], 0, t)[0]
    matches.append(float((dec == events).mean())); keys.append(rc._key(dec, spb) == rc._key(events, spb))
  sampler.steer(temperature=t)
  ends = interpolation_ends(split)
  print(f"T {t:g}: whole tunes steps {np.mean(matches):.3f} (>=80%: {np.mean(np.array(matches) >= 0.8):.3f}) key {np.mean(keys):.3f}"
        + f" | interpolation ends {ends['step_match']:.3f}", flush=True)
