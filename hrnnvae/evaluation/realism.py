"""Realism: how well a classifier tells a model's melodies from held-out real tunes.

Two classifiers, each cross-validated so that one tune's windows never sit in two folds (group
k-fold by the cache's `piece`; a generated melody is a group of its own):
  features  L2-regularised logistic regression (numpy, Newton's method) on per-melody musical
            features (melody_features): key-relative pitch classes, intervals, note lengths,
            onset positions in the bar, rests, repetition and register;
  sequence  SequenceCritic, a small 1-D conv net over the events shaped like
            models/critics.SequenceClassifier, trained with optax for a fixed number of steps.
Every fold tests and trains on equal numbers of each class (the larger is subsampled), so the
accuracy, averaged over folds, is 0.5 when the two sets cannot be told apart and 1 when they
always can. Melodies of one comparison share one meter (steps_per_bar).

Real tunes are the test split's untransposed windows at the requested length (real_tunes: the
cache's windows cut, or consecutive windows of a tune joined, to `bars` bars). Rows: the model's
samples against them overall and per emotion quadrant (samples asked for q against real tunes
the judge labels q); the real tunes against themselves, split in two halves by tune, which
should give about 0.5 (real_against_real); and the memorizer, a model that writes only its
training tunes (training_tunes, drawn as a model's samples are asked: equal shares of the
quadrants), which is as real as fitting the training split perfectly can make a model.

A held-out split is small (Nottingham's test split: 130 spans of 32 bars from 47 tunes) and, once
settings have been chosen by it, no longer neutral. pool_rows measures the samples against draws
of the training split's tunes the size of the test split (tune_draws: whole tunes, as a split
holds them), a pool settings are not chosen on by default, and reports the spread over the draws.

Shapes: N melodies, T steps, F features.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from hrnnvae import judge, progress
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.metrics import melody as melody_metrics

FOLDS = 5  # a comparison needs at least this many groups (tunes, or samples) on each side
CLASSIFIERS = ("features", "sequence")
# overall: every sample (as many asked of each quadrant) against every real tune; real_mix: the
# samples drawn down to the real tunes' quadrant shares (in_real_mix), so that a mix of
# emotions the data does not have (Nottingham is half happy, 3% tense) is not what tells them
# apart; then each quadrant against the real tunes the judge labels so.
SUBSETS = ("overall", "real_mix") + emotion_lib.EMOTIONS
REPEATS = 3  # cross-validations a row averages (new folds, subsamples and initialisations)
POOL_DRAWS = 20  # draws of training tunes pool_rows averages (one draw's spread is 0.05-0.08)
WIDEST_INTERVAL = 12  # signed intervals -12..12 a bin each; wider leaps one bin each way
LONGEST_NOTE = 16  # note lengths 1..16 steps a bin each; longer ones one bin
L2 = 10.0  # the features classifier's penalty on standardised features (summed log-loss)
SEQUENCE_CHANNELS = 32
SEQUENCE_STEPS = 150  # fixed: a few seconds a fold on 2 CPU cores at 16 bars
SEQUENCE_BATCH = 32
SEQUENCE_LEARNING_RATE = 3e-3


@dataclasses.dataclass(frozen=True)
class Melodies:
  """One side of a comparison: events [N, T] of equal length, the group [N] of each (its tune;
  unique per generated melody), and its quadrant [N] (requested, or the judge's label)."""
  events: np.ndarray
  groups: np.ndarray
  quadrants: np.ndarray

  def subset(self, keep: np.ndarray) -> "Melodies":
    return Melodies(self.events[keep], self.groups[keep], self.quadrants[keep])


# --- Features -------------------------------------------------------------------------------

def feature_blocks(steps_per_bar: int) -> dict[str, int]:
  """The feature vector's blocks in order, name -> width."""
  return {"pitch_class": 12, "major": 1, "interval": 2 * WIDEST_INTERVAL + 3,
          "note_length": LONGEST_NOTE + 1, "onset_position": steps_per_bar, "rest_share": 1,
          "repetition": 3, "register": 3}


def melody_features(events_NxT: np.ndarray, steps_per_bar: int) -> np.ndarray:
  """Features [N, F] float64 of N melodies (blocks in feature_blocks' order; histograms are
  shares): pitch classes counted per note and rotated to the tonic of the judge's
  Krumhansl-Schmuckler key, the key's mode (1: major), signed intervals a between consecutive
  notes (bin 13 + a for |a| <= 12, the middle one holding repeated pitches; bins 0 and 26 wider
  leaps down and up), note lengths in steps, onset steps within
  the bar, the share of steps resting, repetition (repeated pitch 4-grams, bars repeating an
  earlier bar, 4-bar phrase similarity: metrics/melody.py) and register (notes per bar, mean
  pitch - 60 and range, in octaves)."""
  events_NxT = np.asarray(events_NxT)
  keys = judge.features(list(events_NxT), steps_per_bar)
  rows = []
  for events, tonic, major in zip(events_NxT, keys.key_tonic, keys.is_major):
    notes = events_lib.events_to_notes(events)
    starts, ends, pitches = (np.array(c, np.int64) for c in zip(*notes)) if notes else \
        (np.zeros(0, np.int64),) * 3
    lengths, intervals = ends - starts, np.diff(pitches)
    bars = len(events) / steps_per_bar
    rows.append(np.concatenate([
        _shares((pitches - tonic) % 12, 12), [float(major)],
        _shares(np.clip(intervals, -WIDEST_INTERVAL - 1, WIDEST_INTERVAL + 1) + WIDEST_INTERVAL + 1,
                2 * WIDEST_INTERVAL + 3),
        _shares(np.minimum(lengths, LONGEST_NOTE + 1) - 1, LONGEST_NOTE + 1),
        _shares(starts % steps_per_bar, steps_per_bar),
        [1.0 - lengths.sum() / max(len(events), 1)],
        [melody_metrics.ngram_repetition_rate(events, 4),
         melody_metrics.bar_repetition_rate(events, steps_per_bar),
         melody_metrics.phrase_similarity(events, steps_per_bar)],
        [len(pitches) / bars, (pitches.mean() - 60) / 12 if len(pitches) else 0.0,
         np.ptp(pitches) / 12 if len(pitches) else 0.0]]))
  return np.stack(rows) if rows else np.zeros((0, sum(feature_blocks(steps_per_bar).values())))


def feature_names(steps_per_bar: int) -> list[str]:
  """A readable name for each column of melody_features."""
  return ([f"pitch_class/degree {d}" for d in range(12)] + ["major/major"]
          + [f"interval/{a:+d}" if abs(a) <= WIDEST_INTERVAL else
             f"interval/{'<-' if a < 0 else '>+'}{WIDEST_INTERVAL}"
             for a in range(-WIDEST_INTERVAL - 1, WIDEST_INTERVAL + 2)]
          + [f"note_length/{n} steps" for n in range(1, LONGEST_NOTE + 1)]
          + [f"note_length/>{LONGEST_NOTE} steps"]
          + [f"onset_position/step {t}" for t in range(steps_per_bar)] + ["rest_share/rest share"]
          + ["repetition/4-gram repetition", "repetition/bar repetition",
             "repetition/phrase similarity"]
          + ["register/notes per bar", "register/mean pitch", "register/range"])


def feature_columns(events_NxT: np.ndarray, steps_per_bar: int, names) -> dict[str, np.ndarray]:
  """{name: [N]} melody_features' columns of those feature_names (e.g. "note_length/1 steps")."""
  features, all_names = melody_features(events_NxT, steps_per_bar), feature_names(steps_per_bar)
  return {name: features[:, all_names.index(name)] for name in names}


def _shares(values: np.ndarray, bins: int) -> np.ndarray:
  """Histogram [bins] of ints in 0..bins-1, as shares (zeros when there are none)."""
  counts = np.bincount(values, minlength=bins).astype(float)
  return counts / max(counts.sum(), 1.0)


# --- Classifiers: fit on a training fold, predict the held-out fold's classes ---------------

def logistic_regression(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                        l2: float = L2, iterations: int = 25) -> np.ndarray:
  """Predicted classes [M] (0/1) of x_test [M, F], by L2-regularised logistic regression fitted
  to x_train [N, F], y_train [N] with Newton's method on features standardised by the training
  fold (the bias unpenalised)."""
  mean, std = x_train.mean(0), x_train.std(0)
  std = np.where(std > 1e-9, std, 1.0)
  design = lambda x: np.concatenate([(x - mean) / std, np.ones((len(x), 1))], axis=1)
  x, y = design(x_train), np.asarray(y_train, float)
  penalty = np.full(x.shape[1], l2)
  penalty[-1] = 0.0
  weights = np.zeros(x.shape[1])
  for _ in range(iterations):
    p = 1.0 / (1.0 + np.exp(-np.clip(x @ weights, -30, 30)))
    gradient = x.T @ (p - y) + penalty * weights
    hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-6)
    step = np.linalg.solve(hessian, gradient)
    weights -= step
    if np.abs(step).max() < 1e-8:
      break
  return (design(x_test) @ weights > 0).astype(np.int64)


