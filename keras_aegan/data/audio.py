"""Sound in one representation: clips of one rate and length, their spectrograms, the inverse.

Every audio source reads its files with `read_clip`, brings each clip to the rate and length
of a `Spectrogram` with `Spectrogram.fit_clip`, and hands the models `Spectrogram.images`:
single-channel images in [0, 1] that the image models (conv_ae, vae, dcgan, pca, ...) and the
image study take unchanged. `Spectrogram.waveforms` inverts them (Griffin-Lim) and
`write_wavs` writes the result as 16-bit WAV files. Nothing else in the package makes or
undoes a spectrogram.

The default representation (`SPECTROGRAM`) is 64x64:

- 8 kHz, 8,192 samples (1.024 s): telephone bandwidth (0-4 kHz) holds what tells spoken
  digits apart, the real recordings (Asterisk's) are 8 kHz, and a spoken digit lasts
  0.4-0.9 s at ordinary speeds.
- Frames of 256 samples (32 ms, Hann window) every 128 (16 ms, 50% overlap, which a Hann
  window reconstructs exactly): 64 frames, the image's columns.
- The 128 frequency bins below Nyquist (31.25 Hz apart) averaged in pairs: 64 bands of
  62.5 Hz, the image's rows, the lowest band at the bottom as spectrograms are drawn.
  64x64 is the DCGAN's native size (four stride-2 stages from a 4x4 seed) and costs a
  quarter of 128x128's pixels on a CPU; a 62.5 Hz band still separates the harmonics of a
  voice (100-250 Hz apart).
- Log magnitude: 0 dB is a full-scale sine's peak; the 80 dB below it map linearly to [0, 1]
  (quieter is 0). Clips are peak-normalised before, so loudness does not vary per clip.

The inverse repeats each band's magnitude over its two bins and recovers a phase by fast
Griffin-Lim (Perraudin et al. 2013: Griffin & Lim 1984 with momentum 0.99), 60 iterations
of `tf.signal.inverse_stft` and `tf.signal.stft`.

Bad input is one `DataError` line: an unreadable or corrupt file, an empty clip, a silent
one, one longer than `MAX_SECONDS` (refused from its header, before any sample is read).
Stereo and any rate are accepted: channels are averaged, the rate resampled
(`scipy.signal.resample_poly`).
"""

import dataclasses
import math
import os
import pathlib

import numpy as np

from keras_aegan.errors import DataError, UserError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
# Longer files are refused from their header: a clip source wants clips, and a 10-hour
# recording read whole would take gigabytes before being cut to one second.
MAX_SECONDS = 60.0
_INSTALL_SOUNDFILE = "pip install soundfile"
# Peak level of normalised clips and of written WAVs (headroom against clipping).
_PEAK = 0.9


def _soundfile():
    try:
        import soundfile
    except ImportError:  # also OSError when libsndfile is missing: let that one speak
        raise DataError(f"reading and writing audio needs soundfile: {_INSTALL_SOUNDFILE}") \
            from None
    return soundfile


def read_clip(path, max_seconds=MAX_SECONDS):
    """One audio file -> `(mono float32 samples in [-1, 1], rate)`.

    WAV, FLAC and OGG (and whatever else libsndfile reads), any rate, any number of channels
    (averaged to one). The header is checked before any sample is read.

    Raises:
        DataError: the file is unreadable or corrupt, holds no samples, is longer than
            `max_seconds`, or holds NaN/Inf.
    """
    sf = _soundfile()
    path = os.fspath(path)
    try:
        info = sf.info(path)
    except (RuntimeError, TypeError, ValueError, OSError) as e:
        raise DataError(f"{path}: not a readable audio file ({_reason(e)})") from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise DataError(f"{path}: an empty clip (0 samples)")
    seconds = info.frames / info.samplerate
    if seconds > max_seconds:
        raise DataError(f"{path}: {_duration(seconds)} long; clips of at most "
                        f"{max_seconds:g} s are read (cut the recording into clips first)")
    try:
        samples, rate = sf.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, TypeError, ValueError, OSError) as e:
        raise DataError(f"{path}: a corrupt audio file ({_reason(e)})") from None
    if not len(samples):
        raise DataError(f"{path}: an empty clip (0 samples)")
    if not np.all(np.isfinite(samples)):
        raise DataError(f"{path}: samples contain NaN or Inf")
    return samples.mean(axis=1), int(rate)


def _reason(error):
    return " ".join(str(error).split())[:160] or type(error).__name__


def _duration(seconds):
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 60:.1f} minutes" if seconds >= 60 else f"{seconds:.2f} s"


