"""A blind listening test: can a person tell a model's tunes from real ones? (issue 19)

The realism classifiers (realism.py) answer that question for features a machine reads; this is
the same question put to a listener. A set is equal numbers of a model's prior samples and real
held-out spans of the same length, matched quadrant for quadrant (each sample is asked for the
quadrant the judge gives the real span beside it), rendered alike (one tempo, one synth), shuffled
and named clip_01, clip_02, ... The listener writes `real` or `model` beside each clip in
answers.csv; `score` reads it against key.json: accuracy 0.5 is a listener who cannot tell, 1.0
one who always can, with the exact binomial test of "cannot tell" beside it.

Files of a set (write_set):
  clips/clip_NN.mid (and .wav)   the clips, in the order they are to be heard (every WAV of
                                 one length, a melody that ends on a rest padded with silence)
  answers.csv                    clip,guess with the guesses blank: the listener fills them in
  key.json                       which clips are real (open it only to score)
"""

from __future__ import annotations

import csv
import dataclasses
import json
import pathlib

import numpy as np
import scipy.stats

from hrnnvae import render
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.evaluation import realism

SOURCES = ("real", "model")
ANSWERS = "answers.csv"
KEY = "key.json"
TAIL_SECONDS = 1.0  # every WAV runs this long past its melody's last step: one length for all


class ListeningError(ValueError):
  """An answers sheet or key that cannot be scored: what is wrong and where."""


@dataclasses.dataclass(frozen=True)
class Clip:
  """One clip of a set: its file name (without suffix), where it came from (SOURCES), the
  quadrant (the judge's label of a real span, the request of a sample) and its origin (the real
  span's tune in the cache, or the sample's index in the model's batch)."""
  name: str
  source: str
  quadrant: str
  origin: str


def pick_real(real: realism.Melodies, count: int, seed: int) -> np.ndarray:
  """Indices of `count` real spans, at most one per tune, spread over the quadrants as evenly as
  the tunes allow (round robin over the quadrants, each drawing from the tunes not yet used)."""
  rng = np.random.default_rng(seed)
  order = rng.permutation(len(real.events))
  queues = {q: [i for i in order if real.quadrants[i] == q] for q in np.unique(real.quadrants)}
  chosen, used = [], set()
  while len(chosen) < count and any(queues.values()):
    for quadrant in sorted(queues):
      queue = queues[quadrant]
      while queue and int(real.groups[queue[0]]) in used:
        queue.pop(0)
      if queue and len(chosen) < count:
        index = queue.pop(0)
        chosen.append(index)
        used.add(int(real.groups[index]))
  if len(chosen) < count:
    raise ListeningError(f"the split has {len(chosen)} tunes with spans of this length in the "
                         f"model's bar; asked for {count} real clips (one per tune): ask for "
                         "fewer, or shorter clips")
  return np.array(chosen, np.int64)


def shuffled(real_events, real_quadrants, real_origins, model_events, model_quadrants,
             seed: int) -> tuple[list[Clip], list[np.ndarray]]:
  """(clips, their events) of both sides in one random order (seed), named clip_01, ..."""
  rows = ([("real", e, q, o) for e, q, o in zip(real_events, real_quadrants, real_origins)]
          + [("model", e, q, f"sample {i}")
             for i, (e, q) in enumerate(zip(model_events, model_quadrants))])
  order = np.random.default_rng(seed).permutation(len(rows))
  width = max(2, len(str(len(rows))))
  clips, events = [], []
  for position, index in enumerate(order, start=1):
    source, melody, quadrant, origin = rows[index]
    clips.append(Clip(f"clip_{position:0{width}d}", source,
                      emotion_lib.EMOTIONS[int(quadrant)], str(origin)))
    events.append(np.asarray(melody))
  return clips, events


