"""`apply`: a trained run's model on a user's own files (PNG/JPEG in, PNG out).

A translator (`unet_ae`, `pix2pix`) turns each image into one output image; a frame
predictor (`frame_predictor`, `adversarial_predictor`) turns a sequence of frames (a folder
of PNG/JPEG frames or an `.npy`) into the frames that follow (`video_files.predict_files`);
an autoencoder redraws each image of its size as its reconstruction, and an unconditional
generator as the nearest picture it can draw, found by latent search
(`reconstruct.reconstruct_files`).

`apply_run(run_dir, input, output, mask=None)` loads the run's `model.keras` and asks it
what it offers (`keras_aegan.protocol`): the first of its parts that has an *applier*
(`APPLIERS`, part name -> function) runs on the files. Nothing here knows model names or
task names (the model's task, `keras_aegan.data.tasks`, checks a user's image itself); a
new kind of part plugs in with `register_applier(part_name, function)`.

The translator's applier (`apply_translator`) reads the part's input ports:

- the first port takes `--input`: each file is read as the port's channels (grey images as
  luminance, colour as RGB; values / 255);
- a port of kind `mask` takes `--mask` (one file for every input, or a folder holding a
  file of the same name per input): white (>= 128) = 1 = fill, black = keep; or the name
  of one of the task's own mask kinds (`eyes`, `box`, ...: `Task.named_inputs`), which
  the task then makes for each image at its size;
- the output is a PNG per input, `scale` times the input size, where `scale` is the ratio
  of the output port's side to the first input port's (4 for a 4x super-resolver).

Images of exactly the port's size are run in batches. Larger images (any size, e.g. a
4000x3000 photo) are cut into overlapping tiles of the port's size, run in batches, and
blended with weights that ramp down over the overlap, so memory stays bounded by the
image itself and a batch of tiles. A tile whose mask is empty is copied, not run (a mask
port promises to keep the pixels it does not name). Images smaller than the port's size
are refused.

Everything the user gives is checked before anything is written: a size the model cannot
take, a mask of another size, a missing or unwanted mask, an unreadable file, an existing
output (without `overwrite`) each raise a `UserError` (the CLI prints one line, exit 2).

Example:
    >>> result = apply_run("runs/pix2pix-mnist", "small.png", "big.png")
    >>> result.summary()
"""

import concurrent.futures
import dataclasses
import os
import time

import numpy as np

from keras_aegan.apply.images import image_size, read_image, write_png
from keras_aegan.errors import UserError, check_int

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
DEFAULT_BATCH = 256
IO_THREADS = 4


@dataclasses.dataclass
class ApplyOptions:
    """What the user asked for, as given: each applier resolves the paths its way."""

    input: str
    output: str
    mask: str | None = None
    batch_size: int = DEFAULT_BATCH
    overlap: int | None = None
    overwrite: bool = False


@dataclasses.dataclass
class ApplyRequest:
    """A translator's files, resolved: pairs of input and output paths, and the paths
    of extra inputs by name (`mask`: one path per input, or `None`)."""

    inputs: list
    outputs: list
    extra: dict
    batch_size: int = DEFAULT_BATCH
    overlap: int | None = None


@dataclasses.dataclass
class ApplyResult:
    """What `apply_run` did: the files written, how many images and tiles were run, and
    the seconds spent (`seconds`: everything; `compute_seconds`: in the model)."""

    outputs: list
    images: int
    tiles: int
    seconds: float
    compute_seconds: float

    def summary(self):
        rate = self.images / max(self.seconds, 1e-9)
        rate = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"
        tiles = f", {self.tiles:,} tiles" if self.tiles else ""
        return (f"wrote {len(self.outputs)} file(s) in {self.seconds:.2f}s ({rate} "
                f"images/s{tiles})")


APPLIERS = {}


