"""Every model and the held-out test split measured the same way.

For a model and each seed, N melodies are sampled per emotion; every per-melody metric
(metrics/melody.py) is averaged per seed, and a table cell is mean ± std over seeds. The test
split is scored as a row of its own (its ± is over melodies). Emotional consistency uses the
independent judge (judge.py: the data pipeline's feature labeller, not the training classifier
E): accuracy against the requested emotion, and the confusion matrix. Likelihoods are measured
on the test split (likelihood_row), emotion transfer on its opening windows (emotion_transfer),
realism against its tunes by classifiers trained to tell them apart (realism_rows, realism.py).
"""

from __future__ import annotations

import collections
import time

import jax
import jax.numpy as jnp
import numpy as np

from hrnnvae import judge, progress
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.evaluation import realism
from hrnnvae.metrics import corpus, likelihood, melody
from hrnnvae.sample import Sampler, slerp

SET_FEATURES = ("pitch_range", "pitch_variation", "rhythm_diversity", "melodic_complexity",
                "pitch_class_entropy", "empty_beat_rate")


def check_test_split(arrays, cache_dir) -> None:
  """CacheError naming the fix when the cache has no untransposed test melodies."""
  if not len(test_melodies(arrays)[0]):
    raise cache_lib.CacheError(
        f"{cache_dir} has no test melodies, so there is nothing to evaluate against: prepare "
        "more tunes (a full dataset, without --limit) with hrnnvae-data prepare")


def test_melodies(arrays) -> tuple[np.ndarray, list[np.ndarray]]:
  """(rows of the untransposed test windows, their melodies [length] each)."""
  rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index("test"))
                    & (arrays["transposition"] == 0))[0]
  return rows, [arrays["events"][r, :arrays["lengths"][r]] for r in rows]


def test_reference(arrays, manifest) -> tuple[dict, list, list]:
  """(the test set's row: metric -> values, with "_values" and "_melodies"; the reference
  half's per-melody metrics; its melodies).

  Set metrics (BLEU, overlap, KL) of every row use the second half of the test split as the
  reference; the test row is its first half, so the reference row is comparable."""
  rows_index, melodies = test_melodies(arrays)
  qpm = arrays["qpm"][rows_index]
  spb = arrays["steps_per_bar"][rows_index]
  meters = arrays["time_signature"][rows_index]
  test_per_melody = [melody.all_metrics(m, float(q), int(s), tuple(t))
                     for m, q, s, t in zip(melodies, qpm, spb, meters)]
  test_row = {name: [m[name] for m in test_per_melody] for name in test_per_melody[0]}
  labels = judge.labels(melodies, spb, judge.thresholds_of(manifest))
  test_row["emotion_consistency"] = [float((labels == arrays["emotion"][rows_index]).mean())]
  test_row["_emotion_features"] = emotion_features(melodies, spb, labels)
  half = len(melodies) // 2
  reference_values, reference_melodies = test_per_melody[half:], melodies[half:]
  test_row.update({k: [v] for k, v in _set_metrics(
      test_per_melody[:half], melodies[:half], reference_values, reference_melodies).items()})
  test_row["_values"], test_row["_melodies"] = test_per_melody, melodies
  return test_row, reference_values, reference_melodies


def emotion_features(melodies, steps_per_bar, groups) -> dict:
  """{quadrant: {feature: values}} of the melodies grouped by `groups` (a quadrant each: the
  requested emotion of a sample, the label of a real tune); the features the judge reads."""
  features = judge.features(melodies, steps_per_bar)
  groups = np.asarray(groups)
  columns = {"note_density": features.note_density, "mean_abs_interval": features.mean_abs_interval,
             "minor": (~np.asarray(features.is_major, bool)).astype(float)}
  return {q: {name: values[groups == q].tolist() for name, values in columns.items()}
          for q in range(len(emotion_lib.EMOTIONS))}


def per_quadrant_agreement(confusion) -> np.ndarray:
  """The judge's agreement [4] for each requested quadrant (a row of the confusion matrix)."""
  confusion = np.asarray(confusion, float)
  return np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)


def judged_agreement(melodies, requested, steps_per_bar: int, thresholds) -> np.ndarray:
  """per_quadrant_agreement [4] of the judge's labels of melodies asked for `requested`."""
  confusion = np.zeros((4, 4), int)
  np.add.at(confusion, (np.asarray(requested), judge.labels(melodies, steps_per_bar, thresholds)), 1)
  return per_quadrant_agreement(confusion)


