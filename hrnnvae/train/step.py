"""The train state and the pure, jitted steps: train_step, eval_step, prior_emotion_accuracy.

One train_step updates three models with their own optax optimizers:
  the generator (the VAE): the ELBO (Eq. 8), plus in the fine-tune phase each of
    models.generator_terms (aux_terms.py: the emotion term, the adversarial term) at its weight;
  the emotion classifier E: cross-entropy on real melodies (and, with loss.classifier_on_samples,
    on the fine-tune samples with the judge's labels);
  the critic D: real one-hot melodies against straight-through prior samples, plus R1.

Two phases (static `finetune`, so each compiles once per batch shape):
  ELBO phase (step < loss.aux_start_step): the ELBO alone; no prior samples are drawn;
  fine-tune phase: the auxiliary terms join. Their gradient is clipped on its own
    (loss.aux_grad_clip_norm) and added to the separately clipped ELBO gradient, so the
    auxiliary terms can steer but never starve the reconstruction.
With aux_start_step = 0 and aux_grad_clip_norm = 0 (one shared clip) the paper's single-phase
training is back.
"""

from __future__ import annotations

import dataclasses
import functools

import flax
import jax
import jax.numpy as jnp
import optax

from hrnnvae import losses
from hrnnvae import models as models_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.models import hparams as hparams_lib
from hrnnvae.models.critics import SequenceClassifier
from hrnnvae.models.hparams import ModelHParams
from hrnnvae.train import aux_terms
from hrnnvae.train import realism_spans as realism_spans_lib


