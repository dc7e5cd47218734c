"""The evaluation run: every model folder against the cache's test split, into one report.

The test split is scored first (the first row of every table); then each model, with its own
sampling settings (the export's temperature, emotion guidance and transfer shift, or those the
caller gives for all), is sampled and scored per seed, measured on the test split's likelihood
and, with an encoder, on emotion transfer, and its realism is measured: how well classifiers
tell its samples from the test tunes (scoring.py, realism.py); report.py writes the result.
"""

from __future__ import annotations

import functools
import pathlib

import numpy as np

from hrnnvae import judge, progress
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import realism, report, scoring
from hrnnvae.exports import model_dir
from hrnnvae.metrics import counting
from hrnnvae.sample import Sampler

PRIOR_NAMES = {"standard": "N(0, I)", "fitted": "the fitted latent prior (latent_prior.py)"}


def guidance_text(guidances: dict, quadrant_guidances: dict) -> str:
  """The report's emotion-guidance clause: each model's guidance, then the quadrants a model
  guides by its own amount (quadrant_guidances: name -> Sampler.own_quadrant_guidance, e.g.
  {"tense": 3.0}, empty when none)."""
  asks = "".join(f"; {name} asks " + ", ".join(f"{quadrant} {g:g}" for quadrant, g in own.items())
                 for name, own in quadrant_guidances.items() if own)
  return ("emotion guidance " + ", ".join(f"{name}: {value:g}" for name, value in guidances.items())
          + f" (1: none{asks})")


def model_name(path) -> str:
  """A model's name in the report: its run folder's name (also when given its export/)."""
  path = pathlib.Path(path).absolute()
  return path.parent.name if (path / "config.json").is_file() and path.name == "export" else path.name


