"""Shared defaults for every preset: the paper's settings plus our documented choices.

The paper fixes Adam at 1e-3, batch 64 and early stopping after 10 epochs without improvement in
the validation loss. BUILD_NOTES.md records the rest of the choices.

Presets (`nottingham.py`, `jsb_chorales.py`, `bach_music21.py`, `tiny.py`) load this file and
change a few fields. An argument after the file name picks ablations (the paper's Table 3),
several separated by commas:
  hrnnvae-train --config=configs/nottingham.py:no_vae --workdir=runs/nottingham_no_vae
  no_vae          deterministic latent z = mu, no KL          (model.use_vae=False)
  flat            one RNN level, no conductor                  (model.hierarchical=False)
  continuous      the step RNNs carry their state across bar lines (model.decoder=continuous)
  no_position     no position-in-bar / beat-phase inputs       (model.position_input=False)
  lookback        the sounding pitch and the events 1 and 2 bars back as decoder inputs
  phrase_lookback the sounding pitch and the events 4 and 8 bars back (the matching bar of the
                  previous phrase and period) as decoder inputs
  no_finetune     emotion and adversarial terms from step 0, one shared gradient clip
  paper           the paper's plain settings: beta 1, no free bits, continuous forward encoder
                  and decoder, no position inputs, one phase, constant learning rate
  no_emotion      no emotional-consistency term                (loss.emotion_weight=0)
  classifier_emotion  the paper's emotion term: E's prediction on N(0, I) samples
  no_adversarial  no adversarial term                          (loss.adversarial_weight=0)
  dot_attention   multi-head scaled dot-product attention      (model.attention=dot_product)
and the baselines, trained by the same trainer (models/baselines.py):
  lstm_lm         a two-layer LSTM language model, emotion as input, no latent
  musicvae_like   bidirectional LSTM encoder, LSTM conductor and decoder, no attention
Every field can be overridden, e.g. --config.model.latent_dim=256.
"""

import ml_collections

VARIANTS = {
    "no_vae": {"model.use_vae": False},
    "flat": {"model.hierarchical": False, "model.decoder": "continuous",
             "model.encoder": "continuous"},
    "continuous": {"model.decoder": "continuous"},
    "no_position": {"model.position_input": False},
    "lookback": {"model.lookback_input": True},
    "phrase_lookback": {"model.lookback_input": True, "model.lookback_bars": (4, 8)},
    "bar_latents": {"model.bar_latent_dim": 16},
    "bar_prior": {"model.bar_latent_dim": 16, "model.bar_latent_prior": "learned"},
    "bar_copy_prior": {"model.bar_latent_dim": 16, "model.bar_latent_prior": "copy_mixture"},
    "bar_dropout": {"model.bar_latent_dim": 16, "model.bar_latent_dropout": 0.5},
    "no_finetune": {"loss.aux_start_step": 0, "loss.aux_grad_clip_norm": 0.0},
    "paper": {"loss.beta_max": 1.0, "loss.free_bits": 0.0, "model.decoder": "continuous",
              "model.encoder": "continuous", "model.position_input": False,
              "model.lookback_input": False,
              "loss.aux_start_step": 0,
              "loss.aux_grad_clip_norm": 0.0, "loss.prior_sample_bars": 0,
              "train.warmup_steps": 0, "train.lr_decay_rate": 1.0,
              "train.bucket_by_bar": False, "train.fit_latent_prior": False,
              "loss.emotion_term": "classifier", "loss.aux_latents": "standard"},
    "no_emotion": {"loss.emotion_weight": 0.0},
    "classifier_emotion": {"loss.emotion_term": "classifier", "loss.aux_latents": "standard"},
    "no_adversarial": {"loss.adversarial_weight": 0.0},
    "dot_attention": {"model.attention": "dot_product"},
    "lstm_lm": {"model.family": "lstm_lm", "model.use_vae": False},
    "musicvae_like": {"model.family": "musicvae_like"},
}


