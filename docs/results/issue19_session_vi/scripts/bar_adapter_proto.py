"""Prototype: the bar adapter (model.bar_adapter_dim) fitted on the shipped model with the rest
frozen (bars always present): greedy onset pitch on 256 validation windows, and z-alone decodes
checked bit-equal. argv: steps lr every width [train_encoder_heads 0/1]."""
import sys, time, dataclasses, functools, numpy as np, jax, jax.numpy as jnp, optax
from hrnnvae import pretrained, models as models_lib, losses
from hrnnvae.sample import Sampler
from hrnnvae.data import cache as cache_lib, events as events_lib, sources as sources_lib
from hrnnvae.train import input_pipeline, step as step_lib
from configs import nottingham_ship
steps_total, lr, every, width = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
heads = len(sys.argv) < 6 or sys.argv[5] == "1"
shipped = pretrained.load("nottingham")
hp = dataclasses.replace(shipped.hp, bar_adapter_dim=width)
config = nottingham_ship.get_config()
vae = models_lib.build(hp)
data = input_pipeline.load("runs/nottingham_ship/data", config.data.max_steps)
buckets = input_pipeline.bar_buckets(data.splits["train"], 64)
first = next(iter(input_pipeline.bucketed_batches(data.splits["train"], 4, 0, 0, buckets, data.max_bars)))[0]
fresh = vae.init(jax.random.key(0), jnp.asarray(first["events"]), jnp.asarray(first["lengths"]),
                 jnp.asarray(first["steps_per_bar"]), jnp.asarray(first["emotion"]), jax.random.key(1))["params"]
old = shipped.params["vae"]
def merge(path, leaf):
  node = old
  for k in path:
    node = node.get(k.key) if isinstance(node, dict) else None
    if node is None:
      return leaf
  return node
params0 = jax.tree_util.tree_map_with_path(merge, fresh)
names = ["/".join(k.key for k in path) for path, _ in jax.tree_util.tree_flatten_with_path(params0)[0]]
print("new:", [n for n in names if "adapter" in n])
def trainable(path, leaf):
  p = "/".join(k.key for k in path)
  return jnp.ones_like(leaf) if ("adapter" in p or (heads and p.startswith(("bar_mu", "bar_log_var")))) else jnp.zeros_like(leaf)
mask = jax.tree_util.tree_map_with_path(trainable, params0)
print("trainable", int(sum(x.sum() for x in jax.tree.leaves(mask))), flush=True)
tx = optax.adam(lr)
beta, free_bits = config.loss.beta_max, config.loss.free_bits

@functools.partial(jax.jit, static_argnums=(4,))
def train(params, opt, batch, rng, grid):
  m = jnp.arange(batch["events"].shape[1])[None] < batch["lengths"][:, None]
  def loss(p):
    out = vae.apply({"params": p}, batch["events"], batch["lengths"], batch["steps_per_bar"],
                    batch["emotion"], rng, grid, method="reconstruct")
    nll, _ = losses.reconstruction(out["logits"], batch["events"], m)
    return (nll.sum() + beta * losses.free_bits_kl(out["kl"], free_bits).sum()) / batch["lengths"].sum()
  value, grads = jax.value_and_grad(loss)(params)
  grads = jax.tree.map(jnp.multiply, step_lib.clip(grads, config.train.grad_clip_norm), mask)
  updates, opt = tx.update(grads, opt, params)
  return optax.apply_updates(params, jax.tree.map(jnp.multiply, updates, mask)), opt, value

arrays, _ = cache_lib.load("runs/nottingham_ship/data")
rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index("valid")) & (arrays["transposition"] == 0))[0]
rows = rows[np.random.default_rng(0).permutation(len(rows))[:256]]
ev = arrays["events"][rows].astype(np.int32); ln = arrays["lengths"][rows]; spb = arrays["steps_per_bar"][rows]; em = arrays["emotion"][rows].astype(np.int32)
sampler = Sampler(hp, {**shipped.params, "vae": params0}, shipped.description)
def measure(params):
  sampler.params = {**sampler.params, "vae": params}
  mu, _ = sampler.posterior(ev, ln, spb)
  out = sampler.decode(mu, em, ev.shape[1], 0, temperature=1e-4, steps_per_bar=spb, emotion_guidance=1.0, repeat_penalty=1.0, short_note_penalty=1.0)
  maskT = np.arange(ev.shape[1])[None] < ln[:, None]
  both = maskT & (ev >= events_lib.FIRST_PITCH_EVENT) & (out >= events_lib.FIRST_PITCH_EVENT)
  alone = sampler.decode(np.asarray(hp.without_bar_latents(mu)), em, ev.shape[1], 0)
  return ((out == ev) & maskT).sum() / maskT.sum(), ((out == ev) & both).sum() / both.sum(), alone
shipped_alone = shipped.decode(np.asarray(hp.without_bar_latents(shipped.posterior(ev, ln, spb)[0])), em, ev.shape[1], 0)
a0 = measure(params0)
print(f"step 0: greedy {a0[0]:.3f} onset {a0[1]:.3f} z-alone equals shipped {np.array_equal(a0[2], shipped_alone)}", flush=True)
params, opt = params0, tx.init(params0)
step, t0, rng, epoch = 0, time.time(), jax.random.key(7), 0
while step < steps_total:
  for batch, w in input_pipeline.bucketed_batches(data.splits["train"], 64, 7, epoch, buckets, data.max_bars):
    batch = {k: jnp.asarray(v) for k, v in batch.items()}
    params, opt, value = train(params, opt, batch, jax.random.fold_in(rng, step), (data.max_bars, w))
    step += 1
    if step % every == 0 or step == steps_total:
      a = measure(params)
      print(f"step {step}: loss {float(value):.4f} greedy {a[0]:.3f} onset {a[1]:.3f} z-alone same {np.array_equal(a[2], a0[2])} {time.time()-t0:.0f}s", flush=True)
    if step >= steps_total:
      break
  epoch += 1
np.savez("/tmp/adapter_params_%d.npz" % width, **{"/".join(k.key for k in p): np.asarray(v) for p, v in jax.tree_util.tree_flatten_with_path(params)[0]})