@dataclasses.dataclass(frozen=True, kw_only=True)
class LossHParams:
  """config.loss, field for field (configs/default.py says what each does; no defaults here)."""
  beta_max: float
  kl_warmup_steps: int
  free_bits: float
  emotion_weight: float
  adversarial_weight: float
  realism_weight: float  # the samples' style against real melodies' (aux_terms.realism_term)
  realism_per_quadrant: bool  # its MMD per quadrant, not of the joint (melody_mmd.conditional_mmd)
  realism_spread: bool  # its style features also hold the pitch spread (melody_mmd.pitch_spread)
  realism_long_notes: bool  # and the shares of notes lasting 9, ..., 16, over 16 steps
  realism_register: bool  # and the mean pitch of its notes (melody_mmd.mean_pitch)
  realism_rests: bool  # and the share of its steps resting (melody_mmd.rest_share)
  realism_phrases: bool  # and the 4-bar phrases' similarity (melody_mmd.phrase_similarity)
  realism_bar_repetition: bool  # and the bars restated in each part (melody_mmd.bar_repetition)
  realism_bar_part_bars: int  # the part that column counts repeats within, in bars
  realism_gram_repetition: bool  # and the 4-note runs restated in each part (melody_mmd)
  realism_part_lift: bool  # and the second 16 bars' pitch over the first's (melody_mmd.part_lift)
  realism_phrase_periods: bool  # and the phrases' similarity at odd and at even lags (melody_mmd)
  realism_real_bars: int  # its real side: training spans of this many bars (0: the batch's own)
  realism_heldout: bool  # also log its MMD against the validation split's spans (no gradient)
  realism_degree_weight: float  # plus this times the scale degrees' own MMD (0: none)
  realism_form_weight: float  # plus this times the form columns' own MMD (0: none)
  arousal_density_cap: float  # the emotion term's density part at most this (0: uncapped)
  gan_loss: str  # "non_saturating" or "hinge"
  r1_weight: float
  gumbel_temperature: float
  aux_start_step: int  # the fine-tune phase (emotion, adversarial terms) starts here
  aux_grad_clip_norm: float  # their own clip; 0: one clip over the summed gradient
  prior_sample_bars: int  # bars of each prior sample in the fine-tune phase; 0: the window's
  prior_samples_beyond_window: bool  # that many bars even where the window is shorter
  prior_sample_attention_bars: int  # bars their decoder attends over; 0: the model's own reach
  emotion_term: str  # "features" or "classifier" (aux_terms.py)
  aux_latents: str  # "posterior" or "standard": the latents the fine-tune samples decode
  aux_sample_temperature: float  # the fine-tune samples' temperature
  aux_sample_top_p: float  # and nucleus; 1.0: every event
  classifier_on_samples: bool  # E also learns the judge's labels of the fine-tune samples
  aux_target_emotions: str  # "uniform" or "batch": what the fine-tune samples ask for
  scheduled_sampling_rate: float  # the share of decoder inputs that are its own guesses, at most
  scheduled_sampling_steps: int  # steps over which that share rises linearly from 0

  @classmethod
  def from_config(cls, loss_config) -> "LossHParams":
    """Every field of config.loss; a missing or unknown one, or an unknown choice, is a
    ValueError naming it."""
    hp = cls(**hparams_lib.config_values(loss_config, "loss",
                                         {f.name for f in dataclasses.fields(cls)}))
    choices = {"gan_loss": ("non_saturating", "hinge"), "emotion_term": ("classifier", "features"),
               "aux_latents": ("standard", "posterior"), "aux_target_emotions": ("uniform", "batch")}
    for field, allowed in choices.items():
      if getattr(hp, field) not in allowed:
        raise ValueError(f"loss.{field} must be one of {', '.join(repr(a) for a in allowed)}, "
                         f"not {getattr(hp, field)!r}")
    if hp.realism_real_bars and not hp.realism_per_quadrant:
      raise ValueError("loss.realism_real_bars counts only the spans of each batch's meters, "
                       "which only the per-quadrant MMD can: set loss.realism_per_quadrant=True")
    if hp.realism_heldout and not hp.realism_real_bars:
      raise ValueError("loss.realism_heldout compares the samples with the validation split's "
                       "spans of loss.realism_real_bars bars: set loss.realism_real_bars (e.g. 32)")
    if hp.realism_form_weight > 0 and not (hp.realism_phrases or hp.realism_bar_repetition
                                           or hp.realism_gram_repetition or hp.realism_part_lift
                                           or hp.realism_phrase_periods):
      raise ValueError("loss.realism_form_weight weighs the form columns' own MMD, and none is "
                       "on: switch on loss.realism_phrases, realism_bar_repetition, "
                       "realism_gram_repetition, realism_part_lift or realism_phrase_periods")
    if hp.realism_bar_part_bars < 1:
      raise ValueError(f"loss.realism_bar_part_bars must be at least 1, "
                       f"not {hp.realism_bar_part_bars}")
    if hp.prior_sample_bars < 0 or hp.prior_sample_attention_bars < 0:
      raise ValueError(f"loss.prior_sample_bars and loss.prior_sample_attention_bars must be at "
                       f"least 0, not {hp.prior_sample_bars!r} and "
                       f"{hp.prior_sample_attention_bars!r}")
    if not hp.aux_sample_temperature > 0 or not 0 < hp.aux_sample_top_p <= 1:
      raise ValueError(f"loss.aux_sample_temperature must be positive and loss.aux_sample_top_p in "
                       f"(0, 1], not {hp.aux_sample_temperature!r} and {hp.aux_sample_top_p!r}")
    return hp

  @property
  def aux_sample_nucleus(self) -> float | None:
    """The fine-tune samples' top_p as the sampler takes it (None: every event)."""
    return self.aux_sample_top_p if self.aux_sample_top_p < 1 else None

  @property
  def needs_prior_samples(self) -> bool:
    return self.emotion_weight > 0 or self.adversarial_weight > 0 or self.realism_weight > 0