def shape_shares(melodies, steps_per_bar: int) -> dict:
  """{one_step_notes, tonic_share}: the mean over melodies of the share of notes lasting one
  step and of the share of notes on the melody's key's tonic (realism.feature_columns), the two
  shapes the sweeps watch beside realism."""
  columns = realism.feature_columns(np.stack([np.asarray(m) for m in melodies]), steps_per_bar,
                                    ["note_length/1 steps", "pitch_class/degree 0"])
  return {"one_step_notes": float(columns["note_length/1 steps"].mean()),
          "tonic_share": float(columns["pitch_class/degree 0"].mean())}


def realism_columns(rows_of_realism) -> dict:
  """realism.model_rows / real_against_real rows (features) as named columns: realism (overall),
  realism_real_mix and realism_<quadrant>, as the sweeps report them."""
  by_subset = {row["subset"]: row["accuracy"] for row in rows_of_realism}
  return {"realism": by_subset["overall"], "realism_real_mix": by_subset["real_mix"],
          **{f"realism_{q}": by_subset[q] for q in emotion_lib.EMOTIONS}}


def _set_metrics(per_melody, melodies, test_per_melody, test_melodies):
  comparisons = [corpus.distribution_comparison([m[f] for m in per_melody],
                                                [m[f] for m in test_per_melody])
                 for f in SET_FEATURES]
  return {"bleu4": corpus.corpus_bleu(melodies, test_melodies),
          "set_overlap": float(np.mean([c["overlap"] for c in comparisons])),
          "set_kl": float(np.mean([c["kl"] for c in comparisons]))}


def requested_emotions(num_samples: int) -> list[int]:
  """The emotion of each prior sample: num_samples of each quadrant, in EMOTIONS order."""
  return [e for e in range(len(emotion_lib.EMOTIONS)) for _ in range(num_samples)]


def evaluate_model(sampler: Sampler, arrays, manifest, num_samples: int, seeds, bars: int,
                   reference_values, reference_melodies, temperature: float | None = None,
                   log=progress.silent):
  """(per-seed metric dicts, confusion matrix [4, 4] summed over seeds, example melodies).

  temperature: of the prior samples (None: the sampler's, the model's own unless steered)."""
  thresholds = judge.thresholds_of(manifest)
  qpm = float(np.median(arrays["qpm"]))
  meter = tuple(sampler.facts["time_signature"])
  requested = requested_emotions(num_samples)
  per_seed, confusion = [], np.zeros((4, 4), int)
  examples, features = [], {}
  for seed in seeds:
    start = time.monotonic()
    log(f"seed {seed}: sampling {len(requested)} melodies of {bars} bars")
    melodies = [m.events for m in sampler.sample(requested, bars, seed, temperature)]
    log(f"seed {seed}: scoring them ({time.monotonic() - start:.0f} s so far)")
    per_melody = [melody.all_metrics(m, qpm, sampler.steps_per_bar, meter) for m in melodies]
    labels = judge.labels(melodies, sampler.steps_per_bar, thresholds)
    np.add.at(confusion, (np.array(requested), labels), 1)
    means = {name: float(np.mean([m[name] for m in per_melody])) for name in per_melody[0]}
    means["emotion_consistency"] = float((labels == np.array(requested)).mean())
    # The training classifier E on the same samples: a gap to the judge means E is fooled.
    classifier_labels = sampler.classify(judge.padded(melodies)[0]).argmax(-1)
    means["classifier_agreement"] = float((classifier_labels == np.array(requested)).mean())
    for quadrant, columns in emotion_features(melodies, sampler.steps_per_bar, requested).items():
      for name, values in columns.items():
        features.setdefault(quadrant, {}).setdefault(name, []).extend(values)
    means.update(_set_metrics(per_melody, melodies, reference_values, reference_melodies))
    means["_values"] = per_melody
    per_seed.append(means)
    examples = examples or melodies
  per_seed[0]["_emotion_features"] = features
  return per_seed, confusion, examples


