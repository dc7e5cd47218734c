"""The transfer adapter's stage, refitted, on the shipped Nottingham model (2026-12-04 (xiv)).

As docs/results/issue19_session_xiii/ship/reship.py (the run folder that made the shipped model
is not on this machine): the export is reconstituted from the shipped folder, its latent prior
recorded as fitted for that export, and post_training.run_stages runs with the recipe, which now
asks a different transfer fit (8,000 steps decoding at keep bias 2), so only that stage runs:
it drops the shipped transfer adapter and fits a new one from the bar adapter. The wall time
carried over is the manifest's less the transfer stage it replaces (7,860 s - 1,552 s = 6,308 s,
the model's time before 2026-12-04 (xiii)), so the manifest counts one transfer fit.

  PYTHONPATH=. python docs/results/issue19_session_xiv/ship/reship.py RUN CACHE
"""
import json
import pathlib
import runpy
import shutil
import sys

from flax import serialization

from hrnnvae import exports, post_training, pretrained

COMMAND = "bash launch/train_shipped.sh --source=DIR --config=configs/nottingham_ship.py"
BEFORE_TRANSFER_STAGE_S = 6308.0  # the manifest of 2026-12-02 (vi) to 2026-12-04 (xiii)


def main(run: str, cache: str) -> None:
  run, shipped = pathlib.Path(run), pretrained.pretrained_dir("nottingham")
  export = run / "export"
  if not (export / "config.json").is_file():
    params = serialization.msgpack_restore((shipped / "params.msgpack").read_bytes())
    description = json.loads((shipped / "config.json").read_text())
    exports.write_export(export, params, description)
    shutil.copy(shipped / "config.json", export / "config.json")  # byte for byte
    shutil.copy(shipped / "latent_prior.npz", export / "latent_prior.npz")
    step = int(description["step"])
    (run / post_training.STAGES_FILE).write_text(json.dumps(
        {"latent_prior": {"export_step": step, "seconds": 0.0,
                          "note": "reconstituted from the shipped model (its fit counts in "
                                  "the manifest's wall time)"}}, indent=1) + "\n")
    (run / post_training.RUN_TIME_FILE).write_text(json.dumps(
        {"calls": [{"started": "2026-12-02", "from_step": 0, "to_step": step,
                    "seconds": BEFORE_TRANSFER_STAGE_S,
                    "note": "the shipped model's wall time before its transfer adapter's stage "
                            "(manifest 7,860 s less that stage's 1,552 s)"}]}, indent=1) + "\n")
  config = runpy.run_path("configs/nottingham_ship.py")["get_config"](None)
  config.data.cache_dir = cache
  config.post.ship_as = "nottingham"
  print(post_training.run_stages(config, run, command=COMMAND,
                                 log=lambda message: print(message, flush=True)))


if __name__ == "__main__":
  main(*sys.argv[1:])
