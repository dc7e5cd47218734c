"""The recipe's sad guidance (configs/jsb_ship.py, 2026-12-05 (xxv)) applied to the shipped JSB
model by its one command's post stages. The run folder that trained the model ((xix)) is not on
this machine, so, as docs/results/issue19_session_xiv/ship/reship.py did for Nottingham, the
export is reconstituted from the shipped folder (config.json byte for byte, the latent prior
recorded as fitted for that export, the wall time as the manifest's) and
post_training.run_stages runs with the recipe: the new sampling setting is set on the export, so
the critic's and E's fits, whose samples it changes, are done again; the bar and transfer
adapters are found done. Without --ship the stages run with shipping off (the screen, measured
by docs/results/issue19_session_xxiv/scripts/jsb_six_seeds.sh --workdir=RUN); with --ship the
same call ships the export as hrnnvae/pretrained/jsb_chorales.

  PYTHONPATH=. python docs/results/issue19_session_xxv/scripts/jsb_sad_reship.py RUN CACHE [--ship]
"""
import json
import pathlib
import runpy
import shutil
import sys

from flax import serialization

from hrnnvae import exports, post_training, pretrained

COMMAND = "bash launch/train_shipped.sh --dataset=jsb_chorales --source=DIR --config=configs/jsb_ship.py"


def reconstitute(run: pathlib.Path) -> None:
  shipped, export = pretrained.pretrained_dir("jsb_chorales"), run / "export"
  params = serialization.msgpack_restore((shipped / "params.msgpack").read_bytes())
  description = json.loads((shipped / "config.json").read_text())
  exports.write_export(export, params, description)
  shutil.copy(shipped / "config.json", export / "config.json")  # byte for byte
  shutil.copy(shipped / "latent_prior.npz", export / "latent_prior.npz")
  step = int(description["step"])
  (run / post_training.STAGES_FILE).write_text(json.dumps(
      {"latent_prior": {"export_step": step, "seconds": 0.0,
                        "note": "reconstituted from the shipped model (its fit counts in the "
                                "manifest's wall time)"}}, indent=1) + "\n")
  manifest = json.loads((shipped / pretrained.MANIFEST_FILE).read_text())
  (run / post_training.RUN_TIME_FILE).write_text(json.dumps(
      {"calls": [{"started": manifest["date"], "from_step": 0, "to_step": step,
                  "seconds": manifest["wall_time_s"],
                  "note": "the shipped model's manifest wall time, every stage before this "
                          "one"}]}, indent=1) + "\n")


def main(run: str, cache: str, *flags: str) -> None:
  run = pathlib.Path(run)
  if not (run / "export" / "config.json").is_file():
    reconstitute(run)
  config = runpy.run_path("configs/jsb_ship.py")["get_config"](None)
  config.data.cache_dir = cache
  config.post.command = COMMAND  # as launch/train_shipped.sh passes it
  if "--ship" not in flags:
    config.post.ship_as = ""
  print(post_training.run_stages(config, run, command=COMMAND,
                                 log=lambda message: print(message, flush=True)))


if __name__ == "__main__":
  main(*sys.argv[1:])
