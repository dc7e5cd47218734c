"""Session (xxi) prototype: what the JSB samples' off-grid onsets and whole notes cost in
realism at 8 bars, bounded by editing the shipped model's samples after the fact.

Edits (each measured alone and together, on the same samples; validation chorales, seeds 0-2):
  offgrid   every event that changes what sounds (a pitch or NOTE_OFF) at an odd 16th step is
            made a HOLD: the note before lasts one step longer and the off-grid note is gone;
  split16   every note of 16 steps or more is struck again at its middle (two notes).
  PYTHONPATH=. .venv/bin/python docs/results/issue19_session_xxi/scripts/offgrid_bound.py \
      --cache=runs/jsb_scr_pq/data --split=valid
"""
import numpy as np
from absl import app, flags

from hrnnvae import judge, pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism, scoring

_CACHE = flags.DEFINE_string("cache", None, "cache")
_SPLIT = flags.DEFINE_string("split", "valid", "split")
_BARS = flags.DEFINE_integer("bars", 8, "bars")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "seeds")


def offgrid(events):
  out = events.copy()
  for t in range(1, len(out), 2):
    if out[t] != events_lib.HOLD:
      out[t] = events_lib.HOLD
  return out


def split16(events):
  out = events.copy()
  for start, end, _ in events_lib.events_to_notes(events):
    if end - start >= 16:
      out[start + (end - start) // 2] = out[start]
  return out


def stats(melodies, spb):
  odd = np.mean([np.any((np.arange(len(m)) % 2 == 1) & (m != events_lib.HOLD)) for m in melodies])
  notes = [n for m in melodies for n in events_lib.events_to_notes(m)]
  whole = np.mean([e - s >= 16 for s, e, _ in notes])
  return odd, whole


def main(argv):
  del argv
  sampler = pretrained.load("jsb_chorales")
  arrays, manifest = cache_lib.load(_CACHE.value)
  thresholds = judge.thresholds_of(manifest)
  spb = sampler.steps_per_bar
  real = realism.real_tunes(arrays, _BARS.value, spb, thresholds, split=_SPLIT.value)
  print(f"real: odd-step change in {stats(list(real.events), spb)[0]:.3f} of spans, "
        f"notes >= 16 steps {stats(list(real.events), spb)[1]:.3f}")
  requested = np.array(scoring.requested_emotions(64))
  results = {}
  for seed in [int(s) for s in _SEEDS.value]:
    melodies = [m.events for m in sampler.sample(list(requested), _BARS.value, seed)]
    for name, edit in [("as sampled", lambda m: m), ("offgrid", offgrid), ("split16", split16),
                       ("both", lambda m: split16(offgrid(m)))]:
      edited = [edit(np.asarray(m)) for m in melodies]
      odd, whole = stats(edited, spb)
      agreement = scoring.judged_agreement(edited, requested, spb, thresholds)
      row = realism.model_rows(realism.generated_melodies(edited, requested), real, spb,
                               classifiers=("features",))
      cols = scoring.realism_columns(row)
      results.setdefault(name, []).append((cols["realism"], float(np.mean(agreement)), odd, whole))
      print(f"seed {seed} {name:>10}: realism {cols['realism']:.3f} judge {np.mean(agreement):.3f}"
            f" odd-step spans {odd:.3f} long notes {whole:.3f}", flush=True)
  for name, rows in results.items():
    r = np.mean(rows, axis=0)
    print(f"mean {name:>10}: realism {r[0]:.3f} judge {r[1]:.3f} odd-step spans {r[2]:.3f} "
          f"long notes {r[3]:.3f}")


if __name__ == "__main__":
  app.run(main)