def apply_variants(config: ml_collections.ConfigDict, arg: str | None) -> ml_collections.ConfigDict:
  """Sets the fields that the comma-separated variant names in `arg` stand for."""
  for name in filter(None, (arg or "").split(",")):
    if name not in VARIANTS:
      raise ValueError(f"unknown config variant {name!r}; choose from {', '.join(VARIANTS)}")
    for path, value in VARIANTS[name].items():
      section, field = path.split(".")
      config[section][field] = value
  config.variant = arg or ""
  return config


def variants_set(arg: str | None, path: str) -> bool:
  """Whether a variant named in `arg` (comma-separated, as apply_variants takes it) sets the
  field `path` ("section.field"): a recipe's own default for it yields to the variant."""
  return any(path in VARIANTS.get(name, {}) for name in filter(None, (arg or "").split(",")))


def set_rnn_width(config: ml_collections.ConfigDict, units: int) -> None:
  """Every recurrent layer (encoder, conductor, decoder) to `units` units: the presets' size knob."""
  for field in ("short_term_dim", "long_term_dim", "conductor_dim", "decoder_dim"):
    config.model[field] = units


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.seed = 0  # parameters, batch order, sampling noise: one seed, the same run
  config.variant = ""  # the ablations applied (the argument after the file name; set below)

  config.data = ml_collections.ConfigDict()
  config.data.cache_dir = ""  # written by `hrnnvae-data prepare --out=...`
  config.data.max_steps = 0  # crop windows to this many steps; 0 keeps the cache's longest

  config.model = ml_collections.ConfigDict()
  config.model.family = "hrnnvae"  # or lstm_lm, musicvae_like (the baselines)
  config.model.embed_dim = 64  # event embedding width
  config.model.short_term_dim = 256  # the encoder's short-term (in-bar) tanh RNN, Eq. 1
  config.model.long_term_dim = 256  # the encoder's long-term tanh RNN, Eq. 2
  config.model.long_term_stride = 1  # 1: Eq. 2 at every step; 0: once per bar
  config.model.latent_dim = 128  # z
  # Per-bar latents (issue 19, pitch that z carries): each bar of a window gets its own latent of
  # this width, encoded from that bar alone and read by the conductor and the bar's steps; 0: off.
  config.model.bar_latent_dim = 0
  # Their prior: "standard" (N(0, I) in training; sampling draws them with z from the fitted
  # Gaussian) or "learned" (models/bar_prior.py: each bar's latent given z, the emotion and the
  # bars before it, which can restate an earlier bar; sampling draws them bar by bar) or
  # "copy_mixture" (the same, as a mixture of a new bar and an exact copy of each earlier bar).
  config.model.bar_latent_prior = "standard"
  # The share of training windows whose bar latents are dropped (set to zero, their KL not
  # paid), so that one decoder learns both z alone and z with the bars' latents; with it, prior
  # samples carry no bar latents (z alone, as a model without them) while reconstruction,
  # interpolation and transfer use the encoded bars'. Needs the standard prior. 0: off.
  config.model.bar_latent_dropout = 0.0
  config.model.emotion_dim = 16  # the emotion embedding
  config.model.conductor_dim = 256  # the decoder's bar-level tanh RNN
  config.model.decoder_dim = 256  # the decoder's two-layer step tanh RNN, and tanh(Dense([z, e]))
  config.model.attention = "additive"  # Eqs. 3-4; or "dot_product"
  config.model.attention_dim = 128  # additive attention's hidden width (Eq. 3)
  config.model.attention_heads = 4  # dot_product only
  config.model.attention_window_bars = 0  # 0: attend to all history
  config.model.use_vae = True  # False: deterministic z = mu, no KL (`no_vae`)
  config.model.hierarchical = True  # False: one RNN level, no conductor (`flat`)
  config.model.encoder = "bar_bidirectional"  # or "continuous" (models/encoder.py)
  config.model.decoder = "bar_reset"  # MusicVAE's hierarchical decoder; or "continuous"
  config.model.position_input = True  # position in bar and beat phase (models/bars.py)
  # The conductor reads each bar's place counted from the tune's first bar (the window's
  # start_bar added), and with part_bars > 0 whether the bar lies in an odd part of that many
  # bars (a learned shift of its input, zero at initialisation): a B part it can be told about.
  # Measured warm (BUILD_NOTES.md, log 19 (x)) and through the whole one command (log 19 (xi)):
  # no B part, no realism gained, more whole bars repeated; off. A tune written in sections
  # (sample.section_bars) counts each section's bars from its place; reconstruction's sections
  # start at multiples of the 16-bar windows, where the conductor's bar features (4-bar phrase,
  # 8-bar period) are bar 0's.
  config.model.tune_bar_positions = False  # the window's start_bar added to its bar indices
  config.model.part_bars = 0  # 0: off; 16: bars 16-31 of a tune get the B part's shift
  # The sounding pitch and the events 1 and 2 bars back as decoder inputs (models/bars.py). Off:
  # measured on Nottingham it leans on copying the last bar over z (BUILD_NOTES.md, issue 8 (c)).
  config.model.lookback_input = False
  # Its "same place k bars back" slots: (1, 2) is Lookback RNN's; (4, 8) reaches the matching
  # bar of the previous 4-bar phrase and 8-bar period instead (`phrase_lookback`, issue 19).
  config.model.lookback_bars = (1, 2)
  config.model.classifier_channels = 64  # the emotion classifier E and the critic D (conv widths)
  config.model.compute_dtype = "float32"  # "bfloat16": RNN/attention/output matmuls (GPU, TPU)
  config.model.cache_dtype = "float32"  # "bfloat16": the sampler's attention cache (GPU, TPU)
  config.model.sample_unroll = 4  # free-running scan unrolling: speed only (44 -> 36 ms on CPU)

  config.loss = ml_collections.ConfigDict()
  # Eq. 8 has beta = 1; with it the tanh decoder learns to ignore z (KL -> 0). MusicVAE's fix:
  # beta 0.2 and free bits. beta_max=1, free_bits=0 restores the paper's plain ELBO.
  config.loss.beta_max = 0.2
  config.loss.kl_warmup_steps = 2000  # linear annealing of the KL weight from 0 to beta_max
  config.loss.free_bits = 48.0  # nats per melody that the KL term does not penalise
  config.loss.emotion_weight = 0.1  # 0.5 let the generator fool E with degenerate melodies
  config.loss.adversarial_weight = 0.1  # the generator's adversarial term (fine-tune phase)
  # Issue 19's realism term (fine-tune phase): the conditional MMD between the samples' style
  # (interval sizes, onset positions, density) and the batch's real melodies' (melody_mmd.py).
  config.loss.realism_weight = 0.0
  # Its MMD: False compares the joint distributions of (style, quadrant), which pushes a quadrant
  # asked for more often than the data has it away from itself (issue 19 (g)); True averages one
  # MMD per quadrant. The shipped model was trained with False.
  config.loss.realism_per_quadrant = False
  # Its style features also hold each melody's pitch spread (the standard deviation of its
  # pitches): sad samples keep to a narrow band that the realism test sees (issue 19 (h)).
  config.loss.realism_spread = False
  # And the shares of each melody's notes lasting 9, 10, ..., 16 and over 16 steps (the realism
  # test's own bins; the note-length columns above pool 9+): (xxxiii)'s spans-and-4-grams arm,
  # taken to 2,000 fine-tune steps, held whole-bar notes in 4.6% of its notes, real tunes in
  # 0.4%, the classifier's first giveaway (issue 19 (xxxiv)).
  config.loss.realism_long_notes = False
  # And the mean pitch of each melody's notes (octaves from middle C: the realism test's
  # register/mean pitch, which no other column sees): (xxxv)'s form arm with the long-note
  # columns sat 1.5 semitones above the training spans, the classifier's first giveaway
  # (register 0.660; issue 19 (xxxv)).
  config.loss.realism_register = False
  # And the share of each melody's steps where no note sounds (the realism test's rest share):
  # a third of the training spans rest, mostly for the last beat of a bar; (xxxv)'s register arm's
  # samples almost never did (0.003 against 0.008), the second giveaway once samples were read in
  # the tunes' quadrant mix (issue 19 (xxxvi)).
  config.loss.realism_rests = False
  # And each melody's 4-bar phrase similarity (metrics/melody.phrase_similarity): the shipped
  # model's 32-bar samples restate their phrases as variations of one figure (0.835 against the
  # training tunes' 0.765), the feature classifier's first giveaway (issue 19 (xxvii)). Screened
  # with the fine-tune's samples at T 0.7: no more real, the prior samples' phrases no less alike
  # (issue 19 (xxx)); off.
  config.loss.realism_phrases = False
  # And the share of each 16-bar part's bars that restate an earlier bar of the part exactly
  # (melody_mmd.bar_repetition): the phrases' column alone, on 32-bar samples of the batch's own
  # latents, made the phrases differ by restating nothing (bar repetition 0.378, the training
  # tunes 0.581; issue 19 (xxxi)); real tunes' phrases differ yet restate whole bars.
  config.loss.realism_bar_repetition = False
  config.loss.realism_bar_part_bars = 16  # that column's part: 32 counts the whole of 32 bars
  # And the share of each part's runs of 4 notes whose pitches restate an earlier run of the
  # part (melody_mmd.gram_repetition; its part is realism_bar_part_bars): with the bars' column,
  # the 32-bar samples restated bars yet their short figures recurred less than real tunes'
  # (4-gram repetition 0.440, training spans 0.603), the realism test's first giveaway
  # (issue 19 (xxxii)).
  config.loss.realism_gram_repetition = False
  # And the second 16 bars' mean pitch over the first 16's, in octaves (melody_mmd.part_lift;
  # 0 under 32 bars): a fine-tune that made the phrases differ lifted its second part 1.8
  # semitones, the training tunes' 0.7 (issue 19 (xxxi)).
  config.loss.realism_part_lift = False
  # And the phrases' similarity over the pairs of 4-bar phrases an odd, then an even number of
  # phrases apart (melody_mmd.phrase_similarity's lag_parity): real tunes state an 8-bar period
  # and restate it (32-bar training spans: odd 0.735, even 0.805); the shipped model's samples
  # restate every phrase alike (odd 0.819, even 0.854), and the all-pairs column cannot tell
  # the two apart. On the rest arm's recipe: draws 0.727 against 0.750, test split 0.809
  # against 0.739, and both lags fell alike, no period (issue 19 (xl)); off.
  config.loss.realism_phrase_periods = False
  # The realism term's real side: every training-split span of this many bars, in the batch's
  # meters (train/realism_spans.py; needs realism_per_quadrant), instead of the batch's own
  # 16-bar windows (0), which cannot show 32-bar form (issue 19 (xxxii)).
  config.loss.realism_real_bars = 0
  # Also log the realism MMD of the same samples against the validation split's spans of
  # realism_real_bars bars (realism_heldout_mmd, and realism_heldout_form_mmd beside
  # realism_form_mmd): no gradient, the term unchanged. Read its change over the fine-tune, not
  # its level: the validation split's spans come from fewer tunes (pairs of spans of one tune
  # weigh more in its real-real sum) and other tunes, so it starts above the training spans'
  # (0.52 against 0.25 on the 8-bar lookback's first steps, issue 19 (xli)); a fine-tune that
  # fits the spans it reads shows as the training MMD falling and the held-out one not (the
  # fine-tune arms' test split sat above their draws of training tunes: issue 19 (xxxix),
  # (xl)). Needs realism_real_bars > 0.
  config.loss.realism_heldout = False
  # Plus this times an MMD of the 12 scale-degree shares alone (melody_mmd.DEGREES; 0: none):
  # the fine-tune's sad samples put 40% of their notes on the tonic, real sad tunes 22%, a gap
  # that shares one kernel distance with 30 rhythm columns in the MMD over all (issue 19 (iv)).
  config.loss.realism_degree_weight = 0.0
  # Plus this times an MMD of the form columns alone (phrases, bars, 4-grams, part lift: those
  # switched on above; 0: none). In the MMD over all they share one kernel distance with 42
  # style columns, so a form gap of 0.06 (the spans-and-4-grams arm's phrase similarity 0.828,
  # the training spans' 0.765) barely moves it, and phrases too alike were that arm's first
  # giveaway (issue 19 (xxxiii)).
  config.loss.realism_form_weight = 0.0
  # The features emotion term's arousal counts onsets per bar / the data's median only up to
  # this (feature_consistency.py; 0: uncapped, the judge's own score). The shipped fine-tune
  # reached tense by density alone (11.6 notes a bar, one pitch; tense tunes 6.2); real windows'
  # density ratio: median 1.1, 99th percentile 1.64 (issue 19 (ii)).
  config.loss.arousal_density_cap = 0.0
  config.loss.gan_loss = "non_saturating"  # or "hinge"
  config.loss.r1_weight = 1.0  # R1 gradient penalty on the critic's real inputs
  config.loss.gumbel_temperature = 1.0  # of the straight-through prior samples' soft part
  # The fine-tune phase: the emotion and adversarial terms start here, with their own clip.
  config.loss.aux_start_step = 4000
  config.loss.aux_grad_clip_norm = 0.1  # their gradient's own clip; 0: one clip over the sum
  # Prior samples in the fine-tune phase: 8 bars, not 16 (speed). 4 bars taught the emotion
  # less: judge agreement on 16-bar samples 0.536 against 0.635 with 8 (BUILD_NOTES, issue 9).
  config.loss.prior_sample_bars = 8
  # Samples of loss.prior_sample_bars whole bars even past the training window (False: cut at
  # the batch's window and its melodies' ends), and the bars their decoder attends over (0: the
  # model's model.attention_window_bars): with prior_sample_bars 32 and reach 8 the fine-tune's
  # terms read 32-bar samples as the sampler writes them. From N(0, I) (aux_latents "standard")
  # they reshaped what N(0, I) decodes, not the fitted prior's samples users hear (issue 19 (xxxi)).
  config.loss.prior_samples_beyond_window = False
  config.loss.prior_sample_attention_bars = 0  # 0: the model's own reach
  # "features": the judge's mode and arousal margins on the samples (feature_consistency.py);
  # "classifier": the paper's E(sample) against the target, which E can be fooled into.
  config.loss.emotion_term = "features"
  config.loss.aux_latents = "posterior"  # fine-tune samples decode the batch's own latents
  # The temperature and nucleus top-p the fine-tune samples are drawn at (issue 19): 1.0 and 1.0
  # draw from the model's whole distribution; the sampler's own settings (0.7, 0.95) let the
  # terms train on the tunes users hear, which repeat notes twice as often.
  config.loss.aux_sample_temperature = 1.0  # 1.0: the model's own distribution
  config.loss.aux_sample_top_p = 1.0  # 1.0: every event (no nucleus)
  # E also learns the judge's labels of the fine-tune samples (closes the E - judge gap).
  config.loss.classifier_on_samples = True
  # Fine-tune samples ask for every quadrant equally ("uniform") or the batch's own ("batch").
  config.loss.aux_target_emotions = "uniform"
  # Scheduled sampling (issue 19, pitch that z carries): this share of the decoder's inputs are
  # its own guesses (train/step.mixed_inputs), so it learns to recover from its mistakes; 0: off.
  config.loss.scheduled_sampling_rate = 0.0
  config.loss.scheduled_sampling_steps = 2000  # the share rises linearly from 0 over these steps

  # The exported model's own sampling settings (hrnnvae/sample.py), written into
  # export/config.json's "sampling" facts; the tools' --temperature, --top_p, --emotion_guidance,
  # --repeat_penalty, --short_note_penalty, --transfer_shift, --transfer_keep,
  # --transfer_guidance and --transfer_edits override them.
  config.sample = ml_collections.ConfigDict()
  # The sampling temperature and nucleus every tool uses unless told otherwise (--temperature,
  # --top_p: each event drawn from the most likely events whose probability reaches top_p,
  # hrnnvae/models/nucleus.py; 1: every event). 0.7 and 0.95 were chosen on the shipped Nottingham
  # model's validation tunes by launch/sampling_sweep.py's rule: the most real setting (realism)
  # whose emotion the judge confirms (BUILD_NOTES.md, issue 19).
  config.sample.temperature = 0.7
  config.sample.top_p = 0.95  # nucleus sampling's share of probability; 1: every event
  config.sample.emotion_guidance = 1.0  # decoder guidance against a neutral emotion; 1: none
  config.sample.repeat_penalty = 1.0  # last struck pitch r times less likely again; 1: none
  config.sample.short_note_penalty = 1.0  # one-step notes s times less likely; 1: none
  config.sample.transfer_shift = 0.0  # attribute-vector share added in emotion transfer; 0: none
  # Emotion transfer's fidelity to the tune: b added to the logit of the tune's own event at each
  # step (e^(b / T) times likelier), so a transfer keeps more of the tune and moves the emotion
  # less (a trade-off measured in BUILD_NOTES.md, issue 19); 0: none.
  config.sample.transfer_keep = 0.0
  config.sample.transfer_guidance = 1.0  # emotion guidance of transfer's decodes; 1: none
  # Emotion transfer as edits of the tune (hrnnvae/sample.py's Sampler.edit_toward): the share of
  # its steps the model may change, chosen by what the requested emotion wants over the tune's
  # own; 0: off (transfer is a free-running decode). On the shipped Nottingham model 0.2 agreed
  # 0.707 keeping 0.801 of the steps on the validation windows (0.667 keeping 0.802 on test),
  # against 0.885 keeping 0.648 off: about the transfer_keep line, with a hard cap on what
  # changes (BUILD_NOTES.md, issue 19 (v)).
  config.sample.transfer_edits = 0.0
  config.sample.candidates = 1  # prior samples drawn per melody kept by the realism critic; 1: one
  config.sample.attention_bars = 0  # bars prior samples' decoder attends over; 0: its window
  # A prior sample longer than section_bars is written in sections of that many bars, each
  # planned by the conductor from its own latent (0: one latent however long the tune), each
  # latent correlating section_correlation with the section's before (hrnnvae/sample.py).
  config.sample.section_bars = 0  # bars of each section; 0: one latent (measured: 19 (vii))
  config.sample.section_correlation = 0.0  # a section's latent with the one before; 0: afresh
  # Sections in a row that state one latent: 2 writes AABB (8-bar sections, 32 bars: each part
  # planned twice from one latent, the next part's latent correlated section_correlation with
  # it). Shipped Nottingham model, 32 bars, correlation 0.3: realism 0.719 -> 0.671 on the
  # validation tunes but 0.678 -> 0.783 on the test tunes, whose bars repeat more (0.583; the
  # samples' 0.577 -> 0.394); 16-bar samples (AA) less real (0.701 -> 0.735). Off (19 (xvii)).
  config.sample.section_repeats = 1  # 1: every section its own latent
  # Emotion guidance of the prior samples asked for one quadrant, in place of emotion_guidance
  # (0: emotion_guidance). JSB's tense samples are told from tense chorales by their density at
  # guidance 1.75 (realism 0.817; 0.583 at 1.25, judge 0.854 -> 0.797; 19 (xvii)).
  config.sample.guidance_happy = 0.0  # 0: emotion_guidance
  config.sample.guidance_tense = 0.0  # 0: emotion_guidance
  config.sample.guidance_sad = 0.0  # 0: emotion_guidance
  config.sample.guidance_calm = 0.0  # 0: emotion_guidance

  config.train = ml_collections.ConfigDict()
  config.train.batch_size = 64  # global, split over all devices (the paper's)
  config.train.learning_rate = 1e-3  # at lr_reference_batch; scaled to batch_size by the rule:
  config.train.lr_reference_batch = 64  # the batch learning_rate was set at
  config.train.lr_batch_scaling = "sqrt"  # "sqrt" (Adam), "linear" or "none" (step.py)
  config.train.critic_learning_rate = 1e-3  # for both the emotion classifier and the critic
  config.train.warmup_steps = 200  # linear learning-rate warm-up
  config.train.lr_decay_rate = 0.9999  # per step after the warm-up (MusicVAE's)
  config.train.min_learning_rate = 1e-5  # the decay's floor
  config.train.grad_clip_norm = 1.0  # global norm of the ELBO gradient (and of E's and D's)
  config.train.max_epochs = 200  # an upper bound; early stopping ends runs first
  config.train.eval_every_steps = 200  # 0: at each epoch's end
  config.train.patience = 10  # validations without a better validation loss before stopping
  # In the fine-tune phase: "best" exports the best validation loss (the ELBO's), "last" the
  # last validated state (a fixed-length fine-tune for the emotion terms, which that loss omits).
  config.train.finetune_export = "best"
  config.train.min_steps = 1000  # never stop before the KL warm-up (and fine-tune start) + this
  config.train.max_steps = 0  # 0: no limit
  # A fresh run starts from this export's parameters (a run's folder or export/, or a shipped
  # model) wherever their paths and shapes agree (train/warm_start.py); "": from scratch.
  config.train.init_from = ""
  config.train.bucket_by_bar = True  # batches of one bar length, cropped (input_pipeline.py)
  config.train.log_every_steps = 50  # train metrics to metrics.jsonl and the log
  config.train.checkpoint_every_steps = 500  # besides every epoch end
  config.train.eval_prior_samples = 64  # per emotion, for E's accuracy on prior samples
  config.train.fit_latent_prior = True  # at the end: export/latent_prior.npz (latent_prior.py)
  config.train.latent_prior_windows = 16384  # training windows encoded for it, at most
  # 1: one Gaussian per emotion; K > 1: a mixture of K diagonal Gaussians per emotion, fitted by
  # EM (issue 19 (iii): 16 was no more real than one Gaussian on the shipped model, latent_prior.py)
  config.train.latent_prior_components = 1

  # What follows training, run by hrnnvae-train when training ends (post_training.run_stages):
  # the latent prior (train.fit_latent_prior, above), E's fit to the judge, shipping. A stage done
  # for the current export is not redone when the command runs again.
  config.post = ml_collections.ConfigDict()
  config.post.emotion_fit_steps = 0  # E's fit to the judge on the model's own samples; 0: none
  config.post.emotion_fit_per_emotion = 1024  # samples drawn per emotion for E's fit
  config.post.critic_fit_steps = 0  # the realism critic's fit (realism_critic.py); 0: none
  config.post.critic_fit_per_emotion = 1024  # samples drawn per emotion for the critic's fit
  # What the critic reads: "absolute" (the events) or "key_relative" (each melody moved so that
  # its judged key's tonic is C; realism_critic.key_relative)
  config.post.critic_input = "absolute"
  config.post.critic_min_windows = 500  # quadrants with fewer real windows keep their plain sample
  # Bars of the windows the critic is fitted on and reads (fewer than 16: longer melodies are read
  # in windows at half that hop, realism_critic.py)
  config.post.critic_bars = 16
  # The critic also reads how each melody restates its bars (realism.bar_repetition_features:
  # its best match among earlier bars, exact restatements, the bar 4 and 8 back); its windows see
  # about a bar, so without them it cannot prefer the candidates that restate as real tunes do
  config.post.critic_repetition = False  # False: the events alone
  # The critic also reads where each melody sits as written (realism.register_features: the mean
  # and spread of its pitches), which a critic reading melodies moved to a C tonic no longer sees
  config.post.critic_register = False  # False: the events alone
  # Critics fitted, at seeds seed, seed + 1, ...: more than one, an ensemble whose log-ratio is the
  # mean of theirs (realism_critic.ensemble; which candidates one critic keeps depends on its seed)
  config.post.critic_fits = 1
  # The bar adapter's fit (hrnnvae/bar_adapter.py; issue 19, pitch that z carries): a model
  # trained with bar-latent dropout gets a layer of bar_adapter_dim units that reads each step's
  # bar latent beside the decoder's output state and adds to the logits what the bar changes,
  # f(state, bar) - f(state, 0): exactly zero from z alone, so prior samples, E's and the
  # critic's fits are untouched, while reconstruction and interpolation follow the bars. It is
  # fitted for bar_adapter_steps on the training windows with the bars always present, the
  # adapter and the encoder's bar heads learning, the rest frozen. 0 steps: none.
  config.post.bar_adapter_steps = 0
  config.post.bar_adapter_dim = 256  # the adapter's hidden units
  config.post.bar_adapter_learning_rate = 1e-3  # Adam's, constant, at batch 64
  # Emotion transfer's own adapter (hrnnvae/transfer_adapter.py; issue 19, transfer that keeps
  # the tune): a second set of the bar adapter's weights, starting from them, that only emotion
  # transfer decodes through, with the tune's bars' latents kept. It is fitted for
  # transfer_adapter_steps on the training windows, each decoded for another emotion at the
  # model's temperature, top-p and transfer_keep, by the judge's margins on the decode plus
  # transfer_adapter_keep_weight times the tune's own events' cross-entropy on the decode's
  # history; nothing else moves, so prior samples and reconstructions are bit-equal. Needs the
  # bar adapter. 0 steps: none.
  config.post.transfer_adapter_steps = 0  # 0: no transfer adapter
  config.post.transfer_adapter_learning_rate = 2e-3  # Adam's, constant, at batch 32
  config.post.transfer_adapter_keep_weight = 1.0  # the tune's events' cross-entropy's weight
  # The tune's steps the transfer adapter also reads at each step: its event there and at the
  # next ones (transfer_adapter.py, tune_steps). 0: the bars' latents alone.
  config.post.transfer_adapter_tune_steps = 0  # 0: it does not read the tune
  # The keep bias the fit decodes transfers at (the sampler's transfer_keep while it fits; the
  # model's own sample.transfer_keep is what transfers decode at afterwards).
  config.post.transfer_adapter_fit_keep = -1.0  # negative: the model's sample.transfer_keep
  # A second leg of the fit: this many steps more from where the first left the adapter (a
  # fresh optimiser, the batches from the start), decoding at transfer_adapter_refine_keep.
  config.post.transfer_adapter_refine_steps = 0  # 0: one leg
  config.post.transfer_adapter_refine_keep = -1.0  # the second leg's keep bias (as _fit_keep)
  config.post.ship_as = ""  # ship the model as hrnnvae/pretrained/<name>/; "": do not ship
  config.post.ship_root = ""  # where to ship instead of the package's pretrained/ folder
  config.post.command = ""  # the command that made the model, for the manifest; "": this one
  return apply_variants(config, arg)