def register_applier(part_name, function):
    """Let `apply` run models that offer a part called `part_name`.

    Args:
        part_name: a name from `protocol.PART_NAMES`.
        function: `(model, spec, part, options) -> ApplyResult`, `options` an
            `ApplyOptions`; it checks every input before writing any output.
    """
    if part_name in APPLIERS:
        raise ValueError(f"an applier for {part_name!r} is registered twice")
    APPLIERS[part_name] = function


def apply_run(run_dir, input, output, *, mask=None, batch_size=DEFAULT_BATCH, overlap=None,
              overwrite=False):
    """Run a trained run folder's model on image files.

    Args:
        run_dir: a run folder written by `keras_aegan.training.runner.train` (with `model.keras`).
        input: an image file (PNG/JPEG) or a folder of them; for a frame predictor, one
            sequence: a folder of frames or an `.npy` array `(T, H, W[, C])`.
        output: for a file input, the output `.png` file (or an existing folder); for a
            folder input, the output folder (created); for a frame predictor, a folder of
            PNG frames and a strip, or an `.npy` file.
        mask: for a model with a mask input: a mask image (white = fill) for every input,
            a folder with a mask of the same file name per input, or a mask kind the
            model's task makes itself (e.g. `eyes`, `box` for inpainting).
        batch_size: images or tiles per model call.
        overlap: tile overlap in input pixels (default: a quarter of the tile side).
        overwrite: replace existing output files.

    Returns:
        An `ApplyResult`.

    Raises:
        UserError: a bad run folder, input, mask, size or output; nothing is written then.
    """
    from keras_aegan import protocol
    from keras_aegan.training.runner import load_model

    batch_size = check_int("batch_size", batch_size, 1, maximum=65536)
    if overlap is not None:
        overlap = check_int("overlap", overlap, 0)
    run_dir = os.fspath(run_dir)
    if not os.path.isdir(run_dir):
        raise UserError(f"{run_dir}: no such run folder")
    model_path = os.path.join(run_dir, "model.keras")
    if not os.path.isfile(model_path):
        raise UserError(f"{run_dir}: no trained model (model.keras is missing; training "
                        "writes it when it finishes)")
    options = ApplyOptions(os.fspath(input), os.fspath(output),
                           None if mask is None else os.fspath(mask), batch_size, overlap,
                           overwrite)
    model = load_model(model_path)
    spec = protocol.describe(model)
    for part in spec.parts:
        if part.name in APPLIERS:
            return APPLIERS[part.name](model, spec, part, options)
    raise UserError(f"apply cannot run this {spec.family} model: none of its parts "
                    f"({', '.join(spec.part_names) or 'none'}) takes files (apply runs: "
                    f"{', '.join(APPLIERS)})")


# --------------------------------------------------------------------------------- paths


def _is_image(name):
    return name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")


def _pairs(input, output, overwrite):
    """`(inputs, outputs)`: the image files to read and the PNG files to write."""
    if os.path.isdir(input):
        names = sorted(n for n in os.listdir(input) if _is_image(n)
                       and os.path.isfile(os.path.join(input, n)))
        if not names:
            raise UserError(f"{input}: no PNG or JPEG images in this folder")
        if os.path.exists(output) and not os.path.isdir(output):
            raise UserError(f"{output}: the input is a folder, so the output must be a "
                            "folder, and this is a file")
        inputs = [os.path.join(input, n) for n in names]
        outputs = [os.path.join(output, os.path.splitext(n)[0] + ".png") for n in names]
        stems = [os.path.splitext(n)[0] for n in names]
        twice = sorted({s for s in stems if stems.count(s) > 1})
        if twice:
            raise UserError(f"{input}: several images would be written as {twice[0]}.png; "
                            "rename one")
    elif os.path.isfile(input):
        if not _is_image(os.path.basename(input)):
            raise UserError(f"{input}: not a PNG or JPEG file")
        inputs = [input]
        if os.path.isdir(output):
            output = os.path.join(output, os.path.splitext(os.path.basename(input))[0] + ".png")
        elif not output.lower().endswith(".png"):
            raise UserError(f"{output}: the output must be a .png file or an existing folder")
        outputs = [output]
    else:
        raise UserError(f"{input}: no such file or folder")
    if not overwrite:
        existing = [o for o in outputs if os.path.exists(o)]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise UserError(f"{existing[0]} already exists{more}; pass --overwrite to "
                            "replace it")
    sources = {os.path.abspath(i) for i in inputs}
    for path in outputs:
        if os.path.abspath(path) in sources:
            raise UserError(f"{path}: the output would overwrite an input")
    return inputs, outputs