def realism_rows(sampler: Sampler, real_of, num_samples: int, seed: int, realism_bars,
                 sampled: dict, log=progress.silent) -> tuple[list[dict], dict]:
  """Realism (realism.py) of the model's prior samples, num_samples per emotion from `seed`, at
  each of realism_bars against real_of(bars, steps_per_bar) (the test tunes in the model's bar):
  (realism.model_rows' rows with "bars", {bars: the melodies measured}). sampled: {bars:
  melodies} already drawn in requested_emotions' order (evaluate_model's first seed), reused
  rather than drawn again."""
  requested = requested_emotions(num_samples)
  result, drawn = [], {}
  for bars in realism_bars:
    melodies = sampled.get(bars)
    if melodies is None:
      log(f"realism: sampling {len(requested)} melodies of {bars} bars")
      melodies = [m.events for m in sampler.sample(requested, bars, seed)]
    drawn[bars] = melodies
    rows = realism.model_rows(realism.generated_melodies(melodies, requested),
                              real_of(bars, sampler.steps_per_bar), sampler.steps_per_bar,
                              log=lambda message, bars=bars: log(f"{bars} bars: {message}"))
    result += [{"bars": bars, **row} for row in rows]
  return result, drawn


def opening_windows(arrays, steps_per_bar: int, split: str = "test"):
  """Rows of a split's first window of each tune, in the model's meter, untransposed."""
  return np.nonzero((arrays["split"] == sources_lib.SPLITS.index(split))
                    & (arrays["transposition"] == 0) & (arrays["start_bar"] == 0)
                    & (arrays["steps_per_bar"] == steps_per_bar))[0]


def interpolation_ends(sampler: Sampler, arrays, seed: int) -> dict:
  """The ends of `hrnnvae-sample --mode=interpolate` between consecutive opening windows (pairs
  of test tunes in the model's meter): each path's first and last points decoded as the CLI
  does it (slerp between the two mus, the first tune's emotion, the model's own temperature and
  top-p), against their input: the share of steps kept (mean over ends, and the share of ends
  at >= 80%)."""
  rows = opening_windows(arrays, sampler.steps_per_bar)
  meter = tuple(sampler.facts["time_signature"])
  events = arrays["events"][rows].astype(np.int64)
  lengths = arrays["lengths"][rows].astype(np.int64)
  mu = np.stack([sampler.encode(e[:n], meter) for e, n in zip(events, lengths)])
  pairs = [(i, i + 1) for i in range(0, len(rows) - 1, 2)]
  ends_z = np.concatenate([slerp(mu[a], mu[b], np.array([0.0, 1.0])) for a, b in pairs])
  emotions = np.repeat([int(arrays["emotion"][rows[a]]) for a, _ in pairs], 2)
  decoded = sampler.decode(ends_z, emotions, events.shape[1], seed)
  inputs = np.array([index for pair in pairs for index in pair])
  real = np.arange(events.shape[1])[None] < lengths[inputs][:, None]
  match = ((decoded == events[inputs]) & real).sum(1) / lengths[inputs]
  return {"pairs": len(pairs), "temperature": sampler.temperature, "top_p": sampler.top_p,
          "step_match": float(match.mean()), "ends_at_80_percent": float((match >= 0.8).mean()),
          "first_end": float(match[::2].mean()), "last_end": float(match[1::2].mean())}


class TransferPairs(collections.namedtuple(
    "TransferPairs", ["events", "lengths", "mu", "own", "tune", "requested"])):
  """Every (opening window, other emotion) pair of a split, as emotion_transfer moves them: the
  windows' events [W, T], lengths [W], mu [W, Z] and own emotions [W]; each pair's window
  (`tune`, [P]) and requested emotion [P]. Window i is asked for (own_i + k) % 4, k = 1, 2, 3."""

  @property
  def real(self) -> np.ndarray:
    """[P, T]: the steps of each pair's window that are the tune's (not padding)."""
    return np.arange(self.events.shape[1])[None] < self.lengths[self.tune, None]


def transfer_pairs(sampler: Sampler, arrays, split: str = "test") -> TransferPairs:
  """The split's opening windows encoded, each paired with the three other emotions."""
  rows = opening_windows(arrays, sampler.steps_per_bar, split)
  meter = tuple(sampler.facts["time_signature"])
  events = arrays["events"][rows].astype(np.int64)
  lengths = arrays["lengths"][rows].astype(np.int64)
  mu = np.stack([sampler.encode(e[:n], meter) for e, n in zip(events, lengths)])
  own = arrays["emotion"][rows].astype(np.int64)
  quadrants = len(emotion_lib.EMOTIONS)
  tune = np.repeat(np.arange(len(rows)), quadrants - 1)
  requested = (own[tune] + np.tile(np.arange(1, quadrants), len(rows))) % quadrants
  return TransferPairs(events, lengths, mu, own, tune, requested)


