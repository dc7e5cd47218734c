"""Prototype: continue the shipped model with the bars always present, the decoder (and bar heads)
trainable, the encoder's z frozen, plus a distillation term that keeps z-alone decoding as it was."""
import sys, time, dataclasses, functools, numpy as np, jax, jax.numpy as jnp, optax
from hrnnvae import pretrained, losses
from hrnnvae.data import cache as cache_lib, events as events_lib, sources as sources_lib
from hrnnvae.train import input_pipeline, step as step_lib
from configs import nottingham_ship
steps_total, lr, lam, every, drop = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
tag = sys.argv[6]
sampler = pretrained.load("nottingham")
hp = sampler.hp
params0 = sampler.params["vae"]
config = nottingham_ship.get_config()
models = step_lib.Models.from_config(config, dataclasses.replace(hp, bar_latent_dropout=drop) if drop else dataclasses.replace(hp, bar_latent_dropout=0.0), sampler.facts["arousal_thresholds"])
vae = models.vae
def trainable(path, leaf):
  p = "/".join(k.key for k in path)
  return jnp.ones_like(leaf) if (p.startswith("decoder/") or p.startswith("bar_")) else jnp.zeros_like(leaf)
mask = jax.tree_util.tree_map_with_path(trainable, params0)
print("trainable", int(sum(x.sum() for x in jax.tree.leaves(mask))), "of", sum(x.size for x in jax.tree.leaves(params0)))
tx = optax.adam(lr)
data = input_pipeline.load("runs/nottingham_ship/data", config.data.max_steps)
buckets = input_pipeline.bar_buckets(data.splits["train"], 64)

def alone_logp(params, batch, grid):
  mu, _ = vae.apply({"params": params0}, batch["events"], batch["lengths"], batch["steps_per_bar"], grid, method="encode")
  z = hp.without_bar_latents(mu)
  logits, _ = vae.apply({"params": params}, z, batch["emotion"], batch["events"], batch["steps_per_bar"], grid, method="decode")
  return jax.nn.log_softmax(logits)

@functools.partial(jax.jit, static_argnums=(4,))
def train(params, opt, batch, rng, grid):
  m = step_lib._mask(batch)
  old = jax.lax.stop_gradient(alone_logp(params0, batch, grid))
  def loss(p):
    elbo, _, metrics = step_lib.elbo_terms(models, p, batch, m, rng, grid, jnp.float32(config.loss.beta_max))
    new = alone_logp(p, batch, grid)
    kl_BxT = (jnp.exp(old) * (old - new)).sum(-1)
    distill = (kl_BxT * m).sum() / jnp.maximum(m.sum(), 1)
    return elbo + lam * distill, (metrics["reconstruction_loss"], distill)
  (value, (nll, distill)), grads = jax.value_and_grad(loss, has_aux=True)(params)
  grads = jax.tree.map(jnp.multiply, step_lib.clip(grads, config.train.grad_clip_norm), mask)
  updates, opt = tx.update(grads, opt, params)
  updates = jax.tree.map(jnp.multiply, updates, mask)
  return optax.apply_updates(params, updates), opt, nll, distill

arrays, _ = cache_lib.load("runs/nottingham_ship/data")
rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index("valid")) & (arrays["transposition"] == 0))[0]
rows = rows[np.random.default_rng(0).permutation(len(rows))[:256]]
ev = arrays["events"][rows].astype(np.int32); ln = arrays["lengths"][rows]; spb = arrays["steps_per_bar"][rows]; em = arrays["emotion"][rows].astype(np.int32)
zp = sampler.prior(256, 0, list(em))
def measure(params):
  sampler.params = {**sampler.params, "vae": params}
  mu, _ = sampler.posterior(ev, ln, spb)
  out = sampler.decode(mu, em, ev.shape[1], 0, temperature=1e-4, steps_per_bar=spb, emotion_guidance=1.0, repeat_penalty=1.0, short_note_penalty=1.0)
  maskT = np.arange(ev.shape[1])[None] < ln[:, None]
  both = maskT & (ev >= events_lib.FIRST_PITCH_EVENT) & (out >= events_lib.FIRST_PITCH_EVENT)
  prior_greedy = sampler.decode(zp, em, ev.shape[1], 0, temperature=1e-4)
  return ((out == ev) & maskT).sum() / maskT.sum(), ((out == ev) & both).sum() / both.sum(), prior_greedy
a0 = measure(params0)
print(f"step 0: greedy {a0[0]:.3f} onset {a0[1]:.3f}", flush=True)
params, opt = params0, tx.init(params0)
step, t0, rng, epoch = 0, time.time(), jax.random.key(7), 0
while step < steps_total:
  for batch, width in input_pipeline.bucketed_batches(data.splits["train"], 64, 7, epoch, buckets, data.max_bars):
    batch = {k: jnp.asarray(v) for k, v in batch.items()}
    params, opt, nll, distill = train(params, opt, batch, jax.random.fold_in(rng, step), (data.max_bars, width))
    step += 1
    if step % every == 0 or step == steps_total:
      a = measure(params)
      same = (a[2] == a0[2]).mean()
      print(f"step {step}: nll {float(nll):.4f} distill {float(distill):.4f} greedy {a[0]:.3f} onset {a[1]:.3f} prior greedy same steps {same:.3f} {time.time()-t0:.0f}s", flush=True)
    if step >= steps_total:
      break
  epoch += 1
from flax import serialization
open(f"/tmp/tc/distill_{tag}.msgpack", "wb").write(serialization.msgpack_serialize(jax.tree.map(np.asarray, params)))
