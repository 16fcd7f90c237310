"""Text sources: short items (names, words, a user's lines) as rows of character ids.

- `surnames`: the 88,799 surnames of the US 1990 Census, from the PyPI package `names`
  (its `dist.all.last`; the census lists are public domain, the package's code MIT).
- `first_names`: the Census' 4,275 female and 1,219 male first names, merged (5,163
  distinct: 331 names are on both lists), from the same package.
- `words`: the system word list (`/usr/share/dict/words`, as Debian's `wamerican` or
  `wbritish` install it; public domain): its lower-case entries without an apostrophe
  (about 64,000 of `wamerican`'s 104,000; proper names and possessives are left out).
  Inflections are words of their own (`abacus`, `abacuses`) and may fall on two sides of
  the split, so a held-out hit on `words` may be a learned ending.
- `text:FILE`: a user's file, one item a line, UTF-8 (a byte-order mark is allowed).

Documented choices: the census lists are all capitals and are lower-cased (`smith`); a
user's file keeps its case. Leading and trailing whitespace is stripped and blank lines are
skipped. Each distinct item counts once (the census frequencies are not used), in the
order the file gives. An item has at most `MAX_ITEM_LENGTH` characters and a source at most
`MAX_SYMBOLS` distinct characters; control characters (but tab) are refused.

**The split keeps every item on one side.** Items are deduplicated, then ranked by a
fixed hash of their text (BLAKE2b, not Python's salted `hash`): the first 20 % are `test`,
the next `validation_fraction` of the rest `validation`, the rest `train`. The split
depends on no seed and moves at most a boundary item when a list grows, and no item (no
surname, no word) sits on two sides: a sample that equals a `test` item is a real item the
model never saw.

**Ids.** `Vocabulary` gives padding id `PAD` (0), the boundary marker `END` (1), then one id
per character in code-point order. An item is encoded as its character ids, `END`, then
`PAD` up to the source's `max_length` (the longest item plus one); a decoder may read `END`
as its start token too (one boundary marker, as makemore's `.`). The pipelines of a
`TextSource` yield these int32 rows; `items(split)` gives the strings.
"""

import codecs
import hashlib
import importlib.util
import os
import re

import numpy as np
import tensorflow as tf

from keras_aegan.data.core import SPLITS, DataInfo, Source, register_source
from keras_aegan.errors import DataError, check_int, check_number

PAD, END = 0, 1
# An item is a word, a name, a short phrase: a longer line is a mistake (a paragraph, a
# file with no line breaks), and would make every padded row that long.
MAX_ITEM_LENGTH = 256
# A character model's output layer has one unit per symbol; past this it is no longer a
# model of an alphabet (an ideographic script fits; a file of random code points does not).
MAX_SYMBOLS = 10_000
# Fewer distinct items cannot fill three splits.
MIN_ITEMS = 10
MAX_FILE_BYTES = 256 * 2 ** 20
TEST_FRACTION = 0.2
# The system word lists, first found wins.
WORD_LISTS = ("/usr/share/dict/words", "/usr/share/dict/american-english",
              "/usr/share/dict/british-english")
# Census files in the `names` package -> the sources made of them.
NAMES_FILES = {"surnames": ("dist.all.last",),
               "first_names": ("dist.female.first", "dist.male.first")}
# Control characters (tab aside) and Unicode line/paragraph separators: an item holding
# one could not be written back one a line.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


