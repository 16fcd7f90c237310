"""keras_aegan command line: `python train.py --help`."""

import os
import sys

# Quiet TensorFlow's C++ start-up chatter (CUDA probing on CPU machines); errors still show.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_aegan.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
