"""Ships the Nottingham model again from its reconstituted run (2026-12-05 (xx)) so that its
config.json records the post stages and command that made it (post_training's
_record_config_sections). The run folder that trained the model is not on this machine:
RUN is a copy of the (xiv) / (xviii) reconstituted run (docs/results/issue19_session_xiv/ship/
reship.py). Every fit is found done; only the record and the shipping stage run, so the
parameters stay byte-equal.

  PYTHONPATH=. python docs/results/issue19_session_xx/scripts/nott_record_reship.py RUN CACHE
"""
import runpy
import sys

from hrnnvae import post_training

COMMAND = "bash launch/train_shipped.sh --source=DIR --config=configs/nottingham_ship.py"


def main(run: str, cache: str) -> None:
  config = runpy.run_path("configs/nottingham_ship.py")["get_config"](None)
  config.data.cache_dir = cache
  config.post.ship_as = "nottingham"
  config.post.command = COMMAND  # as launch/train_shipped.sh passes it
  print(post_training.run_stages(config, run, command=COMMAND,
                                 log=lambda message: print(message, flush=True)))


if __name__ == "__main__":
  main(*sys.argv[1:])
