"""The networks of the image-to-image translators: a U-Net generator, a patch discriminator.

Both take the inputs a task declares (`Task.input_ports`, `keras_aegan.data.tasks`) and
first turn them into one full-size *condition* image with fixed, weightless layers
(`CONDITIONS`, by task class):

- `super_resolution`: the small image upsampled bilinearly by the factor (a layer TF Lite
  runs; the generator learns the rest, so bicubic is not needed inside);
- `inpaint`: the image with its holes zeroed, and the mask as an extra channel
  (`HoleInput`), so that whatever a user leaves under the mask is ignored;
- `colorize`, `sketch`: the one-channel input itself.

The generator's output then keeps what the task gives (`KEEPS`): an inpainter the known
pixels, a colorizer the given luminance.

Like every network here they speak [0, 1] at their edges and [-1, 1] inside; the last
layers run in float32 so that mixed precision keeps pixels and logits exact.
"""

import math

import keras
from keras import ops

from keras_aegan.data import tasks
from keras_aegan.errors import UserError, check_int

MAX_DEPTH = 4
MAX_CHANNELS = 256


@keras.saving.register_keras_serializable(package="keras_aegan")
class HoleInput(keras.layers.Layer):
    """`[images, mask] -> concat(images * (1 - mask), mask)`: the known pixels and where the
    holes are (mask 1 = hole); the pixels under the holes never reach the network."""

    def call(self, inputs):
        images, mask = inputs
        mask = ops.cast(mask, images.dtype)
        return ops.concatenate([images * (1.0 - mask), mask], axis=-1)

    def compute_output_shape(self, input_shapes):
        images, mask = input_shapes
        return (*images[:-1], images[-1] + mask[-1])


@keras.saving.register_keras_serializable(package="keras_aegan")
class KeepKnown(keras.layers.Layer):
    """`[generated, images, mask] -> mask * generated + (1 - mask) * images`: an inpainter
    changes only the holes."""

    def call(self, inputs):
        generated, images, mask = (ops.cast(t, self.compute_dtype) for t in inputs)
        return mask * generated + (1.0 - mask) * images

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


@keras.saving.register_keras_serializable(package="keras_aegan")
class KeepLuminance(keras.layers.Layer):
    """`[rgb, grey] -> rgb + (grey - luminance(rgb))`, clipped to [0, 1]: each pixel is
    shifted so that its luminance is the given one; a colorizer only chooses colours."""

    def call(self, inputs):
        rgb, grey = (ops.cast(t, self.compute_dtype) for t in inputs)
        # The weights of tf.image.rgb_to_grayscale, which makes the task's input.
        weights = ops.convert_to_tensor([0.2989, 0.5870, 0.1140], dtype=self.compute_dtype)
        luminance = ops.sum(rgb * weights, axis=-1, keepdims=True)
        # The weights sum to 0.9999: dividing by their sum makes the luminance exact.
        return ops.clip(rgb + (grey - luminance) / ops.sum(weights), 0.0, 1.0)

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]


