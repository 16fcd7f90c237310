"""The autoencoder family: Keras models trained with plain `compile()` + `fit()`.

Every autoencoder holds an `encoder` (images -> code) and a `decoder` (code -> images in
[0, 1]) and exposes `encode(x)`, `decode(z)` and `call(x)` (the reconstruction).
"""

import keras

from keras_aegan import networks
from keras_aegan.errors import UserError
from keras_aegan.registry import register_model


@keras.saving.register_keras_serializable(package="keras_aegan")
class Autoencoder(keras.Model):
    """An encoder and a decoder trained to reconstruct their input.

    Args:
        encoder: a model mapping images `(H, W, C)` in [0, 1] to codes `(latent_dim,)`.
        decoder: a model mapping codes back to images in [0, 1].

    Example:
        >>> ae = Autoencoder(networks.conv_encoder((28, 28, 1), 16),
        ...                  networks.conv_decoder((28, 28, 1), 16))
        >>> ae.compile()
        >>> ae.fit(images, images, epochs=1)
    """

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.image_shape = tuple(encoder.input_shape[1:])
        self.latent_dim = int(decoder.input_shape[-1])
        # The parts are built functional models, so the whole is built too.
        self.built = True

    def call(self, inputs, training=False):
        self.check_images(inputs)
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def encode(self, images):
        """Images in [0, 1] -> codes (deterministic)."""
        self.check_images(images)
        return self.encoder(images, training=False)

    def decode(self, codes):
        """Codes `(batch, latent_dim)` -> images in [0, 1]."""
        return self.decoder(codes, training=False)

    def check_images(self, images):
        if tuple(images.shape[1:]) != self.image_shape:
            raise UserError(f"image_shape: this model was built for images of shape "
                            f"{self.image_shape}, got {tuple(images.shape[1:])}")

    def compile(self, optimizer=None, loss="mse", learning_rate=1e-3, **kwargs):
        """Adam at `learning_rate` and mean squared error unless told otherwise."""
        super().compile(optimizer=optimizer or keras.optimizers.Adam(learning_rate), loss=loss,
                        **kwargs)

    def compile_from_config(self, config):
        # Keras skips compiling models with a custom `compile()` on load; ours takes the
        # same arguments as `Model.compile`, so the saved optimizer state can be restored.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def preview(self, images):
        """Rows of an image grid showing progress: inputs over their reconstructions."""
        return [images, keras.ops.convert_to_numpy(self(images, training=False))]

    def get_config(self):
        config = super().get_config()
        config.update(encoder=keras.layers.serialize(self.encoder),
                      decoder=keras.layers.serialize(self.decoder))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.layers.deserialize(config["encoder"])
        config["decoder"] = keras.layers.deserialize(config["decoder"])
        return cls(**config)


@register_model("conv_ae", family="autoencoder", targets="images")
def conv_ae(image_shape, latent_dim=16, num_classes=None, filters=(32, 64)):
    """Convolutional autoencoder: strided convolutions down, transposed convolutions up."""
    del num_classes  # unsupervised
    return Autoencoder(
        networks.conv_encoder(image_shape, latent_dim, filters),
        networks.conv_decoder(image_shape, latent_dim, tuple(reversed(filters))),
        name="conv_ae")
