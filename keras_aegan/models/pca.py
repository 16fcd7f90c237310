"""Principal component analysis as a linear autoencoder: the classical floor both families
are compared with."""

import keras
import numpy as np

from keras_aegan.errors import UserError, check_int
from keras_aegan.models import networks
from keras_aegan.models.autoencoders import Autoencoder


@keras.saving.register_keras_serializable(package="keras_aegan")
class PCAAutoencoder(Autoencoder):
    """Principal component analysis as a linear autoencoder: the classical baseline.

    The encoder projects centred images on the top `latent_dim` principal components,
    the decoder maps codes back and clips to [0, 1]; the weights come from scikit-learn's
    `PCA`, not from training. As a keras_aegan model it answers every question the study
    and export ask, like the autoencoders it is compared with.

    Example:
        >>> pca = PCAAutoencoder.fit_images(train_images, latent_dim=16)
        >>> codes = pca.encode(test_images)
    """

    family = "baseline"

    @classmethod
    def fit_images(cls, images, latent_dim, seed=0):
        """Fit PCA on `(N, H, W, C)` images in [0, 1] and return it as a model."""
        from sklearn.decomposition import PCA

        images = np.asarray(images, "float32")
        flat = images.reshape(len(images), -1)
        latent_dim = check_int("latent_dim", latent_dim)
        if latent_dim > min(flat.shape):
            raise UserError(f"latent_dim {latent_dim} exceeds what PCA can fit "
                            f"({min(flat.shape)})")
        pca = PCA(n_components=latent_dim, random_state=seed).fit(flat)
        components = pca.components_.astype("float32")  # (k, D)
        mean = pca.mean_.astype("float32")
        image_shape = images.shape[1:]
        encoder = networks.dense_encoder(image_shape, latent_dim, units=())
        encoder.get_layer("code").set_weights([components.T, -mean @ components.T])
        codes = keras.Input((latent_dim,), name="code")
        x = keras.layers.Dense(flat.shape[1], name="pixels")(codes)
        x = keras.layers.ReLU(max_value=1.0, name="clip")(x)  # clip to [0, 1]
        decoder = keras.Model(codes, keras.layers.Reshape(image_shape)(x), name="decoder")
        decoder.get_layer("pixels").set_weights([components, mean])
        return cls(encoder, decoder, name="pca")


def fit_pca(images, latent_dim, seed=0):
    """PCA fitted on images, as a `PCAAutoencoder` (the `pca` baseline)."""
    return PCAAutoencoder.fit_images(images, latent_dim, seed=seed)