def run(workdirs, cache_dir, num_samples: int, seeds, bars: int, out: pathlib.Path,
        temperature: float | None = None, log=progress.silent, prior: str = "auto",
        emotion_guidance: float | None = None, transfer_shift: float | None = None,
        realism_bars=(), top_p: float | None = None,
        repeat_penalty: float | None = None, short_note_penalty: float | None = None) -> dict:
  """Evaluates each model folder (a run's export/) against the cache's test split; `log` gets
  a progress line per model, seed and phase. prior: where prior samples draw z ("auto": the
  model's fitted latent prior when it has one, else N(0, I); latent_prior.py); temperature,
  top_p, emotion_guidance, repeat_penalty, short_note_penalty, transfer_shift: the sampling
  settings (None: each model's own, Sampler).
  realism_bars: the lengths in bars at which realism is measured (none: skipped), on each
  model's num_samples per emotion of the first seed. Returns what the report shows, with each
  model's settings as used."""
  arrays, manifest = cache_lib.load(cache_dir)
  scoring.check_test_split(arrays, cache_dir)
  rows_index, _ = scoring.test_melodies(arrays)
  log(f"test split: {len(rows_index)} melodies; scoring them")
  test_row, reference_values, reference_melodies = scoring.test_reference(arrays, manifest)
  spb = arrays["steps_per_bar"][rows_index]
  likelihoods = counting.reference_rows(arrays)  # the floors, before the trained models
  rows, confusions, variants = {report.TEST_ROW: test_row}, {}, {}
  examples = {report.TEST_ROW: test_row.pop("_melodies")}
  priors, temperatures, top_ps, guidances, repeat_penalties = {}, {}, {}, {}, {}
  quadrant_guidances = {}
  short_note_penalties, candidates, reaches, sections = {}, {}, {}, {}
  shifts, transfers = {}, {}
  giveaways = {}
  thresholds = judge.thresholds_of(manifest)
  real_of = functools.cache(lambda bars, steps_per_bar: realism.real_tunes(
      arrays, bars, steps_per_bar, thresholds))
  realism_rows = _test_realism(spb, real_of, realism_bars, log)
  realism_rows += _memorizer_realism(arrays, thresholds, spb, real_of, realism_bars, num_samples,
                                     seeds[0], log)
  training_of = functools.cache(lambda bars, steps_per_bar: realism.real_tunes(
      arrays, bars, steps_per_bar, thresholds, split="train"))
  pool_rows = _test_pool_realism(spb, real_of, training_of, realism_bars, seeds[0], log)
  roll_bars = max(realism_bars, default=0)  # the longest: whole tunes, to look at beside real ones
  long_rolls = {report.TEST_ROW: _real_rolls(real_of(roll_bars, int(np.bincount(spb).argmax())),
                                             int(np.bincount(spb).argmax()), seeds[0])
                } if roll_bars else {}
  for number, workdir in enumerate(workdirs, 1):
    sampler = Sampler.load(model_dir(workdir))
    name = model_name(workdir)
    priors[name] = sampler.use_prior(prior) if sampler.has_encoder else "standard"
    sampler.steer(emotion_guidance if sampler.has_guidance else None, transfer_shift, temperature,
                  top_p, repeat_penalty, short_note_penalty)
    temperatures[name], top_ps[name] = sampler.temperature, sampler.top_p
    guidances[name] = sampler.emotion_guidance
    quadrant_guidances[name] = sampler.own_quadrant_guidance
    repeat_penalties[name] = sampler.repeat_penalty
    short_note_penalties[name] = sampler.short_note_penalty
    candidates[name] = sampler.candidates
    reaches[name] = sampler.attention_bars
    sections[name] = (f"{sampler.section_bars} bars, correlation {sampler.section_correlation:g}"
                      + (f", each latent stated by {sampler.section_repeats}"
                         if sampler.section_repeats != 1 else "")
                      if sampler.section_bars else "one latent")
    shifts[name] = sampler.transfer_shift
    model_log = lambda message, name=name, number=number: log(  # noqa: E731
        f"model {number}/{len(workdirs)} {name}: {message}")
    per_seed, confusion, melodies = scoring.evaluate_model(
        sampler, arrays, manifest, num_samples, seeds, bars, reference_values, reference_melodies,
        log=model_log)
    rows[name] = {k: [s[k] for s in per_seed] for k in per_seed[0] if not k.startswith("_")}
    rows[name]["_values"] = [v for s in per_seed for v in s["_values"]]
    rows[name]["_emotion_features"] = per_seed[0]["_emotion_features"]
    confusions[name], examples[name] = confusion, melodies
    likelihoods[name] = scoring.likelihood_row(sampler, arrays, log=model_log)
    if sampler.has_encoder and len(scoring.opening_windows(arrays, sampler.steps_per_bar)):
      model_log("emotion transfer on the test tunes' opening windows")
      transfers[name] = scoring.emotion_transfer(sampler, arrays, thresholds, [sampler.temperature],
                                                 list(seeds))["rows"][0]
    if realism_bars:
      measured, drawn = scoring.realism_rows(sampler, real_of, num_samples, seeds[0], realism_bars,
                                             {bars: melodies}, log=model_log)
      realism_rows += [{"model": name, **row} for row in measured]
      for length in realism_bars:
        held_out = next(r["accuracy"] for r in measured if r["bars"] == length
                        and r["subset"] == "overall" and r["classifier"] == "features")
        pool_rows += [{"model": name, "bars": length, **row} for row in realism.pool_rows(
            realism.generated_melodies(drawn[length], scoring.requested_emotions(num_samples)),
            training_of(length, sampler.steps_per_bar),
            len(real_of(length, sampler.steps_per_bar).events), sampler.steps_per_bar,
            seed=seeds[0], reference=None if np.isnan(held_out) else held_out,
            log=lambda message, length=length, model_log=model_log: model_log(
                f"{length} bars: {message}"))]
      model_log(f"what gives its {roll_bars}-bar samples away (the feature classifier, by block)")
      giveaways[name] = realism.what_gives_them_away(
          realism.generated_melodies(drawn[roll_bars], scoring.requested_emotions(num_samples)),
          real_of(roll_bars, sampler.steps_per_bar), sampler.steps_per_bar)
      long_rolls[name] = (sampler.steps_per_bar, [
          (drawn[roll_bars][emotion * num_samples], f"{name}: asked {label}, seed {seeds[0]}")
          for emotion, label in enumerate(emotion_lib.EMOTIONS)])
    variants[name] = sampler.description["config"].get("variant", "")

  def each(values: dict) -> str:
    return ", ".join(f"{name}: {value:g}" for name, value in values.items())

  sampling = (f"Prior samples: {num_samples} per emotion and seed, seeds {list(seeds)}, {bars} bars; "
              f"temperature {each(temperatures)}; top-p {each(top_ps)} (1: every event); z from "
              + ", ".join(f"{name}: {PRIOR_NAMES[kind]}" for name, kind in priors.items())
              + f"; {guidance_text(guidances, quadrant_guidances)}; repeat penalty "
              f"{each(repeat_penalties)} (1: none); short-note penalty "
              f"{each(short_note_penalties)} (1: none); transfer shift {each(shifts)} (0: none); "
              f"candidates {each(candidates)} (1: plain sampling; K: the realism critic keeps one "
              f"of K, realism_critic.py); prior samples' attention reach in bars {each(reaches)} "
              "(0: the window the model trained with); a prior sample longer than a section is "
              "written in sections, each from its own latent: "
              + ", ".join(f"{name}: {value}" for name, value in sections.items()) + ".")
  report.write_report(out, manifest["dataset"], rows, likelihoods, confusions, examples,
                      int(np.bincount(spb).argmax()), variants, sampling, transfers, realism_rows,
                      (roll_bars, long_rolls), giveaways, pool_rows)
  return {"priors": priors, "temperatures": temperatures, "top_ps": top_ps,
          "guidances": guidances, "repeat_penalties": repeat_penalties,
          "short_note_penalties": short_note_penalties, "shifts": shifts,
          "rows": rows, "likelihoods": likelihoods, "confusions": confusions, "transfers": transfers,
          "realism": realism_rows, "realism_pools": pool_rows, "giveaways": giveaways}


