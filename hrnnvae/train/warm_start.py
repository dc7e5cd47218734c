"""Starting a run from another model's parameters (config.train.init_from).

A fresh run's parameters are replaced, leaf by leaf, by those of an export (a run's export/ or a
shipped model) wherever the path and shape agree; the rest (a module the other model lacks, a
layer of another width) keep their fresh values, and the optimizers start anew. Used to try a
change to one module (e.g. the bar latents' prior) from a trained model instead of from scratch.
"""

from __future__ import annotations

import jax
from absl import logging

from hrnnvae import exports


class WarmStartError(ValueError):
  pass


def merge(fresh: dict, trained: dict) -> tuple[dict, list[str], list[str]]:
  """(params, the paths taken from trained, the paths kept fresh)."""
  taken, kept = [], []

  def visit(fresh_tree, trained_tree, path):
    if isinstance(fresh_tree, dict):
      return {key: visit(value, trained_tree.get(key) if isinstance(trained_tree, dict) else None,
                         f"{path}/{key}") for key, value in fresh_tree.items()}
    if trained_tree is not None and getattr(trained_tree, "shape", None) == fresh_tree.shape:
      taken.append(path)
      return jax.numpy.asarray(trained_tree, fresh_tree.dtype)
    kept.append(path)
    return fresh_tree

  return visit(fresh, trained, ""), taken, kept


def warm_start(state, models, init_from: str):
  """The fresh TrainState with init_from's parameters merged in (merge), its optimizer states
  re-initialised; WarmStartError when the export is missing or shares no parameter."""
  try:
    params, _ = exports.read_model(exports.model_dir(init_from))
  except (OSError, ValueError, KeyError) as error:
    raise WarmStartError(f"train.init_from={init_from!r} is not a readable export "
                         f"({type(error).__name__}: {error}); pass a run's folder or export/") from error
  vae_params, taken, kept = merge(state.vae_params, params.get("vae", {}))
  if not taken:
    raise WarmStartError(f"train.init_from={init_from!r} shares no parameter with this model")
  emotion_params, _, _ = merge(state.emotion_params, params.get("emotion", {}))
  logging.info("warm start from %s: %d parameter arrays taken, %d kept fresh%s", init_from,
               len(taken), len(kept), f" ({', '.join(kept)})" if kept else "")
  return state.replace(vae_params=vae_params, vae_opt_state=models.vae_tx.init(vae_params),
                       emotion_params=emotion_params,
                       emotion_opt_state=models.emotion_tx.init(emotion_params))