@dataclasses.dataclass(frozen=True)
class Models:
  """Everything static that the steps close over, chosen once from the config."""
  vae: flax.linen.Module  # the model family (models.build)
  # The same parameters as the fine-tune samples' decoder runs them: attending over
  # loss.prior_sample_attention_bars bars (the sampler's reach), or vae itself.
  sample_vae: flax.linen.Module
  emotion: SequenceClassifier
  critic: SequenceClassifier
  vae_tx: optax.GradientTransformation
  emotion_tx: optax.GradientTransformation
  critic_tx: optax.GradientTransformation
  loss: LossHParams
  grad_clip_norm: float
  # The labeller's training medians (data/emotion.py): the "features" emotion term needs them.
  arousal_thresholds: emotion_lib.ArousalThresholds | None
  # The fine-tune phase's generator terms (aux_terms.generator_terms); empty: none drawn.
  generator_terms: tuple[aux_terms.GeneratorTerm, ...]
  # In the fine-tune phase E also learns the judge's labels of the samples.
  classifier_learns_judge: bool
  # The realism term's real side when loss.realism_real_bars > 0 (realism_spans.real_spans);
  # None: the batch's own windows.
  realism_spans: realism_spans_lib.RealSpans | None = None
  # The validation split's spans the term's MMD is also logged against (loss.realism_heldout).
  realism_heldout_spans: realism_spans_lib.RealSpans | None = None

  @classmethod
  def from_config(cls, config, hp: ModelHParams, arousal_thresholds=None,
                  data_arrays=None) -> "Models":
    """arousal_thresholds: the cache manifest's (a dict or ArousalThresholds); data_arrays:
    the cache's arrays (data/cache.py), which loss.realism_real_bars > 0 reads its spans from."""
    def optimizer(learning_rate):
      return optax.chain(optax.clip_by_global_norm(config.train.grad_clip_norm),
                         optax.adam(learning_rate))
    loss_hp = LossHParams.from_config(config.loss)
    if isinstance(arousal_thresholds, dict):
      arousal_thresholds = emotion_lib.ArousalThresholds(**arousal_thresholds)
    if loss_hp.emotion_term == "features" and arousal_thresholds is None:
      raise ValueError("loss.emotion_term='features' needs the data's arousal thresholds")
    # The VAE's gradient is clipped in train_step (per phase), so its optimizer is Adam alone.
    vae_tx = optax.adam(learning_rate_schedule(config.train))
    vae = models_lib.build(hp)
    sample_vae = vae
    if loss_hp.prior_sample_attention_bars:
      sample_vae = models_lib.build(hp.attending_over(loss_hp.prior_sample_attention_bars))
    spans = heldout = None
    if loss_hp.realism_real_bars and loss_hp.realism_weight > 0:
      if data_arrays is None or arousal_thresholds is None:
        raise ValueError("loss.realism_real_bars needs the cache's arrays and arousal thresholds")
      spans = realism_spans_lib.real_spans(data_arrays, arousal_thresholds, loss_hp)
      if loss_hp.realism_heldout:
        heldout = realism_spans_lib.real_spans(data_arrays, arousal_thresholds, loss_hp,
                                               split="valid")
    return cls(vae, sample_vae, SequenceClassifier(hp.num_emotions, hp.classifier_channels),
               SequenceClassifier(1, hp.classifier_channels),
               vae_tx, optimizer(config.train.critic_learning_rate),
               optimizer(config.train.critic_learning_rate), loss_hp, config.train.grad_clip_norm,
               arousal_thresholds, aux_terms.generator_terms(loss_hp),
               loss_hp.needs_prior_samples and loss_hp.emotion_term == "features"
               and loss_hp.classifier_on_samples, spans, heldout)


def peak_learning_rate(train_config) -> float:
  """train.learning_rate at train.lr_reference_batch, scaled to train.batch_size by the rule
  train.lr_batch_scaling: "sqrt" (Adam's square-root rule: the gradient noise falls as 1/batch,
  so the step grows as sqrt(batch); Malladi et al. 2022), "linear", or "none"."""
  ratio = train_config.batch_size / train_config.lr_reference_batch
  rule = train_config.lr_batch_scaling
  factors = {"sqrt": ratio ** 0.5, "linear": ratio, "none": 1.0}
  if rule not in factors:
    raise ValueError(f"train.lr_batch_scaling must be sqrt, linear or none, not {rule!r}")
  return train_config.learning_rate * factors[rule]


def learning_rate_schedule(train_config) -> optax.Schedule:
  """Linear warm-up over train.warmup_steps to the peak rate (peak_learning_rate), then
  exponential decay by train.lr_decay_rate a step, never below train.min_learning_rate
  (MusicVAE's schedule)."""
  peak = peak_learning_rate(train_config)
  if train_config.lr_decay_rate >= 1.0:  # no decay (`:paper`); optax would read end_value as a cap
    decay = optax.constant_schedule(peak)
  else:
    decay = optax.exponential_decay(peak, transition_steps=1,
                                    decay_rate=train_config.lr_decay_rate,
                                    end_value=min(train_config.min_learning_rate, peak))
  if train_config.warmup_steps <= 0:
    return decay
  warmup = optax.linear_schedule(peak / train_config.warmup_steps, peak, train_config.warmup_steps)
  return optax.join_schedules([warmup, decay], [train_config.warmup_steps])


