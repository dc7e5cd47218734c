"""The transfer adapter's second leg on the shipped Nottingham model (2026-12-04 (xiv)).

As docs/results/issue19_session_xiii/ship/reship.py (the run folder that made the shipped model
is not on this machine): the export is reconstituted from the shipped folder, its latent prior
recorded as fitted for that export and its wall time as the manifest's, and
post_training.run_stages runs with the recipe. The recipe's first leg of the transfer fit (6,000
steps at keep bias 1) is the one the shipped model recorded, so it is found done; the second
leg (3,000 steps at keep bias 1.5) runs from it, and the model ships with transfers at keep
bias 2 and guidance 1.5.

The same script at 51bc50e (its recipe: one leg of 8,000 steps at keep bias 2, the wall time
carried less the shipped transfer stage, BEFORE_TRANSFER_STAGE_S = 6,308 s) made the one-leg
adapter measured beside it (reship.log, reship_keep25.log).

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
    manifest = json.loads((shipped / pretrained.MANIFEST_FILE).read_text())
    (run / post_training.RUN_TIME_FILE).write_text(json.dumps(
        {"calls": [{"started": manifest["date"], "from_step": 0, "to_step": step,
                    "seconds": manifest["wall_time_s"],
                    "note": "the shipped model's manifest wall time, every stage before "
                            "this one"}]}, indent=1) + "\n")
  config = runpy.run_path("configs/nottingham_ship.py")["get_config"](None)
  config.data.cache_dir = cache
  config.post.ship_as = "nottingham"
  print(post_training.run_stages(config, run, command=COMMAND,
                                 log=lambda message: print(message, flush=True)))


if __name__ == "__main__":
  main(*sys.argv[1:])
