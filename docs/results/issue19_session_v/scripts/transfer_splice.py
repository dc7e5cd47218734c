"""Transfer by bars: the model's transfer decode T' spliced into the tune at the bars the requested
emotion finds least likely (teacher-forced log p under (z', e') minus under (z, own e)), a share q
of the bars; against the same share of bars chosen at random. Usage: PYTHONPATH=. python SCRIPT valid"""
import sys, functools, numpy as np, jax, jax.numpy as jnp
from hrnnvae import pretrained, judge
from hrnnvae.data import cache as cache_lib, emotion as emotion_lib
from hrnnvae.evaluation import scoring
split = sys.argv[1]
sampler = pretrained.load("nottingham")
arrays, manifest = cache_lib.load("runs/nottingham_ship/data")
thr = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
rows = scoring.opening_windows(arrays, sampler.steps_per_bar, split)
meter = tuple(sampler.facts["time_signature"]); spb = sampler.steps_per_bar
events = arrays["events"][rows].astype(np.int64); lengths = arrays["lengths"][rows].astype(np.int64)
mu = np.stack([sampler.encode(e[:n], meter) for e, n in zip(events, lengths)])
own = arrays["emotion"][rows].astype(np.int64)
tune = np.repeat(np.arange(len(rows)), 3)
req = (own[tune] + np.tile(np.arange(1, 4), len(rows))) % 4
real = np.arange(events.shape[1])[None] < lengths[tune, None]
moved = sampler.decode_posterior(mu[tune], own[tune], req, events[tune], 0, 0.7)
z_moved = sampler.transfer_latents(mu[tune], own[tune], req)

@functools.partial(jax.jit, static_argnums=0)
def logp(vae, params, z, e, ev, spbs):
  logits, _ = vae.apply({"params": params}, z, e, ev, spbs, method="decode")
  lp = jax.nn.log_softmax(logits)
  return jnp.take_along_axis(lp, ev[..., None], -1)[..., 0]
spbs = jnp.full(len(tune), spb, jnp.int32)
ev = jnp.asarray(events[tune], jnp.int32)
lp_new = np.asarray(logp(sampler.vae, sampler.params["vae"], jnp.asarray(z_moved), jnp.asarray(req, jnp.int32), ev, spbs))
lp_old = np.asarray(logp(sampler.vae, sampler.params["vae"], jnp.asarray(mu[tune]), jnp.asarray(own[tune], jnp.int32), ev, spbs))
T = events.shape[1]; bars = T // spb
ratio = ((lp_new - lp_old) * real).reshape(len(tune), bars, spb).sum(-1)
nbars = lengths[tune] // spb
rng = np.random.default_rng(0)
from hrnnvae.data import events as events_lib
def spans(e, n):
  """(start, stop) of each note or rest: from an event that is not a hold to the next such."""
  starts = [t for t in range(n) if e[t] != events_lib.HOLD or t == 0] if hasattr(events_lib, "HOLD") else None
  return list(zip(starts, starts[1:] + [n]))
SP = [spans(events[tune[i]], lengths[tune[i]]) for i in range(len(tune))]
step_ratio = (lp_new - lp_old) * real
def splice_notes(order_fn, q):
  out = events[tune].copy()
  for i in range(len(tune)):
    k = int(round(q * len(SP[i])))
    for j in order_fn(i)[:k]:
      a, b = SP[i][j]
      out[i, a:b] = moved[i, a:b]
  J = judge.labels([d[:n] for d, n in zip(out, lengths[tune])], spb, thr)
  M = ((out == events[tune]) & real).sum(1) / lengths[tune]
  return (J == req).mean(), M.mean()
def splice(order_fn, q):
  out = events[tune].copy()
  for i in range(len(tune)):
    k = int(round(q * nbars[i]))
    chosen = order_fn(i)[:k]
    for b in chosen:
      out[i, b * spb:(b + 1) * spb] = moved[i, b * spb:(b + 1) * spb]
  J = judge.labels([d[:n] for d, n in zip(out, lengths[tune])], spb, thr)
  M = ((out == events[tune]) & real).sum(1) / lengths[tune]
  return (J == req).mean(), M.mean(), " ".join(f"{emotion_lib.EMOTIONS[q_]} {(J == req)[req == q_].mean():.2f}" for q_ in range(4))
J = judge.labels([d[:n] for d, n in zip(moved, lengths[tune])], spb, thr)
print(f"whole transfer: judge {(J == req).mean():.3f} kept {(((moved == events[tune]) & real).sum(1) / lengths[tune]).mean():.3f}")
for q in (0.25, 0.375, 0.5, 0.625, 0.75):
  by_ratio = splice(lambda i: np.argsort(ratio[i, :nbars[i]]), q)
  at_random = splice(lambda i: rng.permutation(nbars[i]), q)
  print(f"q {q}: least likely bars: judge {by_ratio[0]:.3f} kept {by_ratio[1]:.3f} ({by_ratio[2]}) | random bars: judge {at_random[0]:.3f} kept {at_random[1]:.3f}", flush=True)

for q in (0.25, 0.375, 0.5, 0.625):
  r = splice_notes(lambda i: np.argsort([step_ratio[i, a:b].sum() for a, b in SP[i]]), q)
  x = splice_notes(lambda i: rng.permutation(len(SP[i])), q)
  print(f"notes q {q}: least likely: judge {r[0]:.3f} kept {r[1]:.3f} | random: judge {x[0]:.3f} kept {x[1]:.3f}", flush=True)
