"""Which sampling settings make tunes that are both real and in their quadrant: prior samples
at each temperature x nucleus top_p (x emotion guidance x repeat penalty x short-note penalty,
when asked), scored against the validation split by realism and the independent judge together
(issue 19: settings are chosen on validation tunes, never the test). --split=train scores them
against the training tunes instead: seven times the validation split's tunes, and none of the
shipped settings was chosen on them (BUILD_NOTES.md, issue 19 (xxviii): a held-out split used to
choose settings stops being neutral; so does the training split once settings are chosen on it,
and then only the test split is left to check them).

  python launch/sampling_sweep.py --pretrained=nottingham --cache=runs/nottingham/data \
      --temperatures=0.5,0.7,1.0 --top_ps=1.0,0.95,0.9,0.8 --num_samples=64 --bars=16 \
      --json=docs/results/sampling_sweep.json
  ... --temperatures=0.7 --top_ps=0.95 --guidances=1,1.25,1.5   # emotion guidance too
  ... --temperatures=0.7 --top_ps=0.95 --repeat_penalties=1,1.5,2   # the repeat penalty too
  ... --temperatures=0.7 --top_ps=0.95 --short_note_penalties=1,3,10   # the short-note penalty
  ... --temperatures=0.7 --top_ps=0.95 --seeds=0,1,2   # means over three sampling seeds
  ... --temperatures=0.7 --top_ps=0.95 --candidates=1,4,8   # the realism critic's resampling
  ... --temperatures=0.7 --top_ps=0.95 --attention_bars=0,8   # the decoder's attention reach
  ... --bars=32 --section_bars=0,16 --section_correlations=0,0.5   # tunes in sections
  ... --bars=32 --section_bars=8 --section_correlations=0.3 --section_repeats=1,2   # AABB

For each setting, on num_samples prior samples per emotion of `bars` bars, at each of --seeds
(the figures are the means over seeds, and each seed's realism and judge are kept beside them:
one seed of 64 samples an emotion moves realism by about 0.03, so settings are chosen on three):
  realism          the feature classifier's accuracy at telling them from the split's real tunes
                   (evaluation/realism.py: 0.5 cannot tell, 1.0 always can), overall, in the
                   real tunes' quadrant mix (realism_real_mix) and in each quadrant (samples
                   asked for q against real tunes the judge labels q);
  judge            the independent judge's macro agreement (the mean over quadrants of the share
                   of samples asked for q that it labels q), each quadrant's (judge_q) and the
                   worst quadrant's (judge_worst, of the means over seeds);
  note_repetition, bar_repetition, phrase_similarity: per-melody means (metrics/melody.py);
  part_similarity, part_lift: in melodies of two 16-bar parts or more (--bars=32), the share of
                   steps the first two parts share (phrase_similarity of 16-bar phrases: an AAAA
                   tune is high, AABB low) and how many semitones the second sits above the
                   first (metrics/melody.part_lift), the melody means; NaN for shorter ones;
  one_step_notes   the share of a melody's notes that last one step, the melody mean;
  tonic_share      the share of a melody's notes on its judged key's tonic, the melody mean.
The split's real tunes head the table (realism: its tunes against themselves, about 0.5), then
the memorizer (realism.training_tunes: the training split's tunes, num_samples spans per quadrant
the judge gives them, against the split's; its judge is 1 by construction and not shown): what
fitting the training tunes perfectly would score.
`choose` picks the default: among settings whose judge meets JUDGE_FLOOR (macro) and
QUADRANT_FLOOR (every quadrant), the most real (lowest overall realism); when none does, the
most real of those whose judge is within JUDGE_TOLERANCE of the best judge (one seed's judge
moves by about that much, so a smaller lead is not a reason to give up realism). It becomes
config.sample (configs/default.py), recorded in every export.
"""

from __future__ import annotations

import itertools
import json
import pathlib
from collections.abc import Sequence

import numpy as np
from absl import app, flags

