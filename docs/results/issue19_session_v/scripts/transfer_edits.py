"""Transfer as a few model-chosen edits: each round, teacher-force the current tune under the
transfer's latent z' and the requested emotion (and under the tune's own z and emotion for the
contrast alpha), score each step's best event v by
  s_t(v) = lp'(v) + alpha (lp'(v) - lp_own(v)),
and replace the events of the m steps with the largest gain s_t(best) - s_t(current), until a budget
of B edited steps. Usage: PYTHONPATH=. python SCRIPT valid"""
import sys, functools, numpy as np, jax, jax.numpy as jnp
from hrnnvae import pretrained, judge
from hrnnvae.data import cache as cache_lib, emotion as emotion_lib
from hrnnvae.evaluation import scoring
split = sys.argv[1]; alphas = [float(a) for a in sys.argv[2].split(",")]; budgets = [float(b) for b in sys.argv[3].split(",")]
per_round = int(sys.argv[4]) if len(sys.argv) > 4 else 4
contrast = sys.argv[5] if len(sys.argv) > 5 else "own"  # own: (z, own emotion); emotion: (z', own emotion)
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
z_new = jnp.asarray(sampler.transfer_latents(mu[tune], own[tune], req))
z_old = jnp.asarray(mu[tune])
spbs = jnp.full(len(tune), spb, jnp.int32)

@functools.partial(jax.jit, static_argnums=0)
def logp(vae, params, z, e, ev, spbs):
  logits, _ = vae.apply({"params": params}, z, e, ev, spbs, method="decode")
  return jax.nn.log_softmax(logits)
def scores(current, alpha):
  ev = jnp.asarray(current, jnp.int32)
  lp_new = np.asarray(logp(sampler.vae, sampler.params["vae"], z_new, jnp.asarray(req, jnp.int32), ev, spbs))
  if not alpha:
    return lp_new
  lp_old = np.asarray(logp(sampler.vae, sampler.params["vae"], z_old if contrast == "own" else z_new, jnp.asarray(own[tune], jnp.int32), ev, spbs))
  return lp_new + alpha * (lp_new - lp_old)
N = len(tune)
small = len(sys.argv) > 6 and sys.argv[6] == "small"
from hrnnvae.data import events as events_lib
P0 = events_lib.FIRST_PITCH_EVENT
def allowed(current):
  """[B, T, V]: the events each step may become in a small edit: a struck pitch moved by at most
  a whole tone or merged into the note before (HOLD); a held note split by a strike of its pitch
  or one at most a whole tone away; a rest left alone."""
  B, T = current.shape; V = sampler.hp.num_classes
  ok = np.zeros((B, T, V), bool)
  ok[np.arange(B)[:, None], np.arange(T)[None], current] = True
  sounding = np.full(B, -1)
  for t in range(T):
    e = current[:, t]
    struck = e >= P0
    sounding = np.where(struck, e, np.where(e == events_lib.NOTE_OFF, -1, sounding))
    for d in (-2, -1, 1, 2):
      tgt = np.clip(e + d, P0, V - 1)
      ok[struck, t, tgt[struck]] = True
    ok[struck, t, events_lib.HOLD] = True
    held = (e == events_lib.HOLD) & (sounding >= P0)
    for d in (-2, -1, 0, 1, 2):
      tgt = np.clip(sounding + d, P0, V - 1)
      ok[held, t, tgt[held]] = True
  return ok
for alpha in alphas:
  current = events[tune].copy(); edited = np.zeros(current.shape, bool); done = np.zeros(N, bool)
  done_budget = 0.0
  for budget in sorted(budgets):
    while True:
      frac = edited.sum(1) / lengths[tune]
      active = (frac + 1e-9 < budget) & ~done
      active &= np.floor(budget * lengths[tune]) > edited.sum(1)
      if not active.any():
        break
      s = scores(current, alpha)
      if small:
        s = np.where(allowed(current), s, -np.inf)
      best = s.argmax(-1)
      gain = s.max(-1) - np.take_along_axis(s, current[..., None], -1)[..., 0]
      gain = np.where(real & ~edited, gain, -np.inf)
      for i in np.nonzero(active)[0]:
        room = int(np.floor(budget * lengths[tune][i])) - edited[i].sum()
        order = np.argsort(-gain[i])[:max(0, min(per_round, room))]
        order = [t for t in order if np.isfinite(gain[i, t]) and gain[i, t] > 0]
        if not order:
          done[i] = True  # nothing left worth editing
          continue
        for t in order:
          current[i, t] = best[i, t]; edited[i, t] = True
    J = judge.labels([d[:n] for d, n in zip(current, lengths[tune])], spb, thr)
    M = ((current == events[tune]) & real).sum(1) / lengths[tune]
    pq = " ".join(f"{emotion_lib.EMOTIONS[q]} {(J == req)[req == q].mean():.2f}" for q in range(4))
    print(f"edited {edited.sum() / real.sum():.3f} changed {((current != events[tune]) & real).sum() / real.sum():.3f}", end=" ")
    print(f"alpha {alpha:g} budget {budget:g}: judge {(J == req).mean():.3f} kept {M.mean():.3f}  {pq}", flush=True)
