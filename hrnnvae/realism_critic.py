"""The realism critic: which of several prior samples to keep.

A decoder that writes tunes a classifier tells from real ones (issue 19) can still be sampled
closer to the real tunes after training, by the adversarial idea used at sampling time:
discriminator rejection sampling (Azadi et al. 2019, "Discriminator rejection sampling"). A
critic D trained to tell real training tunes from the model's own samples estimates the density
ratio p_real(x) / p_model(x) = exp(logit D(x)) (for a well-fitted D). Drawing K candidates from
the model and keeping one with probability proportional to that ratio (sampling-importance-
resampling) draws from p_model reweighted toward p_real; K = 1 is plain sampling. Weighting,
not the critic's favourite: the kept tunes keep the model's variety.

The critic is told which emotion was asked for: one logit per quadrant, each trained on the
real training windows the independent judge labels with it against samples asked for it, so
that a sad tune is compared with real sad tunes (the minor mode is rare in Nottingham, and a
critic that did not know the request would weed out every minor tune). Its shape is the
evaluation's sequence critic (evaluation/realism.SequenceCritic: an event embedding, two strided
windowed layers that see about a bar, a masked mean, an MLP), wider, with four outputs; the
feature classifier, the realism figure the settings are chosen by, is a different model on
different inputs, so it checks the critic rather than repeating it.

The critic reads the events as written ("absolute") or, with key_relative, each melody moved
by at most a tritone so that the tonic of the judge's key estimate is C (key_relative): a minor
tune in E and one in A then look alike, so the few minor-mode windows (sad 223, tense 251 on
Nottingham) teach one pattern instead of twelve. The fit's report records which.

A critic fitted on windows shorter than the melodies it scores (bars < BARS: JSB has 172 real
16-bar windows, far more of 8 bars) reads each melody in windows of its fit's length, each
hop_bars = bars // 2 after the last (the last one ending at the melody's end), and scores it by
their mean logit; it is fitted on the real training windows at that hop within every cached
window and on its samples of BARS bars cut the same way. A fit's report records the hop
("window_hop_bars"); a critic fitted before reads the whole melody, as it was fitted.

An ensemble (post.critic_fits > 1; since 2026-12-06 (xxvi)): the same critic fitted at seeds
seed, seed + 1, ..., each on its own samples, stored as ensemble()'s {MEMBERS: {"0": ..., ...}},
whose log-ratio is the mean of its members'. Which of K candidates a lone critic keeps depends on
its fit's seed (JSB: the judge 0.846-0.859 over three seeds of one model); the mean is steadier.

  params, report = fit(sampler, arrays, thresholds, per_emotion=1024, steps=3000, seed=0)
  ratios = log_ratios(params, candidates_BxT, emotions_B, report["input"], steps_per_bar)
  kept = choose(ratios_KxB, rng)   # [B] candidate index
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hrnnvae import judge, progress
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism

CHANNELS = 64
BATCH = 64  # real windows and samples each, a step
LEARNING_RATE = 1e-3
BARS = 16  # bars of the real windows and samples it is trained on (the Nottingham max_bars)
PARAMS_KEY = "realism_critic"  # its parameters beside {'vae', 'emotion'} in a model's params
# By default a quadrant is resampled only when the critic saw at least this many real training
# windows of it: on Nottingham's few minor-mode windows (tense 251, sad 223 of 2,470) the
# absolute critic's logit traded the judge's agreement for little realism (issue 19 (v)); the
# key-relative one gains both there (19 (vii)), and fit() takes another floor.
MIN_REAL_WINDOWS = 500
INPUTS = ("absolute", "key_relative")  # what the critic reads: the events, or key_relative's
MEMBERS = "members"  # an ensemble's key: its members' parameters by index ("0", "1", ...)


# Logits [B, num_emotions]: for each quadrant, log p_real / p_model of a melody asked for it;
# the evaluation's sequence critic, wider, with an output a quadrant.
CRITIC = realism.SequenceCritic(channels=CHANNELS, num_outputs=len(emotion_lib.EMOTIONS))


def critic(repetition_bar_steps: int = 0, register: bool = False) -> realism.SequenceCritic:
  """The critic's module; repetition_bar_steps > 0: it also reads how a melody restates its bars
  of that many steps (realism.bar_repetition_features; fit's repetition); register: it also
  reads where the melody sits as written (realism.register_features; fit's register)."""
  return CRITIC if not (repetition_bar_steps or register) else realism.SequenceCritic(
      channels=CHANNELS, num_outputs=len(emotion_lib.EMOTIONS),
      repetition_bar_steps=repetition_bar_steps, register_inputs=register)


@functools.partial(jax.jit, static_argnums=3)
def _logits(params, events_BxT, mask_BxT, repetition_bar_steps: int = 0, register_BxF=None):
  return critic(repetition_bar_steps, register_BxF is not None).apply(params, events_BxT, mask_BxT,
                                                                      register_BxF)


def _register(events_BxT: np.ndarray) -> np.ndarray:
  """[B, 2] realism.register_features of melodies as written (their padding ignored)."""
  events, mask = realism.pad_steps(np.asarray(events_BxT))
  return np.asarray(realism.register_features(jnp.asarray(events), jnp.asarray(mask)))


def key_relative(events_BxT: np.ndarray, steps_per_bar: int) -> np.ndarray:
  """Each melody moved so that the tonic of the judge's Krumhansl-Schmuckler key is C: by the
  shift of -6..+5 semitones that does it (a pitch it would take out of the 88 keys goes an octave
  the other way). HOLD and NOTE_OFF stay."""
  events_BxT = np.asarray(events_BxT, np.int64)
  tonic_B = judge.features(list(events_BxT), steps_per_bar).key_tonic
  shift_Bx1 = ((-tonic_B + 6) % 12 - 6)[:, None]
  pitched = events_BxT >= events_lib.FIRST_PITCH_EVENT
  moved = events_BxT + shift_Bx1
  moved = np.where(moved < events_lib.FIRST_PITCH_EVENT, moved + 12, moved)
  moved = np.where(moved >= events_lib.NUM_CLASSES, moved - 12, moved)
  return np.where(pitched, moved, events_BxT)


def fit_options(report: dict) -> dict:
  """The fit() options a fit's report records, as fit() takes them: {input_kind,
  min_real_windows, bars, repetition, register}, and the critics fitted (post_training.fit_critic's
  fits; 1 for a lone critic) (their defaults for fits from before they were recorded)."""
  return {"input_kind": report.get("input", "absolute"),
          "min_real_windows": report.get("min_real_windows", MIN_REAL_WINDOWS),
          "bars": report.get("bars", BARS), "repetition": bool(report.get("repetition", False)),
          "register": bool(report.get("register", False)), "fits": int(report.get("fits", 1))}


def ensemble(members: list) -> dict:
  """The parameters of an ensemble of critics (members: each one's fit() parameters, in order),
  which log_ratios reads as the mean of its members'; one member is itself."""
  if len(members) == 1:
    return members[0]
  return {MEMBERS: {str(index): member for index, member in enumerate(members)}}


def members_of(params) -> list:
  """An ensemble's members in order (ensemble()), or [params] for a lone critic."""
  if MEMBERS not in params:
    return [params]
  return [params[MEMBERS][key] for key in sorted(params[MEMBERS], key=int)]


def windows_of(description: dict) -> tuple[int, int] | None:
  """(bars, hop_bars) of the windows a model's critic reads a melody in (its fit's report), or
  None: the whole melody (a fit from before windows were recorded)."""
  fit_report = description.get("realism_critic_fit", {})
  if "window_hop_bars" not in fit_report:
    return None
  return int(fit_report.get("bars", BARS)), int(fit_report["window_hop_bars"])


def window_starts(num_steps: int, window_steps: int, hop_steps: int) -> list[int]:
  """The first step of each window of window_steps in a melody of num_steps: every hop_steps,
  and one ending at the melody's end when the hops miss it; none for a shorter melody."""
  if num_steps < window_steps:
    return []
  starts = list(range(0, num_steps - window_steps + 1, hop_steps))
  if starts[-1] + window_steps < num_steps:
    starts.append(num_steps - window_steps)
  return starts


def _cut(events_BxT: np.ndarray, window_steps: int, hop_steps: int) -> tuple[np.ndarray, int]:
  """(windows [B * W, window_steps], W): each melody's windows (window_starts), melody-major."""
  starts = window_starts(events_BxT.shape[1], window_steps, hop_steps)
  windows = np.stack([events_BxT[:, start:start + window_steps] for start in starts], axis=1)
  return windows.reshape(-1, window_steps), len(starts)


def input_of(description: dict) -> str:
  """What a model's critic reads (INPUTS), from its fit's report in config.json."""
  return fit_options(description.get("realism_critic_fit", {}))["input_kind"]


def repetition_of(description: dict) -> bool:
  """Whether a model's critic also reads how a melody restates its bars (fit's repetition)."""
  return fit_options(description.get("realism_critic_fit", {}))["repetition"]


def register_of(description: dict) -> bool:
  """Whether a model's critic also reads where a melody sits as written (fit's register)."""
  return fit_options(description.get("realism_critic_fit", {}))["register"]


def log_ratios(params, events_BxT: np.ndarray, emotions_B, input_kind: str = "absolute",
               steps_per_bar: int | None = None,
               windows: tuple[int, int] | None = None, repetition: bool = False,
               register: bool = False) -> np.ndarray:
  """[B] the critic's logit for each melody's requested emotion: its estimate of
  log p_real / p_model. input_kind: what the critic was fitted on (INPUTS; key_relative needs
  the melodies' steps_per_bar). windows: (bars, hop_bars) (windows_of): a melody longer than
  `bars` bars is scored by the mean logit of its windows, each read as input_kind says.
  repetition: the critic also reads how the melody restates its bars (repetition_of; needs
  steps_per_bar). register: the critic also reads where the melody (each window) sits as written
  (register_of). params: one critic's, or an ensemble's (the mean of its members' log-ratios)."""
  if MEMBERS in params:
    return np.mean([log_ratios(member, events_BxT, emotions_B, input_kind, steps_per_bar, windows,
                               repetition, register) for member in members_of(params)], axis=0)
  events_BxT = np.asarray(events_BxT)
  if windows is not None and events_BxT.shape[1] > windows[0] * steps_per_bar:
    cut, count = _cut(events_BxT, windows[0] * steps_per_bar, windows[1] * steps_per_bar)
    ratios = log_ratios(params, cut, np.repeat(np.asarray(emotions_B), count), input_kind,
                        steps_per_bar, repetition=repetition, register=register)
    return ratios.reshape(-1, count).mean(1)
  if repetition and not steps_per_bar:
    raise ValueError("a critic that reads the bars' repetition needs the melodies' steps_per_bar")
  register_BxF = jnp.asarray(_register(events_BxT)) if register else None
  if input_kind == "key_relative":
    events_BxT = key_relative(events_BxT, steps_per_bar)
  elif input_kind != "absolute":
    raise ValueError(f"unknown realism critic input {input_kind!r}: one of {INPUTS}")
  events, mask = realism.pad_steps(events_BxT)
  logits = np.asarray(_logits(params, jnp.asarray(events), jnp.asarray(mask),
                              int(steps_per_bar) if repetition else 0, register_BxF))
  return logits[np.arange(len(logits)), np.asarray(emotions_B)]


def resampled(description: dict, num_emotions: int) -> list[int]:
  """The quadrants a model's critic resamples (its fit's report; every one for a report without
  the list)."""
  fit_report = description.get("realism_critic_fit", {})
  return list(fit_report.get("resampled_quadrants", range(num_emotions)))


def choose(log_ratios_KxB: np.ndarray, rng: np.random.Generator) -> np.ndarray:
  """[B] which of K candidates each melody keeps: candidate k with probability
  softmax_k(log_ratios[:, b]) (sampling-importance-resampling)."""
  weights = np.exp(log_ratios_KxB - log_ratios_KxB.max(0, keepdims=True))
  weights /= weights.sum(0, keepdims=True)
  cumulative = np.cumsum(weights, axis=0)
  draws = rng.random(weights.shape[1])
  return np.minimum((cumulative < draws[None]).sum(0), len(weights) - 1)


def real_windows(arrays, bars: int, hop_bars: int, steps_per_bar: int, thresholds,
                 split: str) -> realism.Melodies:
  """The split's untransposed windows of `bars` bars, each hop_bars after the last within every
  cached window (window_starts), with the judge's quadrants: what a critic fitted on windows
  shorter than the cache's reads. Windows as long as the cache's, or longer: realism.real_tunes'."""
  rows = realism.split_rows(arrays, split, steps_per_bar)
  window_steps = bars * steps_per_bar
  if window_steps >= int(arrays["lengths"][rows].max(initial=0)):
    return realism.real_tunes(arrays, bars, steps_per_bar, thresholds, split=split)
  spans, pieces = [], []
  for row in rows:
    for start in window_starts(int(arrays["lengths"][row]), window_steps, hop_bars * steps_per_bar):
      spans.append(arrays["events"][row, start:start + window_steps].astype(np.int64))
      pieces.append(int(arrays["piece"][row]))
  if not spans:
    return realism.Melodies(np.zeros((0, window_steps), np.int64), np.zeros(0, np.int64),
                            np.zeros(0, np.int64))
  events = np.stack(spans)
  return realism.Melodies(events, np.array(pieces, np.int64),
                          judge.labels(list(events), steps_per_bar, thresholds))


def _samples(sampler, per_emotion: int, bars: int, seed: int, chunk: int = 512):
  """(events [N, T], requested [N]): plain prior samples (one candidate), every emotion alike."""
  requested = np.repeat(np.arange(sampler.hp.num_emotions), per_emotion)
  events = []
  for start in range(0, len(requested), chunk):
    batch = requested[start:start + chunk].tolist()
    events += [m.events for m in sampler.sample(batch, bars, seed * 1_000_003 + start,
                                                candidates=1)]
  return np.stack(events), requested


def accuracy(params, real: realism.Melodies, generated_events, generated_emotions,
             input_kind: str = "absolute", steps_per_bar: int | None = None,
             repetition: bool = False, register: bool = False) -> dict:
  """The critic's accuracy on real melodies (called real) and on samples (called generated),
  and their mean."""
  ratios = functools.partial(log_ratios, params, input_kind=input_kind, steps_per_bar=steps_per_bar,
                             repetition=repetition, register=register)
  on_real = float((ratios(real.events, real.quadrants) > 0).mean())
  on_generated = float((ratios(generated_events, generated_emotions) < 0).mean())
  return {"real": on_real, "generated": on_generated, "balanced": (on_real + on_generated) / 2}


def fit(sampler, arrays, thresholds: emotion_lib.ArousalThresholds, *, per_emotion: int,
        steps: int, seed: int, bars: int = BARS, input_kind: str = "absolute",
        min_real_windows: int = MIN_REAL_WINDOWS, repetition: bool = False,
        register: bool = False, log=progress.silent) -> tuple[dict, dict]:
  """(the critic's parameters, a report): trained for `steps` Adam steps on batches of BATCH real
  training windows of `bars` bars (each with the judge's quadrant) and BATCH of the model's own
  plain prior samples (each with its requested quadrant), binary cross-entropy on the logit of
  the row's quadrant. The report holds its accuracy on the validation split's windows against
  fresh samples (another seed), held out from the fit, the real windows of each quadrant and
  the quadrants it resamples (resampled_quadrants: those with at least min_real_windows) and its input
  (INPUTS: the events as written, or key_relative). bars < BARS: the real windows are
  real_windows' at hop bars // 2, the samples are of BARS bars cut the same way, and the report's
  window_hop_bars tells log_ratios to read longer melodies in such windows. repetition: the
  critic also reads how each melody restates its bars (critic(); recorded as the report's
  "repetition"); register: where each melody sits as written ("register")."""
  if input_kind not in INPUTS:
    raise ValueError(f"unknown realism critic input {input_kind!r}: one of {INPUTS}")
  spb = sampler.steps_per_bar
  hop_bars = max(bars // 2, 1)
  real = real_windows(arrays, bars, hop_bars, spb, thresholds, split="train")
  if not len(real.events):
    raise ValueError(f"no training windows of {bars} bars to fit the realism critic on")

  def samples(count, seed):  # (windows, requested) of samples of max(bars, BARS) bars
    events, requested = _samples(sampler, count, max(bars, BARS), seed)
    if bars >= BARS:
      return events, requested
    cut, per_sample = _cut(events, bars * spb, hop_bars * spb)
    return cut, np.repeat(requested, per_sample)

  generated, requested = samples(per_emotion, seed)
  log(f"realism critic: {len(real.events)} real training windows of {bars} bars "
      f"(per quadrant {np.bincount(real.quadrants, minlength=sampler.hp.num_emotions).tolist()}) "
      f"against {len(generated)} samples")
  events = np.concatenate([real.events, generated])
  registers = _register(events) if register else None  # as written, before any move to C
  if input_kind == "key_relative":
    events = key_relative(events, spb)
  events, mask = realism.pad_steps(events)
  emotions = np.concatenate([real.quadrants, requested]).astype(np.int32)
  labels = np.concatenate([np.ones(len(real.events)), np.zeros(len(generated))]).astype(np.float32)
  real_rows, generated_rows = np.arange(len(real.events)), len(real.events) + np.arange(len(generated))
  optimizer = optax.adam(LEARNING_RATE)
  module = critic(spb if repetition else 0, register)
  params = module.init(jax.random.key(seed), jnp.asarray(events[:1]), jnp.asarray(mask[:1]),
                       None if registers is None else jnp.asarray(registers[:1]))
  opt_state = optimizer.init(params)

  def loss_fn(params, rows_events, rows_mask, rows_emotions, rows_labels, rows_register):
    logits = module.apply(params, rows_events, rows_mask, rows_register)
    chosen = jnp.take_along_axis(logits, rows_emotions[:, None], axis=1)[:, 0]
    return optax.sigmoid_binary_cross_entropy(chosen, rows_labels).mean()

  @functools.partial(jax.jit, donate_argnums=(0, 1))
  def step(params, opt_state, rows_events, rows_mask, rows_emotions, rows_labels, rows_register):
    loss, grads = jax.value_and_grad(loss_fn)(params, rows_events, rows_mask, rows_emotions,
                                              rows_labels, rows_register)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  rng = np.random.default_rng(seed)
  losses = []
  for index in range(steps):
    rows = np.concatenate([rng.choice(real_rows, BATCH), rng.choice(generated_rows, BATCH)])
    params, opt_state, loss = step(params, opt_state, events[rows], mask[rows], emotions[rows],
                                   labels[rows], None if registers is None else registers[rows])
    losses.append(float(loss))
    if (index + 1) % 500 == 0:
      log(f"realism critic: step {index + 1}/{steps}, loss {np.mean(losses[-500:]):.4f}")
  params = jax.tree.map(np.asarray, jax.device_get(params))
  held_out = real_windows(arrays, bars, hop_bars, spb, thresholds, split="valid")
  fresh, fresh_requested = samples(max(per_emotion // 4, 16), seed + 1)
  per_quadrant = np.bincount(real.quadrants, minlength=sampler.hp.num_emotions)
  report = {"steps": steps, "per_emotion": per_emotion, "bars": bars, "seed": seed,
            "input": input_kind, "min_real_windows": min_real_windows,
            "repetition": bool(repetition), "register": bool(register),
            "window_hop_bars": hop_bars,
            "real_windows": len(real.events), "samples": len(generated),
            "real_windows_per_quadrant": per_quadrant.tolist(),
            "resampled_quadrants": np.nonzero(per_quadrant >= min_real_windows)[0].tolist(),
            "final_loss": float(np.mean(losses[-100:])) if losses else None,
            "held_out_accuracy": (accuracy(params, held_out, fresh, fresh_requested, input_kind,
                                           spb, repetition, register)
                                  if len(held_out.events) else None)}
  log(f"realism critic fitted: held-out accuracy {report['held_out_accuracy']}; it resamples "
      f"the quadrants {report['resampled_quadrants']}")
  return params, report