class Vocabulary:
    """A character vocabulary: `PAD` (0), `END` (1), then one id per symbol.

    Args:
        symbols: the characters, each once; ids follow their order from 2.

    Example:
        >>> vocab = Vocabulary.from_items(["ab", "ba"])
        >>> vocab.encode(["ab"], max_length=4).tolist()
        [[2, 3, 1, 0]]
        >>> vocab.decode([2, 3, 1, 0])
        'ab'
    """

    def __init__(self, symbols):
        self.symbols = tuple(symbols)
        if any(not isinstance(s, str) or len(s) != 1 for s in self.symbols):
            raise ValueError("vocabulary symbols must be single characters")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("vocabulary symbols must be distinct")
        self._ids = {s: i + 2 for i, s in enumerate(self.symbols)}

    @classmethod
    def from_items(cls, items, where="text"):
        """The vocabulary of every character in `items`, in code-point order.

        Raises:
            DataError: more than `MAX_SYMBOLS` distinct characters.
        """
        symbols = set()
        for item in items:
            symbols.update(item)
        if len(symbols) > MAX_SYMBOLS:
            raise DataError(f"{where}: {len(symbols):,} distinct characters; a character "
                            f"vocabulary holds at most {MAX_SYMBOLS:,} (is this text?)")
        return cls(sorted(symbols))

    @property
    def size(self):
        """Number of ids, `PAD` and `END` included."""
        return len(self.symbols) + 2

    def __len__(self):
        return self.size

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and other.symbols == self.symbols

    def __repr__(self):
        return f"Vocabulary({''.join(self.symbols)!r})"

    def encode(self, items, max_length):
        """Items -> int32 `(len(items), max_length)`: ids, `END`, `PAD` to the end.

        Raises:
            DataError: a character outside the vocabulary, or an item of `max_length`
                characters or more (no room for `END`).
        """
        max_length = check_int("max_length", max_length, minimum=1, error=DataError)
        ids = np.zeros((len(items), max_length), "int32")
        for row, item in enumerate(items):
            if len(item) >= max_length:
                raise DataError(f"item {item[:40]!r} has {len(item)} characters; at most "
                                f"{max_length - 1} fit a row of {max_length} (with its end)")
            try:
                ids[row, :len(item)] = [self._ids[c] for c in item]
            except KeyError as e:
                raise DataError(f"character {e.args[0]!r} (U+{ord(e.args[0]):04X}) of "
                                f"{item[:40]!r} is not in the vocabulary") from None
            ids[row, len(item)] = END
        return ids

    def decode(self, ids):
        """Id rows -> strings, each read up to its first `END` or `PAD`.

        Args:
            ids: one row (-> a string) or a 2-D array of rows (-> a list of strings).

        Raises:
            ValueError: an id outside the vocabulary.
        """
        ids = np.asarray(ids)
        if ids.ndim == 1:
            return self.decode(ids[None])[0]
        if ids.ndim != 2 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise ValueError(f"decode takes integer id rows, got shape {ids.shape}, "
                             f"dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"ids must be in [0, {self.size}), got "
                             f"[{ids.min()}, {ids.max()}]")
        out = []
        for row in ids.tolist():
            chars = []
            for i in row:
                if i in (PAD, END):
                    break
                chars.append(self.symbols[i - 2])
            out.append("".join(chars))
        return out

    def get_config(self):
        """Plain data (`{"symbols": [...]}`) that `from_config` rebuilds it from."""
        return {"symbols": list(self.symbols)}

    @classmethod
    def from_config(cls, config):
        return cls(config["symbols"])


def check_items(items, where="text"):
    """Strings to use as items, or a one-line `DataError`.

    Raises:
        DataError: a non-string, an item longer than `MAX_ITEM_LENGTH`, an empty item or
            one holding a control character.
    """
    for number, item in enumerate(items, 1):
        if not isinstance(item, str):
            raise DataError(f"{where}: item {number} is {type(item).__name__}, not a string")
        if not item:
            raise DataError(f"{where}: item {number} is empty")
        if len(item) > MAX_ITEM_LENGTH:
            raise DataError(f"{where}: item {number} has {len(item):,} characters; an item "
                            f"(a word or a name) has at most {MAX_ITEM_LENGTH}")
        control = _CONTROL.search(item)
        if control:
            raise DataError(f"{where}: item {number} holds the control character "
                            f"U+{ord(control.group()):04X}")
    return list(items)


def _rank_key(item):
    return hashlib.blake2b(item.encode("utf-8"), digest_size=8).digest()


def split_items(items, validation_fraction=0.1, test_fraction=TEST_FRACTION):
    """Deduplicate `items` and split them so that every item is on one side only.

    Items are ranked by a fixed hash of their text: the first `test_fraction` (at least
    one) are `test`, the next `validation_fraction` of the rest `validation` (at least one
    when the fraction is positive), the rest `train`. Each split keeps the items' first
    order. Deterministic: no seed, no dependence on the input's order.

    Args:
        items: strings (duplicates are dropped).
        validation_fraction: share of the non-test items held out for validation.
        test_fraction: share of the items held out for testing.

    Returns:
        `{"train": [...], "validation": [...], "test": [...]}`.

    Raises:
        DataError: fewer than `MIN_ITEMS` distinct items.
    """
    validation_fraction = check_number("validation_fraction", validation_fraction, 0, 1,
                                       high_open=True, error=DataError)
    test_fraction = check_number("test_fraction", test_fraction, 0, 1, low_open=True,
                                 high_open=True, error=DataError)
    distinct = list(dict.fromkeys(items))
    if len(distinct) < MIN_ITEMS:
        raise DataError(f"only {len(distinct)} distinct items; a train/validation/test "
                        f"split needs at least {MIN_ITEMS}")
    ranked = sorted(range(len(distinct)), key=lambda i: _rank_key(distinct[i]))
    n_test = max(1, round(test_fraction * len(distinct)))
    rest = len(distinct) - n_test
    n_validation = max(1, round(validation_fraction * rest)) if validation_fraction else 0
    side = {}
    for rank, index in enumerate(ranked):
        side[index] = ("test" if rank < n_test else
                       "validation" if rank < n_test + n_validation else "train")
    splits = {split: [] for split in SPLITS}
    for index, item in enumerate(distinct):
        splits[side[index]].append(item)
    return splits


