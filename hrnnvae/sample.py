"""Sampling from a trained model's `export/`: prior samples, reconstructions, interpolations.

A model directory holds `config.json` and its parameters, either as a training run wrote them
(`params/`, an orbax checkpoint) or as a model shipped in the package keeps them
(`params.msgpack`: flax msgpack, one file that needs neither orbax nor pickle; hrnnvae/pretrained).

The free-running decode (conductor, step RNNs, cached attention, Gumbel-max sampling) is one
jitted `lax.scan`, batched over melodies, compiled once per (batch, steps) and reused. Melody i
of a call draws its latent and its noise from `fold_in(seed key, i)`, so a melody is the same
whether it is sampled alone or in a batch. The jitted functions take the model (a hashable Flax
module) as a static argument, so samplers of one architecture share their compilations.

Every sampling call uses the model's own settings (temperature, nucleus top_p, emotion guidance,
repeat penalty, transfer shift, candidates: the export's sampling facts) unless given others.
With candidates K > 1, each prior sample is one of K drawn for it, kept by the model's realism
critic (realism_critic.py: importance resampling toward the real tunes). Reading a
melody from MIDI is melody_io.py's; the judge of a melody's emotion is judge.py's.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

from hrnnvae import exports, judge, realism_critic, transfer_adapter
from hrnnvae import latent_prior as latent_prior_lib
from hrnnvae import models as models_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.data import events as events_lib
from hrnnvae.models.critics import SequenceClassifier
from hrnnvae.models.hparams import ModelHParams


class SampleError(Exception):
  """A request that cannot be served (bad emotion, missing or incompatible model, bad setting)."""


def emotion_indices(names: str, count: int, rng: np.random.Generator) -> list[int]:
  """'happy,sad' -> count of each; 'any' -> count drawn at random."""
  indices = []
  for name in names.split(","):
    name = name.strip()
    if name == "any":
      indices += rng.integers(0, len(emotion_lib.EMOTIONS), count).tolist()
    elif name in emotion_lib.EMOTIONS:
      indices += [emotion_lib.EMOTIONS.index(name)] * count
    else:
      raise SampleError(f"unknown emotion {name!r}: choose from "
                        f"{', '.join(emotion_lib.EMOTIONS)} or any (comma-separated)")
  return indices


def slerp(start_Z: np.ndarray, end_Z: np.ndarray, fractions_K: np.ndarray) -> np.ndarray:
  """Spherical interpolation [K, Z] between two latents (linear when they are parallel)."""
  start, end = np.asarray(start_Z, np.float64), np.asarray(end_Z, np.float64)
  cosine = np.dot(start, end) / max(np.linalg.norm(start) * np.linalg.norm(end), 1e-12)
  omega = np.arccos(np.clip(cosine, -1.0, 1.0))
  t = np.asarray(fractions_K, np.float64)[:, None]
  if omega < 1e-6:
    return ((1 - t) * start + t * end).astype(np.float32)
  return ((np.sin((1 - t) * omega) * start + np.sin(t * omega) * end) / np.sin(omega)).astype(
      np.float32)


@functools.partial(jax.jit, static_argnums=(0, 4, 8, 10, 12, 14, 16))
def _generate(vae, params, z_BxZ, emotion_B, num_steps, keys_B, temperature, spb_B, guided, guidance,
              nucleus, top_p, repeats_penalized, repeat_penalty, short_notes_penalized,
              short_note_penalty, section_bars, keep_BxT=None, keep_bias=None, first_bar_B=None,
              tune_BxT=None):
  """Events [B, num_steps]; guided, nucleus, repeats_penalized and short_notes_penalized
  (static) switch emotion guidance, top-p, the repeat and the short-note penalties on;
  section_bars > 0 (static): z_BxZ is [B, S, Z], a latent for each section of that many bars;
  keep_BxT (None or events [B, num_steps]): each step favours that event by keep_bias.
  first_bar_B (None or [B]): where each melody starts in its tune (model.tune_bar_positions).
  tune_BxT (None or events [B, num_steps]): the tune a tune-reading adapter reads."""
  options = {"guidance": guidance} if guided else {}
  if tune_BxT is not None:
    options["tune_BxT"] = tune_BxT
  if first_bar_B is not None:
    options["first_bar_B"] = first_bar_B
  if keep_BxT is not None:
    options.update(keep_BxT=keep_BxT, keep_bias=keep_bias)
  if section_bars:
    options["section_bars"] = section_bars
  if nucleus:
    options["top_p"] = top_p
  if repeats_penalized:
    options["repeat_penalty"] = repeat_penalty
  if short_notes_penalized:
    options["short_note_penalty"] = short_note_penalty
  return vae.apply({"params": params}, z_BxZ, emotion_B, spb_B, num_steps, keys_B, temperature,
                   method="generate", **options)["events"]


def _checked_candidates(candidates, has_critic: bool) -> int:
  """candidates as an int; SampleError below 1, or above 1 for a model without a realism critic."""
  if not (candidates >= 1 and float(candidates) == int(candidates)):
    raise SampleError(f"candidates must be a whole number at least 1 (1: plain sampling), "
                      f"not {candidates}")
  if candidates > 1 and not has_critic:
    raise SampleError(f"candidates={int(candidates)} needs the model's realism critic, which this "
                      "model lacks: fit one with config.post.critic_fit_steps (hrnnvae-train "
                      "runs it after training), or sample with candidates=1")
  return int(candidates)


def _checked_attention_bars(attention_bars) -> int:
  """attention_bars as an int; SampleError when it is not a whole number of bars at least 0."""
  if not (attention_bars >= 0 and float(attention_bars) == int(attention_bars)):
    raise SampleError(f"attention_bars must be a whole number of bars at least 0 (0: the window "
                      f"the model trained with), not {attention_bars}")
  return int(attention_bars)


def _checked_section_bars(section_bars) -> int:
  """section_bars as an int; SampleError when it is not a whole number of bars at least 0."""
  if not (section_bars >= 0 and float(section_bars) == int(section_bars)):
    raise SampleError(f"section_bars must be a whole number of bars at least 0 (0: one latent "
                      f"for the whole tune), not {section_bars}")
  return int(section_bars)


def _checked_correlation(correlation) -> float:
  """section_correlation as a float; SampleError outside [0, 1]."""
  if not 0.0 <= correlation <= 1.0:
    raise SampleError(f"section_correlation must lie in [0, 1] (0: each section's latent drawn "
                      f"afresh; 1: the same latent), not {correlation}")
  return float(correlation)


def _checked_quadrant_guidance(guidances) -> tuple[float, ...]:
  """Four guidances (one a quadrant; 0: emotion_guidance) as floats; SampleError for another
  count, a negative one or NaN."""
  guidances = tuple(float(g) for g in guidances)
  if len(guidances) != len(exports.QUADRANT_GUIDANCE_KEYS) or not all(g >= 0 for g in guidances):
    raise SampleError(f"quadrant guidance takes {len(exports.QUADRANT_GUIDANCE_KEYS)} values at "
                      f"least 0 (happy, tense, sad, calm; 0: emotion_guidance), not {guidances}")
  return guidances


def _checked_repeats(repeats) -> int:
  """section_repeats as an int; SampleError when it is not a whole number at least 1."""
  if not (repeats >= 1 and float(repeats) == int(repeats)):
    raise SampleError(f"section_repeats must be a whole number at least 1 (1: every section its "
                      f"own latent; 2: each latent stated twice, AABB), not {repeats}")
  return int(repeats)


SECTION_KEYS = 2_000_000  # folded (plus the section) into a melody's latent key for its sections


# Emotion transfer as edits (Sampler.edit_toward): the steps one round changes before the model
# reads the edited tune again, and alpha, how much more an edit is scored by what the requested
# emotion wants over what the tune's own emotion does. Chosen on the shipped Nottingham model's
# validation windows at a budget of 0.2 (prototype, 2026-12-02 (v)): alpha 1 / 2 / 4 / 8 agreed
# 0.718 / 0.678 / 0.598 / 0.523, each keeping 0.801 of the steps.
EDITS_PER_ROUND = 4
EDIT_CONTRAST = 1.0


def _checked_edits(budget) -> float:
  budget = float(budget)
  if not 0.0 <= budget <= 1.0:
    raise SampleError(f"transfer_edits must lie in [0, 1] (the share of a tune's steps emotion "
                      f"transfer may change; 0: off, a free-running decode), not {budget:g}")
  return budget


def _checked_keep(keep_bias) -> float:
  keep_bias = float(keep_bias)
  if not 0.0 <= keep_bias <= 20.0:
    raise SampleError(f"transfer_keep must lie in [0, 20] (0: off), not {keep_bias:g}")
  return keep_bias


def _checked_penalty(name: str, penalty) -> float:
  """A sampling penalty (repeat_penalty, short_note_penalty) as a float; SampleError below 1
  (it would favour what it penalises) or NaN."""
  if not penalty >= 1.0:
    raise SampleError(f"{name} must be at least 1 (1: none), not {penalty}")
  return float(penalty)


@functools.partial(jax.jit, static_argnums=0)
def _prior_latents(vae, params, latents_BxL, emotion_B):
  return vae.apply({"params": params}, latents_BxL, emotion_B, method="prior_latents")


@functools.partial(jax.jit, static_argnums=0)
def _teacher_forced_log_probs(vae, params, z_BxZ, emotion_B, events_BxT, steps_per_bar_B,
                              tune_BxT=None):
  """log p(event | the events before, z, emotion) [B, T, V]: the decoder reading given events
  (and tune_BxT, the tune a tune-reading adapter reads)."""
  logits, _ = vae.apply({"params": params}, z_BxZ, emotion_B, events_BxT, steps_per_bar_B,
                        method="decode", tune_BxT=tune_BxT)
  return jax.nn.log_softmax(logits)


@functools.partial(jax.jit, static_argnums=0)
def _posterior(vae, params, events_BxT, lengths_B, steps_per_bar_B):
  return vae.apply({"params": params}, events_BxT, lengths_B, steps_per_bar_B, method="encode")


@functools.partial(jax.jit, static_argnums=(0, 1))
def _classify(classifier, num_classes, params, events_BxT):
  logits = classifier.apply({"params": params}, jax.nn.one_hot(events_BxT, num_classes),
                            jnp.ones(events_BxT.shape, bool))
  return jax.nn.softmax(logits)


@dataclasses.dataclass
class Melody:
  events: np.ndarray  # [steps] int
  emotion: int  # the requested (conditioning) emotion


class Sampler:
  """A trained model loaded from `export/`, with jitted decode, encode and classify."""

  def __init__(self, hp: ModelHParams, params: dict, description: dict, export_dir=None):
    """From model hyperparameters, {'vae', 'emotion'} parameters and export/config.json's dict."""
    self.hp, self.description, self.export_dir = hp, description, export_dir
    self.facts = description["data"]
    self.vae = models_lib.build(hp)
    self.classifier = SequenceClassifier(hp.num_emotions, hp.classifier_channels)
    self.params = jax.device_put(params)
    self.latent_prior = None  # a prior fitted to the training latents (latent_prior.py)
    self.prior_kind = "standard"  # where prior() draws z: "standard" N(0, I) or "fitted"
    # How strongly the requested emotion steers, from the model's "sampling" facts (export's
    # config.json) unless a caller sets them:
    sampling = exports.sampling_settings(description)
    # the temperature sampling uses when a caller gives none;
    self.temperature = float(sampling["temperature"])
    # the nucleus each event is drawn from: the most likely events whose probability reaches
    # top_p (models/nucleus.py; 1: every event);
    self.top_p = float(sampling["top_p"])
    # decode()'s emotion guidance scale (models/decoder.guided_logits; 1: none);
    self.emotion_guidance = float(sampling["emotion_guidance"])
    # the guidance of prior samples asked for each quadrant (0: emotion_guidance), in
    # EMOTIONS' order; decode() uses them wherever it would use emotion_guidance
    self.quadrant_guidance = _checked_quadrant_guidance(
        [sampling[key] for key in exports.QUADRANT_GUIDANCE_KEYS])
    # how many times less likely the last struck pitch is struck again (models/nucleus.py's
    # repeat_penalized; 1: no penalty);
    self.repeat_penalty = float(sampling["repeat_penalty"])
    # how many times less likely a note that lasts one step is (models/nucleus.py's
    # short_note_penalized; 1: no penalty);
    self.short_note_penalty = float(sampling["short_note_penalty"])
    # the share of the attribute vector that transfer_latents adds (0: none);
    self.transfer_shift = float(sampling["transfer_shift"])
    # how much emotion transfer favours the tune's own event at each step: b added to its logit
    # before temperature and nucleus, so it is e^(b / T) times more likely (0: not at all);
    self.transfer_keep = _checked_keep(sampling["transfer_keep"])
    # the emotion guidance of emotion transfer's decodes (decode()'s emotion_guidance; the
    # prior samples' own is self.emotion_guidance);
    self.transfer_guidance = float(sampling["transfer_guidance"])
    # emotion transfer as edits of the tune (edit_toward): the share of its steps transfer may
    # change (0: off, transfer is a free-running decode at transfer_guidance and transfer_keep);
    self.transfer_edits = _checked_edits(sampling["transfer_edits"])
    # how many prior samples sample() draws for each melody it keeps (realism_critic.py; 1: one).
    # Checked when used: a run's export records it before its critic is fitted.
    self.candidates = int(sampling["candidates"])
    # the bars the decoder attends over when it writes a prior sample (0: the window it trained
    # with, model.attention_window_bars; 8 reaches the matching bar of the previous 8-bar
    # phrase); decodes of an encoded tune (reconstruction, transfer, interpolation) keep the
    # trained window: they decode training-window sections, the shape it learned;
    self.attention_bars = _checked_attention_bars(sampling["attention_bars"])
    # a prior sample longer than section_bars is written in sections of that many bars, each
    # planned by the conductor from its own latent (0: one latent for the whole tune), so that
    # no conductor runs past the training window's bars and a tune can move to a new phrase
    # (AABB); each section's latent correlates section_correlation with the one before.
    self.section_bars = _checked_section_bars(sampling["section_bars"])
    self.section_correlation = _checked_correlation(sampling["section_correlation"])
    # how many sections in a row state one latent (1: each its own; 2: AABB, each part's latent
    # stated twice, the next part's drawn correlating section_correlation with it)
    self.section_repeats = _checked_repeats(sampling["section_repeats"])
    # emotion transfer's own adapter (transfer_adapter.py), when the model has one: transfers
    # then keep the tune's bars' latents and decode through it; False decodes them as a model
    # without one does (from z alone for a bar-dropout model)
    self.use_transfer_adapter = self.has_transfer_adapter
    self._decoders = {}  # the VAE module for each attention reach asked for

  @classmethod
  def load(cls, export_dir: str | pathlib.Path) -> "Sampler":
    """A run's export/ or a shipped model's folder; SampleError naming the fix when absent or stale."""
    export_dir = pathlib.Path(export_dir)
    if not (export_dir / "config.json").is_file():
      raise SampleError(f"no exported model in {export_dir}: train one with "
                        "`hrnnvae-train --config=... --workdir=DIR`, then pass --workdir=DIR")
    try:
      params, description = exports.read_model(export_dir)
      sampler = cls(ModelHParams.from_export(description["model"]), params, description, export_dir)
      sampler._check_shapes()
      sampler.latent_prior = latent_prior_lib.load(export_dir, sampler.hp.fitted_latent_size,
                                                   sampler.hp.num_emotions)
      sampler.use_prior("auto")
    except Exception as error:  # noqa: BLE001 - any mismatch means an incompatible export
      raise SampleError(f"{export_dir} is not a compatible hrnnvae export "
                        f"({type(error).__name__}: {str(error)[:200]}); re-export it with this "
                        "version's hrnnvae-train") from error
    return sampler

  def _check_shapes(self) -> None:
    missing = {"steps_per_bar", "time_signature", "qpm", "arousal_thresholds"} - set(self.facts)
    if missing:
      raise ValueError(f"config.json lacks the data facts {sorted(missing)}")
    expected = jax.eval_shape(lambda: self.vae.init(
        jax.random.key(0), jnp.zeros((1, 8), jnp.int32), jnp.full((1,), 8), jnp.full((1,), 4),
        jnp.zeros((1,), jnp.int32), jax.random.key(0))["params"])
    same = jax.tree.map(lambda e, p: e.shape == p.shape, expected, self.params["vae"])
    if not all(jax.tree.leaves(same)):
      raise ValueError("parameter shapes differ from the model its config describes")

  @property
  def has_encoder(self) -> bool:
    """Whether the model can encode a melody (lstm_lm, a plain language model, cannot)."""
    return self.hp.family != "lstm_lm"

  @property
  def has_critic(self) -> bool:
    """Whether the model has a realism critic (realism_critic.py) to keep one of candidates."""
    return realism_critic.PARAMS_KEY in self.params

  @property
  def has_transfer_adapter(self) -> bool:
    """Whether the model has emotion transfer's own adapter (transfer_adapter.py)."""
    return transfer_adapter.PARAMS_KEY in self.params

  def steer(self, emotion_guidance=None, transfer_shift=None, temperature=None,
            top_p=None, repeat_penalty=None, short_note_penalty=None, candidates=None,
            attention_bars=None, section_bars=None, section_correlation=None,
            transfer_keep=None, transfer_guidance=None, transfer_edits=None,
            use_transfer_adapter=None, section_repeats=None, quadrant_guidance=None) -> None:
    """Sets the emotion guidance, transfer shift, keep, guidance and edits, temperature, top_p,
    repeat and short-note penalties, candidates, attention reach and sections (their bars,
    correlation and repeats) that are given
    (None keeps the model's own); use_transfer_adapter: whether transfers decode through the
    model's transfer adapter (SampleError for a model without one); quadrant_guidance: four
    guidances, one a requested quadrant (0: emotion_guidance)."""
    if use_transfer_adapter is not None:
      if use_transfer_adapter and not self.has_transfer_adapter:
        raise SampleError("this model has no transfer adapter: fit one with "
                          "config.post.transfer_adapter_steps")
      self.use_transfer_adapter = bool(use_transfer_adapter)
    if transfer_edits is not None:
      self.transfer_edits = _checked_edits(transfer_edits)
    if transfer_keep is not None:
      self.transfer_keep = _checked_keep(transfer_keep)
    if transfer_guidance is not None:
      self.transfer_guidance = float(transfer_guidance)
    if section_bars is not None:
      self.section_bars = _checked_section_bars(section_bars)
    if section_correlation is not None:
      self.section_correlation = _checked_correlation(section_correlation)
    if section_repeats is not None:
      self.section_repeats = _checked_repeats(section_repeats)
    if attention_bars is not None:
      self.attention_bars = _checked_attention_bars(attention_bars)
    if candidates is not None:
      self.candidates = _checked_candidates(candidates, self.has_critic)
    if temperature is not None:
      self.temperature = float(temperature)
    if top_p is not None:
      if not 0.0 < top_p <= 1.0:
        raise SampleError(f"top_p must lie in (0, 1], not {top_p}")
      self.top_p = float(top_p)
    if repeat_penalty is not None:
      self.repeat_penalty = _checked_penalty("repeat_penalty", repeat_penalty)
    if short_note_penalty is not None:
      self.short_note_penalty = _checked_penalty("short_note_penalty", short_note_penalty)
    if emotion_guidance is not None:
      self.emotion_guidance = float(emotion_guidance)
    if quadrant_guidance is not None:
      self.quadrant_guidance = _checked_quadrant_guidance(quadrant_guidance)
    if transfer_shift is not None:
      self.transfer_shift = float(transfer_shift)

  @property
  def has_sections(self) -> bool:
    """Whether the decoder can write a tune in sections (the bar_reset hierarchical one)."""
    return (self.hp.family == "hrnnvae" and self.hp.hierarchical
            and self.hp.decoder == "bar_reset")

  def sections(self, bars: int) -> int:
    """How many sections sample() writes a tune of `bars` bars in (1: one latent)."""
    if not self.section_bars or bars <= self.section_bars:
      return 1
    if not self.has_sections:
      raise SampleError(f"section_bars={self.section_bars} needs the bar_reset hierarchical "
                        f"decoder; this {self.hp.family} model samples with section_bars=0")
    return -(-bars // self.section_bars)

  @property
  def own_quadrant_guidance(self) -> dict[str, float]:
    """{quadrant name: guidance} of the quadrants that have a guidance of their own
    (quadrant_guidance's nonzero ones); {} when every quadrant samples at emotion_guidance."""
    return {name: g for name, g in zip(emotion_lib.EMOTIONS, self.quadrant_guidance) if g}

  @property
  def has_guidance(self) -> bool:
    """Whether the decoder can sample with emotion guidance (the baselines cannot)."""
    return self.hp.family == "hrnnvae"

  @property
  def steps_per_bar(self) -> int:
    return int(self.facts["steps_per_bar"])

  def bar_steps(self, meter: tuple[int, int]) -> int:
    """Steps a bar of `meter` (the data's usual bar when the meter has none on the grid)."""
    return events_lib.steps_per_bar(*meter) or self.steps_per_bar

  def decode(self, z_BxZ, emotions_B, num_steps: int, seed: int, temperature: float | None = None,
             melody_ids=None, steps_per_bar=None, emotion_guidance=None,
             top_p: float | None = None, repeat_penalty: float | None = None,
             short_note_penalty: float | None = None, candidate: int = 0,
             keys=None, attention_bars: int = 0, section_bars: int = 0,
             keep=None, keep_bias: float | None = None, z_alone: bool = False,
             first_bars=None, transfer: bool = False) -> np.ndarray:
    """Free-running decode of each latent: events [B, num_steps].

    z_BxZ: [B, Z], or [B, S, Z] with section_bars > 0: a latent for each section of that many
    bars (sample()'s sections).
    Melody i draws its noise from key (seed, melody_ids[i]); melody_ids default to 0..B-1;
    candidate k > 0 (sample()'s k-th draw) folds k into the seed's key; keys [B], when given,
    replace all three (sample() decodes every candidate in one batch).
    temperature: default self.temperature (the model's own unless steered).
    steps_per_bar: each melody's bar length (one int or [B]); default the data's usual meter.
    emotion_guidance: default self.emotion_guidance (1: the model's own distribution), or for a
    melody asked for quadrant q, self.quadrant_guidance[q] where that is not 0.
    top_p: default self.top_p (1: every event; below 1, nucleus sampling).
    repeat_penalty: default self.repeat_penalty (1: none).
    short_note_penalty: default self.short_note_penalty (1: none).
    attention_bars: the bars it attends over (0: the window it trained with); sample() passes
    self.attention_bars.
    keep: None, or events [B, num_steps] each step favours (emotion transfer: the tune's own),
    by keep_bias (default self.transfer_keep; 0: not at all) added to the kept event's logit
    before temperature and nucleus; a negative event favours nothing at its step.
    z_alone: every latent's bars' part is zero (prior samples of a bar-dropout model): the
    decode skips the bar adapter, whose change is then exactly zero (the same events, faster).
    first_bars: None, or where each melody starts in its tune (one int or [B]): a window from
    the middle of a tune decoded where it sits, as it was trained; read only by a model with
    model.tune_bar_positions (others, and None, plan every melody from the tune's first bar).
    transfer: the melodies are emotion transfers: with use_transfer_adapter, decoded through the
    transfer adapter in place of the bar adapter.
    """
    temperature = self.temperature if temperature is None else temperature
    top_p = self.top_p if top_p is None else top_p
    repeat_penalty = (self.repeat_penalty if repeat_penalty is None
                      else _checked_penalty("repeat_penalty", repeat_penalty))
    short_note_penalty = (self.short_note_penalty if short_note_penalty is None
                          else _checked_penalty("short_note_penalty", short_note_penalty))
    guidance = self.emotion_guidance if emotion_guidance is None else emotion_guidance
    if emotion_guidance is None and any(self.quadrant_guidance):  # one a melody, [B, 1]
      by_quadrant = np.array([g or self.emotion_guidance for g in self.quadrant_guidance])
      guidance = by_quadrant[np.asarray(emotions_B, np.int64)][:, None].astype(np.float32)
    if np.any(np.asarray(guidance) != 1.0) and not self.has_guidance:
      raise SampleError(f"emotion guidance is a hierarchical-VAE decoder option; this "
                        f"{self.hp.family} model samples with --emotion_guidance=1 only")
    if keys is None:
      keys = self._keys(seed, len(emotions_B), "decode", melody_ids, candidate)
    spb = np.broadcast_to(self.steps_per_bar if steps_per_bar is None else steps_per_bar,
                          (len(emotions_B),))
    if z_alone and np.asarray(z_BxZ)[..., self.hp.latent_dim:].any():
      raise SampleError("z_alone: the latents' bars' part must be zero")
    tune_steps = self._tune_steps(transfer)
    if tune_steps and keep is None:
      raise SampleError("the transfer adapter reads the tune it moves: pass it as keep")
    events = _generate(self.decoder(attention_bars, z_alone, tune_steps),
                       self._vae_params(transfer),
                       jnp.asarray(z_BxZ, jnp.float32),
                       jnp.asarray(emotions_B, jnp.int32), num_steps, keys,
                       jnp.float32(temperature), jnp.asarray(spb, jnp.int32),
                       bool(np.any(np.asarray(guidance) != 1.0)),
                       jnp.asarray(guidance, jnp.float32), top_p < 1.0, jnp.float32(top_p),
                       repeat_penalty != 1.0, jnp.float32(repeat_penalty),
                       short_note_penalty != 1.0, jnp.float32(short_note_penalty),
                       _checked_section_bars(section_bars), *self._kept(keep, keep_bias, num_steps),
                       first_bar_B=self._first_bars(first_bars, len(emotions_B)),
                       tune_BxT=jnp.asarray(keep, jnp.int32) if tune_steps else None)
    return np.asarray(events)

  def _tune_steps(self, transfer: bool) -> int:
    """The tune's steps the decode's adapter reads: a transfer through a tune-reading transfer
    adapter (transfer_adapter.tune_steps_of), else 0."""
    if not (transfer and self.use_transfer_adapter):
      return 0
    return transfer_adapter.tune_steps_of(self.params[transfer_adapter.PARAMS_KEY])

  def _vae_params(self, transfer: bool) -> dict:
    """The VAE's parameters a decode reads: for a transfer with use_transfer_adapter, the
    transfer adapter's leaves in place of the bar adapter's."""
    if not (transfer and self.use_transfer_adapter):
      return self.params["vae"]
    return transfer_adapter.with_adapter(self.params["vae"],
                                         self.params[transfer_adapter.PARAMS_KEY])

  def _first_bars(self, first_bars, count: int):
    """_generate's first_bar_B: None unless the model reads where a window starts."""
    if first_bars is None or not self.hp.tune_bar_positions:
      return None
    return jnp.asarray(np.broadcast_to(first_bars, (count,)), jnp.int32)

  def _kept(self, keep, keep_bias, num_steps: int) -> tuple:
    """_generate's (keep_BxT, keep_bias): () when nothing is favoured."""
    keep_bias = self.transfer_keep if keep_bias is None else _checked_keep(keep_bias)
    if keep is None or not keep_bias:
      return ()
    keep = np.asarray(keep, np.int32)
    if keep.shape[-1] != num_steps:
      raise SampleError(f"keep holds {keep.shape[-1]} steps a melody, not the {num_steps} decoded")
    return jnp.asarray(keep), jnp.float32(keep_bias)

  def decoder(self, attention_bars: int = 0, z_alone: bool = False, tune_steps: int = 0):
    """The model decode() runs: self.vae, or for attention_bars > 0 the same parameters
    attending over that many bars (of the longest bar); with z_alone, without the bar adapter
    (its change is exactly zero from z alone: models/decoder.DecoderStep.bar_adapter);
    tune_steps > 0: its adapter also reads that many of the tune's steps (a tune-reading
    transfer adapter, model.adapter_tune_steps)."""
    attention_bars = _checked_attention_bars(attention_bars)
    adapter = 0 if z_alone else self.hp.bar_adapter_dim
    tune_steps = tune_steps if adapter else 0
    if not attention_bars and adapter == self.hp.bar_adapter_dim and not tune_steps:
      return self.vae
    if (attention_bars, adapter, tune_steps) not in self._decoders:
      self._decoders[attention_bars, adapter, tune_steps] = models_lib.build(
          dataclasses.replace(self.hp.attending_over(attention_bars), bar_adapter_dim=adapter,
                              adapter_tune_steps=tune_steps))
    return self._decoders[attention_bars, adapter, tune_steps]

  def _keys(self, seed: int, count: int, purpose: str, melody_ids=None, candidate: int = 0):
    base = jax.random.fold_in(jax.random.key(seed), ("latent", "decode").index(purpose))
    if candidate:  # candidate 0 is the plain sample of (seed, melody id)
      base = jax.random.fold_in(base, 1_000_000 + candidate)
    ids = jnp.arange(count) if melody_ids is None else jnp.asarray(melody_ids)
    return jax.vmap(lambda i: jax.random.fold_in(base, i))(ids)

  def use_prior(self, kind: str) -> str:
    """Where prior() draws z: "fitted" (the model's latent_prior.npz), "standard" (N(0, I)) or
    "auto" (fitted when the model has one). Returns the kind in use."""
    if kind not in latent_prior_lib.KINDS:
      raise SampleError(f"--prior must be one of {', '.join(latent_prior_lib.KINDS)}, not {kind!r}")
    if kind == "fitted" and self.latent_prior is None:
      raise SampleError(f"{self.export_dir} has no fitted latent prior ({latent_prior_lib.FILE}): "
                        "fit one with `python launch/fit_latent_prior.py --model=DIR --cache=DIR`, "
                        "or pass --prior=standard")
    if kind == "auto":
      kind = "standard" if self.latent_prior is None else "fitted"
    self.prior_kind = kind
    return kind

  def prior(self, count: int, seed: int, emotions=None, candidate: int = 0, sections: int = 1,
            correlation: float = 0.0, repeats: int = 1) -> np.ndarray:
    """Latents [count, Z], melody i from key (seed, i): N(0, I), or with the fitted prior the
    same noise through the requested emotion's Gaussian (or its mixture's component, drawn by a
    uniform from the same key; emotions [count] needed then). candidate k > 0: sample()'s k-th
    draw, from another key.

    sections S > 1: [count, S, Z], a latent for each section of a tune. Section 0's is the one
    S = 1 gives; section s's noise is correlation * section s-1's + sqrt(1 - correlation^2) *
    its own (from the melody's key folded with SECTION_KEYS + s), so every section's latent has
    the prior's distribution, and sections s and t correlate correlation^|s - t|. repeats R > 1:
    each latent is stated by R sections in a row (R 2: AABB), section s's the one before's where
    s is not a multiple of R; the others are drawn as above, correlated with the part before."""
    keys = self._keys(seed, count, "latent", candidate=candidate)

    def normal(keys):
      return np.array(jax.vmap(lambda k: jax.random.normal(k, (self.hp.latent_size,)))(keys))

    noises = [normal(keys)]
    for section in range(1, sections):
      if section % repeats:  # a restatement of the part it belongs to
        noises.append(noises[-1])
        continue
      own = normal(jax.vmap(lambda k, s=section: jax.random.fold_in(k, SECTION_KEYS + s))(keys))
      noises.append(correlation * noises[-1] + np.sqrt(1.0 - correlation ** 2) * own)
    latents = [self._prior_latents(noise.astype(np.float32), keys, emotions) for noise in noises]
    return latents[0] if sections == 1 else np.stack(latents, axis=1)

  def _prior_latents(self, noise: np.ndarray, keys, emotions) -> np.ndarray:
    """prior()'s latents [count, Z] from its standard-normal noise and the melodies' keys."""
    hp, count = self.hp, len(noise)
    if self.prior_kind != "standard" or hp.learned_bar_prior:
      if emotions is None or len(emotions) != count:
        raise ValueError(f"the {'fitted' if self.prior_kind != 'standard' else 'learned bar'} "
                         "prior needs one requested emotion per latent")
    fitted = hp.fitted_latent_size
    if self.prior_kind != "standard":  # a mixture's component from the key's own uniform
      uniform = (np.array(jax.vmap(lambda k: jax.random.uniform(jax.random.fold_in(k, 1)))(keys))
                 if self.latent_prior.components > 1 else None)
      noise[:, :fitted] = self.latent_prior.sample(emotions, noise[:, :fitted], uniform)
    if hp.prior_drops_bar_latents:  # z alone (model.bar_latent_dropout)
      return np.asarray(hp.without_bar_latents(noise))
    if not hp.learned_bar_prior:
      return noise
    return np.asarray(_prior_latents(self.vae, self.params["vae"], jnp.asarray(noise),
                                     jnp.asarray(emotions, jnp.int32)))

  def sample(self, emotions: list[int], bars: int, seed: int, temperature: float | None = None,
             top_p: float | None = None, repeat_penalty: float | None = None,
             short_note_penalty: float | None = None, candidates: int | None = None):
    """Melodies of `bars` bars from the prior (self.prior_kind), one per requested emotion, at
    `temperature`, `top_p`, `repeat_penalty` and `short_note_penalty` (default the sampler's
    own). candidates K (default self.candidates): each melody is one of K drawn for it, the
    realism critic's importance resampling (realism_critic.choose, its draw from the seed), in
    the quadrants the critic resamples (realism_critic.resampled); candidate 0 is the melody
    K = 1 gives, and every melody of the other quadrants. The decoder attends over
    self.attention_bars bars. A tune longer than self.section_bars is written in sections
    (sections(), prior()'s correlated latents); its first section is the shorter tune's."""
    num_steps = self._steps(bars)
    sections = self.sections(bars)
    candidates = _checked_candidates(self.candidates if candidates is None else candidates,
                                     self.has_critic)
    trusted = realism_critic.resampled(self.description, self.hp.num_emotions)
    if not np.isin(emotions, trusted).any():
      candidates = 1  # no melody asked for would be resampled: draw the plain ones alone
    count = len(emotions)  # every candidate in one batch: [K * count], candidate-major
    latents = np.concatenate([self.prior(count, seed, emotions, candidate, sections,
                                         self.section_correlation, self.section_repeats)
                              for candidate in range(candidates)])
    keys = jnp.concatenate([self._keys(seed, count, "decode", candidate=candidate)
                            for candidate in range(candidates)])
    drawn = self.decode(latents, list(emotions) * candidates, num_steps, seed, temperature,
                        top_p=top_p, repeat_penalty=repeat_penalty,
                        short_note_penalty=short_note_penalty, keys=keys,
                        attention_bars=self.attention_bars,
                        section_bars=self.section_bars if sections > 1 else 0,
                        z_alone=self.hp.prior_drops_bar_latents)
    drawn = drawn.reshape(candidates, count, num_steps)
    kept = np.zeros(len(emotions), int)
    if candidates > 1:
      reads = (realism_critic.input_of(self.description), self.steps_per_bar,
               realism_critic.windows_of(self.description),
               realism_critic.repetition_of(self.description),
               realism_critic.register_of(self.description))
      ratios = np.stack([realism_critic.log_ratios(self.params[realism_critic.PARAMS_KEY],
                                                   events, emotions, *reads)
                         for events in drawn])
      kept = realism_critic.choose(ratios, np.random.default_rng([seed, candidates]))
      kept = np.where(np.isin(emotions, trusted), kept, 0)  # the rest: the plain sample
    events = drawn[kept, np.arange(len(emotions))]
    return [Melody(e, emotion) for e, emotion in zip(events, emotions)]

  def _steps(self, bars: int) -> int:
    if bars < 1:
      raise SampleError(f"--bars must be at least 1, not {bars}")
    return bars * self.steps_per_bar

  def posterior(self, events_BxT, lengths_B, steps_per_bar_B):
    """(mu [B, Z], log sigma^2 [B, Z] or None for a deterministic latent) of a batch."""
    mu, log_var = _posterior(self.vae, self.params["vae"], jnp.asarray(events_BxT, jnp.int32),
                             jnp.asarray(lengths_B, jnp.int32),
                             jnp.asarray(steps_per_bar_B, jnp.int32))
    return np.asarray(mu), None if log_var is None else np.asarray(log_var)

  def encode(self, events: np.ndarray, meter: tuple[int, int]) -> np.ndarray:
    """mu [Z] of one melody (the VAE's deterministic code)."""
    spb = self.bar_steps(meter)
    return self.posterior(np.asarray(events)[None], [len(events)], [spb])[0][0]

  def transfer_latents(self, mu_BxZ, own_B, requested_B) -> np.ndarray:
    """Latents that decode melody b, of emotion own_b, asked for requested_b: mu plus
    transfer_shift times the attribute vector from own to requested, the difference of the fitted
    prior's per-emotion means (MusicVAE's attribute vectors); mu itself without a fitted prior.
    A model trained with bar-latent dropout moves z alone, its bars' latents zero where the
    emotion moves, as its prior samples decode: the bars' latents hold the tune's notes, which
    the decoder follows whatever emotion is asked (BUILD_NOTES.md, issue 19); with the transfer
    adapter in use (transfer_adapter.py), which learned to move them, it keeps them."""
    mu_BxZ = np.asarray(mu_BxZ, np.float32)
    if self.hp.prior_drops_bar_latents and not self.use_transfer_adapter:
      moved = np.asarray(own_B) != np.asarray(requested_B)
      mu_BxZ = np.where(moved[:, None], np.asarray(self.hp.without_bar_latents(mu_BxZ)), mu_BxZ)
    if self.latent_prior is None or not self.transfer_shift:
      return mu_BxZ
    means_ExZ = self.latent_prior.means_ExZ  # z's part alone with a learned bar prior
    shift = np.zeros_like(mu_BxZ)
    shift[:, :means_ExZ.shape[1]] = means_ExZ[np.asarray(requested_B)] - means_ExZ[np.asarray(own_B)]
    return (mu_BxZ + self.transfer_shift * shift).astype(np.float32)

  def reconstruct(self, events: np.ndarray, meter: tuple[int, int], emotions: list[int | None],
                  seed: int, temperature: float | None = None) -> list[np.ndarray]:
    """One reconstruction [len(events)] of a melody per requested emotion, section by section.

    The melody is cut into sections as long as the training windows (the data's most bars, 16
    for the bundled datasets); each is encoded to its own mu and decoded in the melody's own
    meter, so a long tune or a 6/8 jig stays in the shape the model learned. An emotion of None
    reconstructs each section as it is (its own emotion, the judge's label); a section asked for
    another emotion than its own decodes from transfer_latents at transfer's settings (emotion
    transfer). temperature: default self.temperature.
    """
    spb = self.bar_steps(meter)
    section = int(self.facts.get("max_bars", 16)) * spb
    pieces = [events[start:start + section] for start in range(0, len(events), section)]
    padded = np.zeros((len(pieces), section), np.int32)
    for row, piece in enumerate(pieces):
      padded[row, :len(piece)] = piece
    lengths = np.array([len(piece) for piece in pieces])
    mu, _ = self.posterior(padded, lengths, np.full(len(pieces), spb))
    own = judge.labels(pieces, spb, judge.thresholds_of(self.facts))
    melodies = []
    for index, emotion in enumerate(emotions):  # each output draws its own noise
      requested = own if emotion is None else np.full(len(pieces), emotion)
      decoded = self.decode_posterior(mu, own, requested, padded, seed, temperature,
                                      melody_ids=index * len(pieces) + np.arange(len(pieces)),
                                      steps_per_bar=spb, lengths_B=lengths)
      melodies.append(np.concatenate([d[:n] for d, n in zip(decoded, lengths)]))
    return melodies

  def decode_posterior(self, mu_BxZ, own_B, requested_B, tunes_BxT, seed: int,
                       temperature: float | None = None, melody_ids=None,
                       steps_per_bar=None, lengths_B=None) -> np.ndarray:
    """Decodes [B, T] of encoded tunes (tunes_BxT, whose latents are mu_BxZ): a tune asked for
    its own emotion is reconstructed at emotion_guidance; one asked for another is an emotion
    transfer, from transfer_latents at transfer_guidance, favouring its own events by
    transfer_keep, or with transfer_edits > 0 the tune edited toward the requested emotion
    (edit_toward, deterministic). melody_ids and steps_per_bar as in decode(); lengths_B: each
    tune's real steps (default all T), what an edit budget is a share of."""
    own_B, requested_B = np.asarray(own_B), np.asarray(requested_B)
    tunes_BxT = np.asarray(tunes_BxT)
    z = self.transfer_latents(mu_BxZ, own_B, requested_B)
    ids = np.arange(len(own_B)) if melody_ids is None else np.asarray(melody_ids)
    moved = own_B != requested_B
    decoded = np.zeros(tunes_BxT.shape, np.int32)
    edited = moved & (self.transfer_edits > 0)
    if edited.any():
      lengths = (np.full(len(own_B), tunes_BxT.shape[1]) if lengths_B is None
                 else np.asarray(lengths_B))
      spb = np.broadcast_to(self.steps_per_bar if steps_per_bar is None else steps_per_bar,
                            (len(own_B),))
      decoded[edited] = self.edit_toward(z[edited], own_B[edited], requested_B[edited],
                                         tunes_BxT[edited], lengths[edited], spb[edited])
    for rows, transfer in ((~moved, False), (moved & ~edited, True)):
      if rows.any():
        decoded[rows] = self.decode(
            z[rows], requested_B[rows], tunes_BxT.shape[1], seed, temperature,
            melody_ids=ids[rows], steps_per_bar=steps_per_bar,
            emotion_guidance=self.transfer_guidance if transfer else self.emotion_guidance,
            keep=tunes_BxT[rows] if transfer else None, transfer=transfer)
    return decoded

  def edit_toward(self, z_BxZ, own_B, requested_B, tunes_BxT, lengths_B, steps_per_bar=None,
                  budget: float | None = None) -> np.ndarray:
    """Emotion transfer as edits of the tunes themselves [B, T]: the model changes at most
    `budget` (default self.transfer_edits) of each tune's steps, the ones it most wants changed.

    Each round reads the edited tunes teacher-forced under z_BxZ (transfer_latents') with the
    requested emotion and with the tune's own, scores every event v at every step by
    lp_requested(v) + EDIT_CONTRAST * (lp_requested(v) - lp_own(v)) (emotion guidance against
    the tune's own emotion, read rather than sampled), and gives the EDITS_PER_ROUND unedited
    steps whose best event gains most over the current one that event; a step is edited once.
    A tune stops at its budget (floor(budget * length) steps) or when no step gains. Steps past
    a tune's length are never edited. Deterministic: no noise is drawn."""
    budget = self.transfer_edits if budget is None else _checked_edits(budget)
    tunes = np.array(tunes_BxT, np.int32)
    count, num_steps = tunes.shape
    real = np.arange(num_steps)[None] < np.asarray(lengths_B)[:, None]
    allowed = np.floor(budget * np.asarray(lengths_B) + 1e-9).astype(int)
    edited = np.zeros(tunes.shape, bool)
    active = allowed > 0
    spb = jnp.asarray(np.broadcast_to(self.steps_per_bar if steps_per_bar is None
                                      else steps_per_bar, (count,)), jnp.int32)
    z = jnp.asarray(z_BxZ, jnp.float32)
    requested, own = jnp.asarray(requested_B, jnp.int32), jnp.asarray(own_B, jnp.int32)
    params = self._vae_params(transfer=True)  # read as transfers decode them
    tune_steps = self._tune_steps(True)
    reader = self.decoder(tune_steps=tune_steps)
    originals = jnp.asarray(tunes_BxT, jnp.int32) if tune_steps else None
    while active.any():
      events = jnp.asarray(tunes)
      wanted = np.asarray(_teacher_forced_log_probs(reader, params, z, requested, events, spb,
                                                    originals))
      theirs = np.asarray(_teacher_forced_log_probs(reader, params, z, own, events, spb,
                                                    originals))
      score = wanted + EDIT_CONTRAST * (wanted - theirs)
      best = score.argmax(-1)
      gain = score.max(-1) - np.take_along_axis(score, tunes[..., None], -1)[..., 0]
      gain = np.where(real & ~edited, gain, -np.inf)
      for row in np.nonzero(active)[0]:
        room = allowed[row] - int(edited[row].sum())
        steps = np.argsort(-gain[row], kind="stable")[:min(EDITS_PER_ROUND, room)]
        steps = steps[gain[row, steps] > 0]
        tunes[row, steps] = best[row, steps]
        edited[row, steps] = True
        active[row] = len(steps) > 0 and edited[row].sum() < allowed[row]
    return tunes

  def _classify(self, params, events_BxT):
    """The probabilities [B, 4] of the classifier with `params` (E's, or a fit's in progress)."""
    return _classify(self.classifier, self.hp.num_classes, params, events_BxT)

  def classify(self, events_BxT: np.ndarray) -> np.ndarray:
    """The trained emotion classifier's probabilities [B, 4]."""
    return np.asarray(self._classify(self.params["emotion"], jnp.asarray(events_BxT, jnp.int32)))
