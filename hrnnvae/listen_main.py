r"""hrnnvae-listen: a blind listening test of a model against real tunes.

Make a set: equal numbers of the model's prior samples and real spans of a held-out split, the
same length, matched quadrant for quadrant, rendered alike and shuffled as clips/clip_NN.mid/.wav:
  hrnnvae-listen --pretrained=nottingham --dataset_cache=runs/nottingham/data --bars=16 \
      --clips_per_side=12 --out=listening/nottingham_16
Listen to the clips in order and write real or model beside each in the set's answers.csv (leave
key.json closed until then), then score it:
  hrnnvae-listen --score=listening/nottingham_16
which prints the accuracy (0.5: the listener could not tell), its binomial p-value, the shares of
real and model clips called real and the accuracy per quadrant, and writes score.json there
(a flag for making a set, passed beside --score, is refused rather than ignored).
The model is --workdir (a training run), --checkpoint (its export/ folder) or --pretrained (shipped
in the package), sampling with its own settings (config.json's sampling facts).
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
from absl import flags

from hrnnvae import cli, exports, judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import sources as sources_lib
from hrnnvae.evaluation import listening, realism
from hrnnvae.sample import SampleError, Sampler

TOOL = "hrnnvae-listen"
_WORKDIR = flags.DEFINE_string("workdir", None, "A training run's folder (its export/ is read).")
_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "A model's export/ folder.")
_PRETRAINED = flags.DEFINE_string("pretrained", None, "A model shipped in the package (e.g. "
                                  "nottingham).")
_CACHE = flags.DEFINE_string("dataset_cache", None, "The prepared cache whose --split gives the "
                             "real clips (hrnnvae-data prepare).")
_SPLIT = flags.DEFINE_enum("split", "test", ["valid", "test"], "The held-out split the real "
                           "clips come from.")
_BARS = flags.DEFINE_integer("bars", 16, "Bars per clip (1 to 64).")
_CLIPS = flags.DEFINE_integer("clips_per_side", 12, "Real clips, and as many model clips (1 to "
                              "100; one real span per tune).")
_SEED = flags.DEFINE_integer("seed", 0, "Which real spans, which samples and their order (0 to "
                             "2**32 - 1).")
_OUT = flags.DEFINE_string("out", "listening", "Where the set goes (new or empty).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an earlier set in --out.")
_AUDIO = flags.DEFINE_bool("audio", True, "Also render WAV files (else MIDI only).")
_SCORE = flags.DEFINE_string("score", None, "Score a set instead: its folder, with answers.csv "
                             "filled in.")
FLAG_NAMES = ["workdir", "checkpoint", "pretrained", "dataset_cache", "split", "bars",
              "clips_per_side", "seed", "out", "overwrite", "audio", "score"]

_say = cli.printer(TOOL)


def _check_flags() -> pathlib.Path:
  """Every mistake of a make call before any model is loaded; returns the output folder."""
  if sum(bool(f.value) for f in (_WORKDIR, _CHECKPOINT, _PRETRAINED)) != 1:
    raise cli.UsageError("name the model with one of --workdir, --checkpoint or --pretrained")
  if not _CACHE.value:
    raise cli.UsageError("pass --dataset_cache=DIR, the prepared data whose held-out tunes are "
                         "the real clips (hrnnvae-data prepare --out=DIR)")
  cli.check_range("bars", _BARS.value, low=1, high=64)
  cli.check_range("clips_per_side", _CLIPS.value, low=1, high=100)
  cli.check_range("seed", _SEED.value, low=0, high=cli.MAX_SEED)
  return cli.check_output_dir(_OUT.value, "out", _OVERWRITE.value, TOOL, listening.KEY)


def _load() -> Sampler:
  sampler = pretrained.load_chosen(_PRETRAINED.value, _WORKDIR.value or _CHECKPOINT.value)
  if sampler.has_encoder:
    sampler.use_prior("auto")  # the fitted latent prior when the model has one
  return sampler


def make(out: pathlib.Path) -> dict:
  """A set in `out`: real spans of --split and as many samples, matched by quadrant."""
  arrays, manifest = cache_lib.load(_CACHE.value)
  sampler = _load()
  spb, meter = sampler.steps_per_bar, tuple(sampler.facts["time_signature"])
  trained_on, cached = sampler.facts.get("dataset"), manifest.get("dataset")
  if trained_on and cached and trained_on != cached:
    _say(f"warning: the model was trained on {trained_on}, the real clips come from {cached}")
  real = realism.real_tunes(arrays, _BARS.value, spb, judge.thresholds_of(manifest),
                            split=_SPLIT.value)
  chosen = listening.pick_real(real, _CLIPS.value, _SEED.value)
  quadrants = [int(q) for q in real.quadrants[chosen]]
  _say(f"{len(chosen)} real spans of {_BARS.value} bars from the {_SPLIT.value} split; sampling "
       f"as many")
  samples = [np.asarray(m.events) for m in sampler.sample(quadrants, _BARS.value, _SEED.value)]
  clips, events = listening.shuffled(real.events[chosen], quadrants,
                                     [f"tune {int(g)}" for g in real.groups[chosen]],
                                     samples, quadrants, _SEED.value)
  split_rows = arrays["split"] == sources_lib.SPLITS.index(_SPLIT.value)
  qpm = float(np.median(arrays["qpm"][split_rows]))
  model = _PRETRAINED.value or str(_WORKDIR.value or _CHECKPOINT.value)
  with cli.staged_output_dir(out) as stage:
    key = listening.write_set(stage, clips, events, qpm, meter, _AUDIO.value, facts={
        "model": model, "dataset_cache": str(_CACHE.value), "split": _SPLIT.value,
        "bars": _BARS.value, "seed": _SEED.value, "tool": TOOL})
  return key


def score(folder: pathlib.Path) -> dict:
  """Scores the set in `folder` from its answers.csv; writes score.json beside it."""
  _, clips = listening.load_key(folder)
  guesses = listening.read_answers(folder / listening.ANSWERS, [c.name for c in clips])
  if not guesses:
    raise listening.ListeningError(f"{folder / listening.ANSWERS} has no guesses yet: write real "
                                   "or model beside each clip")
  result = listening.score(guesses, clips)
  (folder / "score.json").write_text(json.dumps(result, indent=1))
  return result


def main(argv):
  if len(argv) > 1:
    raise cli.UsageError(f"unexpected arguments: {argv[1:]}")
  exports.quiet_orbax_logging()
  try:
    if _SCORE.value:
      making = [f"--{name}" for name in FLAG_NAMES if name != "score" and flags.FLAGS[name].present]
      if making:
        raise cli.UsageError(f"--score scores a set that is already made; {', '.join(making)} "
                             "make one: pass them without --score")
      folder = pathlib.Path(_SCORE.value)
      result = score(folder)
      quadrants = ", ".join(f"{q} {a:.2f}" for q, a in result["by_quadrant"].items())
      print(f"{result['answered']} of {result['clips']} clips answered, {result['right']} right: "
            f"accuracy {result['accuracy']:.3f} (0.5: cannot tell; binomial p {result['p_value']:.3g})"
            f"; real clips called real {result['real_called_real']:.2f}, model clips called real "
            f"{result['model_called_real']:.2f}; by quadrant: {quadrants}; wrote "
            f"{folder / 'score.json'}")
      return
    out = _check_flags()
    key = make(out)
  except (SampleError, cache_lib.CacheError, listening.ListeningError) as error:
    raise cli.UsageError(error) from error
  print(f"wrote {len(key['clips'])} clips to {out / 'clips'}: listen in order, write real or model "
        f"beside each in {out / listening.ANSWERS}, then hrnnvae-listen --score={out}")


def run():
  cli.run(main, TOOL, __doc__, FLAG_NAMES)


if __name__ == "__main__":
  run()
