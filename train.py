"""keras_aegan command line: `python train.py --help`."""

import sys

from keras_aegan.cli import main

if __name__ == "__main__":
    sys.exit(main())
