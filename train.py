"""keras_aegan command line: `python train.py --help`."""

import os
import sys

# `import keras_aegan` imports TensorFlow with its start-up lines silenced unless verbose:
# `--verbose` must be known before that import, not only after parsing.
if "--verbose" in sys.argv[1:]:
    os.environ["KERAS_AEGAN_VERBOSE"] = "1"

from keras_aegan.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
