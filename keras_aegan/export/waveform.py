"""The way back to sound, exported beside a spectrogram model's parts.

A model of sound (`DataInfo.audio`: its images are spectrograms) makes images; a user
elsewhere wants a waveform. `export_waveform` writes `waveform/`, a SavedModel whose
`serving_default` signature takes `spectrogram` (`(N, bands, frames, 1)` float32 in
[0, 1], what the generator or decoder gives) and returns `waveform` (`(N, samples)`
float32 at the representation's rate, not normalised): `Spectrogram.invert`, fast
Griffin-Lim as a graph loop of `tf.signal.inverse_stft` / `tf.signal.stft`, its initial
phase from a stateless seeded generator (the same spectrogram gives the same sound).

It is reloaded and checked for parity against the same inverse run eagerly, as every
artifact is. TF Lite is tried too and, where its built-in ops cannot take the inverse,
the manifest says which ops it lacks instead of writing a `.tflite`: with TF 2.21 they
are IRFFT (the inverse FFT of `inverse_stft`), the complex64 arithmetic of the phase
update (Complex, RealDiv, Sub) and the stateless random phase; converting with Select TF
ops (Flex) works, but a Flex model needs TensorFlow's op library on the device, which is
what TF Lite exists to leave behind.
"""

import os
import re

import numpy as np
import tensorflow as tf

from keras_aegan import compat, noise
from keras_aegan.export.artifacts import SIGNATURE, ExportError, _artifact, _dir_size
from keras_aegan.errors import one_line

NAME = "waveform"


def export_waveform(spectrogram, folder, images):
    """Write `folder/waveform/` (SavedModel) for the representation `spectrogram`; returns
    the manifest's `waveform` entry (with its parity record and what TF Lite made of it).

    Args:
        spectrogram: a `keras_aegan.data.audio.Spectrogram`.
        folder: the export folder being written.
        images: a batch of its spectrogram images in [0, 1] for the parity check.
    """
    shape = spectrogram.image_shape
    images = np.asarray(images, "float32")[:4]  # Griffin-Lim on a few is parity enough

    @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32,
                                                name="spectrogram")])
    def invert(spectrogram_images):
        return {"waveform": spectrogram.invert(spectrogram_images)}

    module = tf.Module(name=NAME)
    module.invert = invert
    path = os.path.join(folder, NAME)
    try:
        tf.saved_model.save(module, path, signatures={SIGNATURE: invert.get_concrete_function()})
    except Exception as e:
        raise ExportError(f"{NAME}: writing the SavedModel failed ({type(e).__name__}: "
                          f"{one_line(e, 200)})") from e
    expected = spectrogram.invert(images).numpy()
    got = tf.saved_model.load(path).signatures[SIGNATURE](
        spectrogram=tf.constant(images))["waveform"].numpy()
    record = _artifact("saved_model", NAME, "float32", _dir_size(path), got, expected,
                       max(1.0, float(np.abs(expected).max())))
    return {"saved_model": NAME, "signature": SIGNATURE,
            "about": "spectrogram -> waveform: fast Griffin-Lim "
                     f"({spectrogram.iterations} iterations), the inverse of the data's "
                     "representation",
            "inputs": {"spectrogram": {"dtype": "float32", "shape": [None, *shape],
                                       "range": [0.0, 1.0]}},
            "outputs": {"waveform": {"dtype": "float32",
                                     "shape": [None, spectrogram.samples],
                                     "rate": spectrogram.rate}},
            "representation": spectrogram.describe(),
            "artifacts": [record], "tflite": tflite_verdict(path)}


def tflite_verdict(saved_dir):
    """Whether TF Lite's built-in ops take the SavedModel: `"converts"`, or a sentence
    naming the ops they lack."""
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_dir, signature_keys=[SIGNATURE])
    try:
        with compat.quiet_int8_calibration(), noise.quiet_stderr():
            converter.convert()
    except Exception as e:  # ConverterError and friends
        ops = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op",
                                    str(e))))
        if not ops:
            return f"not converted ({type(e).__name__}: {one_line(e, 160)})"
        return ("not converted: TF Lite's built-in ops lack " + ", ".join(ops)
                + " (Select TF ops would take them, with TensorFlow's op library on the "
                  "device)")
    return "converts"
