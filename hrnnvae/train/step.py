"""The train state and the pure, jitted steps: train_step, eval_step, prior_emotion_accuracy.

One train_step updates three models with their own optax optimizers:
  the generator (the VAE): ELBO (Eq. 8) + emotion_weight * emotion term + adversarial_weight * G term;
  the emotion classifier E: cross-entropy on real melodies only;
  the critic D: real one-hot melodies against straight-through prior samples, plus R1.

Two phases (static `finetune`, so each compiles once per batch shape):
  ELBO phase (step < loss.aux_start_step): the ELBO alone; no prior samples are drawn;
  fine-tune phase: the emotion and adversarial terms join. Their gradient is clipped on its own
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

from hrnnvae import feature_consistency, losses
from hrnnvae import models as models_lib
from hrnnvae.data import emotion as emotion_lib
from hrnnvae.models.critics import SequenceClassifier
from hrnnvae.models.hparams import ModelHParams


@dataclasses.dataclass(frozen=True)
class LossHParams:
  beta_max: float = 1.0
  kl_warmup_steps: int = 2000
  free_bits: float = 0.0
  emotion_weight: float = 0.5
  adversarial_weight: float = 0.1
  gan_loss: str = "non_saturating"
  r1_weight: float = 1.0
  gumbel_temperature: float = 1.0
  aux_start_step: int = 0  # the fine-tune phase (emotion, adversarial terms) starts here
  aux_grad_clip_norm: float = 0.0  # their own clip; 0: one clip over the summed gradient
  prior_sample_bars: int = 0  # bars of each prior sample in the fine-tune phase; 0: the window's
  # The emotional-consistency term: "classifier" (the paper's: E's prediction on the samples
  # against the target) or "features" (the judge's own mode and arousal margins, differentiable:
  # feature_consistency.py), which E cannot be fooled into.
  emotion_term: str = "classifier"
  # The latents that fine-tune samples decode: "standard" (z ~ N(0, I)) or "posterior" (the
  # batch's own posterior samples, each asked for a random emotion: emotion transfer, and the
  # region the fitted latent prior samples from).
  aux_latents: str = "standard"
  # With the features term: E also learns, from each fine-tune step's prior samples, the judge's
  # label of the sample (not the requested emotion), so E judges generated melodies as the judge
  # does and the E - judge gap measures the model, not E's unfamiliarity with samples.
  classifier_on_samples: bool = False
  # The emotions the fine-tune samples are asked for: "uniform" (each quadrant equally often, so
  # the rare ones, tense and sad, get as much of the term as the common ones) or "batch" (the
  # batch's own labels: the data's frequencies).
  aux_target_emotions: str = "uniform"

  @property
  def needs_prior_samples(self) -> bool:
    return self.emotion_weight > 0 or self.adversarial_weight > 0


@dataclasses.dataclass(frozen=True)
class Models:
  """Everything static that the steps close over."""
  vae: flax.linen.Module  # the model family (models.build)
  emotion: SequenceClassifier
  critic: SequenceClassifier
  vae_tx: optax.GradientTransformation
  emotion_tx: optax.GradientTransformation
  critic_tx: optax.GradientTransformation
  loss: LossHParams

  grad_clip_norm: float = 1.0
  # The labeller's training medians (data/emotion.py): the "features" emotion term needs them.
  arousal_thresholds: emotion_lib.ArousalThresholds | None = None

  @classmethod
  def from_config(cls, config, hp: ModelHParams, arousal_thresholds=None) -> "Models":
    """arousal_thresholds: the cache manifest's (a dict or ArousalThresholds)."""
    def optimizer(learning_rate):
      return optax.chain(optax.clip_by_global_norm(config.train.grad_clip_norm),
                         optax.adam(learning_rate))
    loss_hp = LossHParams(**config.loss.to_dict())
    if loss_hp.gan_loss not in ("non_saturating", "hinge"):
      raise ValueError(f"loss.gan_loss must be 'non_saturating' or 'hinge', not {loss_hp.gan_loss!r}")
    if loss_hp.emotion_term not in ("classifier", "features"):
      raise ValueError(f"loss.emotion_term must be 'classifier' or 'features', "
                       f"not {loss_hp.emotion_term!r}")
    if loss_hp.aux_latents not in ("standard", "posterior"):
      raise ValueError(f"loss.aux_latents must be 'standard' or 'posterior', "
                       f"not {loss_hp.aux_latents!r}")
    if isinstance(arousal_thresholds, dict):
      arousal_thresholds = emotion_lib.ArousalThresholds(**arousal_thresholds)
    if loss_hp.aux_target_emotions not in ("uniform", "batch"):
      raise ValueError(f"loss.aux_target_emotions must be 'uniform' or 'batch', "
                       f"not {loss_hp.aux_target_emotions!r}")
    if loss_hp.emotion_term == "features" and arousal_thresholds is None:
      raise ValueError("loss.emotion_term='features' needs the data's arousal thresholds")
    # The VAE's gradient is clipped in train_step (per phase), so its optimizer is Adam alone.
    vae_tx = optax.adam(learning_rate_schedule(config.train))
    return cls(models_lib.build(hp), SequenceClassifier(hp.num_emotions, hp.classifier_channels),
               SequenceClassifier(1, hp.classifier_channels),
               vae_tx, optimizer(config.train.critic_learning_rate),
               optimizer(config.train.critic_learning_rate), loss_hp, config.train.grad_clip_norm,
               arousal_thresholds)