from hrnnvae import judge, post_training, pretrained
from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.evaluation import realism, scoring
from hrnnvae.exports import model_dir
from hrnnvae.metrics import melody as melody_metrics
from hrnnvae.sample import Sampler

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run (or its export/).")
_PRETRAINED = flags.DEFINE_string("pretrained", None, "A model shipped in hrnnvae/pretrained/.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose --split is the reference.")
_SPLIT = flags.DEFINE_enum("split", "valid", ["valid", "train", "test"],
                           "The real tunes the settings are judged against (choose on valid or "
                           "train, never test).")
_TEMPERATURES = flags.DEFINE_list("temperatures", ["0.5", "0.7", "1.0"], "Sampling temperatures.")
_TOP_PS = flags.DEFINE_list("top_ps", ["1.0", "0.95", "0.9", "0.8"],
                            "Nucleus top_p values (1.0: every event).")
_GUIDANCES = flags.DEFINE_list("guidances", ["1.0"], "Emotion guidance scales (models/decoder."
                                "guided_logits; 1: none), each crossed with every other setting.")
_REPEAT_PENALTIES = flags.DEFINE_list(
    "repeat_penalties", ["1.0"], "Repeat penalties (models/nucleus.repeat_penalized: the last "
    "struck pitch r times less likely again; 1: none), each crossed with every other setting.")
_SHORT_NOTE_PENALTIES = flags.DEFINE_list(
    "short_note_penalties", ["1.0"], "Short-note penalties (models/nucleus.short_note_penalized: a "
    "one-step note s times less likely; 1: none), each crossed with every other setting.")
_CANDIDATES = flags.DEFINE_list(
    "candidates", ["1"], "Candidates drawn per kept melody (realism_critic.py: the model's realism "
    "critic keeps one; 1: plain sampling), each crossed with every other setting.")
_ATTENTION_BARS = flags.DEFINE_list(
    "attention_bars", ["0"], "Bars the decoder attends over as it samples (Sampler.attention_bars; "
    "0: the window it trained with), each crossed with every other setting.")
_SECTION_BARS = flags.DEFINE_list(
    "section_bars", ["0"], "Bars of each section a longer prior sample is written in "
    "(Sampler.section_bars; 0: one latent), each crossed with every other setting.")
_SECTION_CORRELATIONS = flags.DEFINE_list(
    "section_correlations", ["0"], "Correlations of a section's latent with the section's before "
    "(Sampler.section_correlation), each crossed with every other setting where section_bars > 0.")
_SECTION_REPEATS = flags.DEFINE_list(
    "section_repeats", ["1"], "Sections in a row that state one latent (Sampler.section_repeats; "
    "2: AABB), each crossed with every other setting where section_bars > 0.")
_NUM_SAMPLES = flags.DEFINE_integer("num_samples", 64, "Melodies per emotion.")
_SEED = flags.DEFINE_integer("seed", 0, "Sampling seed (one; --seeds for several).")
_SEEDS = flags.DEFINE_list("seeds", None, "Sampling seeds: every figure is the mean over them, "
                           "and the default is chosen on those means. Overrides --seed.")
_BARS = flags.DEFINE_integer("bars", 16, "Bars per melody.")
_JSON = flags.DEFINE_string("json", None, "Where to write the figures.")
_APPLY = flags.DEFINE_bool("apply", False, "Make the chosen setting the model's own sampling "
                           "settings (post_training.set_sampling: its config.json, "
                           "and a shipped model's manifest records the change).")
_PRIOR = flags.DEFINE_enum("prior", "auto", list(latent_prior_lib.KINDS),
                           "Where z comes from: the model's fitted latent prior, or N(0, I).")

JUDGE_FLOOR = 0.85  # issue 19's bar for the judge's macro agreement at the default settings
QUADRANT_FLOOR = 0.75  # ... and for its every quadrant
JUDGE_TOLERANCE = 0.02  # when none passes: a judge this close to the best counts as as good
STRUCTURE = ("note_repetition_rate", "bar_repetition_rate", "phrase_similarity")
COLUMNS = ("realism", "realism_real_mix", *(f"realism_{q}" for q in emotion_lib.EMOTIONS), "judge",
           "judge_worst", *(f"judge_{q}" for q in emotion_lib.EMOTIONS),
           *STRUCTURE, "part_similarity", "part_lift", "one_step_notes", "tonic_share")