REPETITION_LAGS = (4, 8)  # bar_repetition_features' lags: one phrase and one period back


def bar_repetition_features(events_BxT: jax.Array, mask_BxT: jax.Array, bar_steps: int):
  """[B, 2 + len(REPETITION_LAGS)] how a melody restates its bars, over its whole bars (those
  of bar_steps real steps; a melody is cut into bars from its first step): for each bar with an
  earlier one, the largest share of steps it has equal to an earlier bar (its best match), and
  whether that share is 1 (an exact restatement); their means over those bars; then for each lag
  k, the mean over bars with a bar k back of the share of steps equal to it. 0 where a melody
  has no such bars."""
  bars = events_BxT.shape[1] // bar_steps
  events = events_BxT[:, :bars * bar_steps].reshape(-1, bars, bar_steps)
  whole = mask_BxT[:, :bars * bar_steps].reshape(-1, bars, bar_steps).all(-1)  # [B, bars]
  same_BxNxN = (events[:, :, None, :] == events[:, None, :, :]).mean(-1)
  earlier = jnp.tril(jnp.ones((bars, bars), bool), k=-1)[None]
  pairs = earlier & whole[:, :, None] & whole[:, None, :]
  best_BxN = jnp.where(pairs, same_BxNxN, 0.0).max(-1)
  counted = pairs.any(-1).astype(jnp.float32)
  mean = lambda values, weights: (values * weights).sum(-1) / jnp.maximum(weights.sum(-1), 1.0)  # noqa: E731
  columns = [mean(best_BxN, counted), mean((best_BxN >= 1.0).astype(jnp.float32), counted)]
  for lag in REPETITION_LAGS:
    lagged = jnp.diagonal(same_BxNxN, offset=-lag, axis1=1, axis2=2)  # [B, bars - lag]
    both = (whole[:, lag:] & whole[:, :bars - lag]).astype(jnp.float32)
    columns.append(mean(lagged, both) if bars > lag else jnp.zeros(events.shape[0]))
  return jnp.stack(columns, axis=-1)


