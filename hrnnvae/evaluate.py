"""The evaluation harness: every model and the held-out test split measured the same way.

For each model (a training workdir's export/) and each seed, N melodies are sampled per emotion.
Every per-melody metric (metrics/melody.py) is averaged per seed; a table cell is mean ± std over
seeds. The test split is the first row of every table (its ± is over melodies). Emotional
consistency uses the independent feature-based labeller of the data pipeline (not the training
classifier E): accuracy against the requested emotion, and the confusion matrix.
"""

from __future__ import annotations

import collections
import csv
import pathlib
import time

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hrnnvae import cli  # noqa: E402
from hrnnvae.data import cache as cache_lib  # noqa: E402
from hrnnvae.data import emotion as emotion_lib  # noqa: E402
from hrnnvae.data import events as events_lib  # noqa: E402
from hrnnvae.data import sources as sources_lib  # noqa: E402
from hrnnvae.exports import model_dir  # noqa: E402
from hrnnvae.metrics import corpus, counting, likelihood, melody  # noqa: E402
from hrnnvae.sample import Sampler  # noqa: E402

PAPER_METRICS = ("bleu4", "note_repetition_rate", "emotion_consistency", "duration_seconds",
                 "pitch_variation", "rhythm_diversity", "harmonic_richness", "melodic_complexity",
                 "note_jump_degree", "rhythm_continuity", "pitch_stability")
SET_FEATURES = ("pitch_range", "pitch_variation", "rhythm_diversity", "melodic_complexity",
                "pitch_class_entropy", "empty_beat_rate")
TEST_ROW = "test set"


PRIOR_NAMES = {"standard": "N(0, I)", "fitted": "the fitted latent prior (latent_prior.py)"}


def model_name(path) -> str:
  """A model's name in the report: its run folder's name (also when given its export/)."""
  path = pathlib.Path(path).absolute()
  return path.parent.name if (path / "config.json").is_file() and path.name == "export" else path.name


def check_test_split(arrays, cache_dir) -> None:
  """CacheError naming the fix when the cache has no untransposed test melodies."""
  if not len(_test_melodies(arrays)[0]):
    raise cache_lib.CacheError(
        f"{cache_dir} has no test melodies, so there is nothing to evaluate against: prepare "
        "more tunes (a full dataset, without --limit) with hrnnvae-data prepare")


def test_reference(arrays, manifest) -> tuple[dict, list, list]:
  """(the test set's row: metric -> values, with "_values" and "_melodies"; the reference
  half's per-melody metrics; its melodies).

  Set metrics (BLEU, overlap, KL) of every row use the second half of the test split as the
  reference; the test row is its first half, so the reference row is comparable."""
  rows_index, test_melodies = _test_melodies(arrays)
  qpm = arrays["qpm"][rows_index]
  spb = arrays["steps_per_bar"][rows_index]
  test_per_melody = [melody.all_metrics(m, float(q), int(s))
                     for m, q, s in zip(test_melodies, qpm, spb)]
  thresholds = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
  test_row = {name: [m[name] for m in test_per_melody] for name in test_per_melody[0]}
  labels = _labels(test_melodies, spb, thresholds)
  test_row["emotion_consistency"] = [float((labels == arrays["emotion"][rows_index]).mean())]
  test_row["_emotion_features"] = emotion_features(test_melodies, spb, labels)
  half = len(test_melodies) // 2
  reference_values, reference_melodies = test_per_melody[half:], test_melodies[half:]
  test_row.update({k: [v] for k, v in _set_metrics(
      test_per_melody[:half], test_melodies[:half], reference_values, reference_melodies).items()})
  test_row["_values"], test_row["_melodies"] = test_per_melody, test_melodies
  return test_row, reference_values, reference_melodies


def _test_melodies(arrays):
  rows = np.nonzero((arrays["split"] == sources_lib.SPLITS.index("test"))
                    & (arrays["transposition"] == 0))[0]
  return rows, [arrays["events"][r, :arrays["lengths"][r]] for r in rows]


