"""Export trained parts to SavedModel and TF Lite, with a parity check on every export.

Each part a model declares (`keras_aegan.protocol`) becomes its own artifact under one
export folder (`export/<run-name>/` by default):

- `encoder/`, `encoder.tflite`: `encode(images) -> code` (the mean for a VAE).
- `decoder/`, `decoder.tflite`: `decode(code) -> images`.
- `autoencoder/`, `autoencoder.tflite`: `reconstruct(images) -> reconstruction`.
- `generator/`, `generator.tflite`: `generate(z) -> images`, or `generate(z, label)` for a
  conditional GAN.
- a text model's parts take and give int32 character ids (`tokens`), with the noise they
  sample from as inputs (`uniform` in [0, 1)) and a `temperature`; the manifest's
  `model.vocabulary` says which character each id stands for.
- a model of sound (its data's images are spectrograms): `waveform/`, the inverse,
  `invert(spectrogram) -> waveform` by Griffin-Lim, SavedModel only (TF Lite's built-in
  ops lack its inverse FFT and complex arithmetic; the manifest's `waveform.tflite` says
  which ops); see `export.waveform`.
- `<part>.<quantization>.tflite` for each requested quantization (`float16`, `dynamic`,
  `int8`), and `manifest.json` describing all of them.

Every SavedModel has a `serving_default` signature with named inputs and outputs and a
dynamic batch dimension; images are float32 NHWC in [0, 1]. Randomness stays on the host:
the endpoints are deterministic (a GAN's noise `z` is an input).

Before anything lands in the export folder, each artifact is reloaded the way a user
elsewhere would (`tf.saved_model.load`, `ai_edge_litert`'s interpreter) and run on a real
batch; its outputs must match the Keras model's within `CHECKS`. An export that fails this
is reported as failed (`ExportError`) and leaves nothing behind: the export is written to a
temporary folder and moved into place only when complete.

Modules: `exporter` (`export_model`, the folder and its manifest), `artifacts` (one
part's SavedModel, TF Lite conversion, parity) and `waveform` (a sound model's inverse). Export knows nothing of training or data:
`keras_aegan.training.runner.export_run` exports a run folder.
"""

from keras_aegan.export.artifacts import (CHECKS, QUANTIZATIONS, SIGNATURE, ExportError,
                                          build_module, run_tflite)
from keras_aegan.export.exporter import (CALIBRATION_SIZE, MANIFEST, PARITY_BATCH, ExportResult,
                                         check_out, check_parts, check_quantize, export_model)

__all__ = ["CALIBRATION_SIZE", "CHECKS", "MANIFEST", "PARITY_BATCH", "QUANTIZATIONS",
           "SIGNATURE", "ExportError", "ExportResult", "build_module", "check_out",
           "check_parts", "check_quantize", "export_model", "run_tflite"]
