"""The fine-tune phase's auxiliary terms: small pure functions, chosen once from the config.

Each generator term maps `TermInputs` (the batch, its teacher-forced reconstruction and the
straight-through prior samples) to (value, metrics); `generator_terms(loss_hp)` picks them and
their weights, and `step.train_step` adds them up. The emotion classifier's and the critic's own
losses live here too, beside the terms they serve.

Prior samples are drawn without gradient, then re-scored with teacher forcing inside the loss:
the same logits (the drivers agree), but memory O(B * T * H) rather than the sampler's
O(B * T * W * A) residuals. The straight-through sample carries the gradient of each step's
distribution; it does not flow back through the fed-back inputs (BUILD_NOTES.md).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from hrnnvae import feature_consistency, losses, melody_mmd
from hrnnvae.models import nucleus
from hrnnvae.train import realism_spans


class PriorSamples(NamedTuple):
  """Melodies decoded from latents for target emotions, without gradient."""
  z_BxZ: jax.Array
  target_B: jax.Array  # the emotion each was asked for
  events_BxT: jax.Array
  gumbel_BxTxV: jax.Array  # the noise that picked each event
  hard_BxTxV: jax.Array  # one-hot events
  mask_BxT: jax.Array
  grid: tuple[int, int] | None


class TermInputs(NamedTuple):
  """What a generator term may read; `samples` carries the gradient to the VAE's parameters."""
  models: Any  # step.Models
  state: Any  # step.TrainState (E's and D's parameters before this step's updates)
  batch: dict
  mask_BxT: jax.Array
  reconstruction: dict | None  # the VAE's teacher-forced output on the batch (logits, mu, ...);
  # None where no term reads it (GeneratorTerm.reads_reconstruction)
  prior: PriorSamples
  samples_BxTxV: jax.Array  # straight-through: hard values, the soft distribution's gradient


def target_emotions(loss_hp, batch, rng: jax.Array, num_emotions: int) -> jax.Array:
  """The emotions the fine-tune samples ask for: each quadrant equally ("uniform") or the
  batch's own labels ("batch": the data's frequencies)."""
  target_B = jax.random.randint(rng, (batch["events"].shape[0],), 0, num_emotions)
  return batch["emotion"] if loss_hp.aux_target_emotions == "batch" else target_B


