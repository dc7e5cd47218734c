"""Transfer with the bars' latents scaled by a (0: z alone, as shipped; 1: kept) under emotion
guidance s, on a model that may carry the bar adapter.
Usage: PYTHONPATH=. python SCRIPT valid|test 1.5 0 MODEL 0.25,0.5"""
import sys, functools, numpy as np, jax, jax.numpy as jnp
from hrnnvae import pretrained, judge
from hrnnvae.data import cache as cache_lib, emotion as emotion_lib
from hrnnvae.evaluation import scoring
split = sys.argv[1]; scales = [float(s) for s in sys.argv[2].split(",")]; keeps = [float(k) for k in sys.argv[3].split(",")]
guide = "guidance"
sampler = pretrained.load_model(sys.argv[4])
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
# transfer_latents without zeroing bars: mu + shift * attribute vector
means = sampler.latent_prior.means_ExZ
z = mu[tune].copy(); z[:, :means.shape[1]] += sampler.transfer_shift * (means[req] - means[own[tune]])

@functools.partial(jax.jit, static_argnums=(0, 4))
def gen(vae, params, z, e, T, keys, temp, spb, s, keep, kb, rp, tp):
  return vae.apply({"params": params}, z, e, spb, T, keys, temp, method="generate", **{guide: s},
                   keep_BxT=keep, keep_bias=kb, repeat_penalty=rp, top_p=tp)["events"]
keys = sampler._keys(0, len(z), "decode")
z_kept = z.copy()
for a in [float(x) for x in sys.argv[5].split(",")]:
 z = z_kept.copy(); z[:, sampler.hp.latent_dim:] *= a
 for s in scales:
  for kb in keeps:
    dec = np.asarray(gen(sampler.vae, sampler.params["vae"], jnp.asarray(z, jnp.float32), jnp.asarray(req, jnp.int32), events.shape[1], keys, jnp.float32(0.7), jnp.full(len(z), sampler.steps_per_bar, jnp.int32), jnp.float32(s), jnp.asarray(events[tune], jnp.int32), jnp.float32(kb), jnp.float32(1.5), jnp.float32(0.95)))
    J = judge.labels([d[:n] for d, n in zip(dec, lengths[tune])], sampler.steps_per_bar, thr)
    M = ((dec == events[tune]) & real).sum(1) / lengths[tune]
    pq = " ".join(f"{emotion_lib.EMOTIONS[q]} {(J == req)[req == q].mean():.2f}" for q in range(4))
    print(f"bars x {a:g}, emotion guidance {s:g} keep {kb:g}: judge {(J == req).mean():.3f} kept {M.mean():.3f}  {pq}", flush=True)