def peak_learning_rate(train_config) -> float:
  """train.learning_rate at train.lr_reference_batch, scaled to train.batch_size by the rule
  train.lr_batch_scaling: "sqrt" (Adam's square-root rule: the gradient noise falls as 1/batch,
  so the step grows as sqrt(batch); Malladi et al. 2022), "linear", or "none"."""
  batch = train_config.get("batch_size")
  ratio = batch / train_config.get("lr_reference_batch", batch) if batch else 1.0
  rule = train_config.get("lr_batch_scaling", "none")
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
  """Fresh parameters; the decoder's output bias starts at the data's log class prior."""
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


def train_step(state: TrainState, batch, rng: jax.Array, *, models: Models, grid=None,
               finetune: bool = True):
  """(state, batch, rng) -> (state, metrics). Pure; jit it per phase with the state donated.

  grid: the batch's bar grid (N, S) (models/bars.py); finetune: the phase (module docstring).
  """
  rng = jax.random.fold_in(rng, state.step)
  z_rng, prior_rng, decode_rng, emotion_rng = jax.random.split(rng, 4)
  events, lengths, steps_per_bar = batch["events"], batch["lengths"], batch["steps_per_bar"]
  batch_size, num_steps = events.shape
  mask = _mask(batch)
  real_steps = jnp.maximum(lengths.sum(), 1)
  hp, lp = models.vae.hp, models.loss
  beta = losses.kl_weight(state.step, lp.beta_max, lp.kl_warmup_steps)
  real_BxTxV = jax.nn.one_hot(events, hp.num_classes)
  target_emotion = jax.random.randint(emotion_rng, (batch_size,), 0, hp.num_emotions)
  if lp.aux_target_emotions == "batch":
    target_emotion = batch["emotion"]
  use_aux = finetune and lp.needs_prior_samples

  if use_aux:
    # Prior melodies are sampled without gradient, then re-scored with teacher forcing inside the
    # loss: the same logits (the drivers agree), but memory O(B * T * H) rather than the sampler's
    # O(B * T * W * A) residuals. The straight-through sample carries the gradient of each step's
    # distribution; it does not flow back through the fed-back inputs (see BUILD_NOTES.md).
    prior_steps = num_steps
    if lp.prior_sample_bars:
      prior_steps = min(num_steps, lp.prior_sample_bars * (grid[1] if grid else hp.max_steps_per_bar))
    prior_grid = (-(-prior_steps // hp.min_steps_per_bar), grid[1]) if grid else None
    prior_mask = mask[:, :prior_steps]
    z_prior = jax.random.normal(prior_rng, (batch_size, hp.latent_dim))
    if lp.aux_latents == "posterior" and hp.use_vae:
      mu, log_var = models.vae.apply({"params": state.vae_params}, events, lengths, steps_per_bar,
                                     grid, method="encode")
      z_prior = jax.lax.stop_gradient(mu + jnp.exp(0.5 * log_var) * z_prior)
    prior = models.vae.apply({"params": state.vae_params}, z_prior, target_emotion, steps_per_bar,
                             prior_steps, jax.random.split(decode_rng, batch_size),
                             method="generate")
    prior_hard_BxTxV = jax.nn.one_hot(prior["events"], hp.num_classes)

  def vae_losses(vae_params):
    """((ELBO loss, auxiliary loss), (metrics, straight-through prior samples))."""
    out = models.vae.apply({"params": vae_params}, events, lengths, steps_per_bar,
                           batch["emotion"], z_rng, grid, True, method="reconstruct")
    nll_B, correct_B = losses.reconstruction(out["logits"], events, mask)
    kl_B = (losses.kl_to_standard_normal(out["mu"], out["log_var"]) if hp.use_vae
            else jnp.zeros(batch_size))
    elbo_loss = (nll_B.sum() + beta * losses.free_bits_kl(kl_B, lp.free_bits).sum()) / real_steps
    metrics = {"reconstruction_loss": nll_B.sum() / real_steps,
               "accuracy": correct_B.sum() / real_steps, "kl": kl_B.mean(), "kl_weight": beta,
               "elbo_loss": elbo_loss}
    aux_loss = jnp.zeros((), jnp.float32)
    samples = None
    if use_aux:
      prior_logits, _ = models.vae.apply({"params": vae_params}, z_prior, target_emotion,
                                         prior["events"], steps_per_bar, prior_grid,
                                         method="decode")
      soft = jax.nn.softmax((prior_logits + prior["gumbel"]) / lp.gumbel_temperature)
      samples = prior_hard_BxTxV + soft - jax.lax.stop_gradient(soft)  # straight-through
    if use_aux and lp.emotion_weight > 0 and lp.emotion_term == "features":
      found = feature_consistency.margins(samples, prior["events"], prior_mask.sum(1),
                                          steps_per_bar, models.arousal_thresholds)
      emotion_term = feature_consistency.consistency_loss(found, target_emotion)
      aux_loss += lp.emotion_weight * emotion_term
      metrics.update(emotion_term=emotion_term, prior_judge_accuracy=(
          feature_consistency.labels(found) == target_emotion).mean())
    elif use_aux and lp.emotion_weight > 0:
      classify = functools.partial(models.emotion.apply, {"params": state.emotion_params})
      recon_ce, _ = losses.classification(classify(jax.nn.softmax(out["logits"]), mask),
                                          batch["emotion"])
      prior_ce, prior_accuracy = losses.classification(classify(samples, prior_mask),
                                                       target_emotion)
      emotion_term = 0.5 * (recon_ce + prior_ce)
      aux_loss += lp.emotion_weight * emotion_term
      metrics.update(emotion_term=emotion_term, prior_emotion_accuracy=prior_accuracy)
    if use_aux and lp.adversarial_weight > 0:
      fake_scores = models.critic.apply({"params": state.critic_params}, samples, prior_mask)[:, 0]
      adversarial_term = losses.generator_adversarial(fake_scores, lp.gan_loss)
      aux_loss += lp.adversarial_weight * adversarial_term
      metrics["adversarial_term"] = adversarial_term
    metrics["loss"] = elbo_loss + aux_loss
    return (elbo_loss, aux_loss), (metrics, samples)

  _, pullback, (metrics, samples) = jax.vjp(vae_losses, state.vae_params, has_aux=True)
  one, zero = jnp.ones((), jnp.float32), jnp.zeros((), jnp.float32)
  elbo_grads = pullback((one, zero))[0]
  if use_aux and lp.aux_grad_clip_norm > 0:
    aux_grads = pullback((zero, one))[0]
    vae_grads = jax.tree.map(jnp.add, clip(elbo_grads, models.grad_clip_norm),
                             clip(aux_grads, lp.aux_grad_clip_norm))
    metrics["aux_grad_norm"] = optax.global_norm(aux_grads)
  elif use_aux:
    vae_grads = clip(pullback((one, one))[0], models.grad_clip_norm)
  else:
    vae_grads = clip(elbo_grads, models.grad_clip_norm)
  metrics["elbo_grad_norm"] = optax.global_norm(elbo_grads)
  vae_params, vae_opt_state = _update(models.vae_tx, state.vae_params, state.vae_opt_state,
                                      vae_grads)

  judged_samples = use_aux and lp.emotion_term == "features" and lp.classifier_on_samples
  if judged_samples:  # the judge's labels of the hard samples (no gradient anywhere)
    judged_B = feature_consistency.labels(feature_consistency.margins(
        prior_hard_BxTxV, prior["events"], prior_mask.sum(1), steps_per_bar,
        models.arousal_thresholds))

  def emotion_loss(emotion_params):
    logits = models.emotion.apply({"params": emotion_params}, real_BxTxV, mask)
    loss, accuracy = losses.classification(logits, batch["emotion"])
    if judged_samples:
      sample_logits = models.emotion.apply({"params": emotion_params}, prior_hard_BxTxV, prior_mask)
      loss = 0.5 * (loss + losses.classification(sample_logits, judged_B)[0])
    return loss, accuracy

  (emotion_ce, emotion_accuracy), emotion_grads = jax.value_and_grad(
      emotion_loss, has_aux=True)(state.emotion_params)
  emotion_params, emotion_opt_state = _update(models.emotion_tx, state.emotion_params,
                                              state.emotion_opt_state, emotion_grads)
  metrics.update(emotion_classifier_loss=emotion_ce, emotion_classifier_accuracy=emotion_accuracy,
                 vae_grad_norm=optax.global_norm(vae_grads),
                 vae_param_norm=optax.global_norm(state.vae_params),
                 emotion_grad_norm=optax.global_norm(emotion_grads))

  critic_params, critic_opt_state = state.critic_params, state.critic_opt_state
  if use_aux and lp.adversarial_weight > 0:
    fake_BxTxV = jax.lax.stop_gradient(samples)
    real_prefix_BxTxV = real_BxTxV[:, :fake_BxTxV.shape[1]]

    def critic_loss(critic_params):
      score = lambda x: models.critic.apply({"params": critic_params}, x, prior_mask)[:, 0]
      real_scores, fake_scores = score(real_prefix_BxTxV), score(fake_BxTxV)
      r1 = losses.r1_penalty(score, real_prefix_BxTxV)
      loss = losses.critic_adversarial(real_scores, fake_scores, lp.gan_loss) + 0.5 * lp.r1_weight * r1
      return loss, {"critic_loss": loss, "critic_r1": r1, "critic_real_score": real_scores.mean(),
                    "critic_fake_score": fake_scores.mean()}

    (_, critic_metrics), critic_grads = jax.value_and_grad(critic_loss, has_aux=True)(critic_params)
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
                         method="reconstruct")
  nll_B, correct_B = losses.reconstruction(out["logits"], batch["events"], mask)
  kl_B = (losses.kl_to_standard_normal(out["mu"], out["log_var"]) if models.vae.hp.use_vae
          else jnp.zeros_like(nll_B))
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
  z = jax.random.normal(z_rng, (target.size, hp.latent_dim))
  spb = jnp.full(target.shape, steps_per_bar, jnp.int32)
  events = models.vae.apply({"params": state.vae_params}, z, target, spb, num_steps,
                            jax.random.split(decode_rng, target.size),
                            method="generate")["events"]
  logits = models.emotion.apply({"params": state.emotion_params},
                                jax.nn.one_hot(events, hp.num_classes), jnp.ones(events.shape, bool))
  correct = (jnp.argmax(logits, -1) == target).reshape(hp.num_emotions, per_emotion)
  return correct.mean(axis=1)
