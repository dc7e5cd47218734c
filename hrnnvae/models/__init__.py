"""Flax modules of the hierarchical RNN-VAE: cells, encoder, attention, decoder, critics.

Shape legend used in names throughout: B batch, T steps, H hidden units, Z latent units,
A attention units, W attention cache slots, V event classes (90), N bars, C context units.
"""


def build(hp):
  """The model family that hp.family names, with the shared interface (encode, reconstruct,
  decode, generate)."""
  from hrnnvae.models import baselines, vae  # noqa: PLC0415 - keeps this package light to import
  families = {"hrnnvae": vae.HierarchicalVAE, "lstm_lm": baselines.LSTMLanguageModel,
              "musicvae_like": baselines.MusicVAELike}
  if hp.family not in families:
    raise ValueError(f"model.family must be one of {', '.join(families)}, not {hp.family!r}")
  return families[hp.family](hp)