def write_set(out: pathlib.Path, clips: list[Clip], events, qpm: float, meter: tuple[int, int],
              audio: bool = True, facts: dict | None = None) -> dict:
  """Writes clips/ (MIDI, and WAV when `audio`), answers.csv (guesses blank) and key.json
  (the clips and `facts`, e.g. the model and split) into `out`; returns the key."""
  (out / "clips").mkdir(parents=True, exist_ok=True)
  synths = set()
  for clip, melody in zip(clips, events):
    sequence = render.write_midi(melody, out / "clips" / f"{clip.name}.mid", qpm, meter)
    if audio:
      seconds = len(melody) / events_lib.STEPS_PER_QUARTER * 60.0 / qpm + TAIL_SECONDS
      synths.add(render.write_wav(sequence, out / "clips" / f"{clip.name}.wav", seconds))
  with open(out / ANSWERS, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["clip", "guess"])
    writer.writerows([clip.name, ""] for clip in clips)
  key = {**(facts or {}), "qpm": qpm, "time_signature": list(meter),
         "synth": sorted(synths) or None,
         "clips": [dataclasses.asdict(clip) for clip in clips]}
  with open(out / KEY, "w") as f:
    json.dump(key, f, indent=1)
  return key


def read_answers(path: pathlib.Path, names: list[str]) -> dict[str, str]:
  """{clip: "real" | "model"} of the rows of answers.csv with a guess (blank rows are left out;
  r / m and any case are read as real / model). ListeningError for a clip not in `names`, a clip
  answered twice, or a guess that is neither."""
  guesses = {}
  if not pathlib.Path(path).is_file():
    raise ListeningError(f"{path} is missing: it is the sheet the set came with (clip,guess), "
                         "one row a clip")
  with open(path, newline="") as f:
    for line, row in enumerate(csv.DictReader(f), start=2):
      clip, guess = (row.get("clip") or "").strip(), (row.get("guess") or "").strip().lower()
      if not clip and not guess:
        continue
      if clip not in names:
        raise ListeningError(f"{path}, line {line}: no clip named {clip!r} in this set")
      if clip in guesses:
        raise ListeningError(f"{path}, line {line}: {clip} is answered twice")
      if not guess:
        continue
      full = {"r": "real", "m": "model"}.get(guess, guess)
      if full not in SOURCES:
        raise ListeningError(f"{path}, line {line}: the guess for {clip} is {guess!r}; write real "
                             "or model (r or m)")
      guesses[clip] = full
  return guesses


def score(guesses: dict[str, str], clips: list[Clip]) -> dict:
  """How well the guesses tell the sources apart: accuracy over the answered clips (0.5: cannot
  tell), the exact two-sided binomial p-value of that many right under "cannot tell", the share
  of real and of model clips called real, and the accuracy in each quadrant."""
  answered = [clip for clip in clips if clip.name in guesses]
  right = [guesses[clip.name] == clip.source for clip in answered]
  result = {"clips": len(clips), "answered": len(answered), "right": int(sum(right)),
            "accuracy": float(np.mean(right)) if answered else float("nan"),
            "p_value": (float(scipy.stats.binomtest(int(sum(right)), len(answered), 0.5).pvalue)
                        if answered else float("nan"))}
  for source in SOURCES:
    called = [guesses[c.name] == "real" for c in answered if c.source == source]
    result[f"{source}_called_real"] = float(np.mean(called)) if called else float("nan")
  result["by_quadrant"] = {}
  for quadrant in emotion_lib.EMOTIONS:
    marks = [ok for clip, ok in zip(answered, right) if clip.quadrant == quadrant]
    if marks:
      result["by_quadrant"][quadrant] = float(np.mean(marks))
  return result


def load_key(folder: pathlib.Path) -> tuple[dict, list[Clip]]:
  """(key.json as read, its clips) of a set's folder; ListeningError when it is not one."""
  path = folder / KEY
  if not path.is_file():
    raise ListeningError(f"{folder} holds no {KEY}: it is not a listening set (make one with "
                         "hrnnvae-listen --out=DIR)")
  try:
    key = json.loads(path.read_text())
    clips = [Clip(**clip) for clip in key["clips"]]
  except (ValueError, KeyError, TypeError) as error:
    raise ListeningError(f"{path} cannot be read as a listening key ({error})") from error
  if any(clip.source not in SOURCES for clip in clips):
    raise ListeningError(f"{path}: a clip's source is not one of {', '.join(SOURCES)}")
  return key, clips
