"""Prototype: train only the weights that read the bars' latents (dropout off), measure greedy
onset pitch on valid windows and check z-alone decodes are unchanged."""
import sys, time, dataclasses, functools, numpy as np, jax, jax.numpy as jnp, optax, ml_collections
from hrnnvae import pretrained, models as models_lib
from hrnnvae.data import cache as cache_lib, events as events_lib, sources as sources_lib
from hrnnvae.train import input_pipeline, step as step_lib
from hrnnvae.evaluation import scoring
from configs import nottingham_ship
steps_total = int(sys.argv[1]); lr = float(sys.argv[2]); every = int(sys.argv[3])
sampler = pretrained.load("nottingham")
hp = sampler.hp
params0 = sampler.params["vae"]
config = nottingham_ship.get_config()
hp_train = dataclasses.replace(hp, bar_latent_dropout=0.0)
models = step_lib.Models.from_config(config, hp_train, sampler.facts["arousal_thresholds"])
Zb = hp.bar_latent_dim
def mask_of(params):
  def m(path, leaf):
    p = "/".join(k.key for k in path)
    out = jnp.zeros_like(leaf)
    if p.startswith("bar_mu") or p.startswith("bar_log_var"):
      return jnp.ones_like(leaf)
    if p == "decoder/conductor/steps/cell/input/kernel":
      return out.at[-Zb:].set(1.0)
    if p in ("decoder/short_term_init/kernel", "decoder/long_term_init/kernel"):
      return out.at[-Zb:].set(1.0)
    if p == "decoder/step/short_term/input/kernel":
      start = hp.embed_dim + hp.conductor_dim
      return out.at[start:start + Zb].set(1.0)
    return out
  return jax.tree_util.tree_map_with_path(m, params)
mask = mask_of(params0)
print("trainable", int(sum(x.sum() for x in jax.tree.leaves(mask))))
tx = optax.adam(lr)
data = input_pipeline.load("runs/nottingham_ship/data", config.data.max_steps)
buckets = input_pipeline.bar_buckets(data.splits["train"], 64)

@functools.partial(jax.jit, static_argnums=(4,))
def train(params, opt, batch, rng, grid):
  m = step_lib._mask(batch)
  def loss(p):
    return step_lib.elbo_terms(models, p, batch, m, rng, grid, jnp.float32(config.loss.beta_max))[0]
  value, grads = jax.value_and_grad(loss)(params)
  grads = step_lib.clip(grads, config.train.grad_clip_norm)
  grads = jax.tree.map(jnp.multiply, grads, mask)
  updates, opt = tx.update(grads, opt, params)
  updates = jax.tree.map(jnp.multiply, updates, mask)
  return optax.apply_updates(params, updates), opt, value

# valid measure
arrays, _ = cache_lib.load("runs/nottingham_ship/data")
rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index("valid")) & (arrays["transposition"] == 0))[0]
rows = rows[np.random.default_rng(0).permutation(len(rows))[:256]]
ev = arrays["events"][rows].astype(np.int32); ln = arrays["lengths"][rows]; spb = arrays["steps_per_bar"][rows]; em = arrays["emotion"][rows].astype(np.int32)
def measure(params):
  sampler.params = {**sampler.params, "vae": params}
  mu, _ = sampler.posterior(ev, ln, spb)
  out = sampler.decode(mu, em, ev.shape[1], 0, temperature=1e-4, steps_per_bar=spb, emotion_guidance=1.0, repeat_penalty=1.0, short_note_penalty=1.0)
  maskT = np.arange(ev.shape[1])[None] < ln[:, None]
  both = maskT & (ev >= events_lib.FIRST_PITCH_EVENT) & (out >= events_lib.FIRST_PITCH_EVENT)
  z = np.asarray(hp.without_bar_latents(mu))
  alone = sampler.decode(z, em, ev.shape[1], 0)
  return ((out == ev) & maskT).sum() / maskT.sum(), ((out == ev) & both).sum() / both.sum(), alone
a0 = measure(params0)
print(f"step 0: greedy {a0[0]:.3f} onset {a0[1]:.3f}", flush=True)
params, opt = params0, tx.init(params0)
step, t0, rng = 0, time.time(), jax.random.key(7)
epoch = 0
while step < steps_total:
  for batch, width in input_pipeline.bucketed_batches(data.splits["train"], 64, 7, epoch, buckets, data.max_bars):
    batch = {k: jnp.asarray(v) for k, v in batch.items()}
    params, opt, value = train(params, opt, batch, jax.random.fold_in(rng, step), (data.max_bars, width))
    step += 1
    if step % every == 0 or step == steps_total:
      a = measure(params)
      print(f"step {step}: loss {float(value):.4f} greedy {a[0]:.3f} onset {a[1]:.3f} z-alone same {np.array_equal(a[2], a0[2])} {time.time()-t0:.0f}s", flush=True)
    if step >= steps_total:
      break
  epoch += 1