def _padded(melodies):
  lengths = np.array([len(m) for m in melodies])
  padded = np.zeros((len(melodies), lengths.max()), np.int64)
  for row, events in enumerate(melodies):
    padded[row, :len(events)] = events
  return padded, lengths


def _features(melodies, steps_per_bar) -> emotion_lib.Features:
  padded, lengths = _padded(melodies)
  return emotion_lib.melody_features(padded, lengths, np.broadcast_to(steps_per_bar, lengths.shape))


def _labels(melodies, steps_per_bar, thresholds):
  """The data pipeline's emotion label of each melody (steps_per_bar: one, or one per melody)."""
  return emotion_lib.emotion_labels(_features(melodies, steps_per_bar),
                                    thresholds).astype(np.int64)


EMOTION_FEATURES = {"note_density": "onsets per bar", "mean_abs_interval": "mean |interval|",
                    "minor": "share in a minor key"}


def emotion_features(melodies, steps_per_bar, groups) -> dict:
  """{quadrant: {feature: values}} of the melodies grouped by `groups` (a quadrant each: the
  requested emotion of a sample, the label of a real tune); the features the judge reads."""
  features = _features(melodies, steps_per_bar)
  groups = np.asarray(groups)
  columns = {"note_density": features.note_density, "mean_abs_interval": features.mean_abs_interval,
             "minor": (~np.asarray(features.is_major, bool)).astype(float)}
  return {q: {name: values[groups == q].tolist() for name, values in columns.items()}
          for q in range(len(emotion_lib.EMOTIONS))}


def per_quadrant_agreement(confusion) -> np.ndarray:
  """The judge's agreement [4] for each requested quadrant (a row of the confusion matrix)."""
  confusion = np.asarray(confusion, float)
  return np.diag(confusion) / np.maximum(confusion.sum(axis=1), 1)


def _set_metrics(per_melody, melodies, test_per_melody, test_melodies):
  comparisons = [corpus.distribution_comparison([m[f] for m in per_melody],
                                                [m[f] for m in test_per_melody])
                 for f in SET_FEATURES]
  return {"bleu4": corpus.corpus_bleu(melodies, test_melodies),
          "set_overlap": float(np.mean([c["overlap"] for c in comparisons])),
          "set_kl": float(np.mean([c["kl"] for c in comparisons]))}


def evaluate_model(sampler: Sampler, arrays, manifest, num_samples: int, seeds, bars: int,
                   reference_values, reference_melodies, temperature: float = 1.0, log=None):
  """(per-seed metric dicts, confusion matrix [4, 4] summed over seeds, example melodies)."""
  log = log or (lambda message: None)
  thresholds = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
  qpm = float(np.median(arrays["qpm"]))
  requested = [e for e in range(len(emotion_lib.EMOTIONS)) for _ in range(num_samples)]
  per_seed, confusion = [], np.zeros((4, 4), int)
  examples, features = [], {}
  for seed in seeds:
    start = time.monotonic()
    log(f"seed {seed}: sampling {len(requested)} melodies of {bars} bars")
    melodies = [m.events for m in sampler.sample(requested, bars, seed, temperature)]
    log(f"seed {seed}: scoring them ({time.monotonic() - start:.0f} s so far)")
    per_melody = [melody.all_metrics(m, qpm, sampler.steps_per_bar) for m in melodies]
    labels = _labels(melodies, sampler.steps_per_bar, thresholds)
    np.add.at(confusion, (np.array(requested), labels), 1)
    means = {name: float(np.mean([m[name] for m in per_melody])) for name in per_melody[0]}
    means["emotion_consistency"] = float((labels == np.array(requested)).mean())
    # The training classifier E on the same samples: a gap to the judge means E is fooled.
    classifier_labels = sampler.classify(_padded(melodies)[0]).argmax(-1)
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