def resample(samples, rate, new_rate):
    """Samples at `rate` -> at `new_rate` (polyphase, with its anti-aliasing filter)."""
    from scipy.signal import resample_poly

    if rate == new_rate:
        return np.asarray(samples, "float32")
    g = math.gcd(int(rate), int(new_rate))
    return resample_poly(samples, new_rate // g, rate // g, axis=-1).astype("float32")


@dataclasses.dataclass(frozen=True)
class Spectrogram:
    """The representation sound takes here: clip rate and length, STFT framing, dB range.

    Attributes:
        rate: samples per second of every clip.
        samples: samples per clip.
        frame_length: STFT window (Hann) in samples; also the FFT length.
        frame_step: samples between frames.
        bands: frequency rows of the image; the `frame_length / 2` bins below Nyquist are
            averaged in groups of `frame_length / 2 / bands`.
        range_db: the dB below full scale that map to [0, 1].
        iterations: Griffin-Lim iterations of the inverse.
    """

    rate: int = 8000
    samples: int = 8192
    frame_length: int = 256
    frame_step: int = 128
    bands: int = 64
    range_db: float = 80.0
    iterations: int = 60

    def __post_init__(self):
        bins = self.frame_length // 2
        if self.frame_length % 2 or bins % self.bands or self.samples % self.frame_step:
            raise ValueError(f"inconsistent spectrogram: {self}")

    @property
    def frames(self):
        """Columns of the image: one frame every `frame_step` samples."""
        return self.samples // self.frame_step

    @property
    def image_shape(self):
        """`(bands, frames, 1)`: the shape the models see."""
        return (self.bands, self.frames, 1)

    @property
    def band_hz(self):
        """The width of one band (row) in Hz."""
        return self.rate / self.frame_length * (self.frame_length // 2 // self.bands)

    def describe(self):
        """The representation as plain data (for a manifest or a report)."""
        return dict(dataclasses.asdict(self), image_shape=list(self.image_shape),
                    seconds=self.samples / self.rate, band_hz=self.band_hz)

    def fit_clip(self, samples, rate):
        """A mono clip at any rate -> float32 `(self.samples,)` at `self.rate`, peak 0.9.

        Resampled; then the window of `self.samples` centred on the clip's energy (the
        energy-weighted mean time) is kept, zeros padding what the clip does not cover:
        every clip's sound sits in the middle, wherever it was in its file, and what lies
        more than half a window from that centre is cut.

        Raises:
            DataError: the clip is silent (nothing to centre or normalise), or silent
                around its centre of energy.
        """
        x = resample(samples, rate, self.rate)
        energy = x.astype("float64") ** 2
        total = energy.sum()
        if not total > 0:
            raise DataError("a silent clip (every sample is 0)")
        centre = float((np.arange(len(x)) * energy).sum() / total)
        start = int(round(centre - self.samples / 2))
        out = np.zeros(self.samples, "float32")
        src = x[max(start, 0):start + self.samples]
        out[max(-start, 0):max(-start, 0) + len(src)] = src
        peak = np.abs(out).max()
        if not peak > 0:  # two sounds far apart, their centre in the silence between
            raise DataError(f"no sound within {self.samples / self.rate / 2:g} s of the "
                            "clip's centre of energy (cut it into clips of one sound each)")
        return out * np.float32(_PEAK / peak)

    def images(self, waveforms):
        """`(N, samples)` waveforms -> `(N, bands, frames, 1)` float32 images in [0, 1]."""
        import tensorflow as tf

        x = tf.convert_to_tensor(np.asarray(waveforms, "float32").reshape(-1, self.samples))
        magnitude = tf.abs(self._stft(x))[..., :self.frame_length // 2]  # drop Nyquist
        group = self.frame_length // 2 // self.bands
        bands = tf.reduce_mean(tf.reshape(magnitude, (-1, self.frames, self.bands, group)), -1)
        db = 20.0 * tf.math.log(tf.maximum(bands / self._full_scale, 1e-12)) / math.log(10.0)
        pixels = tf.clip_by_value(db / self.range_db + 1.0, 0.0, 1.0)
        # (N, frames, bands) -> rows of bands, low frequencies at the bottom.
        return tf.reverse(tf.transpose(pixels, (0, 2, 1)), [1])[..., None].numpy()

    def waveforms(self, images, seed=0):
        """`(N, bands, frames, 1)` images in [0, 1] -> `(N, samples)` float32 waveforms.

        Fast Griffin-Lim from a seeded random phase; each band's magnitude is spread over
        its bins. The result is at `self.rate`, not normalised.

        Raises:
            UserError: the images are not of `image_shape`.
        """
        import tensorflow as tf

        x = np.asarray(images, "float32")
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape:
            raise UserError(f"spectrograms must be (N, {', '.join(map(str, self.image_shape))}),"
                            f" got shape {np.shape(images)}")
        if not np.all(np.isfinite(x)):
            raise UserError("spectrograms contain NaN or Inf")
        magnitude = self._magnitude(tf.constant(x))
        phase = np.random.default_rng(seed).uniform(-np.pi, np.pi, magnitude.shape)
        return self._griffin_lim(magnitude, tf.constant(phase, tf.float32)).numpy()

    def invert(self, images, seed=0):
        """The inverse in TensorFlow ops only, for a graph (an exported signature):
        `(N, bands, frames, 1)` float32 tensor in [0, 1] -> `(N, samples)` waveforms.

        The same fast Griffin-Lim as `waveforms`, its initial phase drawn by a stateless
        seeded generator (the same images give the same sound); inputs are clipped to
        [0, 1], not checked.
        """
        import tensorflow as tf

        magnitude = self._magnitude(tf.convert_to_tensor(images, tf.float32))
        phase = tf.random.stateless_uniform(tf.shape(magnitude), (seed, 0),
                                            minval=-math.pi, maxval=math.pi)
        return self._griffin_lim(magnitude, phase)

    def _magnitude(self, images):
        # Images -> STFT magnitudes (N, frames, frame_length / 2 + 1): each band's over
        # its bins, the Nyquist bin silent.
        import tensorflow as tf

        pixels = tf.transpose(tf.reverse(tf.clip_by_value(images[..., 0], 0.0, 1.0), [1]),
                              (0, 2, 1))
        bands = self._full_scale * tf.pow(10.0, (pixels - 1.0) * (self.range_db / 20.0))
        magnitude = tf.repeat(bands, self.frame_length // 2 // self.bands, axis=-1)
        return tf.pad(magnitude, [[0, 0], [0, 0], [0, 1]])

    @property
    def _full_scale(self):
        # A full-scale sine on a bin peaks at sum(window) / 2 = frame_length / 4 (Hann).
        return self.frame_length / 4.0

    def _stft(self, x):
        import tensorflow as tf

        return tf.signal.stft(x, self.frame_length, self.frame_step, self.frame_length,
                              window_fn=tf.signal.hann_window, pad_end=True)

    def _istft(self, spectrum):
        import tensorflow as tf

        window = tf.signal.inverse_stft_window_fn(self.frame_step, tf.signal.hann_window)
        x = tf.signal.inverse_stft(spectrum, self.frame_length, self.frame_step,
                                   self.frame_length, window_fn=window)
        return x[:, :self.samples]

    def _griffin_lim(self, magnitude, phase):
        import tensorflow as tf

        momentum = tf.constant(0.99 / 1.99, tf.complex64)
        amplitude = tf.cast(magnitude, tf.complex64)

        def iteration(i, spectrum, previous):
            rebuilt = self._stft(self._istft(spectrum))
            angles = rebuilt - momentum * previous
            unit = angles / tf.cast(tf.maximum(tf.abs(angles), 1e-12), tf.complex64)
            return i + 1, amplitude * unit, rebuilt

        spectrum = tf.complex(magnitude * tf.cos(phase), magnitude * tf.sin(phase))
        # A loop in the graph, not unrolled: an exported inverse stays one STFT pair big.
        _, spectrum, _ = tf.while_loop(lambda i, *_: i < self.iterations, iteration,
                                       (tf.constant(0), spectrum, tf.zeros_like(spectrum)))
        return self._istft(spectrum)

SPECTROGRAM = Spectrogram()


def write_wavs(spectrograms, directory, rate=None, *, spectrogram=SPECTROGRAM, names=None,
               seed=0):
    """Spectrogram images -> 16-bit mono WAV files, one per image, through the inverse.

    Args:
        spectrograms: `(N, bands, frames, 1)` images in [0, 1] of `spectrogram`.
        directory: folder to write into (created).
        rate: the files' sample rate; defaults to the representation's (other rates are
            resampled to).
        spectrogram: the `Spectrogram` they were made with.
        names: file names (without `.wav`); default `sample-000`, `sample-001`, ...
        seed: Griffin-Lim's initial phase.

    Returns:
        The paths written, as `pathlib.Path`s.

    Example:
        >>> write_wavs(generator_samples, "runs/x/wavs")
    """
    from keras_aegan.files import atomic_path

    sf = _soundfile()
    rate = spectrogram.rate if rate is None else int(rate)
    if rate < 1000:
        raise UserError(f"rate must be at least 1000 Hz, got {rate}")
    waves = spectrogram.waveforms(spectrograms, seed=seed)
    names = [f"sample-{i:03d}" for i in range(len(waves))] if names is None else list(names)
    if len(names) != len(waves):
        raise UserError(f"{len(names)} names for {len(waves)} spectrograms")
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, wave in zip(names, waves):
        wave = resample(wave, spectrogram.rate, rate)
        peak = float(np.abs(wave).max())
        if peak > 0:
            wave = wave * (_PEAK / peak)
        path = directory / f"{name}.wav"
        with atomic_path(path) as tmp:
            sf.write(tmp, wave, rate, subtype="PCM_16", format="WAV")
        paths.append(path)
    return paths
