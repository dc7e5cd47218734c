"""How much of a model's realism gap is its prior and how much its decoder (issue 19).

Prior samples decode latents drawn from the model's prior (the fitted Gaussian per emotion). A
better prior fitted to the aggregate posterior could at best draw the latents of real tunes, so
the same decoder at the same sampling settings, decoding the posteriors of real training tunes,
shows the ceiling of any prior: what stays unreal there is the decoder's. For each seed,
num_samples melodies an emotion; each request is paired with a training span (untransposed, of
`bars` bars) drawn at random from those the judge labels with the requested quadrant:
  fitted prior              the model's own prior samples (Sampler.sample);
  posterior means           the decoded mu of each drawn training span;
  posterior draws           the decoded mu + sigma * noise;
each at the model's own sampling settings and scored against --split's real tunes like the
sweep's rows: realism (the feature classifier: overall, real_mix, per quadrant), the judge's
agreement with the request (macro), note repetition, one-step notes, and for the posterior rows
the share of steps equal to the source span (how near a copy the decode is), and the feature
blocks that tell each row from the real tunes best (realism.what_gives_them_away, first seed). The figures are
means over --seeds; --temperature, --top_p and --emotion_guidance steer all three rows. The
split's tunes against themselves head the table (about 0.5).

  python launch/prior_gap_check.py --pretrained=nottingham --cache=runs/nottingham_ship/data \
      --split=valid --seeds=0,1,2 [--bars=16] [--num_samples=64] [--json=out.json]
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
from absl import app, flags

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.exports import model_dir
from hrnnvae.metrics import melody as melody_metrics
from hrnnvae.sample import Sampler

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run (or its export/).")
_PRETRAINED = flags.DEFINE_string("pretrained", None, "A model shipped in hrnnvae/pretrained/.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache: its training spans are encoded, "
                             "its --split is the reference.")
_SPLIT = flags.DEFINE_enum("split", "valid", ["valid", "test"], "The reference's real tunes.")
_BARS = flags.DEFINE_integer("bars", 16, "Bars per span and sample (at most the training windows').")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 64, "Melodies per emotion.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds; the figures are their means.")
_JSON = flags.DEFINE_string("json", None, "Also write the rows here.")
_TEMPERATURE = flags.DEFINE_float("temperature", None, "Sampling temperature (default the model's).")
_TOP_P = flags.DEFINE_float("top_p", None, "Nucleus top_p (default the model's).")
_GUIDANCE = flags.DEFINE_float("emotion_guidance", None, "Emotion guidance (default the model's).")

ROWS = ("fitted prior", "posterior means", "posterior draws")
TELLS = 4  # the feature blocks that tell each row from the real tunes best, kept in the rows
COLUMNS = ("realism", "realism_real_mix", *(f"realism_{q}" for q in emotion_lib.EMOTIONS), "judge",
           "note_repetition_rate", "one_step_notes", "tonic_share", "steps_equal_to_source")


def score(melodies, requested, real: realism.Melodies, steps_per_bar: int, thresholds,
          sources=None) -> dict:
  """COLUMNS of melodies asked for `requested` against the real tunes; tonic_share: the mean
  share of a melody's notes on its key's tonic; steps_equal_to_source (the mean share of each
  melody's steps equal to its source's) NaN without sources."""
  melodies = [np.asarray(m) for m in melodies]
  requested = np.asarray(requested)
  accuracies = scoring.realism_columns(realism.model_rows(
      realism.generated_melodies(melodies, requested), real, steps_per_bar, classifiers=("features",)))
  repetition = [melody_metrics.note_repetition_rate(m) for m in melodies]
  copied = (float("nan") if sources is None
            else float(np.mean([np.mean(m == s[:len(m)]) for m, s in zip(melodies, sources)])))
  return {**accuracies,
          "judge": float(np.mean(scoring.judged_agreement(melodies, requested, steps_per_bar,
                                                          thresholds))),
          "note_repetition_rate": float(np.mean(repetition)),
          **scoring.shape_shares(melodies, steps_per_bar),
          "steps_equal_to_source": copied}


def sources_for(requested, training: realism.Melodies, rng: np.random.Generator) -> np.ndarray:
  """For each requested quadrant, the index of a training span the judge labels so, at random."""
  return np.array([rng.choice(np.nonzero(training.quadrants == q)[0]) for q in requested])


def gap_rows(sampler: Sampler, arrays, manifest, num_samples: int, seeds, bars: int,
             split: str = "valid", log=print) -> dict:
  """{row: COLUMNS}: the split's tunes against themselves, then ROWS, means over seeds."""
  thresholds = judge.thresholds_of(manifest)
  spb = sampler.steps_per_bar
  real = realism.real_tunes(arrays, bars, spb, thresholds, split=split)
  training = realism.real_tunes(arrays, bars, spb, thresholds, split="train")
  log(f"{split}: {len(real.events)} spans, train: {len(training.events)} spans of {bars} bars")
  rows = {f"{split} set": scoring.realism_columns(
      realism.real_against_real(real, spb, classifiers=("features",)))}
  requested = np.array(scoring.requested_emotions(num_samples))
  per_seed, tells = {name: [] for name in ROWS}, {}
  num_steps = bars * spb
  for seed in seeds:
    sources = training.events[sources_for(requested, training, np.random.default_rng(seed))]
    mu, log_var = sampler.posterior(sources, np.full(len(sources), num_steps),
                                    np.full(len(sources), spb))
    noise = np.random.default_rng([seed, 1]).standard_normal(mu.shape)
    draws = mu if log_var is None else mu + np.exp(0.5 * log_var) * noise
    decoded = {
        "fitted prior": [m.events for m in sampler.sample(list(requested), bars, seed)],
        "posterior means": list(sampler.decode(mu, list(requested), num_steps, seed)),
        "posterior draws": list(sampler.decode(draws.astype(np.float32), list(requested),
                                               num_steps, seed))}
    for name, melodies in decoded.items():
      per_seed[name].append(score(melodies, requested, real, spb, thresholds,
                                  None if name == "fitted prior" else sources))
      if seed == seeds[0]:  # what tells them apart, by feature block (the first seed's)
        generated = realism.generated_melodies([np.asarray(m) for m in melodies], requested)
        tells[name] = realism.what_gives_them_away(generated, real, spb)[:TELLS]
        tells[name, "by quadrant"] = {  # each quadrant asked for against its real tunes
            emotion: realism.what_gives_them_away(generated.subset(requested == q),
                                                  real.subset(real.quadrants == q), spb)[:TELLS]
            for q, emotion in enumerate(emotion_lib.EMOTIONS)}
      log(f"seed {seed}, {name}: realism {per_seed[name][-1]['realism']:.3f}, "
          f"judge {per_seed[name][-1]['judge']:.3f}")
  for name in ROWS:
    rows[name] = {column: float(np.mean([r[column] for r in per_seed[name]])) for column in COLUMNS}
    rows[name]["realism_by_seed"] = [r["realism"] for r in per_seed[name]]
    rows[name]["gives_away"] = tells[name]
    rows[name]["gives_away_by_quadrant"] = tells[name, "by quadrant"]
  return rows


