"""Text: the sources (census names, the word list, a user's file), their split, the character
n-gram baseline and the text measures on hand-made lists."""

import importlib.util
import json
import math
import os
import random

import numpy as np
import pytest

from keras_aegan.data import open_source
from keras_aegan.data import text
from keras_aegan.data.text import END, PAD, Vocabulary, split_items, text_source
from keras_aegan.errors import DataError, UserError
from keras_aegan.evaluation import text_metrics as tm
from keras_aegan.models.ngram import CharNGram

needs_names = pytest.mark.skipif(importlib.util.find_spec("names") is None,
                                 reason="the PyPI package names is not installed "
                                        "(pip install names)")
needs_words = pytest.mark.skipif(not any(os.path.isfile(p) for p in text.WORD_LISTS),
                                 reason="no system word list (apt-get install wamerican)")

NAMES = ["ana", "bob", "cleo", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kai", "lea"]


def assert_disjoint_cover(source, items):
    sides = [set(source.items(split)) for split in ("train", "validation", "test")]
    assert sum(map(len, sides)) == len(set(items))
    assert set.union(*sides) == set(items)
    assert not (sides[0] & sides[1] or sides[0] & sides[2] or sides[1] & sides[2])


# --------------------------------------------------------------------------- sources


@pytest.fixture(scope="module")
def surnames():
    return open_source("surnames")


@needs_names
def test_surnames_source(surnames):
    info = surnames.info
    assert info.splits == {"train": 63935, "validation": 7104, "test": 17760}
    assert sum(info.splits.values()) == 88799 and not info.labeled
    assert surnames.vocabulary.symbols == tuple("abcdefghijklmnopqrstuvwxyz")
    assert surnames.max_length == 14 and info.image_shape == (14,)  # 13 letters + end
    train = surnames.items("train")
    assert train[:2] == ["smith", "johnson"]  # the census order, lower-cased
    ids = surnames.ids("test")
    assert ids.shape == (17760, 14) and ids.dtype == np.int32
    assert surnames.decode(ids) == surnames.items("test")
    assert (ids == END).sum(axis=1).tolist() == [1] * len(ids)
    batch = next(iter(surnames.dataset("train", batch_size=8, seed=0))).numpy()
    assert batch.shape == (8, 14) and batch.dtype == np.int32
    assert set(surnames.decode(batch)) <= set(train)
    assert_disjoint_cover(surnames, text.census_names("surnames"))


@needs_names
def test_first_names_merge_both_lists_once():
    source = open_source("first_names")
    names = text.census_names("first_names")
    assert len(names) == 5163 and len(set(names)) == 5163  # 4,275 + 1,219 - 331 on both
    assert {"mary", "james"} <= set(names)
    assert_disjoint_cover(source, names)


@needs_words
def test_words_source_keeps_lower_case_words():
    source = open_source("words")
    items = [w for split in ("train", "validation", "test") for w in source.items(split)]
    assert len(items) > 10_000
    assert all(w == w.lower() and "'" not in w for w in items)


def test_words_from_a_given_list_and_without_one(tmp_path, monkeypatch):
    words = tmp_path / "words"
    words.write_text("\n".join(["Apple", "apple's", "eBay"] + NAMES) + "\n", encoding="utf-8")
    monkeypatch.setattr(text, "WORD_LISTS", (str(tmp_path / "absent"), str(words)))
    source = open_source("words")
    assert sorted(w for s in ("train", "validation", "test") for w in source.items(s)) == NAMES
    monkeypatch.setattr(text, "WORD_LISTS", (str(tmp_path / "absent"),))
    with pytest.raises(DataError, match="apt-get install wamerican") as e:
        open_source("words")
    assert "\n" not in str(e.value)


def test_text_file_items_case_whitespace_duplicates(tmp_path):
    path = tmp_path / "items.txt"
    lines = ["  Ana ", "bob", "", "Bob", "bob", "Zoë", "New York"] + NAMES[3:] + ["\t"]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    source = open_source(f"text:{path}")
    expected = ["Ana", "bob", "Bob", "Zoë", "New York"] + NAMES[3:]
    assert_disjoint_cover(source, expected)
    assert "ë" in source.vocabulary.symbols and " " in source.vocabulary.symbols
    assert source.max_length == len("New York") + 1
    for split in ("train", "validation", "test"):
        assert source.decode(source.ids(split)) == source.items(split)
    # Each split keeps the file's order.
    order = {item: i for i, item in enumerate(expected)}
    train = source.items("train")
    assert train == sorted(train, key=order.get)


def _bad_inputs(tmp_path):
    """name -> (file bytes, the message's telling words)."""
    symbols = "".join(chr(0x10000 + i) for i in range(100_000))
    return {
        "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        "empty": (b"", "empty"),
        "blank": (b"\n  \n\t\n", "empty"),
        "long_line": (b"a" * (10 * 2 ** 20), "10,485,760 characters"),
        "alphabet": ("\n".join(symbols[i:i + 100] for i in range(0, 100_000, 100))
                     .encode("utf-8"), "100,000 distinct characters"),
        "latin1": ("ana\nbob\nJosé\n".encode("latin-1"), "line 3 is not UTF-8"),
        "control": (b"ana\nb\x1bob\n", "control character U+001B"),
        "few": (b"ana\nbob\nana\n", "only 2 distinct items"),
    }


@pytest.mark.parametrize("case", ["binary", "empty", "blank", "long_line", "alphabet",
                                  "latin1", "control", "few"])
def test_bad_text_files_fail_in_one_line_and_write_nothing(tmp_path, case):
    content, words = _bad_inputs(tmp_path)[case]
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError) as e:
        open_source(f"text:{path}")
    message = str(e.value)
    assert words in message and "\n" not in message and len(message) < 300, message
    assert os.listdir(tmp_path) == ["bad.txt"]