def clip(grads, max_norm: float):
  """grads scaled to global norm at most max_norm (unchanged when max_norm <= 0)."""
  if max_norm <= 0:
    return grads
  norm = optax.global_norm(grads)
  return jax.tree.map(lambda g: g * jnp.minimum(1.0, max_norm / jnp.maximum(norm, 1e-12)), grads)


@flax.struct.dataclass
class TrainState:
  step: jax.Array
  vae_params: dict
  vae_opt_state: optax.OptState
  emotion_params: dict
  emotion_opt_state: optax.OptState
  critic_params: dict
  critic_opt_state: optax.OptState
  # Early stopping, kept in the state so that a resumed run stops where the original would.
  best_valid_loss: jax.Array
  evaluations_without_improvement: jax.Array


def init_state(models: Models, rng: jax.Array, batch_size: int, num_steps: int,
               class_log_prior=None) -> TrainState:
  """Fresh parameters; the decoder's output bias starts at the data's log class prior.

  Compiled as one program: run op by op, the modules' first forward pass compiles hundreds of
  small programs (18 s on 2 CPU cores against 6 s, with bit-equal parameters)."""
  init = functools.partial(_init_state, models, batch_size=batch_size, num_steps=num_steps)
  return jax.jit(init)(rng, class_log_prior)


def _init_state(models: Models, rng: jax.Array, class_log_prior, *, batch_size: int,
                num_steps: int) -> TrainState:
  hp = models.vae.hp
  vae_rng, emotion_rng, critic_rng, z_rng = jax.random.split(rng, 4)
  events = jnp.zeros((batch_size, num_steps), jnp.int32)
  ones = jnp.ones((batch_size,), jnp.int32)
  vae_params = models.vae.init(vae_rng, events, ones * num_steps, ones * 16, ones * 0,
                               z_rng)["params"]
  if class_log_prior is not None:
    vae_params = set_output_bias(vae_params, jnp.asarray(class_log_prior, jnp.float32))
  distributions = jnp.zeros((batch_size, num_steps, hp.num_classes))
  mask = jnp.ones((batch_size, num_steps), bool)
  emotion_params = models.emotion.init(emotion_rng, distributions, mask)["params"]
  critic_params = models.critic.init(critic_rng, distributions, mask)["params"]
  return TrainState(
      step=jnp.zeros((), jnp.int32),
      vae_params=vae_params, vae_opt_state=models.vae_tx.init(vae_params),
      emotion_params=emotion_params, emotion_opt_state=models.emotion_tx.init(emotion_params),
      critic_params=critic_params, critic_opt_state=models.critic_tx.init(critic_params),
      best_valid_loss=jnp.asarray(jnp.inf, jnp.float32),
      evaluations_without_improvement=jnp.zeros((), jnp.int32))


def set_output_bias(vae_params: dict, bias_V: jax.Array) -> dict:
  """The parameters with every output layer's bias (the layer that emits V logits) set."""
  def visit(tree, name=""):
    if not isinstance(tree, dict):
      return tree
    if name == "output" and "bias" in tree and tree["bias"].shape == bias_V.shape:
      return {**tree, "bias": bias_V}
    return {k: visit(v, k) for k, v in tree.items()}
  return visit(dict(vae_params))


def _mask(batch):
  return jnp.arange(batch["events"].shape[1])[None, :] < batch["lengths"][:, None]


def _update(tx, params, opt_state, grads):
  updates, opt_state = tx.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), opt_state


def scheduled_sampling_rate(step, loss_hp: LossHParams) -> jax.Array:
  """The share of decoder inputs replaced by the decoder's own guesses at `step`: rising
  linearly from 0 to loss.scheduled_sampling_rate over loss.scheduled_sampling_steps."""
  ramp = jnp.minimum(step / max(loss_hp.scheduled_sampling_steps, 1), 1.0)
  return (loss_hp.scheduled_sampling_rate * ramp).astype(jnp.float32)


