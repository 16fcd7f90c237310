"""Every model kind and classical baseline of the package, registered with its builder.

`import keras_aegan` imports this module, so after it the registry is complete and every
model class is known to Keras (`keras.saving.load_model` can rebuild a saved run). A new
model kind adds its builder function here with one `register_model` line (see
`keras_aegan.registry`); the family comes from the class it builds.
"""

from keras_aegan.models import autoencoders as ae
from keras_aegan.models import (gan_variants, gans, hybrids, pca, text, text_gan, timegan,
                                timeseries, translation, video)
from keras_aegan.models import robust_model  # noqa: F401  (AdversarialClassifier: no builder, still loadable)
from keras_aegan.registry import register_baseline, register_model

_GAN = {"validated": False}  # a GAN's losses on held-out images say little

for _name, _builder, _class, _description, _options in (
    ("conv_ae", ae.conv_ae, ae.Autoencoder,
     "Convolutional autoencoder: strided convolutions down, a residual block at the "
     "smallest map, transposed convolutions up.", {"batch_size": 32, "xla": True}),
    ("dense_ae", ae.dense_ae, ae.Autoencoder,
     "Undercomplete stacked dense autoencoder: hidden layers down to a linear code.", {}),
    ("linear_ae", ae.linear_ae, ae.Autoencoder,
     "Linear autoencoder (no activations, MSE): learns PCA's principal subspace.", {}),
    ("tied_ae", ae.tied_ae, ae.TiedAutoencoder,
     "Dense autoencoder with tied weights: the decoder uses the transposed encoder "
     "kernels.", {}),
    ("recurrent_ae", ae.recurrent_ae, ae.Autoencoder,
     "Recurrent (LSTM) autoencoder: images read as rows, or any (time, features) input.", {}),
    ("denoising_ae", ae.denoising_ae, ae.DenoisingAutoencoder,
     "Denoising autoencoder: Gaussian noise or dropout on the input while training.", {}),
    ("sparse_ae", ae.sparse_ae, ae.Autoencoder,
     "Sparse autoencoder: sigmoid code with L1 and KL-divergence sparsity penalties.", {}),
    ("vae", ae.vae, ae.VariationalAutoencoder,
     "Variational autoencoder (beta-VAE by `beta`): KL via add_loss, samples from the "
     "prior.", {}),
    ("gan", gans.build_gan, gans.GAN,
     "Dense GAN (Goodfellow et al. 2014): fully connected generator and discriminator.",
     _GAN),
    ("dcgan", gans.build_dcgan, gans.GAN,
     "DCGAN (Radford et al. 2015): strided convolutions with batch norm, sized to the "
     "images.", {**_GAN, "xla": True}),
    ("wgan_gp", gan_variants.build_wgan_gp, gan_variants.WGANGP,
     "WGAN-GP (Gulrajani et al. 2017): a layer-normalized critic with a gradient penalty.",
     {**_GAN, "xla": True}),
    ("cgan", gan_variants.build_cgan, gan_variants.ConditionalGAN,
     "Conditional DCGAN: the label embedded into the generator, projected in the "
     "discriminator.", {"consumes": "labeled_images"}),
    # The adversarial autoencoders: the bridge between the families, compared within the
    # autoencoder family (next to the VAE) because they offer an autoencoder's parts.
    ("aae", hybrids.aae, hybrids.AdversarialAutoencoder,
     "Adversarial autoencoder (Makhzani et al. 2015): codes matched to N(0, I) by a code "
     "discriminator; samples from the prior.", {}),
    ("caae", hybrids.caae, hybrids.ConditionalAdversarialAutoencoder,
     "Supervised adversarial autoencoder: the label joins the code in the decoder; draws a "
     "chosen class from the prior.", {"consumes": "labeled_images"}),
    # Image-to-image translation (`--option task=...`).
    ("unet_ae", translation.build_unet_ae, translation.UNetTranslator,
     "U-Net image-to-image translator on the pixel loss (--option "
     "task=super_resolution|colorize|inpaint|sketch).", {"consumes": "task_pairs"}),
    ("pix2pix", translation.build_pix2pix, translation.Pix2Pix,
     "pix2pix (Isola et al. 2017): U-Net translator, patch discriminator, adversarial + "
     "100 L1 (--option task=...).", {"consumes": "task_pairs"}),
    # Sequences: next-frame prediction (video) and time-series generation.
    ("frame_predictor", video.frame_predictor, video.FramePredictor,
     "Next-frame predictor (SimVP-like temporal convolutions), plain fit on the pixel loss; "
     "needs frame sequences (moving_mnist:SPEC).",
     {"consumes": "frame_sequences", "data": "frames"}),
    ("adversarial_predictor", video.adversarial_predictor, video.AdversarialFramePredictor,
     "The frame predictor with a sequence discriminator in train_step (pixel + adversarial "
     "loss).", {"consumes": "frame_sequences", "data": "frames"}),
    ("timegan", timegan.timegan, timegan.TimeGAN,
     "TimeGAN (Yoon et al. 2019): recurrent generator and discriminator in a learned "
     "embedding, with its supervised loss; for series.", {**_GAN, "data": "series"}),
    ("recurrent_gan", timeseries.recurrent_gan, timeseries.RecurrentGAN,
     "Recurrent GAN for series in data space: noise per window unrolled by a GRU, a GRU "
     "discriminator per step, TimeGAN's moment loss.", {**_GAN, "data": "series"}),
    ("recurrent_vae", timeseries.recurrent_vae, timeseries.RecurrentVAE,
     "Recurrent (GRU) VAE for (time, channels) series: samples from its prior.",
     {"data": "series"}),
    # Text (surnames, words, text:FILE): items as rows of character ids.
    ("char_vae", text.char_vae, text.CharVAE,
     "Character-level GRU VAE for text (Bowman et al. 2016): KL annealing and word "
     "dropout; samples from its prior at a temperature.",
     {"data": "text", "consumes": "tokens", "batch_size": 128}),
    ("char_gan", text_gan.char_gan, text_gan.CharGAN,
     "Text GAN: a GRU generator drawing characters, trained through a straight-through "
     "Gumbel-softmax against a convolutional discriminator (RelGAN's shape).",
     {**_GAN, "data": "text", "consumes": "tokens", "batch_size": 128}),
):
    register_model(_name, _builder, model_class=_class, description=_description, **_options)

register_baseline("pca", pca.fit_pca, description="Principal component analysis as a linear "
                                                  "autoencoder (the classical baseline).")