def _companions(path, inputs, what):
    """One `what` file per input: the same file for all, or same-named files in a folder."""
    if os.path.isfile(path):
        if not _is_image(os.path.basename(path)):
            raise UserError(f"{path}: the {what} must be a PNG or JPEG file")
        return [path] * len(inputs)
    if os.path.isdir(path):
        stems = {os.path.splitext(n)[0]: os.path.join(path, n) for n in sorted(os.listdir(path))
                 if _is_image(n)}
        found = []
        for image in inputs:
            stem = os.path.splitext(os.path.basename(image))[0]
            if stem not in stems:
                raise UserError(f"{path}: no {what} named {stem}.png for {image}")
            found.append(stems[stem])
        return found
    raise UserError(f"{path}: no such {what} file or folder")


# ------------------------------------------------------------------------------- tiling


def tile_starts(size, tile, overlap):
    """Start offsets of tiles of `tile` pixels covering `size` with at least `overlap`
    pixels shared between neighbours; the last tile ends at the edge."""
    if size <= tile:
        return [0]
    stride = max(1, tile - overlap)
    starts = list(range(0, size - tile, stride))
    return starts + [size - tile]


def blend_window(height, width, overlap):
    """Weights `(height, width, 1)` that ramp linearly from near 0 at the border to 1
    `overlap` pixels in, so overlapping tiles fade into each other."""

    def ramp(n):
        if overlap <= 0:
            return np.ones(n, "float32")
        i = np.arange(n, dtype="float32")
        return np.minimum(1.0, np.minimum(i + 1.0, n - i) / (overlap + 1.0))

    return (ramp(height)[:, None] * ramp(width)[None, :])[..., None]


def call_padded(fn, feeds, batch_size):
    """`fn(*feeds)` as float32 numpy. A last batch of at least half `batch_size` is padded
    to `batch_size` (the padding dropped from the result), so that a traced `fn` is not
    traced again for it; a smaller one (a single image) is run as it is."""
    count = len(feeds[0])
    if batch_size // 2 <= count < batch_size:
        feeds = [np.concatenate([f, np.repeat(f[-1:], batch_size - count, axis=0)])
                 for f in feeds]
    return np.asarray(fn(*feeds), "float32")[:count]


def run_tiled(fn, arrays, tile, scale, out_channels, overlap, batch_size, copy_when=None):
    """Run `fn` over overlapping tiles of same-sized arrays and blend the results.

    Args:
        fn: `(*batches) -> outputs`, tiles of `tile` pixels in, `scale` times larger out.
        arrays: one `(H, W, c)` array per input, all of the same `H, W`.
        tile: `(th, tw)`, the side lengths fn takes.
        scale: output pixels per input pixel (an integer).
        out_channels: channels of fn's output.
        overlap: pixels shared between neighbouring tiles (input pixels).
        batch_size: tiles per call of fn.
        copy_when: optional `(index of a mask array, index of an image array)`: a tile
            whose mask is all 0 is the image tile itself, and is not run.

    Returns:
        `(image, tiles run)`: the `(H * scale, W * scale, out_channels)` result.
    """
    height, width = arrays[0].shape[:2]
    th, tw = tile
    coords = [(y, x) for y in tile_starts(height, th, overlap)
              for x in tile_starts(width, tw, overlap)]
    out = np.zeros((height * scale, width * scale, out_channels), "float32")
    weight = np.zeros((height * scale, width * scale, 1), "float32")
    window = blend_window(th * scale, tw * scale, overlap * scale)
    run = []
    for y, x in coords:
        if copy_when is not None and not arrays[copy_when[0]][y:y + th, x:x + tw].any():
            piece = arrays[copy_when[1]][y:y + th, x:x + tw]
            out[y:y + th, x:x + tw] += piece * window
            weight[y:y + th, x:x + tw] += window
        else:
            run.append((y, x))
    for start in range(0, len(run), batch_size):
        chunk = run[start:start + batch_size]
        feeds = [np.stack([a[y:y + th, x:x + tw] for y, x in chunk]) for a in arrays]
        results = call_padded(fn, feeds, batch_size)
        for (y, x), result in zip(chunk, results):
            ys, xs = slice(y * scale, (y + th) * scale), slice(x * scale, (x + tw) * scale)
            out[ys, xs] += result * window
            weight[ys, xs] += window
    return out / np.maximum(weight, 1e-12), len(run)