def main(argv):
  del argv
  sampler = (pretrained.load(_PRETRAINED.value) if _PRETRAINED.value
             else Sampler.load(model_dir(_WORKDIR.value)))
  sampler.use_prior("auto")
  sampler.steer(temperature=_TEMPERATURE.value, top_p=_TOP_P.value,
                emotion_guidance=_GUIDANCE.value)
  arrays, manifest = cache_lib.load(_CACHE.value)
  seeds = [int(seed) for seed in _SEEDS.value]
  rows = gap_rows(sampler, arrays, manifest, _NUM_SAMPLES.value, seeds, _BARS.value, _SPLIT.value)
  print(f"{'':<18}" + "".join(f"{c[:13]:>14}" for c in COLUMNS))
  for name, row in rows.items():
    print(f"{name:<18}" + "".join(f"{row.get(c, float('nan')):>14.3f}" for c in COLUMNS))
  def told(tells):
    return "; ".join(f"{t['block']} {t['accuracy']:.2f} ({t['feature']}: {t['generated_mean']:.3f} "
                     f"against {t['real_mean']:.3f})" for t in tells) or "too few real tunes"
  for name in ROWS:
    print(f"{name}, what tells it (seed {seeds[0]}): {told(rows[name]['gives_away'])}")
    for emotion, tells in rows[name]["gives_away_by_quadrant"].items():
      print(f"  asked {emotion}: {told(tells)}")
  if _JSON.value:
    pathlib.Path(_JSON.value).parent.mkdir(parents=True, exist_ok=True)
    with open(_JSON.value, "w") as f:
      json.dump({"model": _PRETRAINED.value or _WORKDIR.value, "split": _SPLIT.value, "bars": _BARS.value,
                 "num_samples": _NUM_SAMPLES.value, "seeds": seeds, "settings": {
                     "temperature": sampler.temperature, "top_p": sampler.top_p,
                     "emotion_guidance": sampler.emotion_guidance}, "rows": rows}, f, indent=1)
    print(f"wrote {_JSON.value}")


if __name__ == "__main__":
  flags.mark_flags_as_mutual_exclusive(["workdir", "pretrained"], required=True)
  flags.mark_flag_as_required("cache")
  app.run(main)
