"""How much of the pitch a model's z carries (issue 19, item 3): its measures, model by model.

On every test-split window of the cache (scoring.likelihood_row, the harness's likelihood table):
  teacher-forced accuracy, greedy accuracy (decoding mu at temperature 1e-4);
  greedy onset pitch: where the tune and its greedy decode both start a note, the same pitch;
  teacher-forced onset pitch at the tune's own z and at another tune's z (the most likely of the
  88 pitches where the tune starts a note): their difference is what z adds over the notes before;
  the latent gap (cross-entropy per step at the shuffled z minus at its own, nats).

  python launch/pitch_check.py --cache=runs/nottingham/data \
      --models=nottingham,runs/lever_a,runs/lever_b [--json=out.json]
A model is a name shipped in hrnnvae/pretrained/ or a training run's folder (its export/ is read).
"""

from __future__ import annotations

import json
import pathlib
import time

from absl import app, flags

from hrnnvae import pretrained
from hrnnvae.data import cache as cache_lib
from hrnnvae.evaluation import scoring

_MODELS = flags.DEFINE_list("models", None, "Shipped model names or training-run folders.")
_CACHE = flags.DEFINE_string("cache", None, "The prepared cache whose test split is used.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the ELBO's z samples and the greedy decode.")
_JSON = flags.DEFINE_string("json", None, "Also write the rows here.")

COLUMNS = ("teacher_forced_accuracy", "sampled_accuracy", "sampled_onset_pitch_accuracy",
           "onset_pitch_accuracy", "onset_pitch_accuracy_shuffled_z", "latent_gap")


def main(argv):
  del argv
  arrays, _ = cache_lib.load(_CACHE.value)
  rows = {}
  print("model | " + " | ".join(COLUMNS) + " | seconds")
  for model in _MODELS.value:
    started = time.time()
    row = scoring.likelihood_row(pretrained.load_model(model), arrays, seed=_SEED.value)
    rows[model] = {name: row[name] for name in COLUMNS}
    print(f"{model} | " + " | ".join(f"{row[name]:.3f}" for name in COLUMNS)
          + f" | {time.time() - started:.0f}", flush=True)
  if _JSON.value:
    pathlib.Path(_JSON.value).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
  flags.mark_flags_as_required(["models", "cache"])
  app.run(main)