# --------------------------------------------------------------------------- translator


@dataclasses.dataclass(frozen=True)
class NamedInput:
    """An extra input the model's task makes itself from each user image (`--mask eyes`):
    `make(image)` -> the input for that image; `channels`: the image's channels to read."""

    name: str
    make: object
    channels: int


def apply_translator(model, spec, part, options):
    """The translator's applier: one output PNG per input image (see the module's notes)."""
    from keras_aegan.data.tasks import task_from_description

    inputs, outputs = _pairs(options.input, options.output, options.overwrite)
    extra = {}
    if options.mask is not None:
        task = task_from_description(spec.task, spec.image_shape)
        names = task.named_inputs().get("mask", ())
        if options.mask in names and not os.path.exists(options.mask):
            extra["mask"] = NamedInput(
                options.mask, lambda image, name=options.mask: task.named_input("mask", name,
                                                                               image),
                part.inputs[0].shape[-1])
        elif not os.path.exists(options.mask) and names:
            raise UserError(f"{options.mask}: no such mask file or folder, nor a mask kind "
                            f"of this model ({', '.join(names)})")
        else:
            extra["mask"] = _companions(options.mask, inputs, "mask")
    request = ApplyRequest(inputs, outputs, extra, options.batch_size, options.overlap)
    return _translate(model, spec, part, request)


def apply_predictor(model, spec, part, options):
    """The frame predictor's applier: the frames that follow a user's sequence (a folder
    of frames or an `.npy`), written as PNGs and a strip, or as one `.npy`."""
    from keras_aegan.apply.frames import predict_files

    if options.mask is not None:
        raise UserError("--mask is for inpainting models; a frame predictor takes a "
                        "sequence of frames as --input")
    start = time.perf_counter()
    written = predict_files(model, options.input, options.output, options.overwrite)
    seconds = time.perf_counter() - start
    return ApplyResult(written, 1, 0, seconds, seconds)


def apply_reconstruction(model, spec, part, options):
    """The applier of an `autoencoder` part and of an unconditional `generator`: each
    image redrawn by the model (`reconstruct.reconstruct_files`), one PNG per input."""
    from keras_aegan.apply.reconstruct import reconstruct_files

    if options.mask is not None:
        raise UserError(f"--mask is for inpainting models; this {part.name} redraws whole "
                        "pictures")
    inputs, outputs = _pairs(options.input, options.output, options.overwrite)
    start = time.perf_counter()
    compute = reconstruct_files(spec, part, inputs, outputs, options.batch_size)
    return ApplyResult(outputs, len(inputs), 0, time.perf_counter() - start, compute)