class TextSource(Source):
    """An opened text source: items as strings (`items`) and as id rows (`ids`, the
    pipelines of `dataset`).

    Make one with `open_source("surnames")` (any text spec) or `text_source(items, name)`.
    `info.image_shape` is `(max_length,)`: one example is a row of `max_length` int32 ids
    (see the module); text has no labels.

    Args:
        name: the source's name (its spec).
        splits: `{split: [items]}` for `train`, `validation` and `test`, each item on one
            side only (`split_items` makes them).
        vocabulary: a `Vocabulary` holding every character of every item.
        max_length: ids per row, more than the longest item's characters.

    Attributes:
        vocabulary: the `Vocabulary` of every item of every split.
        max_length: ids per row: the longest item plus its `END`.

    Example:
        >>> source = open_source("surnames")
        >>> source.items("train")[:3]
        ['smith', 'johnson', 'williams']
        >>> batch = next(iter(source.dataset("train", batch_size=32)))  # (32, 14) int32
    """

    def __init__(self, name, splits, vocabulary, max_length):
        self.vocabulary = vocabulary
        self.max_length = max_length
        self._items = {split: list(splits[split]) for split in SPLITS}
        self._ids = {split: vocabulary.encode(items, max_length)
                     for split, items in self._items.items()}
        info = DataInfo(name=name, image_shape=(max_length,), num_classes=None,
                        splits={split: len(items) for split, items in self._items.items()},
                        vocabulary="".join(vocabulary.symbols))
        super().__init__(info, {split: tf.data.Dataset.from_tensor_slices(ids)
                                for split, ids in self._ids.items()})

    def _check_split(self, split):
        if split not in self._items:
            raise DataError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")

    def items(self, split="train"):
        """The items of one split as strings, in the source's order (a new list)."""
        self._check_split(split)
        return list(self._items[split])

    def ids(self, split="train"):
        """The items of one split as int32 `(n, max_length)` id rows (a copy)."""
        self._check_split(split)
        return self._ids[split].copy()

    def encode(self, items):
        """Strings -> id rows of this source's vocabulary and `max_length`."""
        return self.vocabulary.encode(items, self.max_length)

    def decode(self, ids):
        """Id rows -> strings (see `Vocabulary.decode`)."""
        return self.vocabulary.decode(ids)


def text_source(items, name="text", *, validation_fraction=0.1, max_length=None):
    """A `TextSource` over a list of strings: checked, deduplicated, split (see the module).

    Args:
        items: the strings, one per item.
        name: the source's name in `info` and in error messages.
        validation_fraction: share of the non-test items held out for validation.
        max_length: ids per row; default the longest item plus one (its `END`).

    Raises:
        DataError: no items, too few distinct ones, an item too long or holding a control
            character, an alphabet of more than `MAX_SYMBOLS` characters.

    Example:
        >>> source = text_source(["ana", "bob", "cleo", "dan", "eve", "fay", "gus", "hal",
        ...                       "ivy", "jon"], "tiny")
        >>> source.info.splits
        {'train': 7, 'validation': 1, 'test': 2}
    """
    items = check_items(items, name)
    if not items:
        raise DataError(f"{name}: no items (give one item a line)")
    try:
        splits = split_items(items, validation_fraction)
    except DataError as e:
        raise DataError(f"{name}: {e}") from None
    vocabulary = Vocabulary.from_items(items, name)
    longest = max(map(len, items)) + 1
    if max_length is None:
        max_length = longest
    elif check_int("max_length", max_length, error=DataError) < longest:
        raise DataError(f"{name}: max_length {max_length} is too short for its longest "
                        f"item and its end ({longest})")
    return TextSource(name, splits, vocabulary, max_length)


# ---------------------------------------------------------------------------- reading