def test_text_spec_mistakes(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        open_source(f"text:{tmp_path / 'absent.txt'}")
    with pytest.raises(DataError, match="needs a path"):
        open_source("text")
    with pytest.raises(DataError, match="takes no argument"):
        open_source("words:big")
    path = tmp_path / "items.txt"
    path.write_text("\n".join(NAMES), encoding="utf-8")
    with pytest.raises(DataError, match="no image shape"):
        open_source(f"text:{path}", image_shape=(8, 8, 1))


# ----------------------------------------------------------------------------- split


def test_split_is_deterministic_disjoint_and_order_free():
    items = [f"item{i}" for i in range(1000)] + ["item7", "item8"]  # two duplicates
    splits = split_items(items, validation_fraction=0.1)
    sizes = {k: len(v) for k, v in splits.items()}
    assert sizes == {"test": 200, "validation": 80, "train": 720}
    sides = [set(v) for v in splits.values()]
    assert set.union(*sides) == set(items) and sum(map(len, sides)) == 1000
    shuffled = list(items)
    random.Random(3).shuffle(shuffled)
    again = split_items(shuffled, validation_fraction=0.1)
    assert {k: set(v) for k, v in again.items()} == {k: set(v) for k, v in splits.items()}
    # A different validation share leaves the test split as it was.
    assert split_items(items, validation_fraction=0.3)["test"] == splits["test"]
    # A new item moves at most one old item across the test boundary.
    grown = split_items(items + ["a new item"], validation_fraction=0.1)
    moved = set(splits["test"]) ^ (set(grown["test"]) - {"a new item"})
    assert len(moved) <= 1


def test_split_and_text_source_refuse_too_few_items():
    with pytest.raises(DataError, match="only 3 distinct items"):
        split_items(["a", "b", "c", "a"])
    with pytest.raises(DataError, match="no items"):
        text_source([], "empty")
    with pytest.raises(DataError, match="item 2 is int"):
        text_source(["a", 3], "mixed")


# ------------------------------------------------------------------------ vocabulary


def test_vocabulary_encodes_pads_and_decodes():
    vocab = Vocabulary.from_items(["cab", "abc"])
    assert vocab.symbols == ("a", "b", "c") and vocab.size == 5 and PAD == 0 and END == 1
    ids = vocab.encode(["cab", "a"], max_length=5)
    np.testing.assert_array_equal(ids, [[4, 2, 3, 1, 0], [2, 1, 0, 0, 0]])
    assert vocab.decode(ids) == ["cab", "a"] and vocab.decode(ids[0]) == "cab"
    assert Vocabulary.from_config(json.loads(json.dumps(vocab.get_config()))) == vocab
    with pytest.raises(DataError, match="'d'"):
        vocab.encode(["bad"], max_length=5)
    with pytest.raises(DataError, match="at most 2 fit"):
        vocab.encode(["abc"], max_length=3)
    with pytest.raises(ValueError, match="ids must be in"):
        vocab.decode([[5, 1]])


# --------------------------------------------------------------------------- n-grams


def test_ngram_log_prob_by_hand():
    # Add-k, k = 1, bigrams of "ab": after ^ a, after a b, after b $; each is
    # (1 + 1) / (1 + 3) with three symbols ($, a, b).
    add_k = CharNGram(order=2, smoothing="add_k", k=1.0).fit(["ab"])
    assert add_k.log_prob(["ab"])[0] == pytest.approx(3 * math.log(0.5))
    # Witten-Bell: unigram counts $1 a1 b1, 3 followers: (1 + 3 / 3) / (3 + 3) = 1/3 each;
    # each bigram context saw one symbol once: (1 + 1 * 1/3) / (1 + 1) = 2/3.
    wb = CharNGram(order=2).fit(["ab"])
    assert wb.log_prob(["ab"])[0] == pytest.approx(3 * math.log(2 / 3))
    assert wb.log_prob(["ax"])[0] == -np.inf  # x is outside the alphabet
    assert wb.bits_per_char(["ab"]) == pytest.approx(-math.log2(2 / 3))


@pytest.mark.parametrize("smoothing", ["witten_bell", "add_k"])
def test_ngram_distributions_sum_to_one(smoothing):
    model = CharNGram(order=3, smoothing=smoothing).fit(NAMES)
    for context in ("", "a", "ev", "zz"):  # "zz" was never seen
        p, symbols = model.distribution(context)
        assert p.sum() == pytest.approx(1.0) and (p > 0).all()
        assert symbols[0] == "" and len(symbols) == len(model.alphabet) + 1


def test_ngram_sampling_is_deterministic_under_seed_and_temperature_sharpens():
    model = CharNGram(order=3).fit(NAMES)
    a = model.sample(40, seed=3)
    assert a == model.sample(40, seed=3)
    assert a != model.sample(40, seed=4)
    assert all(len(s) <= model.max_item_length for s in a)
    assert set("".join(a)) <= set(model.alphabet)
    # A cold model of one item says that item.
    cold = CharNGram(order=3).fit(["abcd"])
    assert cold.sample(20, seed=0, temperature=0.2) == ["abcd"] * 20


def test_ngram_save_load_round_trip(tmp_path):
    model = CharNGram(order=4, smoothing="add_k", k=0.5).fit(NAMES + ["Zoë"])
    path = tmp_path / "model.json"
    model.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["config"]["order"] == 4
    loaded = CharNGram.load(path)
    assert loaded.get_config() == model.get_config() and loaded.alphabet == model.alphabet
    np.testing.assert_allclose(loaded.log_prob(NAMES), model.log_prob(NAMES))
    assert loaded.sample(30, seed=1) == model.sample(30, seed=1)
    (tmp_path / "other.json").write_text('{"format": "something"}')
    with pytest.raises(UserError, match="not a saved n-gram model"):
        CharNGram.load(tmp_path / "other.json")


def test_ngram_bad_arguments():
    with pytest.raises(UserError, match="order"):
        CharNGram(order=0)
    with pytest.raises(UserError, match="unknown smoothing 'kneser'"):
        CharNGram(smoothing="kneser")
    with pytest.raises(UserError, match="not fitted"):
        CharNGram().sample(3)
    with pytest.raises(UserError, match="at least one item"):
        CharNGram().fit([])
    with pytest.raises(UserError, match="temperature"):
        CharNGram().fit(NAMES).sample(3, temperature=0)


@needs_names
def test_trigram_on_surnames_makes_mostly_new_names_some_real(surnames):
    train, test = surnames.items("train"), surnames.items("test")
    samples = CharNGram(order=3).fit(train).sample(500, seed=0)
    assert tm.novelty(samples, train) > 0.6
    # Real surnames it never saw: letters drawn at random would almost never hit one.
    assert tm.held_out_hits(samples, test, train) > 0.01
    assert tm.ngram_distance(samples, test, 2) < 0.05


# ------------------------------------------------------------------------- measures


def test_measures_of_a_copier_and_of_the_test_list():
    train, test = ["ann", "bob", "cleo", "dan"], ["eve", "fay"]
    copies = train * 3
    assert tm.novelty(copies, train) == 0.0
    assert tm.held_out_hits(copies, test, train) == 0.0
    assert tm.diversity(copies) == pytest.approx(4 / 12)
    assert tm.novelty(test, train) == 1.0
    assert tm.held_out_hits(test, test, train) == 1.0
    assert tm.held_out_coverage(test, test, train) == 1.0
    assert tm.held_out_coverage(["eve", "eve", "zed"], test) == 0.5
    assert tm.diversity(test) == 1.0
    # A test item that also sits in the training list is not a hit.
    assert tm.held_out_hits(["ann", "eve"], ["ann", "eve"], train) == 0.5


def test_distances_by_hand():
    assert tm.ngram_distance(["ab", "ba"], ["ab", "ba"], n=3) == 0.0
    assert tm.ngram_distance(["a"], ["b"], n=2) == 1.0  # ^a a$ against ^b b$
    # Unigrams a b $ against a c $: b and c each carry 1/3 on one side only, and each
    # contributes (1/3) log2((1/3) / (1/6)) / 2 = 1/6.
    assert tm.ngram_distance(["ab"], ["ac"], n=1) == pytest.approx(1 / 3)
    assert tm.length_distance(["aa"] * 3, ["a"] * 5) == pytest.approx(1.0)
    assert tm.length_distance(["a", "aaa"], ["bb", "bb"]) == pytest.approx(1.0)
    assert tm.length_distance(["ab", "cd"], ["xy"]) == 0.0
    assert tm.ngram_counts(["ab"], 2) == {"\x00a": 1, "ab": 1, "b\x00": 1}


def test_measures_refuse_empty_lists_and_report_together():
    with pytest.raises(UserError, match="no items"):
        tm.novelty([], ["a"])
    with pytest.raises(UserError, match="no items"):
        tm.ngram_distance(["a"], [])
    values = tm.text_measures(["eve", "ann", "xyz", "xyz"], ["ann", "bob"], ["eve", "fay"])
    assert values == pytest.approx({"novelty": 0.75, "held_out_hits": 0.25,
                                    "held_out_coverage": 0.5, "diversity": 0.75,
                                    "bigram_distance": values["bigram_distance"],
                                    "trigram_distance": values["trigram_distance"],
                                    "length_distance": 0.0})
    assert 0 < values["bigram_distance"] < 1