def _translate(model, spec, part, request):
    """The applier of a `translator` part: see the module docstring."""
    import tensorflow as tf

    from keras_aegan.data.tasks import task_from_description

    task = task_from_description(spec.task, spec.image_shape)
    main, extras = part.inputs[0], part.inputs[1:]
    wanted = {p.kind for p in extras}
    for name in request.extra:
        if name not in wanted:
            raise UserError(f"this {task.name} model takes no --{name}")
    for port in extras:
        if port.kind not in request.extra:
            raise UserError(f"this model also needs --{port.kind} FILE ({part.about})")
    th, tw, channels = main.shape
    out_h, out_w, out_channels = part.output.shape
    if out_h % th or out_w % tw or out_h // th != out_w // tw:
        raise UserError(f"apply cannot tile a translator from {th}x{tw} to {out_h}x{out_w}")
    scale = out_h // th
    overlap = max(1, min(th, tw) // 4) if request.overlap is None else request.overlap
    if overlap >= min(th, tw):
        raise UserError(f"overlap must be below the tile side {min(th, tw)}, got {overlap}")
    copy_when = None
    if "mask" in [p.kind for p in part.inputs] and main.kind == "images" \
            and channels == out_channels and scale == 1:
        copy_when = ([p.kind for p in part.inputs].index("mask"), 0)
    fn = tf.function(part.fn, reduce_retracing=True)
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(IO_THREADS) as pool:
        # Check every file before writing anything.
        sizes = list(pool.map(image_size, request.inputs))
        for path, size in zip(request.inputs, sizes):
            task.check_input(size, path)
        for port in (p for p in extras if not isinstance(request.extra[p.kind], NamedInput)):
            companions = request.extra[port.kind]
            for path, companion, size, other in zip(request.inputs, companions, sizes,
                                                    pool.map(image_size, companions)):
                if other != size:
                    raise UserError(f"the {port.kind} {companion} is {other[0]}x{other[1]} "
                                    f"but the image {path} is {size[0]}x{size[1]}")
        exact = [i for i, size in enumerate(sizes) if size == (th, tw)]
        compute = _translate_batches(pool, fn, request, part, exact)
    tiles = 0
    for i in (i for i, size in enumerate(sizes) if size != (th, tw)):
        arrays = [_read_port(request, port, i) for port in part.inputs]
        tick = time.perf_counter()
        result, count = run_tiled(fn, arrays, (th, tw), scale, out_channels, overlap,
                                  request.batch_size, copy_when)
        compute += time.perf_counter() - tick
        tiles += count
        write_png(request.outputs[i], result)
    return ApplyResult(list(request.outputs), len(sizes), tiles,
                       time.perf_counter() - start, compute)


def _translate_batches(pool, fn, request, part, indices):
    """Translate the images at `indices` (each the model's exact size) in batches; the
    pool's threads read the next batch and write the last one while the model runs on
    this one (Pillow decodes and encodes with the GIL released). Returns the model's
    seconds."""
    chunks = [indices[i:i + request.batch_size]
              for i in range(0, len(indices), request.batch_size)]

    def read(chunk):
        return [[pool.submit(_read_port, request, port, i) for i in chunk]
                for port in part.inputs]

    compute, writes = 0.0, []
    reading = read(chunks[0]) if chunks else None
    for k, chunk in enumerate(chunks):
        feeds = [np.stack([f.result() for f in port]) for port in reading]
        if k + 1 < len(chunks):
            reading = read(chunks[k + 1])
        tick = time.perf_counter()
        results = call_padded(fn, feeds, request.batch_size)
        compute += time.perf_counter() - tick
        writes += [pool.submit(write_png, request.outputs[i], result)
                   for i, result in zip(chunk, results)]
    for write in writes:
        write.result()
    return compute


def _read_port(request, port, index):
    named = request.extra.get(port.kind)
    if isinstance(named, NamedInput):
        return named.make(read_image(request.inputs[index], named.channels))
    if port.kind in request.extra:
        value = read_image(request.extra[port.kind][index], port.shape[-1])
        return (value >= 0.5).astype("float32") if port.kind == "mask" else value
    return read_image(request.inputs[index], port.shape[-1])


register_applier("translator", apply_translator)
register_applier("predictor", apply_predictor)
register_applier("autoencoder", apply_reconstruction)
register_applier("generator", apply_reconstruction)