BY_SEED = ("realism", "judge")  # kept per seed beside the means, as realism_by_seed, judge_by_seed
MEMORIZER_ROW = "train set (memorizer)"
SETTINGS = ("temperature", "top_p", "emotion_guidance", "repeat_penalty", "short_note_penalty",
            "candidates", "attention_bars", "section_bars", "section_correlation", "section_repeats")


def setting_name(temperature: float, top_p: float, guidance: float = 1.0,
                 repeat_penalty: float = 1.0, short_note_penalty: float = 1.0,
                 candidates: int = 1, attention_bars: int = 0, section_bars: int = 0,
                 section_correlation: float = 0.0, section_repeats: int = 1) -> str:
  return (f"T={temperature:g} p={top_p:g}" + (f" g={guidance:g}" if guidance != 1.0 else "")
          + (f" r={repeat_penalty:g}" if repeat_penalty != 1.0 else "")
          + (f" s={short_note_penalty:g}" if short_note_penalty != 1.0 else "")
          + (f" K={candidates}" if candidates != 1 else "")
          + (f" A={attention_bars}" if attention_bars else "")
          + (f" S={section_bars} c={section_correlation:g}" if section_bars else "")
          + (f" R={section_repeats}" if section_bars and section_repeats != 1 else ""))


def choose(rows: dict) -> str:
  """The default setting (a key of rows other than the real tunes'): the lowest realism among
  those whose judge meets both floors; when none does, the lowest realism among those whose
  judge is within JUDGE_TOLERANCE of the best."""
  settings = {name: row for name, row in rows.items() if name.startswith("T=")}
  passing = {name: row for name, row in settings.items()
             if row["judge"] >= JUDGE_FLOOR and row["judge_worst"] >= QUADRANT_FLOOR}
  if not passing:
    best_judge = max(row["judge"] for row in settings.values())
    passing = {name: row for name, row in settings.items()
               if row["judge"] >= best_judge - JUDGE_TOLERANCE}
  return min(passing, key=lambda name: (passing[name]["realism"], -passing[name]["judge"]))


def _parts(melodies, steps_per_bar) -> dict:
  """{part_similarity, part_lift}: the melody means over melodies of at least two parts
  (metrics/melody.PART_BARS bars each) of phrase_similarity between the parts and part_lift;
  NaN for shorter melodies."""
  long = [m for m in melodies if len(m) >= 2 * melody_metrics.PART_BARS * steps_per_bar]
  similarity = [melody_metrics.phrase_similarity(m, steps_per_bar, melody_metrics.PART_BARS)
                for m in long]
  lift = [value for value in (melody_metrics.part_lift(m, steps_per_bar) for m in long)
          if np.isfinite(value)]
  return {"part_similarity": float(np.mean(similarity)) if similarity else float("nan"),
          "part_lift": float(np.mean(lift)) if lift else float("nan")}


def _structure(melodies, qpm, steps_per_bar, meter) -> dict:
  per_melody = [melody_metrics.all_metrics(m, qpm, steps_per_bar, meter) for m in melodies]
  return {**{name: float(np.mean([m[name] for m in per_melody])) for name in STRUCTURE},
          **_parts(melodies, steps_per_bar), **scoring.shape_shares(melodies, steps_per_bar)}


def _mean_over_seeds(per_seed: list[dict]) -> dict:
  """One setting's rows at several seeds -> one row: each column's mean, judge_worst the worst
  quadrant of the means (not the mean of each seed's worst), and BY_SEED's figures per seed."""
  row = {**per_seed[0], **{name: float(np.mean([r[name] for r in per_seed])) for name in COLUMNS}}
  row["judge_worst"] = min(row[f"judge_{q}"] for q in emotion_lib.EMOTIONS)
  return {**row, **{f"{name}_by_seed": [r[name] for r in per_seed] for name in BY_SEED}}


