"""The train state and the pure, jitted-once steps: train_step, eval_step, prior_emotion_accuracy.

One train_step updates three models with their own optax optimizers:
  the generator (the VAE): ELBO (Eq. 8) + emotion_weight * emotion term + adversarial_weight * G term;
  the emotion classifier E: cross-entropy on real melodies only;
  the critic D: real one-hot melodies against straight-through prior samples, plus R1.
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

  @classmethod
  def from_config(cls, config, hp: ModelHParams) -> "Models":
    def optimizer(learning_rate):
      return optax.chain(optax.clip_by_global_norm(config.train.grad_clip_norm),
                         optax.adam(learning_rate))
    loss_hp = LossHParams(**config.loss.to_dict())
    if loss_hp.gan_loss not in ("non_saturating", "hinge"):
      raise ValueError(f"loss.gan_loss must be 'non_saturating' or 'hinge', not {loss_hp.gan_loss!r}")
    return cls(models_lib.build(hp), SequenceClassifier(hp.num_emotions, hp.classifier_channels),
               SequenceClassifier(1, hp.classifier_channels),
               optimizer(config.train.learning_rate), optimizer(config.train.critic_learning_rate),
               optimizer(config.train.critic_learning_rate), loss_hp)


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
  epochs_without_improvement: jax.Array


def init_state(models: Models, rng: jax.Array, batch_size: int, num_steps: int) -> TrainState:
  hp = models.vae.hp
  vae_rng, emotion_rng, critic_rng, z_rng = jax.random.split(rng, 4)
  events = jnp.zeros((batch_size, num_steps), jnp.int32)
  ones = jnp.ones((batch_size,), jnp.int32)
  vae_params = models.vae.init(vae_rng, events, ones * num_steps, ones * 16, ones * 0,
                               z_rng)["params"]
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
      epochs_without_improvement=jnp.zeros((), jnp.int32))


def _mask(batch):
  return jnp.arange(batch["events"].shape[1])[None, :] < batch["lengths"][:, None]


def _update(tx, params, opt_state, grads):
  updates, opt_state = tx.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), opt_state


def train_step(state: TrainState, batch, rng: jax.Array, *, models: Models):
  """(state, batch, rng) -> (state, metrics). Pure; jit it once with the state donated."""
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

  if lp.needs_prior_samples:
    # Prior melodies are sampled without gradient, then re-scored with teacher forcing inside the
    # loss: the same logits (the drivers agree), but memory O(B * T * H) rather than the sampler's
    # O(B * T * W * A) residuals. The straight-through sample carries the gradient of each step's
    # distribution; it does not flow back through the fed-back inputs (see BUILD_NOTES.md).
    z_prior = jax.random.normal(prior_rng, (batch_size, hp.latent_dim))
    prior = models.vae.apply({"params": state.vae_params}, z_prior, target_emotion, steps_per_bar,
                             num_steps, jax.random.split(decode_rng, batch_size),
                             method="generate")
    prior_hard_BxTxV = jax.nn.one_hot(prior["events"], hp.num_classes)

  def vae_loss(vae_params):
    out = models.vae.apply({"params": vae_params}, events, lengths, steps_per_bar,
                           batch["emotion"], z_rng, method="reconstruct")
    nll_B, correct_B = losses.reconstruction(out["logits"], events, mask)
    kl_B = (losses.kl_to_standard_normal(out["mu"], out["log_var"]) if hp.use_vae
            else jnp.zeros(batch_size))
    elbo_loss = (nll_B.sum() + beta * losses.free_bits_kl(kl_B, lp.free_bits).sum()) / real_steps
    metrics = {"reconstruction_loss": nll_B.sum() / real_steps,
               "accuracy": correct_B.sum() / real_steps, "kl": kl_B.mean(), "kl_weight": beta,
               "elbo_loss": elbo_loss}
    loss = elbo_loss
    samples = None
    if lp.needs_prior_samples:
      prior_logits, _ = models.vae.apply({"params": vae_params}, z_prior, target_emotion,
                                         prior["events"], steps_per_bar,
                                         method="decode")
      soft = jax.nn.softmax((prior_logits + prior["gumbel"]) / lp.gumbel_temperature)
      samples = prior_hard_BxTxV + soft - jax.lax.stop_gradient(soft)  # straight-through
    if lp.emotion_weight > 0:
      classify = functools.partial(models.emotion.apply, {"params": state.emotion_params},
                                   mask_BxT=mask)
      recon_ce, _ = losses.classification(classify(jax.nn.softmax(out["logits"])), batch["emotion"])
      prior_ce, prior_accuracy = losses.classification(classify(samples), target_emotion)
      emotion_term = 0.5 * (recon_ce + prior_ce)
      loss += lp.emotion_weight * emotion_term
      metrics.update(emotion_term=emotion_term, prior_emotion_accuracy=prior_accuracy)
    if lp.adversarial_weight > 0:
      fake_scores = models.critic.apply({"params": state.critic_params}, samples, mask)[:, 0]
      adversarial_term = losses.generator_adversarial(fake_scores, lp.gan_loss)
      loss += lp.adversarial_weight * adversarial_term
      metrics["adversarial_term"] = adversarial_term
    metrics["loss"] = loss
    return loss, (metrics, samples)

  (_, (metrics, samples)), vae_grads = jax.value_and_grad(vae_loss, has_aux=True)(state.vae_params)
  vae_params, vae_opt_state = _update(models.vae_tx, state.vae_params, state.vae_opt_state,
                                      vae_grads)

  def emotion_loss(emotion_params):
    logits = models.emotion.apply({"params": emotion_params}, real_BxTxV, mask)
    return losses.classification(logits, batch["emotion"])

  (emotion_ce, emotion_accuracy), emotion_grads = jax.value_and_grad(
      emotion_loss, has_aux=True)(state.emotion_params)
  emotion_params, emotion_opt_state = _update(models.emotion_tx, state.emotion_params,
                                              state.emotion_opt_state, emotion_grads)
  metrics.update(emotion_classifier_loss=emotion_ce, emotion_classifier_accuracy=emotion_accuracy,
                 vae_grad_norm=optax.global_norm(vae_grads),
                 vae_param_norm=optax.global_norm(state.vae_params),
                 emotion_grad_norm=optax.global_norm(emotion_grads))

  critic_params, critic_opt_state = state.critic_params, state.critic_opt_state
  if lp.adversarial_weight > 0:
    fake_BxTxV = jax.lax.stop_gradient(samples)

    def critic_loss(critic_params):
      score = lambda x: models.critic.apply({"params": critic_params}, x, mask)[:, 0]
      real_scores, fake_scores = score(real_BxTxV), score(fake_BxTxV)
      r1 = losses.r1_penalty(score, real_BxTxV)
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


def eval_step(state: TrainState, batch, rng: jax.Array, *, models: Models):
  """Weighted sums over one validation batch: nll, correct, steps, kl, melodies."""
  mask = _mask(batch) & (batch["weight"][:, None] > 0)
  out = models.vae.apply({"params": state.vae_params}, batch["events"], batch["lengths"],
                         batch["steps_per_bar"], batch["emotion"], rng,
                         method="reconstruct")
  nll_B, correct_B = losses.reconstruction(out["logits"], batch["events"], mask)
  kl_B = (losses.kl_to_standard_normal(out["mu"], out["log_var"]) if models.vae.hp.use_vae
          else jnp.zeros_like(nll_B))
  weight = batch["weight"]
  return {"nll": nll_B.sum(), "correct": correct_B.sum(), "steps": mask.sum(),
          "kl": (kl_B * weight).sum(), "melodies": weight.sum()}


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
