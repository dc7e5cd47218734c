"""The evaluation report: report.md (the paper's Table 2 and 3, every metric, likelihoods, emotion
control, realism, confusion matrices), metrics.csv, likelihood.csv, realism.csv, confusion_*.csv,
box plots and piano rolls, from the rows that scoring.py measured (harness.py gathers them)."""

from __future__ import annotations

import csv
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from hrnnvae.data import emotion as emotion_lib  # noqa: E402
from hrnnvae.evaluation import realism, scoring  # noqa: E402

PAPER_METRICS = ("bleu4", "note_repetition_rate", "emotion_consistency", "duration_seconds",
                 "pitch_variation", "rhythm_diversity", "harmonic_richness", "melodic_complexity",
                 "note_jump_degree", "rhythm_continuity", "pitch_stability")
TEST_ROW = "test set"
MEMORIZER_ROW = "training tunes (memorizer)"  # realism's reference: a model of its training tunes
EMOTION_FEATURES = {"note_density": "onsets per bar", "mean_abs_interval": "mean |interval|",
                    "minor": "share in a minor key"}


def _cell(values) -> str:
  return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def _likelihood_cell(row: dict, name: str) -> str:
  """A value to 3 decimals; a dash where the model has no such quantity (no latent, no ELBO)."""
  value = row.get(name, float("nan"))
  return "–" if np.isnan(value) else f"{value:.3f}"