REGISTER_CENTRE = 60  # MIDI pitch register_features measures from (middle C)
REGISTER_SCALE = 12.0  # semitones per unit of register_features (an octave)


def register_features(events_BxT: jax.Array, mask_BxT: jax.Array):
  """[B, 2] where a melody sits: the mean and the standard deviation of the MIDI pitches it
  strikes (its pitch events where mask_BxT holds), in octaves, the mean from middle C; 0 and 0
  for a melody that strikes none."""
  struck = (events_BxT >= events_lib.FIRST_PITCH_EVENT) & mask_BxT
  pitch = (events_BxT - events_lib.FIRST_PITCH_EVENT + events_lib.MIN_PITCH).astype(jnp.float32)
  count = jnp.maximum(struck.sum(-1), 1).astype(jnp.float32)
  mean = jnp.where(struck, pitch, 0.0).sum(-1) / count
  variance = jnp.where(struck, (pitch - mean[:, None]) ** 2, 0.0).sum(-1) / count
  return jnp.stack([jnp.where(struck.any(-1), (mean - REGISTER_CENTRE) / REGISTER_SCALE, 0.0),
                    jnp.sqrt(variance) / REGISTER_SCALE], axis=-1)


class SequenceCritic(nn.Module):
  """models/critics.SequenceClassifier's shape (a step embedding, two strided 1-D convolutions
  that see about a bar, a masked mean over positions, an MLP) with each convolution written as a
  dense layer over overlapping windows (kernel 2 x stride, stride 4 then 2): XLA's CPU
  convolutions train about 18 times slower. T must be a multiple of 8. num_outputs None: one
  logit a melody, [B]; else [B, num_outputs] (realism_critic.py: one a quadrant).
  repetition_bar_steps > 0: the MLP also reads bar_repetition_features at bars of that many
  steps (realism_critic.py's critic_repetition: the windows see about a bar, so without them it
  cannot tell a melody that restates its bars from one that does not).
  register_inputs: the MLP also reads register_BxF, each melody's register_features as written
  (realism_critic.py's critic_register: a critic that reads melodies moved to a C tonic no
  longer sees where they sat)."""
  channels: int = SEQUENCE_CHANNELS
  num_outputs: int | None = None
  repetition_bar_steps: int = 0
  register_inputs: bool = False

  @nn.compact
  def __call__(self, events_BxT: jax.Array, mask_BxT: jax.Array,
               register_BxF: jax.Array | None = None) -> jax.Array:
    """Logits [B] (or [B, num_outputs]); steps where mask_BxT is False are ignored.
    register_BxF: with register_inputs, the melodies' register_features (required)."""
    if self.register_inputs and register_BxF is None:
      raise ValueError("a critic with register_inputs reads the melodies' register_features")
    mask = mask_BxT[..., None].astype(jnp.float32)
    x = nn.Embed(events_lib.NUM_CLASSES, self.channels)(events_BxT) * mask
    for stride in (4, 2):
      x = x.reshape(x.shape[0], -1, stride * x.shape[-1])  # [B, positions, stride x C]
      windows = jnp.concatenate([x, jnp.pad(x[:, 1:], ((0, 0), (0, 1), (0, 0)))], axis=-1)
      x = nn.gelu(nn.Dense(self.channels)(windows))
      mask = mask.reshape(mask.shape[0], -1, stride).max(-1, keepdims=True)
    pooled_BxC = (x * mask).sum(1) / jnp.maximum(mask.sum(1), 1.0)
    if self.repetition_bar_steps:
      pooled_BxC = jnp.concatenate(
          [pooled_BxC, bar_repetition_features(events_BxT, mask_BxT, self.repetition_bar_steps)],
          axis=-1)
    if self.register_inputs:
      pooled_BxC = jnp.concatenate([pooled_BxC, register_BxF.astype(pooled_BxC.dtype)], axis=-1)
    logits = nn.Dense(self.num_outputs or 1)(nn.gelu(nn.Dense(self.channels)(pooled_BxC)))
    return logits[:, 0] if self.num_outputs is None else logits