def mixed_inputs(events_BxT, logits_BxTxV, rate, rng: jax.Array):
  """Two-pass scheduled sampling (Mihaylova & Martins 2019): each event is replaced, with
  probability `rate`, by the decoder's own guess for that step (the argmax of the first,
  teacher-forced pass's logits, which saw the true events before it). The decoder reads event t
  as its input at step t + 1, so a replaced event is a mistake it must recover from."""
  guesses_BxT = jnp.argmax(jax.lax.stop_gradient(logits_BxTxV), axis=-1).astype(events_BxT.dtype)
  replace_BxT = jax.random.bernoulli(rng, rate, events_BxT.shape)
  return jnp.where(replace_BxT, guesses_BxT, events_BxT)


def elbo_terms(models: Models, vae_params, batch, mask_BxT, rng: jax.Array, grid, beta,
               sampling_rate=None):
  """The teacher-forced reconstruction of the batch from its own z:
  (ELBO loss per real step with the free-bits KL at weight beta, the model's output, metrics).
  sampling_rate: None, or scheduled sampling's share (mixed_inputs): a second decode from the
  same z reads the mixed events, and its logits are the reconstruction's."""
  hp = models.vae.hp
  if sampling_rate is not None:
    rng, mix_rng = jax.random.split(rng)
  out = models.vae.apply({"params": vae_params}, batch["events"], batch["lengths"],
                         batch["steps_per_bar"], batch["emotion"], rng, grid,
                         drop_bar_latents=True, first_bar_B=batch.get("start_bar"),
                         method="reconstruct")
  if sampling_rate is not None:
    inputs_BxT = mixed_inputs(batch["events"], out["logits"], sampling_rate, mix_rng)
    logits, alpha = models.vae.apply({"params": vae_params}, out["z"], batch["emotion"], inputs_BxT,
                                     batch["steps_per_bar"], grid, batch.get("start_bar"),
                                     method="decode")
    out = {**out, "logits": logits, "alpha": alpha}
  real_steps = jnp.maximum(batch["lengths"].sum(), 1)
  nll_B, correct_B = losses.reconstruction(out["logits"], batch["events"], mask_BxT)
  kl_B = out["kl"] if "kl" in out else (losses.kl_to_standard_normal(out["mu"], out["log_var"])
                                        if hp.use_vae else jnp.zeros(batch["events"].shape[0]))
  elbo_loss = (nll_B.sum() + beta * losses.free_bits_kl(kl_B, models.loss.free_bits).sum()) / real_steps
  metrics = {"reconstruction_loss": nll_B.sum() / real_steps,
             "accuracy": correct_B.sum() / real_steps, "kl": kl_B.mean(), "kl_weight": beta,
             "elbo_loss": elbo_loss}
  if sampling_rate is not None:
    metrics["scheduled_sampling_rate"] = sampling_rate
  return elbo_loss, out, metrics


def split_vae_gradients(models: Models, elbo_grads, aux_grads):
  """The VAE's gradient from the ELBO's and the auxiliary terms' own gradients, each clipped on
  its own (train.grad_clip_norm, loss.aux_grad_clip_norm), summed. (gradient, metrics)."""
  grads = jax.tree.map(jnp.add, clip(elbo_grads, models.grad_clip_norm),
                       clip(aux_grads, models.loss.aux_grad_clip_norm))
  return grads, {"aux_grad_norm": optax.global_norm(aux_grads),
                 "elbo_grad_norm": optax.global_norm(elbo_grads)}


def vae_gradients(models: Models, pullback, with_aux: bool):
  """The VAE's gradient from the pullback of (ELBO loss, auxiliary loss): the ELBO's clipped
  at train.grad_clip_norm, plus the auxiliary terms' clipped on their own at
  loss.aux_grad_clip_norm (0: one clip over the sum). (gradient, metrics)."""
  one, zero = jnp.ones((), jnp.float32), jnp.zeros((), jnp.float32)
  elbo_grads = pullback((one, zero))[0]
  metrics = {}
  if with_aux and models.loss.aux_grad_clip_norm > 0:
    return split_vae_gradients(models, elbo_grads, pullback((zero, one))[0])
  if with_aux:
    grads = clip(pullback((one, one))[0], models.grad_clip_norm)
  else:
    grads = clip(elbo_grads, models.grad_clip_norm)
  metrics["elbo_grad_norm"] = optax.global_norm(elbo_grads)
  return grads, metrics