def _test_realism(steps_per_bar, real_of, realism_bars, log) -> list[dict]:
  """The test row of the realism table: the test tunes with the split's most common bar length
  (steps_per_bar [N] of its melodies) against themselves (realism.real_against_real), at each of
  realism_bars."""
  common = int(np.bincount(steps_per_bar).argmax())
  result = []
  for bars in realism_bars:
    log(f"test split: realism of its tunes of {common} steps a bar against themselves, {bars} bars")
    rows = realism.real_against_real(real_of(bars, common), common,
                                     log=lambda message, bars=bars: log(f"{bars} bars: {message}"))
    result += [{"model": report.TEST_ROW, "bars": bars, **row} for row in rows]
  return result


def _test_pool_realism(steps_per_bar, real_of, training_of, realism_bars, seed: int,
                       log) -> list[dict]:
  """The test row of the table of realism against the training tunes (realism.pool_rows): the
  test tunes of the split's most common bar length against draws of the training tunes the
  test split's size, and against all of them: about 0.5 when the splits are alike."""
  common = int(np.bincount(steps_per_bar).argmax())
  result = []
  for bars in realism_bars:
    test = real_of(bars, common)
    log(f"test split: its {bars}-bar tunes against the training tunes")
    result += [{"model": report.TEST_ROW, "bars": bars, **row} for row in realism.pool_rows(
        test, training_of(bars, common), len(test.events), common, seed=seed,
        log=lambda message, bars=bars: log(f"{bars} bars: {message}"))]
  return result


def _memorizer_realism(arrays, thresholds, steps_per_bar, real_of, realism_bars, num_samples: int,
                       seed: int, log) -> list[dict]:
  """The memorizer's rows of the realism table: the training split's tunes (num_samples spans
  per quadrant, realism.training_tunes) against the test tunes, at each of realism_bars, in the
  test split's most common bar length."""
  common = int(np.bincount(steps_per_bar).argmax())
  result = []
  for bars in realism_bars:
    log(f"training split: realism of its tunes against the test tunes, {bars} bars")
    training = realism.training_tunes(arrays, bars, common, thresholds, num_samples, seed)
    rows = realism.model_rows(training, real_of(bars, common), common,
                              log=lambda message, bars=bars: log(f"{bars} bars: {message}"))
    result += [{"model": report.MEMORIZER_ROW, "bars": bars, **row} for row in rows]
  return result


def _real_rolls(real: realism.Melodies, steps_per_bar: int, seed: int) -> tuple:
  """(steps_per_bar, [(events, title)]): one test tune span per quadrant the judge gives (drawn
  with `seed`), for the piano rolls beside the models' samples."""
  rng, chosen = np.random.default_rng(seed), []
  for emotion, label in enumerate(emotion_lib.EMOTIONS):
    candidates = np.nonzero(real.quadrants == emotion)[0]
    if len(candidates):
      row = int(rng.choice(candidates))
      chosen.append((real.events[row], f"test tune {int(real.groups[row])}: judged {label}"))
  return steps_per_bar, chosen
