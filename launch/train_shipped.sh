#!/usr/bin/env bash
# One command trains what ships: prepares Nottingham with copies transposed by up to 5 semitones,
# then `hrnnvae-train --config=configs/nottingham_ship.py` runs every stage (the ELBO, the emotion
# fine-tune, the latent prior, the bar adapter, transfer's adapter, the critic, E's fit) and ships it
# as pretrained/nottingham, whose manifest records this command and the run's wall time. Run it
# again to resume where it stopped (a Ctrl-C stops cleanly). The shipped model is what one call
# made from an empty folder in 147 minutes on 2 CPU cores (its manifest; BUILD_NOTES.md, issue 19).
#   bash launch/train_shipped.sh --source=DIR [--run=runs/nottingham_ship] [hrnnvae-train flags]
#   bash launch/train_shipped.sh --dataset=jsb_chorales --source=DIR   # configs/jsb_ship.py
# DIR holds the dataset (hrnnvae-data download --dataset=nottingham --out=DIR fetches it). Extra flags go to hrnnvae-train, e.g. --config=configs/nottingham_ship.py:paper_size for
# the GPU recipe at the paper's size, or --config.post.ship_root=DIR to ship elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE="" DATASET="nottingham" RUN="" CONFIG=""
TRAIN_FLAGS=()
for arg in "$@"; do
  case "$arg" in
    --source=*) SOURCE="${arg#--source=}" ;;
    --dataset=*) DATASET="${arg#--dataset=}" ;;
    --run=*) RUN="${arg#--run=}" ;;
    --config=*) CONFIG="${arg#--config=}" ;;
    *) TRAIN_FLAGS+=("$arg") ;;
  esac
done
case "$DATASET" in
  nottingham) SHORT="nottingham" ;;
  jsb_chorales) SHORT="jsb" ;;
  *) echo "train_shipped.sh: --dataset must be nottingham or jsb_chorales, not $DATASET" >&2; exit 2 ;;
esac
RUN="${RUN:-runs/${SHORT}_ship}" CONFIG="${CONFIG:-configs/${SHORT}_ship.py}"
if [[ -z "$SOURCE" ]]; then
  echo "train_shipped.sh: pass --source=DIR, the $DATASET dataset's folder (fetch it with" \
       "hrnnvae-data download --dataset=$DATASET --out=DIR)" >&2
  exit 2
fi
[[ -n "${VIRTUAL_ENV:-}" ]] || source launch/venv.sh
hrnnvae-data prepare --dataset="$DATASET" --source="$SOURCE" --out="$RUN/data" --transpose=5
# The manifest records the command without this machine's folders.
COMMAND="bash launch/train_shipped.sh"
[[ "$DATASET" == nottingham ]] || COMMAND+=" --dataset=$DATASET"
COMMAND+=" --source=DIR --config=$CONFIG${TRAIN_FLAGS[*]:+ ${TRAIN_FLAGS[*]}}"
exec hrnnvae-train --config="$CONFIG" --config.data.cache_dir="$RUN/data" --workdir="$RUN" \
  --config.post.command="$COMMAND" \
  "${TRAIN_FLAGS[@]}"
