"""`apply` on the parts that redraw a picture: an autoencoder's reconstruction of a user's
image, and an unconditional generator's closest picture to it, found by latent search.

A user's own face through a faces-trained `conv_ae` shows what the autoencoder keeps of a
face it never saw; through a `dcgan`, which face of its own the GAN can draw nearest to
it (the search that scores a GAN's reconstructions in the studies:
`evaluation.reconstruction_metrics.latent_optimisation_reconstruction`). Neither is
tiled: a reconstruction of a tile is not a reconstruction of the picture, so an image of
any other size than the model's is refused with the size to crop and resize it to.
"""

import numpy as np

from keras_aegan.apply.images import image_size, read_image, write_png
from keras_aegan.errors import UserError

# Descent steps of the latent search (the studies' reconstruction score uses 100; a user's
# single picture can afford more).
SEARCH_STEPS = 200


def reconstruct_files(spec, part, inputs, outputs, batch_size):
    """Redraw each input image with `part` and write it to its output PNG.

    Args:
        spec: the model's `protocol.ModelSpec`.
        part: an `autoencoder` part (images in, images out) or an unconditional
            `generator` part (noise in, images out).
        inputs, outputs: the image files to read and the PNG files to write.
        batch_size: images per model call (or per search).

    Returns:
        The seconds spent in the model.

    Raises:
        UserError: a conditional generator, or an image not of the model's size; nothing
            is written then.
    """
    import time

    first = part.inputs[0]
    searched = first.kind != "images"
    if searched and (len(part.inputs) != 1 or first.kind != "noise"):
        raise UserError(f"apply redraws pictures with an unconditional generator; this "
                        f"{part.name} also takes {', '.join(p.name for p in part.inputs[1:])}")
    height, width, channels = part.output.shape
    for path in inputs:
        size = image_size(path)
        if size != (height, width):
            raise UserError(f"{path} is {size[0]}x{size[1]}; this model redraws pictures of "
                            f"exactly {height}x{width} (crop and resize yours to it)")
    compute = 0.0
    for start in range(0, len(inputs), batch_size):
        chunk = slice(start, start + batch_size)
        images = np.stack([read_image(path, channels) for path in inputs[chunk]])
        tick = time.perf_counter()
        if searched:
            from keras_aegan.evaluation.reconstruction_metrics import \
                latent_optimisation_reconstruction

            answers, _ = latent_optimisation_reconstruction(
                part.fn, images, spec.latent_dim, steps=SEARCH_STEPS, batch_size=batch_size)
        else:
            answers = np.asarray(part.fn(images), "float32")
        compute += time.perf_counter() - tick
        for path, answer in zip(outputs[chunk], answers):
            write_png(path, answer)
    return compute