def draw_prior_samples(models, vae_params, batch, mask_BxT, target_B, prior_rng, decode_rng,
                       grid) -> PriorSamples:
  """Decodes loss.prior_sample_bars bars for each target emotion, from N(0, I) latents or
  (loss.aux_latents="posterior") from the batch's own posterior samples, attending over
  loss.prior_sample_attention_bars bars (models.sample_vae). They end where the batch's melodies
  end, or with loss.prior_samples_beyond_window hold that many whole bars of their melody's meter
  even past the window (as the sampler draws 32 bars from a model trained on 16-bar windows)."""
  hp, lp = models.vae.hp, models.loss
  events, lengths, steps_per_bar = batch["events"], batch["lengths"], batch["steps_per_bar"]
  batch_size, num_steps = events.shape
  prior_steps = num_steps
  prior_mask_BxT = mask_BxT
  if lp.prior_sample_bars:
    prior_steps = lp.prior_sample_bars * (grid[1] if grid else hp.max_steps_per_bar)
    if not lp.prior_samples_beyond_window:
      prior_steps = min(num_steps, prior_steps)
      prior_mask_BxT = mask_BxT[:, :prior_steps]
    else:
      prior_mask_BxT = (jnp.arange(prior_steps)[None, :]
                        < (lp.prior_sample_bars * steps_per_bar)[:, None])
  prior_grid = (-(-prior_steps // hp.min_steps_per_bar), grid[1]) if grid else None
  z_BxZ = jax.random.normal(prior_rng, (batch_size, hp.latent_size))
  if lp.aux_latents == "posterior" and hp.use_vae:
    mu, log_var = models.vae.apply({"params": vae_params}, events, lengths, steps_per_bar, grid,
                                   method="encode")
    z_BxZ = jax.lax.stop_gradient(mu + jnp.exp(0.5 * log_var) * z_BxZ)
    if hp.prior_drops_bar_latents:  # the fine-tune shapes what prior samples decode: z alone
      z_BxZ = hp.without_bar_latents(z_BxZ)
  elif hp.prior_sets_bar_latents:  # the bars' latents zero, or drawn from their learned prior
    z_BxZ = jax.lax.stop_gradient(models.vae.apply({"params": vae_params}, z_BxZ, target_B,
                                                   method="prior_latents"))
  decoded = models.sample_vae.apply({"params": vae_params}, z_BxZ, target_B, steps_per_bar,
                                    prior_steps, jax.random.split(decode_rng, batch_size),
                                    temperature=lp.aux_sample_temperature,
                                    top_p=lp.aux_sample_nucleus, method="generate")
  return PriorSamples(z_BxZ, target_B, decoded["events"], decoded["gumbel"],
                      jax.nn.one_hot(decoded["events"], hp.num_classes), prior_mask_BxT,
                      prior_grid)


def sampled_logits(lp, logits_BxTxV):
  """The logits the fine-tune samples are drawn from (Gumbel-max), as the sampler draws: tempered
  by loss.aux_sample_temperature, -inf outside the loss.aux_sample_top_p nucleus
  (nucleus.nucleus_logits). The gradient reaches the kept events' tempered logits only (the
  nucleus is a piecewise-constant choice)."""
  return nucleus.nucleus_logits(logits_BxTxV, lp.aux_sample_temperature, lp.aux_sample_nucleus)


def straight_through(models, vae_params, batch, prior: PriorSamples) -> jax.Array:
  """The prior samples re-scored by the VAE being trained: hard one-hot values whose gradient
  is that of the Gumbel-softmax distribution at loss.gumbel_temperature, over the logits they
  were drawn from (at loss.aux_sample_temperature, inside the loss.aux_sample_top_p nucleus)."""
  lp = models.loss
  logits, _ = models.sample_vae.apply({"params": vae_params}, prior.z_BxZ, prior.target_B,
                                      prior.events_BxT, batch["steps_per_bar"], prior.grid,
                                      method="decode")
  return straight_through_rows(logits, prior.gumbel_BxTxV, prior.hard_BxTxV,
                               lp.aux_sample_temperature, lp.aux_sample_nucleus,
                               lp.gumbel_temperature)


def straight_through_rows(logits_BxTxV, gumbel_BxTxV, hard_BxTxV, temperature: float,
                          top_p: float, gumbel_temperature: float) -> jax.Array:
  """Hard one-hot rows (events drawn by Gumbel-max from the logits at temperature, inside the
  top_p nucleus) whose gradient is the Gumbel-softmax's at gumbel_temperature."""
  soft = jax.nn.softmax((nucleus.nucleus_logits(logits_BxTxV, temperature, top_p) + gumbel_BxTxV)
                        / gumbel_temperature)
  return hard_BxTxV + soft - jax.lax.stop_gradient(soft)


def _margins(inputs_BxTxV, prior: PriorSamples, batch, models, density_cap: float = 0.0):
  return feature_consistency.margins(inputs_BxTxV, prior.events_BxT, prior.mask_BxT.sum(1),
                                     batch["steps_per_bar"], models.arousal_thresholds,
                                     density_cap)


def features_emotion_term(inputs: TermInputs):
  """The judge's own mode and arousal margins on the samples against their targets
  (feature_consistency.py): a term E cannot be fooled into. Its arousal counts density only up
  to loss.arousal_density_cap (0: uncapped, the judge's own)."""
  cap = inputs.models.loss.arousal_density_cap
  found = _margins(inputs.samples_BxTxV, inputs.prior, inputs.batch, inputs.models, cap)
  term = feature_consistency.consistency_loss(found, inputs.prior.target_B)
  judged = found if cap <= 0 else _margins(  # the judge's own labels, uncapped
      inputs.samples_BxTxV, inputs.prior, inputs.batch, inputs.models)
  return term, {"emotion_term": term, "prior_judge_accuracy": (
      feature_consistency.labels(judged) == inputs.prior.target_B).mean()}


def classifier_emotion_term(inputs: TermInputs):
  """The paper's term: E's cross-entropy on the reconstructions against the batch's labels and
  on the samples against their targets, averaged."""
  models, state = inputs.models, inputs.state
  classify = functools.partial(models.emotion.apply, {"params": state.emotion_params})
  recon_ce, _ = losses.classification(
      classify(jax.nn.softmax(inputs.reconstruction["logits"]), inputs.mask_BxT),
      inputs.batch["emotion"])
  prior_ce, prior_accuracy = losses.classification(
      classify(inputs.samples_BxTxV, inputs.prior.mask_BxT), inputs.prior.target_B)
  term = 0.5 * (recon_ce + prior_ce)
  return term, {"emotion_term": term, "prior_emotion_accuracy": prior_accuracy}


def adversarial_term(inputs: TermInputs):
  """The generator's side of the GAN: the critic's score of the samples (loss.gan_loss)."""
  models = inputs.models
  fake_scores = models.critic.apply({"params": inputs.state.critic_params}, inputs.samples_BxTxV,
                                    inputs.prior.mask_BxT)[:, 0]
  term = losses.generator_adversarial(fake_scores, models.loss.gan_loss)
  return term, {"adversarial_term": term}


def realism_real_side(models, batch, steps: int, num_classes: int):
  """The realism term's real melodies: (style features [M, F], quadrant [M], -1 for a melody
  that pairs with no sample). The batch's own windows cropped to the samples' `steps`, or with
  loss.realism_real_bars whole real training spans of the batch's meters (realism_spans.py)."""
  spans = models.realism_spans
  if spans is not None:
    return spans.features, realism_spans.batch_view(spans, batch["steps_per_bar"])
  real_events = batch["events"][:, :steps]
  real_lengths = jnp.minimum(batch["lengths"], steps)
  return melody_mmd.style_features(jax.nn.one_hot(real_events, num_classes), real_events,
                                   real_lengths, batch["steps_per_bar"],
                                   **realism_spans.feature_options(models.loss)), batch["emotion"]


def realism_term(inputs: TermInputs):
  """The samples' style (intervals, onset positions, density) against the batch's real melodies
  of the same quadrant, cropped to the samples' length: the conditional MMD of melody_mmd.py,
  plus loss.realism_degree_weight times the same MMD of the scale-degree shares alone and
  loss.realism_form_weight times that of the form columns alone (phrases, bars, 4-grams, part
  lift, the phrases at odd and even lags: those switched on). With loss.realism_heldout the same
  MMDs of the same samples against the validation split's spans are logged beside them
  (realism_heldout_mmd, realism_heldout_form_mmd): no gradient, the term unchanged."""
  prior, batch = inputs.prior, inputs.batch
  steps = prior.events_BxT.shape[1]
  sample_lengths = prior.mask_BxT.sum(1)
  loss_hp = inputs.models.loss
  extra = realism_spans.feature_options(loss_hp)
  generated = melody_mmd.style_features(inputs.samples_BxTxV, prior.events_BxT, sample_lengths,
                                        batch["steps_per_bar"], **extra)
  real, real_emotion = realism_real_side(inputs.models, batch, steps,
                                         prior.hard_BxTxV.shape[-1])
  counted = (real_emotion >= 0).astype(real.dtype)
  per_quadrant = loss_hp.realism_per_quadrant
  term = melody_mmd.conditional_mmd(generated, prior.target_B, real, real_emotion,
                                    per_quadrant=per_quadrant)
  metrics = {"realism_mmd": term}
  heldout = inputs.models.realism_heldout_spans
  if heldout is not None:  # the held-out side of the batch's meters; no gradient reaches it
    heldout_emotion = realism_spans.batch_view(heldout, batch["steps_per_bar"])
    metrics["realism_heldout_mmd"] = melody_mmd.conditional_mmd(
        jax.lax.stop_gradient(generated), prior.target_B, heldout.features, heldout_emotion,
        per_quadrant=per_quadrant)
  degree_weight = loss_hp.realism_degree_weight
  if degree_weight > 0:  # the scale degrees' own MMD (melody_mmd.DEGREES)
    degrees = melody_mmd.DEGREES
    degree_mmd = melody_mmd.conditional_mmd(generated[:, degrees], prior.target_B,
                                            real[:, degrees], real_emotion,
                                            per_quadrant=per_quadrant)
    term = term + degree_weight * degree_mmd
    metrics["realism_degree_mmd"] = degree_mmd
  # The form columns come last, in style_features' order: phrases, bars, 4-grams, part lift,
  # the phrases at odd and at even lags.
  form = [name for name, on in (("phrase_similarity", loss_hp.realism_phrases),
                                ("bar_repetition", loss_hp.realism_bar_repetition),
                                ("gram_repetition", loss_hp.realism_gram_repetition),
                                ("part_lift", loss_hp.realism_part_lift),
                                ("phrase_odd_lags", loss_hp.realism_phrase_periods),
                                ("phrase_even_lags", loss_hp.realism_phrase_periods)) if on]
  form_weight = loss_hp.realism_form_weight
  if form_weight > 0 and form:  # the form columns' own MMD, their distance shared with no other
    form_columns = slice(generated.shape[1] - len(form), generated.shape[1])
    form_mmd = melody_mmd.conditional_mmd(generated[:, form_columns], prior.target_B,
                                          real[:, form_columns], real_emotion,
                                          per_quadrant=per_quadrant)
    term = term + form_weight * form_mmd
    metrics["realism_form_mmd"] = form_mmd
    if heldout is not None:
      metrics["realism_heldout_form_mmd"] = melody_mmd.conditional_mmd(
          jax.lax.stop_gradient(generated[:, form_columns]), prior.target_B,
          heldout.features[:, form_columns], heldout_emotion, per_quadrant=per_quadrant)
  columns = {name: offset - len(form) for offset, name in enumerate(form)}
  columns["repeated_notes"] = melody_mmd.INTERVAL_EDGES.index(0)  # the unison share
  for name, column in columns.items():
    metrics[f"sample_{name}"] = jax.lax.stop_gradient(generated[:, column]).mean()
    metrics[f"real_{name}"] = (real[:, column] * counted).sum() / jnp.maximum(counted.sum(), 1)
  return term, {**metrics, "realism_term": term}


@dataclasses.dataclass(frozen=True)
class GeneratorTerm:
  name: str
  weight: float
  fn: Callable[[TermInputs], tuple[jax.Array, dict]]
  # It reads TermInputs.reconstruction (and its gradient flows through it): the step then takes
  # one backward pass through both losses (step.train_step).
  reads_reconstruction: bool = False


def generator_terms(loss_hp) -> tuple[GeneratorTerm, ...]:
  """The fine-tune phase's generator terms, in the order they are added; empty: no prior
  samples are drawn at all."""
  terms = []
  if loss_hp.emotion_weight > 0:
    emotion = {"features": features_emotion_term, "classifier": classifier_emotion_term}
    terms.append(GeneratorTerm("emotion", loss_hp.emotion_weight, emotion[loss_hp.emotion_term],
                               reads_reconstruction=loss_hp.emotion_term == "classifier"))
  if loss_hp.adversarial_weight > 0:
    terms.append(GeneratorTerm("adversarial", loss_hp.adversarial_weight, adversarial_term))
  if loss_hp.realism_weight > 0:
    terms.append(GeneratorTerm("realism", loss_hp.realism_weight, realism_term))
  return tuple(terms)


def judge_labels(models, batch, prior: PriorSamples) -> jax.Array:
  """The feature labeller's verdict on the hard samples (no gradient anywhere): what E learns to
  say of generated melodies with loss.classifier_on_samples."""
  return feature_consistency.labels(_margins(prior.hard_BxTxV, prior, batch, models))


def emotion_classifier_loss(models, emotion_params, real_BxTxV, batch, mask_BxT,
                            prior: PriorSamples | None, judged_B):
  """E's cross-entropy on the real melodies, averaged with that on the judged samples when
  there are any: (loss, accuracy on the real melodies)."""
  logits = models.emotion.apply({"params": emotion_params}, real_BxTxV, mask_BxT)
  loss, accuracy = losses.classification(logits, batch["emotion"])
  if judged_B is not None:
    sample_logits = models.emotion.apply({"params": emotion_params}, prior.hard_BxTxV,
                                         prior.mask_BxT)
    loss = 0.5 * (loss + losses.classification(sample_logits, judged_B)[0])
  return loss, accuracy


def critic_loss(models, critic_params, real_BxTxV, real_mask_BxT, prior: PriorSamples,
                samples_BxTxV):
  """The critic's loss on real one-hot melodies (each window's first steps, as many as the
  samples hold, or all of it where the samples are longer) against the (detached) samples, plus
  R1 on the real side."""
  fake_BxTxV = jax.lax.stop_gradient(samples_BxTxV)
  steps = min(fake_BxTxV.shape[1], real_BxTxV.shape[1])
  real_prefix_BxTxV, real_prefix_mask = real_BxTxV[:, :steps], real_mask_BxT[:, :steps]
  score = lambda x, mask: models.critic.apply({"params": critic_params}, x, mask)[:, 0]
  real_scores, fake_scores = score(real_prefix_BxTxV, real_prefix_mask), score(fake_BxTxV,
                                                                                 prior.mask_BxT)
  r1 = losses.r1_penalty(lambda x: score(x, real_prefix_mask), real_prefix_BxTxV)
  loss = (losses.critic_adversarial(real_scores, fake_scores, models.loss.gan_loss)
          + 0.5 * models.loss.r1_weight * r1)
  return loss, {"critic_loss": loss, "critic_r1": r1, "critic_real_score": real_scores.mean(),
                "critic_fake_score": fake_scores.mean()}