def unet_depth(height, width, max_depth=MAX_DEPTH):
    """Stride-2 levels of a U-Net for an image size: halve while both sides stay even and
    at least 4. 28x28 -> 2 (7x7 at the bottom), 32x32 -> 3, 64x64 -> 4, 8x8 -> 1."""
    depth = 0
    while (depth < max_depth and height % 2 == 0 and width % 2 == 0
           and min(height, width) // 2 >= 4):
        height, width, depth = height // 2, width // 2, depth + 1
    return depth


def _inputs(task):
    return [keras.Input(port.shape, name=port.name) for port in task.input_ports()]


# Task class -> `(task, inputs, prefix) -> the full-size condition image` (see the module
# docstring); a task not listed gives its first input as it is.
CONDITIONS = {
    tasks.SuperResolution: lambda task, inputs, prefix: keras.layers.UpSampling2D(
        task.factor, interpolation="bilinear", name=f"{prefix}_upsample")(inputs[0]),
    tasks.Inpaint: lambda task, inputs, prefix: HoleInput(name=f"{prefix}_holes")(inputs),
}
# Task class -> `(generated, inputs) -> the output`: what the output keeps of the inputs.
KEEPS = {
    tasks.Inpaint: lambda x, inputs: KeepKnown(dtype="float32", name="keep_known")(
        [x, *inputs]),
    tasks.Colorize: lambda x, inputs: KeepLuminance(dtype="float32", name="keep_luminance")(
        [x, inputs[0]]),
}


def _condition(task, inputs, prefix):
    """The full-size condition image a task's inputs make (see the module docstring)."""
    make = CONDITIONS.get(type(task))
    return make(task, inputs, prefix) if make else inputs[0]


def _model_inputs(inputs):
    return inputs[0] if len(inputs) == 1 else inputs


def _batch_norm(name):
    # Synchronized: under MirroredStrategy the statistics are those of the global batch,
    # so one and several replicas train alike (as the GAN family's networks do).
    return keras.layers.BatchNormalization(momentum=0.9, synchronized=True, name=name)


def _conv(x, channels, name, strides=1, activation="leaky_relu", norm=True, kernel=3):
    x = keras.layers.Conv2D(channels, kernel, strides=strides, padding="same",
                            use_bias=not norm, name=name)(x)
    if norm:
        x = _batch_norm(f"{name}_bn")(x)
    if activation == "leaky_relu":
        return keras.layers.LeakyReLU(0.2, name=f"{name}_act")(x)
    if activation == "relu":
        return keras.layers.ReLU(name=f"{name}_act")(x)
    return x


def unet_generator(task, image_shape, width=32, depth=None, blocks=2, name="translator"):
    """U-Net generator (Ronneberger et al. 2015; pix2pix's generator): a task's inputs ->
    images in [0, 1] of `image_shape`.

    A full-size stem, then `depth` stride-2 levels of two 3x3 convolutions (batch norm,
    LeakyReLU 0.2) doubling the channels up to 256, and back up by nearest upsampling and
    3x3 convolutions (batch norm, ReLU), each level concatenated with the encoder's
    features of its size, with `blocks` residual blocks at the bottom; a 1x1 convolution
    and a sigmoid give the pixels. No dropout: the output is deterministic (Isola et al.
    found the dropout noise largely ignored).
    An inpainter's output keeps the known pixels (`KeepKnown`), a colorizer's the given
    luminance (`KeepLuminance`).

    Args:
        task: an image task (`keras_aegan.data.tasks`), e.g. `SuperResolution`.
        image_shape: `(H, W, C)` of the images it makes.
        width: channels at full size; each level down doubles them.
        depth: stride-2 levels; `None` picks `unet_depth(H, W)`. `H` and `W` must be
            divisible by `2**depth`.
        blocks: residual blocks (two 3x3 convolutions each) at the coarsest size.
        name: model name.

    Returns:
        A functional `keras.Model` taking the task's inputs (one tensor, or a list).
    """
    height, width_px, channels = image_shape
    width = check_int("width", width, 1, maximum=1024)
    blocks = check_int("blocks", blocks, 0, maximum=16)
    depth = unet_depth(height, width_px) if depth is None else check_int("depth", depth, 0,
                                                                         maximum=MAX_DEPTH)
    if height % 2 ** depth or width_px % 2 ** depth:
        raise UserError(f"depth {depth} needs image sides divisible by {2 ** depth}, got "
                        f"{height}x{width_px}")
    inputs = _inputs(task)
    x = _condition(task, inputs, "g")
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(x)
    x = _conv(x, width, "stem", norm=False)
    skips = [x]
    for i in range(depth):
        ch = min(width * 2 ** (i + 1), MAX_CHANNELS)
        x = _conv(x, ch, f"down{i}a", strides=2)
        x = _conv(x, ch, f"down{i}b")
        skips.append(x)
    for i in range(blocks):
        # Residual blocks at the coarsest size widen the receptive field where it is cheap.
        y = _conv(x, x.shape[-1], f"block{i}a")
        y = _conv(y, x.shape[-1], f"block{i}b", activation=None)
        x = keras.layers.Add(name=f"block{i}")([x, y])
    for i in reversed(range(depth)):
        ch = min(width * 2 ** i, MAX_CHANNELS)
        x = keras.layers.UpSampling2D(2, name=f"up{i}_resize")(x)
        x = _conv(x, ch, f"up{i}a", activation="relu")
        x = keras.layers.Concatenate(name=f"up{i}_skip")([x, skips[i]])
        x = _conv(x, ch, f"up{i}b", activation="relu")
    x = keras.layers.Conv2D(channels, 1, dtype="float32", name="to_pixels")(x)
    x = keras.layers.Activation("sigmoid", dtype="float32", name="pixels")(x)
    keep = KEEPS.get(type(task))
    if keep:
        x = keep(x, inputs)
    return keras.Model(_model_inputs(inputs), x, name=name)


def patch_stages(height, width):
    """Stride-2 stages of the patch discriminator: 1 to 3, leaving patches of about 4-8
    pixels' worth of logits per side (28x28 -> 2 stages, a 7x7 map of logits)."""
    side = min(height, width)
    return max(1, min(3, int(math.floor(math.log2(side / 4))) if side >= 8 else 1))


def patch_discriminator(task, image_shape, width=32, name="discriminator"):
    """PatchGAN discriminator (Isola et al. 2017): `[task inputs..., image]` -> a map of
    float32 logits, one per overlapping patch, judging whether the image is the real
    answer to the inputs.

    The condition image (see the module docstring) is concatenated with the candidate
    image; then `patch_stages` stride-2 4x4 convolutions (LeakyReLU 0.2, batch norm after
    the first) doubling the channels, one 3x3 convolution and a 3x3 convolution to one
    logit per position.

    Args:
        task: an image task (`keras_aegan.data.tasks`), e.g. `SuperResolution`.
        image_shape: `(H, W, C)` of the images judged.
        width: channels of the first convolution.
        name: model name.

    Returns:
        A functional `keras.Model` taking the task's inputs and the image, in that order.
    """
    width = check_int("d_width", width, 1, maximum=1024)
    inputs = _inputs(task)
    candidate = keras.Input(image_shape, name="candidate")
    x = keras.layers.Concatenate(name="pair")([_condition(task, inputs, "d"), candidate])
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(x)
    stages = patch_stages(*image_shape[:2])
    for i in range(stages):
        x = _conv(x, min(width * 2 ** i, MAX_CHANNELS), f"conv{i}", strides=2, norm=i > 0,
                  kernel=4)
    x = _conv(x, min(width * 2 ** stages, MAX_CHANNELS), "features")
    logits = keras.layers.Conv2D(1, 3, padding="same", dtype="float32", name="logits")(x)
    return keras.Model([*inputs, candidate], logits, name=name)