def sweep(sampler: Sampler, arrays, manifest, temperatures, top_ps, num_samples: int,
          seed: int | Sequence[int], bars: int, split: str = "valid", log=print, guidances=(1.0,),
          repeat_penalties=(1.0,), short_note_penalties=(1.0,), candidates=(1,),
          attention_bars=(0,), section_bars=(0,), section_correlations=(0.0,),
          section_repeats=(1,)) -> dict:
  """{row name: COLUMNS}: the split's real tunes first, then each setting (setting_name), its
  figures the means over seed (one or several sampling seeds; BY_SEED's also per seed)."""
  seeds = [seed] if isinstance(seed, int) else list(seed)
  thresholds = judge.thresholds_of(manifest)
  spb = sampler.steps_per_bar
  meter = tuple(sampler.facts["time_signature"])
  qpm = float(np.median(arrays["qpm"]))
  real = realism.real_tunes(arrays, bars, spb, thresholds, split=split)
  log(f"{split} split: {len(real.events)} spans of {bars} bars from {len(np.unique(real.groups))} "
      "tunes")
  no_judge = {name: float("nan") for name in COLUMNS if name.startswith("judge")}
  rows = {f"{split} set": {  # its quadrants are the judge's own labels: no agreement to show
      **scoring.realism_columns(realism.real_against_real(real, spb, classifiers=("features",))), **no_judge,
      **_structure(list(real.events), qpm, spb, meter)}}
  if split != "train":  # against its own tunes the memorizer would be the row above
    training = realism.training_tunes(arrays, bars, spb, thresholds, num_samples, seeds[0])
    rows[MEMORIZER_ROW] = {
        **scoring.realism_columns(realism.model_rows(training, real, spb,
                                                     classifiers=("features",))),
        **no_judge, **_structure(list(training.events), qpm, spb, meter)}
    log(f"{MEMORIZER_ROW}: {len(training.events)} spans from {len(np.unique(training.groups))} "
        f"tunes, realism {rows[MEMORIZER_ROW]['realism']:.3f}")
  requested = np.array(scoring.requested_emotions(num_samples))
  own = {"emotion_guidance": sampler.emotion_guidance, "attention_bars": sampler.attention_bars,
         "section_bars": sampler.section_bars,
         "section_correlation": sampler.section_correlation,
         "section_repeats": sampler.section_repeats}
  if sampler.own_quadrant_guidance:  # --guidances sets the rest; these keep their own
    log("the model's own guidance for " + ", ".join(
        f"{q} ({g:g})" for q, g in sampler.own_quadrant_guidance.items())
        + " stays in force in every row")
  sectionings = [(bars_each, correlation, repeats)  # one row for 0 bars
                 for bars_each in section_bars
                 for correlation in (section_correlations if bars_each else (0.0,))
                 for repeats in (section_repeats if bars_each else (1,))]
  for (section, correlation, repeats), reach, guidance, short_note_penalty, repeat_penalty, temperature, \
      top_p, count in itertools.product(sectionings, attention_bars, guidances,
                                        short_note_penalties, repeat_penalties, temperatures,
                                        top_ps, candidates):
    name = setting_name(temperature, top_p, guidance, repeat_penalty, short_note_penalty, count,
                        reach, section, correlation, repeats)
    per_seed = []
    for one_seed in seeds:
      sampler.steer(emotion_guidance=guidance, attention_bars=reach, section_bars=section,
                    section_correlation=correlation, section_repeats=repeats)
      try:
        melodies = [m.events for m in sampler.sample(list(requested), bars, one_seed, temperature,
                                                     top_p, repeat_penalty, short_note_penalty,
                                                     candidates=count)]
      finally:
        sampler.steer(**own)
      agreement = scoring.judged_agreement(melodies, requested, spb, thresholds)
      generated = realism.generated_melodies(melodies, requested)
      per_seed.append({
          "temperature": temperature, "top_p": top_p, "emotion_guidance": guidance,
          "repeat_penalty": repeat_penalty, "short_note_penalty": short_note_penalty,
          "candidates": count, "attention_bars": reach, "section_bars": section,
          "section_correlation": correlation, "section_repeats": repeats,
          **scoring.realism_columns(realism.model_rows(generated, real, spb, classifiers=("features",))),
          "judge": float(np.mean(agreement)), "judge_worst": float(np.min(agreement)),
          **{f"judge_{q}": float(a) for q, a in zip(emotion_lib.EMOTIONS, agreement)},
          **_structure(melodies, qpm, spb, meter)})
      log(f"{name}, seed {one_seed}: realism {per_seed[-1]['realism']:.3f}, "
          f"judge {per_seed[-1]['judge']:.3f}")
    rows[name] = _mean_over_seeds(per_seed)
    if len(seeds) > 1:
      log(f"{name}, mean over seeds {seeds}: realism {rows[name]['realism']:.3f}, "
          f"judge {rows[name]['judge']:.3f}")
  return rows