def train_step(state: TrainState, batch, rng: jax.Array, *, models: Models, grid=None,
               finetune: bool = True):
  """(state, batch, rng) -> (state, metrics). Pure; jit it per phase with the state donated.

  grid: the batch's bar grid (N, S) (models/bars.py); finetune: the phase (module docstring).
  The VAE learns the ELBO plus, in the fine-tune phase, models.generator_terms on prior samples
  (aux_terms.py); E learns the real labels (and the judge's of the samples); D, when the
  adversarial term is on, learns real against samples.
  """
  rng = jax.random.fold_in(rng, state.step)
  z_rng, prior_rng, decode_rng, emotion_rng = jax.random.split(rng, 4)
  hp = models.vae.hp
  mask = _mask(batch)
  beta = losses.kl_weight(state.step, models.loss.beta_max, models.loss.kl_warmup_steps)
  sampling_rate = (scheduled_sampling_rate(state.step, models.loss)
                   if models.loss.scheduled_sampling_rate > 0 else None)
  real_BxTxV = jax.nn.one_hot(batch["events"], hp.num_classes)
  target_B = aux_terms.target_emotions(models.loss, batch, emotion_rng, hp.num_emotions)
  terms = models.generator_terms if finetune else ()
  prior = (aux_terms.draw_prior_samples(models, state.vae_params, batch, mask, target_B, prior_rng,
                                        decode_rng, grid) if terms else None)

  def elbo_part(vae_params):
    """(ELBO loss, (the teacher-forced output, metrics))."""
    elbo_loss, out, metrics = elbo_terms(models, vae_params, batch, mask, z_rng, grid, beta,
                                         sampling_rate)
    return elbo_loss, (out, metrics)

  def aux_part(vae_params, out):
    """(auxiliary loss, (metrics, straight-through prior samples))."""
    samples = aux_terms.straight_through(models, vae_params, batch, prior)
    inputs = aux_terms.TermInputs(models, state, batch, mask, out, prior, samples)
    aux_loss, metrics = jnp.zeros((), jnp.float32), {}
    for term in terms:
      value, term_metrics = term.fn(inputs)
      aux_loss += term.weight * value
      metrics.update(term_metrics)
    return aux_loss, (metrics, samples)

  samples = None
  if terms and models.loss.aux_grad_clip_norm > 0 and not any(
      term.reads_reconstruction for term in terms):
    # Two gradients, each clipped on its own (split_vae_gradients), from two backward passes that
    # each run through their own loss only: a joint pullback with a zero cotangent would run
    # the other loss's backward pass too (the 32-bar samples' re-scoring: most of a step).
    (elbo_loss, (_, metrics)), elbo_grads = jax.value_and_grad(elbo_part, has_aux=True)(
        state.vae_params)
    (aux_loss, (aux_metrics, samples)), aux_grads = jax.value_and_grad(aux_part, has_aux=True)(
        state.vae_params, None)
    metrics.update(aux_metrics, loss=elbo_loss + aux_loss)
    vae_grads, grad_metrics = split_vae_gradients(models, elbo_grads, aux_grads)
  else:
    def vae_losses(vae_params):
      """((ELBO loss, auxiliary loss), (metrics, straight-through prior samples))."""
      elbo_loss, (out, metrics) = elbo_part(vae_params)
      aux_loss, samples = jnp.zeros((), jnp.float32), None
      if terms:
        aux_loss, (aux_metrics, samples) = aux_part(vae_params, out)
        metrics.update(aux_metrics)
      metrics["loss"] = elbo_loss + aux_loss
      return (elbo_loss, aux_loss), (metrics, samples)

    _, pullback, (metrics, samples) = jax.vjp(vae_losses, state.vae_params, has_aux=True)
    vae_grads, grad_metrics = vae_gradients(models, pullback, bool(terms))
  metrics.update(grad_metrics)
  vae_params, vae_opt_state = _update(models.vae_tx, state.vae_params, state.vae_opt_state,
                                      vae_grads)

  judged_B = (aux_terms.judge_labels(models, batch, prior)
              if terms and models.classifier_learns_judge else None)
  (emotion_ce, emotion_accuracy), emotion_grads = jax.value_and_grad(
      aux_terms.emotion_classifier_loss, argnums=1, has_aux=True)(
          models, state.emotion_params, real_BxTxV, batch, mask, prior, judged_B)
  emotion_params, emotion_opt_state = _update(models.emotion_tx, state.emotion_params,
                                              state.emotion_opt_state, emotion_grads)
  metrics.update(emotion_classifier_loss=emotion_ce, emotion_classifier_accuracy=emotion_accuracy,
                 vae_grad_norm=optax.global_norm(vae_grads),
                 vae_param_norm=optax.global_norm(state.vae_params),
                 emotion_grad_norm=optax.global_norm(emotion_grads))

  critic_params, critic_opt_state = state.critic_params, state.critic_opt_state
  if terms and models.loss.adversarial_weight > 0:
    (_, critic_metrics), critic_grads = jax.value_and_grad(
        aux_terms.critic_loss, argnums=1, has_aux=True)(models, critic_params, real_BxTxV, mask,
                                                         prior, samples)
    critic_params, critic_opt_state = _update(models.critic_tx, critic_params, critic_opt_state,
                                              critic_grads)
    metrics.update(critic_metrics, critic_grad_norm=optax.global_norm(critic_grads))

  state = state.replace(step=state.step + 1, vae_params=vae_params, vae_opt_state=vae_opt_state,
                        emotion_params=emotion_params, emotion_opt_state=emotion_opt_state,
                        critic_params=critic_params, critic_opt_state=critic_opt_state)
  return state, metrics