_CRITIC = SequenceCritic()
_OPTIMIZER = optax.adam(SEQUENCE_LEARNING_RATE)


@jax.jit
def _fit_sequence(key, events_NxT, mask_NxT, labels_N, count):
  """SequenceCritic parameters after SEQUENCE_STEPS Adam steps on minibatches drawn with
  replacement from the first `count` rows (the rest pad N to a bucket: fewer compilations)."""
  init_key, steps_key = jax.random.split(key)
  params = _CRITIC.init(init_key, events_NxT[:1], mask_NxT[:1])

  def loss(params, rows):
    logits = _CRITIC.apply(params, events_NxT[rows], mask_NxT[rows])
    return optax.sigmoid_binary_cross_entropy(logits, labels_N[rows].astype(jnp.float32)).mean()

  def step(carry, key):
    params, state = carry
    rows = jax.random.randint(key, (SEQUENCE_BATCH,), 0, count)
    updates, state = _OPTIMIZER.update(jax.grad(loss)(params, rows), state, params)
    return (optax.apply_updates(params, updates), state), None

  (params, _), _ = jax.lax.scan(step, (params, _OPTIMIZER.init(params)),
                                jax.random.split(steps_key, SEQUENCE_STEPS))
  return params


_predict_sequence = jax.jit(lambda params, events_NxT, mask_NxT: _CRITIC.apply(
    params, events_NxT, mask_NxT) > 0)


def sequence_classifier(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                        seed: int = 0) -> np.ndarray:
  """Predicted classes [M] (0/1) of events x_test [M, T], by a SequenceCritic trained on
  events x_train [N, T] and classes y_train [N]."""
  train, train_mask = _padded(x_train)
  labels = np.zeros(len(train), np.int32)
  labels[:len(x_train)] = y_train
  params = _fit_sequence(jax.random.key(seed), train, train_mask, labels, len(x_train))
  test, test_mask = _padded(x_test)
  return np.asarray(_predict_sequence(params, test, test_mask))[:len(x_test)].astype(np.int64)


