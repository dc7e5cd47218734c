"""The shipped Nottingham model's recipe: one command trains every stage and ships it.

  bash launch/train_shipped.sh --source=DIR        # prepares the data, then runs:
  hrnnvae-train --config=configs/nottingham_ship.py --workdir=runs/nottingham_ship
Run it again to resume where it stopped. The model carries 16-dim per-bar latents that 0.8 of the
training melodies drop (prior samples and transfer decode z alone). Stages: the ELBO to step
8000 on Nottingham with copies transposed by up to 5 semitones (`hrnnvae-data prepare
--transpose=5`), the emotion
fine-tune to step 10000 (emotion weight 2 with tense's density reward capped at 1.6, the
realism term at 10 with one MMD per quadrant, their own clip 1, the last state exported), the
fitted latent prior, the bar adapter's fit, emotion transfer's adapter (two legs), the realism
critic's fit, E's fit to the judge, then shipping as hrnnvae/pretrained/nottingham with its
test-split figures. The shipped model is what one call of it made from an empty folder: 8,797 s
(147 minutes) on the current dev machine's 2 cores (training 4,605 s, the bar adapter 1,691 s,
transfer's adapter 2,296 s; its manifest; BUILD_NOTES.md, issue 19; a shorter recipe, the ELBO
to 6000 and 1,200 fine-tune steps, made a worse model on every figure).
The GPU recipe is the same at the paper's size: configs/nottingham_ship.py:paper_size.
"""

import pathlib
import runpy

_here = pathlib.Path(__file__).parent
_default = runpy.run_path(str(_here / "default.py"))
_cpu = runpy.run_path(str(_here / "nottingham_cpu.py"))
_paper = runpy.run_path(str(_here / "nottingham.py"))


def _reads_bar_latents(model) -> bool:
  """Whether a model of these settings can carry per-bar latents (models/hparams.py's check)."""
  return (model.family == "hrnnvae" and model.hierarchical and model.use_vae
          and model.encoder == "bar_bidirectional")


def use_bar_latents(config) -> None:
  """Both shipped recipes' bar latents: 16 a bar, dropped for 0.8 of the training melodies, the
  bar adapter fitted after training (2,500 steps at 2e-3) and emotion transfer's adapter after
  it (6,000 steps at 2e-3, keep bias 1; the Nottingham recipe adds 3,000 more at keep bias 1.5);
  nothing for a model that cannot read bar latents, and no dropout or adapters where a learned
  bar prior draws them."""
  if _reads_bar_latents(config.model):
    config.model.bar_latent_dim = 16
    if config.model.bar_latent_prior == "standard":
      config.model.bar_latent_dropout = 0.8
      config.post.bar_adapter_steps = 2500
      config.post.bar_adapter_learning_rate = 2e-3
      # Emotion transfer's own adapter (transfer_adapter.py), fitted after the bar adapter from
      # its weights for 6,000 steps at 2e-3, keep weight 1, decoding as transfers will, favouring
      # the tune's own event by 1 (transfer_keep): transfers keep the tune's bars and decode
      # through it; prior samples and reconstructions never read it (issue 19 (xiii)).
      config.post.transfer_adapter_steps = 6000
      config.post.transfer_adapter_learning_rate = 2e-3
      config.post.transfer_adapter_keep_weight = 1.0
      config.sample.transfer_keep = 1.0