def opening_windows(arrays, steps_per_bar: int):
  """Rows of the test split's first window of each tune, in the model's meter, untransposed."""
  return np.nonzero((arrays["split"] == sources_lib.SPLITS.index("test"))
                    & (arrays["transposition"] == 0) & (arrays["start_bar"] == 0)
                    & (arrays["steps_per_bar"] == steps_per_bar))[0]


def emotion_transfer(sampler: Sampler, arrays, thresholds: emotion_lib.ArousalThresholds,
                     temperatures, seed: int) -> dict:
  """Emotion transfer on tunes the model never saw: each opening window decoded from its own mu
  (moved by Sampler.transfer_latents) for each of the three other emotions, as
  `--mode=reconstruct --emotion=OTHER` does. Per
  temperature: the judge's agreement with the requested emotion (overall and per requested
  quadrant) and the share of the original's steps kept."""
  rows = opening_windows(arrays, sampler.steps_per_bar)
  meter = tuple(sampler.facts["time_signature"])
  events = arrays["events"][rows].astype(np.int64)
  lengths = arrays["lengths"][rows].astype(np.int64)
  mu = np.stack([sampler.encode(e[:n], meter) for e, n in zip(events, lengths)])
  own = arrays["emotion"][rows].astype(np.int64)
  quadrants = len(emotion_lib.EMOTIONS)
  # Every (tune, other emotion) pair: tune i asked for (own_i + k) % 4, k = 1, 2, 3.
  tune = np.repeat(np.arange(len(rows)), quadrants - 1)
  requested = (own[tune] + np.tile(np.arange(1, quadrants), len(rows))) % quadrants
  real = np.arange(events.shape[1])[None] < lengths[tune, None]
  spb = np.full(len(tune), sampler.steps_per_bar)
  result = {"tunes": int(len(rows)), "pairs": int(len(tune)), "rows": []}
  for temperature in temperatures:
    decoded = sampler.decode(sampler.transfer_latents(mu[tune], own[tune], requested), requested,
                             events.shape[1], seed, temperature)
    decoded = np.where(real, decoded, 0)
    judged = emotion_lib.emotion_labels(
        emotion_lib.melody_features(decoded, lengths[tune], spb), thresholds)
    agree = judged == requested
    match = ((decoded == events[tune]) & real).sum(1) / lengths[tune]
    result["rows"].append({
        "temperature": temperature, "judge_agreement": float(agree.mean()),
        "per_quadrant": {emotion_lib.EMOTIONS[q]: float(agree[requested == q].mean())
                         for q in range(quadrants) if (requested == q).any()},
        "step_match": float(match.mean())})
  return result


def _unrelated_neighbours(rows: np.ndarray) -> np.ndarray:
  """rows (one tune's windows next to each other) reordered so each row's neighbours lie half the
  split away, in other tunes: r_0, r_h, r_1, r_h+1, ... with h = ceil(len / 2)."""
  half = (len(rows) + 1) // 2
  order = np.empty_like(rows)
  order[0::2], order[1::2] = rows[:half], rows[half:]
  return order