def main(argv):
  del argv
  sampler = (pretrained.load(_PRETRAINED.value) if _PRETRAINED.value
             else Sampler.load(model_dir(_WORKDIR.value)))
  print(f"prior: {sampler.use_prior(_PRIOR.value)}")
  arrays, manifest = cache_lib.load(_CACHE.value)
  seeds = [int(seed) for seed in _SEEDS.value] if _SEEDS.value else [_SEED.value]
  rows = sweep(sampler, arrays, manifest, [float(t) for t in _TEMPERATURES.value],
               [float(p) for p in _TOP_PS.value], _NUM_SAMPLES.value, seeds, _BARS.value,
               _SPLIT.value, guidances=[float(g) for g in _GUIDANCES.value],
               repeat_penalties=[float(r) for r in _REPEAT_PENALTIES.value],
               short_note_penalties=[float(s) for s in _SHORT_NOTE_PENALTIES.value],
               candidates=[int(k) for k in _CANDIDATES.value],
               attention_bars=[int(a) for a in _ATTENTION_BARS.value],
               section_bars=[int(b) for b in _SECTION_BARS.value],
               section_correlations=[float(c) for c in _SECTION_CORRELATIONS.value],
               section_repeats=[int(r) for r in _SECTION_REPEATS.value])
  print(f"{'':<26}" + "".join(f"{c[:13]:>14}" for c in COLUMNS))
  for name, row in rows.items():
    print(f"{name:<26}" + "".join(f"{row[c]:>14.3f}" for c in COLUMNS))
  chosen = choose(rows)
  print(f"chosen: {chosen} (the most real setting whose judge agreement is at least "
        f"{JUDGE_FLOOR} overall and {QUADRANT_FLOOR} in every quadrant; if none, the most real "
        f"whose judge is within {JUDGE_TOLERANCE} of the best)")
  if _APPLY.value:
    post_training.set_sampling(
        sampler.export_dir,
        {key: rows[chosen][key] for key in SETTINGS}, log=print,
        chosen_by=(f"launch/sampling_sweep.py on the {_SPLIT.value} split, {_NUM_SAMPLES.value} "
                   f"samples an emotion of {_BARS.value} bars, "
                   f"{'seed' if len(seeds) == 1 else 'the mean over seeds'} "
                   f"{','.join(map(str, seeds))}: {chosen}, "
                   f"realism {rows[chosen]['realism']:.3f}, judge {rows[chosen]['judge']:.3f}"))
  if _JSON.value:
    pathlib.Path(_JSON.value).parent.mkdir(parents=True, exist_ok=True)
    with open(_JSON.value, "w") as f:
      json.dump({"model": _PRETRAINED.value or _WORKDIR.value, "num_samples": _NUM_SAMPLES.value,
                 "seed": seeds[0], "seeds": seeds, "bars": _BARS.value, "split": _SPLIT.value, "rows": rows,
                 "chosen": chosen}, f, indent=1)


if __name__ == "__main__":
  app.run(main)
