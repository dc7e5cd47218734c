"""Prototype (needs bar_guidance.diff applied): bar guidance s for greedy reconstruction of a split's windows and interpolation ends. Usage: PYTHONPATH=. python SCRIPT valid 1,1.5,2 0.7"""
import sys, functools, numpy as np, jax, jax.numpy as jnp
from hrnnvae import pretrained
from hrnnvae.data import cache as cache_lib, events as events_lib, sources as sources_lib
from hrnnvae.evaluation import scoring
split = sys.argv[1]; scales = [float(s) for s in sys.argv[2].split(",")]; temps = [float(t) for t in sys.argv[3].split(",")]
sampler = pretrained.load("nottingham")
arrays, manifest = cache_lib.load("runs/nottingham_ship/data")
rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index(split)) & (arrays["transposition"] == 0))[0]
rows = rows[np.random.default_rng(0).permutation(len(rows))[:256]]
ev = arrays["events"][rows].astype(np.int32); ln = arrays["lengths"][rows]; spb = arrays["steps_per_bar"][rows]; em = arrays["emotion"][rows].astype(np.int32)
mu, _ = sampler.posterior(ev, ln, spb)

@functools.partial(jax.jit, static_argnums=(0, 4))
def gen(vae, params, z, e, T, keys, temp, spb, s):
  return vae.apply({"params": params}, z, e, spb, T, keys, temp, method="generate", bar_guidance=s)["events"]

def run(z, e, evs, lens, spbs, s, temp):
  keys = sampler._keys(0, len(z), "decode")
  out = np.asarray(gen(sampler.vae, sampler.params["vae"], jnp.asarray(z), jnp.asarray(e), evs.shape[1], keys, jnp.float32(temp), jnp.asarray(spbs, jnp.int32), jnp.float32(s)))
  mask = np.arange(evs.shape[1])[None] < lens[:, None]
  match = ((out == evs) & mask).sum(1) / lens
  both = mask & (evs >= events_lib.FIRST_PITCH_EVENT) & (out >= events_lib.FIRST_PITCH_EVENT)
  onset = ((out == evs) & both).sum() / both.sum()
  return match, onset

# interpolation ends: opening windows pairs (as scoring.interpolation_ends), at T temps
orow = scoring.opening_windows(arrays, sampler.steps_per_bar, split)
oev = arrays["events"][orow].astype(np.int32); oln = arrays["lengths"][orow]; oem = arrays["emotion"][orow].astype(np.int32)
omu, _ = sampler.posterior(oev, oln, np.full(len(orow), sampler.steps_per_bar))
n = len(orow) // 2 * 2
for s in scales:
  m, o = run(mu, em, ev, ln, spb, s, 1e-4)
  line = f"s {s:g}: greedy windows {m.mean():.3f} onset pitch {o:.3f}"
  for t in temps:
    mm, _ = run(omu[:n], np.repeat(oem[:n:2], 2), oev[:n], oln[:n], np.full(n, sampler.steps_per_bar), s, t)
    line += f" | ends T{t:g} {mm.mean():.3f}"
  print(line, flush=True)