def transfer_outcome(sampler: Sampler, pairs: TransferPairs, thresholds, seed: int,
                     temperature: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(decoded [P, T], agrees [P], steps kept [P]) of every pair's transfer at one seed and
  temperature (Sampler.decode_posterior, as `--mode=reconstruct --emotion=OTHER` does it):
  whether the judge puts the decode in the requested quadrant, and the share of the window's
  steps the decode keeps."""
  tune = pairs.tune
  decoded = sampler.decode_posterior(pairs.mu[tune], pairs.own[tune], pairs.requested,
                                     pairs.events[tune], seed, temperature,
                                     lengths_B=pairs.lengths[tune])
  judged = judge.labels([d[:n] for d, n in zip(decoded, pairs.lengths[tune])],
                        sampler.steps_per_bar, thresholds)
  kept = ((decoded == pairs.events[tune]) & pairs.real).sum(1) / pairs.lengths[tune]
  return decoded, judged == pairs.requested, kept


def emotion_transfer(sampler: Sampler, arrays, thresholds: emotion_lib.ArousalThresholds,
                     temperatures, seed, split: str = "test") -> dict:
  """Emotion transfer on tunes the model never saw: each opening window decoded from its own mu
  (Sampler.decode_posterior: moved by transfer_latents, at the model's transfer_guidance,
  favouring its own events by its transfer_keep; or edited, with transfer_edits) for each of
  the three other emotions (transfer_pairs, transfer_outcome), as `--mode=reconstruct
  --emotion=OTHER` does. Per temperature: the judge's agreement with the requested emotion and
  the share of the original's steps kept, each overall and per requested quadrant. split: whose
  opening windows (settings are chosen on "valid").

  seed: one seed, or a list of them: each figure is then the mean over the seeds' decodes (the
  windows are few, so one seed's agreement can sit 0.03 from the mean), and
  judge_agreement_by_seed / step_match_by_seed hold each seed's own."""
  seeds = [int(s) for s in np.atleast_1d(seed)]
  pairs = transfer_pairs(sampler, arrays, split)
  requested = pairs.requested
  asked = [q for q in range(len(emotion_lib.EMOTIONS)) if (requested == q).any()]
  result = {"tunes": int(len(pairs.events)), "pairs": int(len(pairs.tune)), "seeds": seeds,
            "rows": []}
  for temperature in temperatures:
    outcomes = [transfer_outcome(sampler, pairs, thresholds, one_seed, temperature)[1:]
                for one_seed in seeds]
    agree_SxP = np.array([agree for agree, _ in outcomes], float)
    match_SxP = np.array([kept for _, kept in outcomes])
    result["rows"].append({
        "temperature": temperature, "judge_agreement": float(agree_SxP.mean()),
        "per_quadrant": {emotion_lib.EMOTIONS[q]: float(agree_SxP[:, requested == q].mean())
                         for q in asked},
        "step_match": float(match_SxP.mean()),
        "step_match_per_quadrant": {emotion_lib.EMOTIONS[q]: float(match_SxP[:, requested == q].mean())
                                    for q in asked},
        "judge_agreement_by_seed": [float(a) for a in agree_SxP.mean(1)],
        "step_match_by_seed": [float(m) for m in match_SxP.mean(1)]})
  return result


def _unrelated_neighbours(rows: np.ndarray) -> np.ndarray:
  """rows (one tune's windows next to each other) reordered so each row's neighbours lie half the
  split away, in other tunes: r_0, r_h, r_1, r_h+1, ... with h = ceil(len / 2)."""
  half = (len(rows) + 1) // 2
  order = np.empty_like(rows)
  order[0::2], order[1::2] = rows[:half], rows[half:]
  return order


# The model (a hashable Flax module) is static: models of one architecture share the compilation.
_likelihood_sums = jax.jit(likelihood.likelihood_sums, static_argnums=0)


def greedy_counts(sampler, latents_BxZ, events_BxT, lengths_B, steps_per_bar_B, emotion_B,
                  seed: int = 0, first_bars_B=None) -> tuple[np.ndarray, dict]:
  """(greedy decodes [B, T] of the latents, counts): the melodies' real steps, the steps the
  decode reproduces, the steps where both the melody and its decode start a note, and of those
  the ones with the right pitch. The decode is the model's own, as is (no guidance, no
  penalties); first_bars_B: where each window starts in its tune (Sampler.decode)."""
  greedy = sampler.decode(latents_BxZ, emotion_B, events_BxT.shape[1], seed, temperature=1e-4,
                          steps_per_bar=steps_per_bar_B, emotion_guidance=1.0, repeat_penalty=1.0,
                          short_note_penalty=1.0, first_bars=first_bars_B)
  real = np.arange(greedy.shape[1])[None] < np.asarray(lengths_B)[:, None]
  both_onsets = real & (events_BxT >= events_lib.FIRST_PITCH_EVENT) & (
      greedy >= events_lib.FIRST_PITCH_EVENT)
  same = greedy == events_BxT
  return greedy, {"real_steps": float(real.sum()), "sampled_correct": float((same & real).sum()),
                  "both_onsets": float(both_onsets.sum()),
                  "onset_pitch_correct": float((both_onsets & same).sum())}


def likelihood_row(sampler: Sampler, arrays, batch_size: int = 64, seed: int = 0,
                   log=progress.silent) -> dict:
  """Test-split likelihood: teacher-forced accuracy, cross-entropy per step, ELBO and
  importance-sampled NLL per melody (the two equal log p(x|mu) for a model with no latent),
  sampled reconstruction accuracy (greedy decode of mu; and, where the tune and its decode both
  start a note, the share with the right pitch, which rhythm alone cannot earn), and latent
  use: cross-entropy per step
  decoded from another test melody's mu (its batch neighbour, from another tune) and from a prior
  z, and the latent gap (shuffled minus own mu, nats per step; metrics/likelihood.py)."""
  rows, _ = test_melodies(arrays)
  rows = _unrelated_neighbours(rows)
  totals = collections.Counter()
  # Batches of near-equal size (none of one melody, whose shuffled z would be its own).
  chunks = np.array_split(rows, max(-(-len(rows) // batch_size), 1))
  heartbeat = progress.Heartbeat("test-split likelihood", len(chunks), "batches", log)
  for index, chunk in enumerate(chunks):
    batch = {"events": jnp.asarray(arrays["events"][chunk], jnp.int32),
             "lengths": jnp.asarray(arrays["lengths"][chunk], jnp.int32),
             "steps_per_bar": jnp.asarray(arrays["steps_per_bar"][chunk], jnp.int32),
             "emotion": jnp.asarray(arrays["emotion"][chunk], jnp.int32),
             "start_bar": jnp.asarray(arrays["start_bar"][chunk], jnp.int32)}
    if sampler.hp.use_vae:
      sums = jax.device_get(_likelihood_sums(sampler.vae, sampler.params["vae"], batch,
                                             jax.random.key(seed + index)))
    else:
      sums = jax.device_get(likelihood.deterministic_sums(sampler.vae, sampler.params["vae"], batch))
    mu, _ = sampler.posterior(batch["events"], batch["lengths"], batch["steps_per_bar"])
    totals.update(greedy_counts(sampler, mu, arrays["events"][chunk], arrays["lengths"][chunk],
                                arrays["steps_per_bar"][chunk], arrays["emotion"][chunk], seed,
                                arrays["start_bar"][chunk])[1])
    totals["melodies"] += float(len(chunk))
    totals.update({name: float(sums[name].sum())
                   for name in ("log_px_at_mu", "correct", "steps", "elbo", "importance_log_px",
                                "log_px_at_shuffled", "log_px_at_prior", "onsets",
                                "onset_pitch_correct_at_mu", "onset_pitch_correct_at_shuffled")})
    heartbeat()
  cross_entropy = {name: -totals[f"log_px_at_{name}"] / totals["steps"]
                   for name in ("mu", "shuffled", "prior")}
  return {"teacher_forced_accuracy": totals["correct"] / totals["steps"],
          "sampled_accuracy": totals["sampled_correct"] / totals["steps"],
          # Of the steps where both the tune and its greedy decode start a note: the same pitch.
          "sampled_onset_pitch_accuracy": totals["onset_pitch_correct"] / max(totals["both_onsets"], 1),
          # Teacher-forced, at the tune's onsets: the right pitch from its own z and another's.
          "onset_pitch_accuracy": totals["onset_pitch_correct_at_mu"] / max(totals["onsets"], 1),
          "onset_pitch_accuracy_shuffled_z": (totals["onset_pitch_correct_at_shuffled"]
                                              / max(totals["onsets"], 1)),
          "cross_entropy_per_step": cross_entropy["mu"],
          "elbo_per_melody": totals["elbo"] / totals["melodies"],
          "nll_per_melody": -totals["importance_log_px"] / totals["melodies"],
          "cross_entropy_shuffled_z": cross_entropy["shuffled"],
          "cross_entropy_prior_z": cross_entropy["prior"],
          "latent_gap": cross_entropy["shuffled"] - cross_entropy["mu"]}