def write_report(out: pathlib.Path, dataset: str, rows: dict, likelihoods: dict, confusions: dict,
                 examples: dict, steps_per_bar: int, variants: dict, sampling: str = "",
                 transfers: dict | None = None, realism_rows: list | None = None,
                 long_rolls: tuple[int, dict] = (0, {}), giveaways: dict | None = None,
                 pool_rows: list | None = None) -> None:
  """report.md, metrics.csv, likelihood.csv, realism.csv (when realism_rows: scoring.realism_rows'
  rows with "model"), confusion_*.csv, box plots and piano rolls; long_rolls: (bars, {model:
  (steps_per_bar, [(events, title)])}), the whole-tune rolls, test tunes first; giveaways:
  {model: realism.what_gives_them_away rows} at that length; pool_rows: realism.pool_rows' rows
  with "model" and "bars" (realism_pools.csv and a table after the realism table)."""
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
  if realism_rows:
    lines += _realism_section(out, realism_rows)
  if pool_rows:
    lines += _pool_section(out, pool_rows)
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
  roll_bars, rolls = long_rolls
  if giveaways:
    lines += ["", f"## What gives the {roll_bars}-bar samples away", "",
              "The feature classifier on one block of features at a time (accuracy at telling the "
              "model's samples, drawn down to the test tunes' quadrant shares, from the test "
              "tunes; 0.5: that block cannot tell), most telling first, with the block's feature "
              "whose mean differs most (in units of the test tunes' spread) and its mean on each "
              "side.", ""]
    for model, found in giveaways.items():
      lines += [f"**{model}**", "", "| block | accuracy | most different feature | model | test |",
                "|---|---|---|---|---|"]
      lines += [f"| {row['block']} | {row['accuracy']:.3f} ± {row['std']:.3f} | {row['feature']} | "
                f"{row['generated_mean']:.3f} | {row['real_mean']:.3f} |" for row in found]
      lines.append("")
  if rolls:
    lines += ["", f"## Piano rolls of {roll_bars}-bar tunes", "",
              f"Test tunes ({roll_bars}-bar spans, one per quadrant the judge gives) first, then "
              "each model's first prior sample asked for each emotion (the realism table's "
              "samples). Look for phrases that return (AABB) against figures that loop.", ""]
    for model, (model_steps_per_bar, chosen) in rolls.items():
      name = f"rolls_{roll_bars}bars_{_slug(model)}.png"
      render.write_piano_rolls([events for events, _ in chosen], [title for _, title in chosen],
                               out / name, model_steps_per_bar)
      lines.append(f"![{model}, {roll_bars} bars]({name})")
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
    agreement = scoring.per_quadrant_agreement(confusion)
    classifier = float(np.mean(rows[model].get("classifier_agreement", [np.nan])))
    lines.append(f"| {model} | {agreement.mean():.3f} | "
                 + " | ".join(f"{a:.3f}" for a in agreement)
                 + f" | {classifier:.3f} | {classifier - agreement.mean():+.3f} |")
  if transfers:
    lines += ["", "Emotion transfer: the opening window of each unseen test tune, decoded from its "
              "own latent for each of the three other emotions (`hrnnvae-sample --mode=reconstruct "
              "--emotion=OTHER`), at every seed of the prior samples (the mean; each seed's in "
              "brackets); the judge's agreement with the request, and the share of the "
              "original's steps kept:", "",
              "| model | judge agrees | " + " | ".join(f"asked {q}" for q in quadrants)
              + " | steps kept |", "|" + "---|" * (len(quadrants) + 3)]
    for model, row in transfers.items():
      by_seed = row.get("judge_agreement_by_seed", [])
      lines.append(f"| {model} | {row['judge_agreement']:.3f}"
                   + (f" (by seed {' / '.join(f'{a:.3f}' for a in by_seed)})"
                      if len(by_seed) > 1 else "") + " | " + " | ".join(
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


def _write_rows(path: pathlib.Path, columns: list[str], rows: list[dict]) -> None:
  """rows as a CSV file with a header of `columns`, one line per row."""
  with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, columns)
    writer.writeheader()
    writer.writerows(rows)


def _realism_section(out: pathlib.Path, realism_rows: list) -> list[str]:
  """The realism table (a row per model, length and classifier; a column per subset) and
  realism.csv (a line per row and subset)."""
  _write_rows(out / "realism.csv", ["model", "bars", "classifier", "subset", "accuracy", "std",
                                     "generated", "real"], realism_rows)
  lines = ["", "## Realism: telling samples from real tunes", "",
           "Accuracy of a classifier trained to tell a model's prior samples (the first seed's) "
           "from held-out test tunes with the model's bar length, cross-validated in "
           f"{realism.FOLDS} folds that never split a tune's windows, each fold balanced: mean ± "
           f"std over the folds of {realism.REPEATS} repeats. 0.5: indistinguishable; 1: always "
           "told apart. `features`: logistic regression on pitch-class (key-relative), interval, "
           "note-length and onset-position histograms, rests, repetition and register; "
           "`sequence`: a small convolutional net on the events (evaluation/realism.py). "
           "`overall`: every sample, as many asked of each quadrant, against every test tune; "
           "`real_mix`: the samples drawn down to the test tunes' quadrant shares (the judge's "
           "labels), so that the mix of emotions asked for is not what tells them apart (real "
           "tunes in equal shares against the data's own mix are told apart about 0.6 of the "
           "time, BUILD_NOTES.md). Per "
           "quadrant: the samples asked for it against the test tunes the judge labels so. The "
           "test row is the test tunes of the most common bar length against themselves, split "
           f"in halves by tune ({2 * realism.REPEATS} splits): about 0.5, a little under with few "
           f"tunes. The {MEMORIZER_ROW} row is a model that writes only the training split's "
           "tunes, drawn as a model's samples are (as many per quadrant the judge gives them) and "
           "grouped by tune: what fitting the training tunes perfectly would score, the figure "
           "a model's row can be read against. A dash: a side with fewer than "
           f"{realism.FOLDS} tunes or samples; a cell on a handful of tunes (the last column) "
           "is rough.", "",
           "| model | bars | classifier | " + " | ".join(realism.SUBSETS)
           + " | samples / real tunes (per quadrant) |", "|" + "---|" * (len(realism.SUBSETS) + 4)]
  cells = {(r["model"], r["bars"], r["classifier"], r["subset"]): r for r in realism_rows}
  for key in dict.fromkeys((r["model"], r["bars"], r["classifier"]) for r in realism_rows):
    found = [cells[(*key, subset)] for subset in realism.SUBSETS]
    lines.append(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(
        "–" if np.isnan(r["accuracy"]) else f"{r['accuracy']:.3f} ± {r['std']:.3f}"
        for r in found) + f" | {found[0]['generated']} / {found[0]['real']} ("
        + ", ".join(str(r["real"]) for r in found if r["subset"] in emotion_lib.EMOTIONS) + ") |")
  return lines


def _pool_section(out: pathlib.Path, pool_rows: list) -> list[str]:
  """The table of realism against the training tunes (a row per model and length) and
  realism_pools.csv (a line per row and pool)."""
  _write_rows(out / "realism_pools.csv", ["model", "bars", "pool", "accuracy", "std", "lowest",
                                          "highest", "at_or_under", "draws", "generated",
                                          "real"], pool_rows)
  lines = ["", "## Realism against the training tunes", "",
           "The held-out split is small and, once settings have been chosen by it, no longer "
           "neutral. Here the `features` classifier (overall, as in the table above) tells the "
           "same samples from real tunes of the training split, which the models learned but "
           "settings are not chosen on by default (sampling_sweep.py chooses on the validation "
           f"split unless told --split=train): {realism.POOL_DRAWS} draws of whole training "
           "tunes as many spans as the "
           "test split has (mean ± std over the draws, then the lowest and highest draw), and "
           "all of them (the classifier's sides are balanced, so a larger pool gives it more "
           "tunes, not more of each side than there are samples; ± over its folds). The test "
           "row is the test tunes themselves against the training tunes: about 0.5 when the "
           "splits are alike. A held-out split is one pool of its size: the draws' spread says "
           "how far its figure moves with the tunes a split happens to hold, and the share of "
           "draws at or under the model's "
           "`overall` test figure (same samples) says where the test split falls among them: "
           "near 0 means its tunes are unusually easy for this model to pass as, near 1 unusually "
           "hard. A model whose samples are as real as the training tunes would score about 0.5 "
           "in every column.", "",
           "| model | bars | drawn training tunes | lowest – highest | draws at or under the test "
           "figure | all training tunes | samples / real spans (drawn, all) |",
           "|---|---|---|---|---|---|---|"]
  cells = {(r["model"], r["bars"], r["pool"]): r for r in pool_rows}
  for key in dict.fromkeys((r["model"], r["bars"]) for r in pool_rows):
    drawn, every = cells[(*key, "drawn")], cells[(*key, "all")]
    spread = lambda row, text: "–" if np.isnan(row["accuracy"]) else text  # noqa: E731
    lines.append(
        f"| {key[0]} | {key[1]} | "
        + spread(drawn, f"{drawn['accuracy']:.3f} ± {drawn['std']:.3f} ({drawn['draws']})") + " | "
        + spread(drawn, f"{drawn['lowest']:.3f} – {drawn['highest']:.3f}") + " | "
        + ("–" if np.isnan(drawn["at_or_under"]) else f"{drawn['at_or_under']:.2f}")
        + " | "
        + spread(every, f"{every['accuracy']:.3f} ± {every['std']:.3f}")
        + f" | {drawn['generated']} / {drawn['real']}, {every['real']} |")
  return lines


def _slug(name: str) -> str:
  return "".join(c if c.isalnum() else "_" for c in name)