def likelihood_row(sampler: Sampler, arrays, batch_size: int = 64, seed: int = 0,
                   log=None) -> dict:
  """Test-split likelihood: teacher-forced accuracy, cross-entropy per step, ELBO and
  importance-sampled NLL per melody (the two equal log p(x|mu) for a model with no latent),
  sampled reconstruction accuracy (greedy decode of mu; and, where the tune and its decode both
  start a note, the share with the right pitch, which rhythm alone cannot earn), and latent
  use: cross-entropy per step
  decoded from another test melody's mu (its batch neighbour, from another tune) and from a prior
  z, and the latent gap (shuffled minus own mu, nats per step; metrics/likelihood.py)."""
  rows, _ = _test_melodies(arrays)
  rows = _unrelated_neighbours(rows)
  totals = collections.Counter()
  sums_fn = jax.jit(lambda p, b, k: likelihood.likelihood_sums(sampler.vae, p, b, k))
  # Batches of near-equal size (none of one melody, whose shuffled z would be its own).
  chunks = np.array_split(rows, max(-(-len(rows) // batch_size), 1))
  heartbeat = cli.Heartbeat("test-split likelihood", len(chunks), "batches", log or (lambda m: None))
  for index, chunk in enumerate(chunks):
    batch = {"events": jnp.asarray(arrays["events"][chunk], jnp.int32),
             "lengths": jnp.asarray(arrays["lengths"][chunk], jnp.int32),
             "steps_per_bar": jnp.asarray(arrays["steps_per_bar"][chunk], jnp.int32),
             "emotion": jnp.asarray(arrays["emotion"][chunk], jnp.int32)}
    if sampler.hp.use_vae:
      sums = jax.device_get(sums_fn(sampler.params["vae"], batch, jax.random.key(seed + index)))
    else:
      sums = jax.device_get(likelihood.deterministic_sums(sampler.vae, sampler.params["vae"], batch))
    mu, _ = sampler.posterior(batch["events"], batch["lengths"], batch["steps_per_bar"])
    greedy = sampler.decode(mu, arrays["emotion"][chunk], arrays["events"].shape[1], seed,
                            temperature=1e-4, steps_per_bar=arrays["steps_per_bar"][chunk],
                            emotion_guidance=1.0)  # the model's own likelihood, unguided
    mask = np.arange(greedy.shape[1])[None] < arrays["lengths"][chunk][:, None]
    true_events = arrays["events"][chunk]
    both_onsets = mask & (true_events >= events_lib.FIRST_PITCH_EVENT) & (
        greedy >= events_lib.FIRST_PITCH_EVENT)
    totals.update({"sampled_correct": float(((greedy == true_events) & mask).sum()),
                   "both_onsets": float(both_onsets.sum()),
                   "onset_pitch_correct": float((both_onsets & (greedy == true_events)).sum()),
                   "melodies": float(len(chunk))})
    totals.update({name: float(sums[name].sum())
                   for name in ("log_px_at_mu", "correct", "steps", "elbo", "importance_log_px",
                                "log_px_at_shuffled", "log_px_at_prior")})
    heartbeat()
  cross_entropy = {name: -totals[f"log_px_at_{name}"] / totals["steps"]
                   for name in ("mu", "shuffled", "prior")}
  return {"teacher_forced_accuracy": totals["correct"] / totals["steps"],
          "sampled_accuracy": totals["sampled_correct"] / totals["steps"],
          # Of the steps where both the tune and its greedy decode start a note: the same pitch.
          "sampled_onset_pitch_accuracy": totals["onset_pitch_correct"] / max(totals["both_onsets"], 1),
          "cross_entropy_per_step": cross_entropy["mu"],
          "elbo_per_melody": totals["elbo"] / totals["melodies"],
          "nll_per_melody": -totals["importance_log_px"] / totals["melodies"],
          "cross_entropy_shuffled_z": cross_entropy["shuffled"],
          "cross_entropy_prior_z": cross_entropy["prior"],
          "latent_gap": cross_entropy["shuffled"] - cross_entropy["mu"]}


def _cell(values) -> str:
  return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def _likelihood_cell(row: dict, name: str) -> str:
  """A value to 3 decimals; a dash where the model has no such quantity (no latent, no ELBO)."""
  value = row.get(name, float("nan"))
  return "–" if np.isnan(value) else f"{value:.3f}"


def write_report(out: pathlib.Path, dataset: str, rows: dict, likelihoods: dict, confusions: dict,
                 examples: dict, steps_per_bar: int, variants: dict, sampling: str = "",
                 transfers: dict | None = None) -> None:
  """report.md, metrics.csv, likelihood.csv, confusion_*.csv, box plots and piano rolls."""
  from hrnnvae import render  # noqa: PLC0415 - matplotlib is already set up above
  out.mkdir(parents=True, exist_ok=True)
  metric_names = [n for n in rows[TEST_ROW] if not n.startswith("_")]
  with open(out / "metrics.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["model", "metric", "mean", "std"])
    for model, metrics in rows.items():
      for name in metric_names:
        writer.writerow([model, name, float(np.mean(metrics[name])), float(np.std(metrics[name]))])
  with open(out / "likelihood.csv", "w", newline="") as f:
    writer = csv.writer(f)
    names = sorted({k for row in likelihoods.values() for k in row})
    writer.writerow(["model"] + names)
    for model, row in likelihoods.items():
      writer.writerow([model] + [row.get(k, "") for k in names])
  lines = [f"# Evaluation on {dataset}", "", sampling, "",
           "Each cell is mean ± std over sampling seeds (over melodies for the test set). "
           "BLEU-4 and the set overlap/KL compare each row with the second half of the test split; "
           "the test row is its first half. The test row's emotional consistency is 1 by "
           "construction (its labels come from the same labeller): it is the ceiling.", "",
           "## Table 2 style: the paper's metrics", ""]
  header = ["model"] + [n for n in PAPER_METRICS if n in metric_names]
  lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for model, metrics in rows.items():
    lines.append("| " + " | ".join([model] + [_cell(metrics[n]) for n in header[1:]]) + " |")
  baselines = ("lstm_lm", "musicvae_like")
  ablations = [m for m in rows if m != TEST_ROW and not any(b in variants.get(m, "") for b in baselines)]
  if ablations:
    lines += ["", "## Table 3 style: ablations", "", "| model | variant | " +
              " | ".join(header[1:5]) + " |", "|" + "---|" * 6]
    for model in ablations:
      lines.append(f"| {model} | {variants[model] or 'full model'} | " +
                   " | ".join(_cell(rows[model][n]) for n in header[1:5]) + " |")
  lines += ["", "## Every metric", "", "| model | " + " | ".join(metric_names) + " |",
            "|" + "---|" * (len(metric_names) + 1)]
  for model, metrics in rows.items():
    lines.append(f"| {model} | " + " | ".join(_cell(metrics[n]) for n in metric_names) + " |")
  if likelihoods:
    # Columns in the order of the fullest row (a trained model's), then any others.
    names = list(dict.fromkeys(k for row in sorted(likelihoods.values(), key=len, reverse=True)
                               for k in row))
    lines += ["", "## Likelihood on the test split", "",
              "Counting rows have no network (metrics/counting.py); a dash: no such quantity.", "",
              "| model | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
    for model, row in likelihoods.items():
      lines.append(f"| {model} | " + " | ".join(_likelihood_cell(row, n) for n in names) + " |")
  lines += _emotion_control_section(out, rows, confusions, transfers or {})
  lines += ["", "## Emotional consistency: requested (rows) against labelled (columns)", ""]
  for model, confusion in confusions.items():
    np.savetxt(out / f"confusion_{_slug(model)}.csv", confusion, fmt="%d", delimiter=",",
               header=",".join(emotion_lib.EMOTIONS))
    lines += [f"**{model}**", "", "| requested | " + " | ".join(emotion_lib.EMOTIONS) + " |",
              "|" + "---|" * 5]
    for emotion, counts in zip(emotion_lib.EMOTIONS, confusion):
      lines.append(f"| {emotion} | " + " | ".join(str(c) for c in counts) + " |")
    lines.append("")
  for name in ("pitch_variation", "rhythm_diversity", "pitch_range", "melodic_complexity"):
    figure, axes = plt.subplots(figsize=(1.6 + 1.2 * len(rows), 3.2))
    axes.boxplot([[m[name] for m in metrics["_values"]] for metrics in rows.values()])
    axes.set_xticks(range(1, len(rows) + 1), list(rows), rotation=20, fontsize=8)
    axes.set_title(name)
    figure.tight_layout()
    figure.savefig(out / f"box_{name}.png")
    plt.close(figure)
    lines.append(f"![{name}](box_{name}.png)")
  for model, melodies in examples.items():
    render.write_piano_roll(melodies[0], out / f"roll_{_slug(model)}.png", steps_per_bar, model)
    lines.append(f"![{model}](roll_{_slug(model)}.png)")
  (out / "report.md").write_text("\n".join(lines) + "\n")


def _emotion_control_section(out: pathlib.Path, rows: dict, confusions: dict,
                             transfers: dict) -> list[str]:
  """The judge's per-quadrant and macro agreement beside E's, emotion transfer on unseen tunes
  (emotion_transfer's row per model), and the features the judge reads (box plots per quadrant:
  the test tunes by their label, each model's samples by request)."""
  quadrants = emotion_lib.EMOTIONS
  lines = ["", "## Emotion control: the independent judge, and E beside it", "",
           "The judge is the data pipeline's feature labeller (data/emotion.py); E is the training "
           "classifier. Per-quadrant agreement is the share of samples asked for that quadrant "
           "that the judge puts there; macro is their mean. E - judge > 0 means E is being fooled.",
           "", "| model | judge macro | " + " | ".join(quadrants) + " | E agreement | E - judge |",
           "|" + "---|" * (len(quadrants) + 4)]
  for model, confusion in confusions.items():
    agreement = per_quadrant_agreement(confusion)
    classifier = float(np.mean(rows[model].get("classifier_agreement", [np.nan])))
    lines.append(f"| {model} | {agreement.mean():.3f} | "
                 + " | ".join(f"{a:.3f}" for a in agreement)
                 + f" | {classifier:.3f} | {classifier - agreement.mean():+.3f} |")
  if transfers:
    lines += ["", "Emotion transfer: the opening window of each unseen test tune, decoded from its "
              "own latent for each of the three other emotions (`hrnnvae-sample --mode=reconstruct "
              "--emotion=OTHER`); the judge's agreement with the request, and the share of the "
              "original's steps kept:", "",
              "| model | judge agrees | " + " | ".join(f"asked {q}" for q in quadrants)
              + " | steps kept |", "|" + "---|" * (len(quadrants) + 3)]
    for model, row in transfers.items():
      lines.append(f"| {model} | {row['judge_agreement']:.3f} | " + " | ".join(
          f"{row['per_quadrant'][q]:.3f}" if q in row["per_quadrant"] else "-" for q in quadrants)
          + f" | {row['step_match']:.3f} |")
  sources = {m: r["_emotion_features"] for m, r in rows.items() if "_emotion_features" in r}
  lines += ["", "Share in a minor key, per quadrant (test tunes by label; samples by request):", "",
            "| source | " + " | ".join(quadrants) + " |", "|" + "---|" * (len(quadrants) + 1)]
  for source, groups in sources.items():
    lines.append(f"| {source} | " + " | ".join(
        f"{np.mean(groups[q]['minor']):.2f}" if groups[q]["minor"] else "-"
        for q in range(len(quadrants))) + " |")
  for name in ("note_density", "mean_abs_interval"):
    figure, axes = plt.subplots(figsize=(2.0 + 1.6 * len(quadrants) * len(sources) / 2, 3.4))
    data, labels = [], []
    for q, quadrant in enumerate(quadrants):
      for source, groups in sources.items():
        data.append(groups[q][name] or [np.nan])
        labels.append(f"{quadrant}\n{source}"[:28])
    axes.boxplot(data)
    axes.set_xticks(range(1, len(data) + 1), labels, rotation=90, fontsize=6)
    axes.set_title(f"{EMOTION_FEATURES[name]} per quadrant")
    figure.tight_layout()
    figure.savefig(out / f"emotion_{name}.png")
    plt.close(figure)
    lines.append(f"![{name} per quadrant](emotion_{name}.png)")
  return lines


def _slug(name: str) -> str:
  return "".join(c if c.isalnum() else "_" for c in name)


def run(workdirs, cache_dir, num_samples: int, seeds, bars: int, out: pathlib.Path,
        temperature: float = 1.0, log=None, prior: str = "auto",
        emotion_guidance: float | None = None, transfer_shift: float | None = None) -> dict:
  """Evaluates each model folder (a run's export/) against the cache's test split; `log` gets
  a progress line per model, seed and phase. prior: where prior samples draw z ("auto": the
  model's fitted latent prior when it has one, else N(0, I); latent_prior.py);
  emotion_guidance, transfer_shift: the sampling steers (None: each model's own, Sampler)."""
  log = log or (lambda message: None)
  arrays, manifest = cache_lib.load(cache_dir)
  check_test_split(arrays, cache_dir)
  rows_index, _ = _test_melodies(arrays)
  log(f"test split: {len(rows_index)} melodies; scoring them")
  test_row, reference_values, reference_melodies = test_reference(arrays, manifest)
  spb = arrays["steps_per_bar"][rows_index]
  test_melodies = test_row.pop("_melodies")
  likelihoods = counting.reference_rows(arrays)  # the floors, before the trained models
  rows, confusions, examples, variants = {TEST_ROW: test_row}, {}, {}, {}
  priors, guidances, shifts, transfers = {}, {}, {}, {}
  thresholds = emotion_lib.ArousalThresholds(**manifest["arousal_thresholds"])
  examples[TEST_ROW] = test_melodies
  for number, workdir in enumerate(workdirs, 1):
    sampler = Sampler.load(model_dir(workdir))
    name = model_name(workdir)
    priors[name] = sampler.use_prior(prior) if sampler.has_encoder else "standard"
    sampler.steer(emotion_guidance if sampler.has_guidance else None, transfer_shift)
    guidances[name] = sampler.emotion_guidance
    shifts[name] = sampler.transfer_shift
    model_log = lambda message, name=name, number=number: log(  # noqa: E731
        f"model {number}/{len(workdirs)} {name}: {message}")
    per_seed, confusion, melodies = evaluate_model(sampler, arrays, manifest, num_samples, seeds,
                                                   bars, reference_values, reference_melodies,
                                                   temperature, model_log)
    rows[name] = {k: [s[k] for s in per_seed] for k in per_seed[0] if not k.startswith("_")}
    rows[name]["_values"] = [v for s in per_seed for v in s["_values"]]
    rows[name]["_emotion_features"] = per_seed[0]["_emotion_features"]
    confusions[name], examples[name] = confusion, melodies
    likelihoods[name] = likelihood_row(sampler, arrays, log=model_log)
    if sampler.has_encoder and len(opening_windows(arrays, sampler.steps_per_bar)):
      model_log("emotion transfer on the test tunes' opening windows")
      transfers[name] = emotion_transfer(sampler, arrays, thresholds, [temperature],
                                         seeds[0])["rows"][0]
    variants[name] = sampler.description["config"].get("variant", "")
  write_report(out, manifest["dataset"], rows, likelihoods, confusions, examples,
               int(np.bincount(spb).argmax()), variants,
               f"Prior samples: {num_samples} per emotion and seed, seeds {list(seeds)}, {bars} bars, "
               f"temperature {temperature:g}; z from "
               + ", ".join(f"{name}: {PRIOR_NAMES[kind]}" for name, kind in priors.items())
               + "; emotion guidance " + ", ".join(f"{name}: {g:g}" for name, g in guidances.items())
               + " (1: none); transfer shift "
               + ", ".join(f"{name}: {shift:g}" for name, shift in shifts.items()) + " (0: none).",
               transfers)
  return {"priors": priors, "guidances": guidances, "rows": rows, "likelihoods": likelihoods,
          "confusions": confusions, "transfers": transfers}