def get_config(arg=None):
  variants = [name for name in (arg or "").split(",") if name]
  size = _paper if "paper_size" in variants else _cpu
  config = size["get_config"](",".join(name for name in variants if name != "paper_size"))
  config.data.cache_dir = "runs/nottingham_ship/data"  # prepared with --transpose=5
  config.model.latent_dim = 256
  config.loss.free_bits = 256.0  # MusicVAE's 16-bar models
  # The emotion fine-tune: the features term (0.1 taught little: issue 9), its gradient clipped
  # on its own at 1, and the last state exported (the ELBO's validation loss is blind to what the
  # fine-tune is for). At weight 2 with the density reward capped at 1.6 times the data's median
  # and the realism MMD taken per quadrant: the shipped model's three overrides since issue 19
  # (iv) (the best 400-step screen of 19 (g); the cap from the real windows' 99th percentile,
  # 19 (ii)), folded in here on 2026-12-02 (iii) so the one command needs no flags.
  config.loss.aux_start_step = 8000
  config.loss.emotion_weight = 2.0
  config.loss.arousal_density_cap = 1.6
  config.loss.realism_per_quadrant = True
  config.loss.aux_grad_clip_norm = 1.0
  config.train.finetune_export = "last"
  # The realism term (melody_mmd.py) at 10: 400 fine-tune steps from the same step-6000 state
  # moved validation realism 0.893 -> 0.861 and the judge 0.688 -> 0.727; at 30 the judge fell
  # to 0.477 (BUILD_NOTES.md, issue 19 (d)).
  config.loss.realism_weight = 10.0
  # Per-bar latents (16 a bar) that 0.8 of the training melodies drop: prior samples and emotion
  # transfer decode z alone, reconstruction and interpolation z with the bars' latents. Measured
  # whole on 2026-12-02 (iv) against the recipe without them (test split): realism at 16 bars
  # 0.695 against 0.727, greedy reconstruction 0.809 against 0.707, whole tunes 0.804 against
  # 0.702; at 0.5 the bars carried so much that z alone was less real (0.801; BUILD_NOTES.md,
  # issue 19). Variants whose model cannot read bar latents (flat, no_vae, the baselines) train
  # without them; those with a learned bar prior (:bar_prior, :bar_copy_prior) draw the bars'
  # latents from it instead of dropping them.
  # After training, the bar adapter (bar_adapter.py) is fitted for 2,500 steps: reconstruction
  # follows the bars through a layer that z alone never reaches, so prior samples stay bit-equal
  # (test split: greedy onset pitch 0.527 -> 0.718, greedy 0.809 -> 0.889, interpolation ends
  # 0.793 -> 0.862; 2,026 s; BUILD_NOTES.md, issue 19 (vi)).
  use_bar_latents(config)
  config.train.max_steps = 10000
  config.train.eval_every_steps = 400
  config.sample.transfer_shift = 1.5  # chosen on the validation split (issue 9)
  # Transfer's own emotion guidance: z alone at 1.5 agreed with the judge 0.885 on the
  # validation windows (worst quadrant 0.84) against 0.764 unguided (2026-12-02 (iv)).
  config.sample.transfer_guidance = 1.5
  # With emotion transfer's own adapter (use_bar_latents), transfer guidance 1.25: screened on
  # the shipped model's validation windows (2026-12-04 (xiii)), the adapter fitted without the
  # keep bias agreed with the judge 0.839 / 0.851 / 0.885, keeping 0.753 / 0.734 / 0.711 of the
  # steps, at transfer guidance 1 / 1.25 / 1.5 (z alone at 1.5: 0.885 keeping 0.648); fitted on
  # 3,000 more steps at keep bias 1, 0.862 / 0.874 / 0.862 keeping 0.779 / 0.755 / 0.730 at 1.25
  # / 1.5 / 1.75. 1.25: the most kept that met the judge's 0.85 there. The one command's own fit
  # (6,000 steps at keep bias 1) agreed 0.839 keeping 0.787 at 1.25 and 0.851 keeping 0.757 at
  # 1.5 (validation); 1.25 stays, the nearer to both targets (test: 0.860 keeping 0.777).
  if config.post.transfer_adapter_steps:
    config.sample.transfer_guidance = 1.25
  # Since 2026-12-04 (xiv): the adapter of (xiii) (6,000 steps at keep bias 1), fitted 3,000
  # steps more decoding at keep bias 1.5, learned to move the notes the emotion needs against a
  # stronger pull to the tune: at transfer guidance 1.5 and keep bias 2 it agreed with the judge
  # 0.862 keeping 0.821 of the steps on the validation windows (0.885 / 0.789 at keep 1.5, 0.833
  # / 0.847 at guidance 1.25), where it had agreed 0.782 keeping 0.834. One leg of 8,000 steps at
  # keep bias 2 did less (0.839 / 0.763 at keep 2, 0.851 / 0.801 at 2.5; test 0.830 / 0.797). So
  # the fit runs in two legs, and transfers decode at keep 2 with guidance 1.5.
  if config.post.transfer_adapter_steps:
    config.post.transfer_adapter_fit_keep = 1.0
    config.post.transfer_adapter_refine_steps = 3000
    config.post.transfer_adapter_refine_keep = 1.5
    config.sample.transfer_keep = 2.0
    config.sample.transfer_guidance = 1.5
    # Since 2026-12-05 (xviii): transfers decode the tune's own latent, unshifted, as the adapter
    # was fitted (transfer_adapter.py decodes each window's mu; the shift toward the requested
    # emotion's prior mean was for transfers from z alone, issue 9). On the validation windows
    # (seeds 0 / 2) the judge agreed 0.954 / 0.931 keeping 0.818 / 0.817 at shift 0, against
    # 0.920 / 0.914 at 0.5, 0.908 / 0.856 at 1, 0.862 / 0.874 at 1.5 and 0.787 / 0.787 at 2.25,
    # the steps kept alike (BUILD_NOTES.md, issue 19 (xviii)). --notransfer_adapter transfers
    # from z alone and wants --transfer_shift=1.5.
    config.sample.transfer_shift = 0.0
  config.sample.repeat_penalty = 1.5  # chosen on the validation split (issue 19 (iv))
  config.post.emotion_fit_steps = 1500  # 4,096 samples, 1,500 steps: E's best held-out fit
  config.post.emotion_fit_per_emotion = 1024
  # The realism critic (realism_critic.py): 3,000 steps on 4,096 samples against the training
  # windows; sampling keeps one of config.sample.candidates prior samples by it (issue 19 (v)).
  config.post.critic_fit_steps = 3000
  config.post.critic_fit_per_emotion = 1024
  # It reads each melody moved to a C tonic, and resamples every quadrant: on the validation
  # split that kept realism (0.711 against 0.710) and raised the judge from 0.849 to 0.913,
  # sad's realism 0.763 -> 0.742 (issue 19 (vii)).
  config.post.critic_input = "key_relative"
  config.post.critic_min_windows = 0
  config.sample.candidates = 16  # chosen on the validation split (issue 19 (v))
  # The decoder attends over 8 bars as it samples, twice the 4 it trained with, so a 32-bar tune
  # can restate the matching bar of its previous 8-bar phrase (validation split, issue 19 (vi)).
  config.sample.attention_bars = 8
  config.post.ship_as = "nottingham"
  config.variant = arg or ""
  return config