def read_lines(path, where=None):
    """A UTF-8 text file's items: its lines, stripped, blank ones skipped.

    Raises:
        DataError: a missing or unreadable file, a binary file (NUL bytes), bytes that
            are not UTF-8, a line longer than `MAX_ITEM_LENGTH` or holding a control
            character, a file of more than `MAX_FILE_BYTES`; the message names the line.
    """
    where = where or path
    if not os.path.isfile(path):
        raise DataError(f"{where}: no such file")
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise DataError(f"{where}: {size / 2 ** 20:,.0f} MB is more than a list of items "
                        f"({MAX_FILE_BYTES // 2 ** 20} MB at most)")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"{where}: cannot read ({e.strerror or e})") from None
    if b"\x00" in raw:
        raise DataError(f"{where}: a binary file (it holds NUL bytes), not text with one "
                        "item a line")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(f"{where}: line {line} is not UTF-8 (byte 0x{raw[e.start]:02x}); "
                        "save the file as UTF-8 text") from None
    items = []
    for number, line in enumerate(text.split("\n"), 1):
        item = line.strip()
        if not item:
            continue
        if len(item) > MAX_ITEM_LENGTH:
            raise DataError(f"{where}: line {number} has {len(item):,} characters; an item "
                            f"(a word or a name, one a line) has at most {MAX_ITEM_LENGTH}")
        control = _CONTROL.search(item)
        if control:
            raise DataError(f"{where}: line {number} holds the control character "
                            f"U+{ord(control.group()):04X}; give plain text, one item a line")
        items.append(item)
    return items


def census_names(kind):
    """The lower-cased names of the `names` package's census lists for `surnames` or
    `first_names`, in the lists' order (most frequent first), each once.

    Raises:
        DataError: the package is not installed, or its files are not as expected.
    """
    spec = importlib.util.find_spec("names")
    if spec is None or spec.origin is None:
        raise DataError(f"{kind} needs the PyPI package names (pip install names)")
    folder = os.path.dirname(spec.origin)
    found = []
    for filename in NAMES_FILES[kind]:
        path = os.path.join(folder, filename)
        # Each line: NAME, its frequency in percent, the cumulative percentage, its rank.
        for number, line in enumerate(read_lines(path, f"{kind} ({path})"), 1):
            fields = line.split()
            if len(fields) != 4 or not fields[0].isalpha():
                raise DataError(f"{kind}: {path} line {number} is not a census line "
                                f"(NAME FREQ CUMULATIVE RANK): {line[:60]!r}")
            found.append(fields[0].lower())
    return list(dict.fromkeys(found))


def system_words(candidates=WORD_LISTS):
    """The lower-case entries without an apostrophe of the first system word list found
    among `candidates`.

    Raises:
        DataError: no word list (with the package that installs one).
    """
    for path in candidates:
        if os.path.isfile(path):
            return [w for w in read_lines(path, f"words ({path})")
                    if w == w.lower() and "'" not in w]
    raise DataError(f"words: no system word list ({candidates[0]}); install one with "
                    "`apt-get install wamerican`, or give your own as text:FILE")


def _no_argument(spec, arg, options):
    if arg:
        raise DataError(f"{spec}: {spec.partition(':')[0]} takes no argument")
    if options.image_shape is not None or options.crop:
        raise DataError(f"{spec}: a text source has no image shape or crop")


@register_source("surnames", "surnames", needs_arg=False)
def open_surnames(spec, arg, options):
    """The US 1990 Census surnames (from the `names` package), lower-cased."""
    _no_argument(spec, arg, options)
    return text_source(census_names("surnames"), spec,
                       validation_fraction=options.validation_fraction)


@register_source("first_names", "first_names", needs_arg=False)
def open_first_names(spec, arg, options):
    """The US 1990 Census female and male first names, merged and lower-cased."""
    _no_argument(spec, arg, options)
    return text_source(census_names("first_names"), spec,
                       validation_fraction=options.validation_fraction)


@register_source("words", "words", needs_arg=False)
def open_words(spec, arg, options):
    """The system word list's lower-case words (see `system_words`)."""
    _no_argument(spec, arg, options)
    return text_source(system_words(WORD_LISTS), spec,
                       validation_fraction=options.validation_fraction)


@register_source("text", "text:FILE")
def open_text(spec, path, options):
    """A user's UTF-8 file, one item a line (case kept)."""
    _no_argument(spec.partition(":")[0], "", options)
    items = read_lines(path, spec)
    if not items:
        raise DataError(f"{spec}: no items: the file is empty or holds blank lines only "
                        "(give one item a line)")
    return text_source(items, spec,
                       validation_fraction=options.validation_fraction)
