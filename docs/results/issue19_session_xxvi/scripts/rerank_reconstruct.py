"""Session (xxvi): whole tunes through reconstruction with a choice among candidate decodes,
the choice made from the model alone (never from the tune's events): each 16-bar section as
Sampler.reconstruct cuts it, its greedy decode and K decodes at TEMPERATURE (seeds 1..K), and
per section the candidate kept by
  encode:  the candidate whose own posterior mean is nearest the section's (squared distance in
           the posterior's standard deviations), i.e. the decode that encodes back to the same code;
  loglik:  the candidate most likely under the decoder teacher-forced at the section's mu (its
           own emotion), i.e. an approximate maximum-likelihood decode.
The oracle (the candidate with the most steps kept) is printed as the pool's ceiling, not a lever.
Reports, over the split's whole tunes read from MIDI: steps kept and the share of tunes whose
Krumhansl key is kept (launch/reconstruct_check.py's tunes check), for each rule.
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxvi/scripts/rerank_reconstruct.py \
      MODEL CACHE MIDI_DIR SPLIT K TEMPERATURE
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

from hrnnvae import judge, losses, melody_io, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib

model, cache, midi_dir, split = sys.argv[1:5]
K, temperature = int(sys.argv[5]), float(sys.argv[6])
sampler = pretrained.load_model(model)
_, manifest = cache_lib.load(cache)
names = sorted(n for n, s in manifest["split_of_piece"].items() if s == split)
thresholds = judge.thresholds_of(sampler.facts)


@jax.jit
def log_likelihood(params, z_BxZ, emotion_B, events_BxT, spb_B, lengths_B):
  logits, _ = sampler.vae.apply({"params": params}, z_BxZ, emotion_B, events_BxT, spb_B,
                                method="decode")
  mask = jnp.arange(events_BxT.shape[1])[None] < lengths_B[:, None]
  nll_B, _ = losses.reconstruction(logits, events_BxT, mask)
  return -nll_B


def key(events, spb):
  f = emotion_lib.melody_features(events[None], np.array([len(events)]), np.array([spb]))
  return bool(f.is_major[0]), int(f.key_tonic[0])


RULES = ("greedy", "encode", "loglik", "oracle")
kept = {r: [] for r in RULES}
steps = {r: [] for r in RULES}
for name in names:
  try:
    events, meter = melody_io.read_melody(f"{midi_dir}/{name}.mid")
  except Exception as error:  # noqa: BLE001
    print(f"skipped {name}: {error}")
    continue
  spb = sampler.bar_steps(meter)
  section = int(sampler.facts.get("max_bars", 16)) * spb
  pieces = [events[s:s + section] for s in range(0, len(events), section)]
  padded = np.zeros((len(pieces), section), np.int32)
  for row, piece in enumerate(pieces):
    padded[row, :len(piece)] = piece
  lengths = np.array([len(p) for p in pieces])
  spb_B = np.full(len(pieces), spb)
  mu, log_var = sampler.posterior(padded, lengths, spb_B)
  own = judge.labels(pieces, spb, thresholds)
  ids = np.arange(len(pieces))
  candidates = [sampler.decode_posterior(mu, own, own, padded, 0, 1e-4, melody_ids=ids,
                                         steps_per_bar=spb, lengths_B=lengths)]
  for k in range(1, K + 1):
    candidates.append(sampler.decode_posterior(mu, own, own, padded, k, temperature,
                                               melody_ids=ids, steps_per_bar=spb,
                                               lengths_B=lengths))
  cands = np.stack(candidates)  # [C, S, T]
  C = len(cands)
  real = np.arange(section)[None] < lengths[:, None]
  flat = cands.reshape(C * len(pieces), section) * np.tile(real, (C, 1))
  mu_c, _ = sampler.posterior(flat, np.tile(lengths, C), np.tile(spb_B, C))
  mu_c = mu_c.reshape(C, len(pieces), -1)
  distance = (((mu_c - mu[None]) ** 2) / np.exp(log_var)[None]).sum(-1)  # [C, S]
  ll = np.asarray(log_likelihood(sampler.params["vae"], jnp.tile(mu, (C, 1)),
                                 jnp.tile(own, C), flat, np.tile(spb_B, C),
                                 np.tile(lengths, C))).reshape(C, len(pieces))
  match = ((cands == padded[None]) & real[None]).sum(-1)  # [C, S]
  choice = {"greedy": np.zeros(len(pieces), int), "encode": distance.argmin(0),
            "loglik": ll.argmax(0), "oracle": match.argmax(0)}
  for rule, pick in choice.items():
    decoded = np.concatenate([cands[c, s, :n] for s, (c, n) in enumerate(zip(pick, lengths))])
    steps[rule].append(float((decoded == events).mean()))
    kept[rule].append(key(decoded, spb) == key(events, spb))
  print(f"{name:16s} sections {len(pieces)} " + " ".join(
      f"{r} {steps[r][-1]:.3f}{'' if kept[r][-1] else '*'}" for r in RULES), flush=True)
print(f"\n{split}: {len(steps['greedy'])} tunes, K {K} at T {temperature} (+ greedy)")
print(f"{'rule':>8}{'steps kept':>12}{'>= 80%':>9}{'key kept':>10}")
for rule in RULES:
  s = np.array(steps[rule])
  print(f"{rule:>8}{s.mean():>12.3f}{(s >= 0.8).mean():>9.3f}{np.mean(kept[rule]):>10.3f}")