def eval_step(state: TrainState, batch, rng: jax.Array, *, models: Models, grid=None):
  """Weighted sums over one validation batch: nll, correct, steps, kl, kl_penalised (the free-bits
  KL that training pays), melodies."""
  mask = _mask(batch) & (batch["weight"][:, None] > 0)
  out = models.vae.apply({"params": state.vae_params}, batch["events"], batch["lengths"],
                         batch["steps_per_bar"], batch["emotion"], rng, grid,
                         first_bar_B=batch.get("start_bar"), method="reconstruct")
  nll_B, correct_B = losses.reconstruction(out["logits"], batch["events"], mask)
  kl_B = out["kl"] if "kl" in out else (losses.kl_to_standard_normal(out["mu"], out["log_var"])
                                        if models.vae.hp.use_vae else jnp.zeros_like(nll_B))
  weight = batch["weight"]
  return {"nll": nll_B.sum(), "correct": correct_B.sum(), "steps": mask.sum(),
          "kl": (kl_B * weight).sum(),
          "kl_penalised": (losses.free_bits_kl(kl_B, models.loss.free_bits) * weight).sum(),
          "melodies": weight.sum()}


def prior_emotion_accuracy(state: TrainState, rng: jax.Array, steps_per_bar: int, *,
                           models: Models, per_emotion: int, num_steps: int):
  """E's accuracy [num_emotions] on melodies decoded from z ~ N(0, I) for each target emotion."""
  hp = models.vae.hp
  target = jnp.repeat(jnp.arange(hp.num_emotions), per_emotion)
  z_rng, decode_rng = jax.random.split(rng)
  z = jax.random.normal(z_rng, (target.size, hp.latent_size))
  if hp.prior_sets_bar_latents:
    z = models.vae.apply({"params": state.vae_params}, z, target, method="prior_latents")
  spb = jnp.full(target.shape, steps_per_bar, jnp.int32)
  events = models.vae.apply({"params": state.vae_params}, z, target, spb, num_steps,
                            jax.random.split(decode_rng, target.size),
                            method="generate")["events"]
  logits = models.emotion.apply({"params": state.emotion_params},
                                jax.nn.one_hot(events, hp.num_classes), jnp.ones(events.shape, bool))
  correct = (jnp.argmax(logits, -1) == target).reshape(hp.num_emotions, per_emotion)
  return correct.mean(axis=1)