def pad_steps(events_NxT: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """(events [N, T'] int32, mask [N, T']): steps padded to a multiple of 8 (SequenceCritic's
  strides) with masked HOLDs."""
  events_NxT = np.asarray(events_NxT)
  steps = -(-events_NxT.shape[1] // 8) * 8
  events = np.full((len(events_NxT), steps), events_lib.HOLD, np.int32)
  events[:, :events_NxT.shape[1]] = events_NxT
  mask = np.zeros(events.shape, bool)
  mask[:, :events_NxT.shape[1]] = True
  return events, mask


def _padded(events_NxT: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """pad_steps, with rows padded to a power of two (at least 512: one compilation serves most
  folds) by masked rows."""
  rows = max(512, 1 << int(np.ceil(np.log2(max(len(events_NxT), 1)))))
  events, mask = pad_steps(events_NxT)
  extra = ((0, rows - len(events)), (0, 0))
  return np.pad(events, extra, constant_values=events_lib.HOLD), np.pad(mask, extra)


# --- Cross-validation -----------------------------------------------------------------------

def group_folds(groups: np.ndarray, classes: np.ndarray, folds: int = FOLDS,
                seed: int = 0) -> np.ndarray:
  """Fold [N] of each item: a group's items all in one fold. Each class's groups are dealt out
  on their own, largest first (ties in random order), each to the fold holding fewest of that
  class's items so far, so both classes spread evenly over the folds."""
  rng = np.random.default_rng(seed)
  fold = np.zeros(len(groups), np.int64)
  for label in np.unique(classes):
    members = np.nonzero(classes == label)[0]
    names, inverse, sizes = np.unique(groups[members], return_inverse=True, return_counts=True)
    order = rng.permutation(len(names))
    order = order[np.argsort(-sizes[order], kind="stable")]
    filled = np.zeros(folds, np.int64)
    for name in order:
      target = int(np.argmin(filled))
      fold[members[inverse == name]] = target
      filled[target] += sizes[name]
  return fold


def _balanced(rows: np.ndarray, classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
  """rows with the larger class subsampled to the smaller one's count."""
  by_class = [rows[classes[rows] == label] for label in (0, 1)]
  count = min(len(r) for r in by_class)
  return np.sort(np.concatenate([rng.choice(r, count, replace=False) for r in by_class]))


def compare(generated: Melodies, real: Melodies, steps_per_bar: int, seed: int = 0,
            classifiers=CLASSIFIERS) -> dict:
  """{classifier: accuracy per fold [FOLDS]} at telling `generated` (class 1) from `real`
  (class 0), cross-validated by group, for each of `classifiers`; {} when either side has fewer
  than FOLDS groups."""
  if not _enough_groups(generated, real):
    return {}
  events = np.concatenate([generated.events, real.events])
  inputs = {"sequence": events}
  if "features" in classifiers:  # the feature extraction is the costly part
    inputs["features"] = melody_features(events, steps_per_bar)
  return _cross_validated(inputs, generated, real, seed, classifiers)


def _enough_groups(generated: Melodies, real: Melodies) -> bool:
  """Whether each side has a group (a tune, or a sample) for every fold."""
  return min(len(np.unique(generated.groups)), len(np.unique(real.groups))) >= FOLDS


def _cross_validated(inputs: dict, generated: Melodies, real: Melodies, seed: int,
                     classifiers) -> dict:
  """compare's folds from its inputs {classifier: [len(generated) + len(real), ...]} (the
  generated side first), each of `classifiers` fitted and scored on the same balanced folds."""
  rng = np.random.default_rng(seed)
  classes = np.repeat([1, 0], [len(generated.events), len(real.events)])
  # Each class has a group in every fold, so every fold tests both.
  fold = group_folds(np.concatenate([generated.groups, real.groups]), classes, FOLDS, seed)
  fit = {"features": logistic_regression,
         "sequence": lambda a, b, c: sequence_classifier(a, b, c, seed)}
  accuracies = {name: [] for name in classifiers}
  for k in range(FOLDS):
    train = _balanced(np.nonzero(fold != k)[0], classes, rng)
    test = _balanced(np.nonzero(fold == k)[0], classes, rng)
    for name in classifiers:
      predicted = fit[name](inputs[name][train], classes[train], inputs[name][test])
      accuracies[name].append(float((predicted == classes[test]).mean()))
  return {name: np.array(values) for name, values in accuracies.items()}


def rows(sides, steps_per_bar: int, repeats: int = REPEATS, log=progress.silent,
         classifiers=CLASSIFIERS) -> list[dict]:
  """One row per subset and classifier: {"subset", "classifier", "accuracy" (mean over the folds
  of `repeats` cross-validations, seeds 0..repeats-1), "std" (over those folds), "generated",
  "real" (melodies on each side, before balancing, at seed 0)}; NaN where a side has fewer than
  FOLDS groups. sides(seed) -> (generated, real). Subsets (SUBSETS): overall, real_mix
  (generated in the real side's quadrant shares, in_real_mix), then each quadrant q
  (generated.quadrants == q against real.quadrants == q). classifiers: a subset of CLASSIFIERS."""
  def pick(subset, seed):
    generated, real = sides(seed)
    if subset == "overall":
      return generated, real
    if subset == "real_mix":
      return in_real_mix(generated, real, seed), real
    quadrant = emotion_lib.EMOTIONS.index(subset)
    return generated.subset(generated.quadrants == quadrant), real.subset(real.quadrants == quadrant)

  result = []
  for subset in SUBSETS:
    folds = {name: [] for name in classifiers}
    for seed in range(repeats):
      generated, real = pick(subset, seed)
      if seed == 0:
        counts = {"generated": len(generated.events), "real": len(real.events)}
        log(f"realism {subset}: {counts['generated']} melodies against {counts['real']} real, "
            f"{repeats} x {FOLDS} folds")
      for name, values in compare(generated, real, steps_per_bar, seed, classifiers).items():
        folds[name].extend(values)
    for name in classifiers:
      values = np.array(folds[name] or [np.nan])
      result.append({"subset": subset, "classifier": name, "accuracy": float(values.mean()),
                     "std": float(values.std()), **counts})
  return result


def what_gives_them_away(generated: Melodies, real: Melodies, steps_per_bar: int,
                         repeats: int = REPEATS, mix: str = "real") -> list[dict]:
  """Which kind of feature tells the samples from the real tunes: for each block of
  melody_features, the feature classifier's accuracy on that block alone (cross-validated as
  compare() does, `repeats` times), and the block's feature whose mean differs most between the
  two sides in units of the real tunes' spread ("feature", "generated_mean", "real_mean").
  mix "real" (the default) first draws the samples down to the real tunes' quadrant shares
  (in_real_mix, seed 0), as the real_mix row does: samples asked for the quadrants alike against
  Nottingham's tunes (four in five major) were told apart by the mode, the minor sixth and other
  marks of the mix, not of the music; "asked" keeps every sample (and so does "real" when a side
  has no quadrants, or when the drawn samples would be fewer than FOLDS: a smoke test's few).
  Each row says which ("mix") and how many samples it read ("samples").
  Sorted most telling first; [] when a side has fewer than FOLDS groups."""
  if mix not in ("real", "asked"):
    raise ValueError(f"mix must be 'real' or 'asked', not {mix!r}")
  if mix == "real":
    drawn = in_real_mix(generated, real, seed=0)
    if len(np.unique(drawn.groups)) >= FOLDS:
      generated = drawn
    else:
      mix = "asked"
  if min(len(np.unique(generated.groups)), len(np.unique(real.groups))) < FOLDS:
    return []
  features = melody_features(np.concatenate([generated.events, real.events]), steps_per_bar)
  classes = np.repeat([1, 0], [len(generated.events), len(real.events)])
  groups = np.concatenate([generated.groups, real.groups])
  names, start, result = feature_names(steps_per_bar), 0, []
  for block, width in feature_blocks(steps_per_bar).items():
    columns = slice(start, start + width)
    start += width
    accuracies = []
    for seed in range(repeats):
      rng = np.random.default_rng(seed)
      fold = group_folds(groups, classes, FOLDS, seed)
      for k in range(FOLDS):
        train = _balanced(np.nonzero(fold != k)[0], classes, rng)
        test = _balanced(np.nonzero(fold == k)[0], classes, rng)
        predicted = logistic_regression(features[train, columns], classes[train],
                                        features[test, columns])
        accuracies.append(float((predicted == classes[test]).mean()))
    generated_mean = features[classes == 1, columns].mean(0)
    real_mean, real_std = features[classes == 0, columns].mean(0), features[classes == 0, columns].std(0)
    worst = int(np.argmax(np.abs(generated_mean - real_mean) / np.maximum(real_std, 1e-3)))
    result.append({"block": block, "accuracy": float(np.mean(accuracies)),
                   "std": float(np.std(accuracies)),
                   "feature": names[columns][worst].split("/", 1)[1],
                   "generated_mean": float(generated_mean[worst]),
                   "real_mean": float(real_mean[worst]), "mix": mix,
                   "samples": len(generated.events)})
  return sorted(result, key=lambda row: -row["accuracy"])


# --- Real tunes -----------------------------------------------------------------------------

def split_rows(arrays, split: str, steps_per_bar: int) -> np.ndarray:
  """Row indices of the split's untransposed windows with bars of `steps_per_bar` steps."""
  return np.nonzero((arrays["split"] == sources_lib.SPLITS.index(split))
                    & (arrays["transposition"] == 0)
                    & (arrays["steps_per_bar"] == steps_per_bar))[0]


def real_tunes(arrays, bars: int, steps_per_bar: int, thresholds, split: str = "test") -> Melodies:
  """The split's untransposed tunes with bars of `steps_per_bar` steps (the bar a model is
  conditioned on: 3/4 and 6/8 alike) as spans of `bars` bars: each window cut to `bars` bars, or
  joined to the windows that follow it in the same tune and segment (start_bar b, b + W, ... for
  windows of W bars) until `bars` are covered; spans that would run past the tune's end are left
  out. Groups are the cache's `piece`, quadrants the judge's labels of the spans."""
  rows_index = split_rows(arrays, split, steps_per_bar)
  window_bars = int(arrays["lengths"][rows_index].max(initial=0)) // steps_per_bar
  where = {(arrays["piece"][r], arrays["segment"][r], arrays["start_bar"][r]): r for r in rows_index}
  spans, pieces = [], []
  for row in rows_index:
    piece, segment, start = (int(arrays[k][row]) for k in ("piece", "segment", "start_bar"))
    parts, covered, current = [], 0, row
    while current is not None and covered < bars:
      need = min(window_bars, bars - covered) * steps_per_bar
      if arrays["lengths"][current] < need:
        break
      parts.append(arrays["events"][current, :need])
      covered += need // steps_per_bar
      current = where.get((piece, segment, start + covered))
    if covered == bars:
      spans.append(np.concatenate(parts).astype(np.int64))
      pieces.append(piece)
  events = np.stack(spans) if spans else np.zeros((0, bars * steps_per_bar), np.int64)
  labels = judge.labels(list(events), steps_per_bar, thresholds) if spans else np.zeros(0, np.int64)
  return Melodies(events, np.array(pieces, np.int64), labels)


def training_tunes(arrays, bars: int, steps_per_bar: int, thresholds, per_quadrant: int,
                   seed: int = 0, split: str = "train") -> Melodies:
  """The memorizer's melodies: the split's untransposed spans of `bars` bars (real_tunes), drawn
  at random (seed) to per_quadrant in each quadrant the judge labels them (all of a quadrant's
  where it has fewer), as a model is asked for equal shares of the quadrants. Groups stay the
  tunes, so no tune's spans sit in two folds."""
  spans = real_tunes(arrays, bars, steps_per_bar, thresholds, split=split)
  rng = np.random.default_rng(seed)
  keep = [rng.choice(np.nonzero(spans.quadrants == q)[0],
                     min(per_quadrant, int((spans.quadrants == q).sum())), replace=False)
          for q in range(len(emotion_lib.EMOTIONS))]
  return spans.subset(np.sort(np.concatenate(keep)).astype(np.int64))


def in_real_mix(generated: Melodies, real: Melodies, seed: int) -> Melodies:
  """generated drawn down at random (seed) to the real side's quadrant shares: in each quadrant
  round(share * total) of its melodies, total as large as the scarcest quadrant allows. None
  (an empty side: the row is NaN) when a melody on either side has no quadrant (-1)."""
  count = len(emotion_lib.EMOTIONS)
  if any(((side.quadrants < 0) | (side.quadrants >= count)).any() for side in (generated, real)):
    return generated.subset(np.zeros(0, np.int64))
  shares = np.bincount(real.quadrants, minlength=count) / max(len(real.quadrants), 1)
  available = np.bincount(generated.quadrants, minlength=count)
  total = min((available[q] / shares[q] for q in range(count) if shares[q] > 0), default=0.0)
  rng = np.random.default_rng(seed)
  keep = [rng.choice(np.nonzero(generated.quadrants == q)[0],
                     min(int(round(shares[q] * total)), available[q]), replace=False)
          for q in range(count)]
  return generated.subset(np.sort(np.concatenate(keep)).astype(np.int64))


def real_against_real(real: Melodies, steps_per_bar: int, repeats: int = 2 * REPEATS,
                      log=progress.silent, classifiers=CLASSIFIERS) -> list[dict]:
  """rows() of the real tunes against themselves: split in two halves by piece (a new random
  split each repeat: twice the repeats of a model's row, as the split adds its own spread), one
  half labelled "generated"; about 0.5, a little under with few tunes (a held-out fold's tunes
  are missing from its training folds, which tilts them the other way)."""
  def halves(seed):
    pieces = np.random.default_rng(seed).permutation(np.unique(real.groups))
    half = np.isin(real.groups, pieces[:len(pieces) // 2])
    return real.subset(half), real.subset(~half)
  return rows(halves, steps_per_bar, repeats, log, classifiers)


def model_rows(generated: Melodies, real: Melodies, steps_per_bar: int, repeats: int = REPEATS,
               log=progress.silent, classifiers=CLASSIFIERS) -> list[dict]:
  """rows() of a model's samples against the real tunes."""
  return rows(lambda seed: (generated, real), steps_per_bar, repeats, log, classifiers)


def generated_melodies(melodies, requested) -> Melodies:
  """A model's samples (equal lengths) as one side, each its own group."""
  return Melodies(np.stack([np.asarray(m, np.int64) for m in melodies]),
                  np.arange(len(melodies)), np.asarray(requested, np.int64))


def tune_draws(pool: Melodies, count: int, draws: int = POOL_DRAWS, seed: int = 0) -> list[Melodies]:
  """`draws` pools of `count` spans from `pool`, each of whole tunes (groups) taken in a random
  order (seed) until `count` spans are in (the last tune's first spans only): pools the size of a
  held-out split, holding its tunes as a split does. [pool] when it has no more than count."""
  if len(pool.events) <= count:
    return [pool]
  return [pool.subset(rows) for rows in _draw_rows(pool, count, draws, seed)]


def _draw_rows(pool: Melodies, count: int, draws: int, seed: int) -> list[np.ndarray]:
  """tune_draws' pools as rows of `pool`."""
  if len(pool.events) <= count:
    return [np.arange(len(pool.events))]
  rng, result = np.random.default_rng(seed), []
  for _ in range(draws):
    keep = []
    for tune in rng.permutation(np.unique(pool.groups)):
      keep.extend(np.nonzero(pool.groups == tune)[0].tolist())
      if len(keep) >= count:
        break
    result.append(np.sort(np.array(keep[:count], np.int64)))
  return result


def pool_rows(generated: Melodies, pool: Melodies, count: int, steps_per_bar: int,
              draws: int = POOL_DRAWS, seed: int = 0, repeats: int = REPEATS,
              reference: float | None = None, log=progress.silent) -> list[dict]:
  """The feature classifier's overall accuracy at telling `generated` from real tunes drawn
  from `pool` (compare, `repeats` cross-validations each): {"pool": "drawn", "accuracy" (mean
  over the draws), "std", "lowest", "highest" (over the draws), "draws", "generated", "real":
  spans a draw, "at_or_under": the share of draws whose accuracy is at most `reference` (the
  held-out split's figure: where it falls among pools of its size; NaN without one)} for `draws`
  draws of `count` spans (tune_draws), then {"pool": "all", ...} for the whole pool (one draw,
  "std" over its folds, "at_or_under" NaN). NaN where a side has fewer than FOLDS groups. Each
  side's features are computed once (compare's figures, a draw's rows of them)."""
  generated_features = melody_features(generated.events, steps_per_bar)
  pool_features = melody_features(pool.events, steps_per_bar)

  def measure(rows):
    real = pool.subset(rows)
    if not _enough_groups(generated, real):
      return np.array([np.nan])
    inputs = {"features": np.concatenate([generated_features, pool_features[rows]])}
    return np.array([v for r in range(repeats) for v in
                     _cross_validated(inputs, generated, real, r, ("features",))["features"]])

  result = []
  for kind, pools in (("drawn", _draw_rows(pool, count, draws, seed)),
                      ("all", [np.arange(len(pool.events))])):
    log(f"realism against {kind} training tunes: {len(pools)} pool(s) of "
        f"{len(pools[0])} spans, {len(generated.events)} melodies")
    folds = [measure(rows) for rows in pools]
    means = np.array([f.mean() for f in folds])
    result.append({"pool": kind, "accuracy": float(means.mean()),
                   "std": float(means.std() if len(pools) > 1 else folds[0].std()),
                   "lowest": float(means.min()), "highest": float(means.max()),
                   "draws": len(pools), "generated": len(generated.events),
                   "real": len(pools[0]),
                   "at_or_under": float((means <= reference).mean())
                   if reference is not None and kind == "drawn" and len(pools) > 1
                   and not np.isnan(means).any() else np.nan})
  return result
