"""Measures of generated text items (names, words) against the real lists.

Pure functions of lists of strings, no TensorFlow. Samples are counted with their
repeats (a model that says `smith` 500 times in 1,000 samples has said it half the time);
the reference lists are read as sets where membership is asked.

What a reader should take from each:
- `novelty`: does the model make new items, or copy its training list?
- `held_out_hits`: of what it says, how much is a real item it never saw (a surname of the
  test split)? The best single sign that it learned the language of the items rather than
  the list: a copier scores 0, and so does a generator of plausible-looking noise.
- `held_out_coverage`: how much of the test list it finds at all.
- `diversity`: does it say many different things, or the same few?
- `ngram_distance`, `length_distance`: do its samples look like the test items in their
  character n-grams and their lengths?

Quality and diversity trade off (a colder sampling temperature raises the hits and lowers
the diversity), so compare models along a sweep, not at one point.
"""

import collections
import math

from keras_aegan.errors import UserError, check_int

# The boundary marker of `ngram_counts`: outside any text an item can hold (items refuse
# control characters), so `^` and `$` of real text stay real characters.
BOUNDARY = "\x00"


def _samples(samples, name="samples"):
    samples = list(samples)
    if not samples:
        raise UserError(f"{name}: no items to measure")
    return samples


def novelty(samples, train_items):
    """The share of samples that are not items of the training list.

    1 means the model never repeats a training item; 0 means it only copies them. Novelty
    alone says nothing of quality (random strings are perfectly novel): read it beside
    `held_out_hits`.

    Args:
        samples: generated items (repeats count).
        train_items: the items the model was trained on.

    Returns:
        A float in [0, 1].

    Example:
        >>> novelty(["ann", "bob", "zed", "zed"], ["ann", "bob"])
        0.5
    """
    samples = _samples(samples)
    train = set(train_items)
    return sum(s not in train for s in samples) / len(samples)


def held_out_hits(samples, test_items, train_items=()):
    """The share of samples that are real items the model never saw: items of the test
    split that are not in the training list.

    The split already keeps the two lists apart; `train_items` makes the measure safe on
    lists that are not. A model that copies its training list scores 0; the test list
    itself scores 1.

    Args:
        samples: generated items (repeats count).
        test_items: held-out real items.
        train_items: the items the model was trained on (excluded from the hits).

    Returns:
        A float in [0, 1].

    Example:
        >>> held_out_hits(["ann", "cleo", "xqz", "cleo"], ["cleo", "dan"], ["ann"])
        0.5
    """
    samples = _samples(samples)
    hits = set(test_items) - set(train_items)
    return sum(s in hits for s in samples) / len(samples)


def held_out_coverage(samples, test_items, train_items=()):
    """The share of the distinct held-out items (test items not in `train_items`) that
    appear among the samples at least once.

    Grows with the number of samples; compare models at the same number.

    Returns:
        A float in [0, 1].

    Example:
        >>> held_out_coverage(["cleo", "cleo", "xqz"], ["cleo", "dan"])
        0.5
    """
    held_out = set(test_items) - set(train_items)
    if not held_out:
        raise UserError("test_items: no held-out items to cover")
    return len(held_out & set(samples)) / len(held_out)


def diversity(samples):
    """The share of distinct samples: distinct items / samples.

    1 means no sample repeats; `1 / len(samples)` means one item said every time (a
    collapsed generator).

    Example:
        >>> diversity(["ann", "ann", "bob", "cleo"])
        0.75
    """
    samples = _samples(samples)
    return len(set(samples)) / len(samples)


def ngram_counts(items, n=2):
    """How often each character n-gram occurs in `items`, each item read with `n - 1`
    boundary markers before it and one after (so how items begin and end counts too).

    Example:
        >>> sorted(ngram_counts(["ab"], n=2).items())
        [('\\x00a', 1), ('ab', 1), ('b\\x00', 1)]
    """
    n = check_int("n", n)
    counts = collections.Counter()
    for item in items:
        text = BOUNDARY * (n - 1) + item + BOUNDARY
        counts.update(text[i:i + n] for i in range(len(text) - n + 1))
    return counts


def jensen_shannon(p, q):
    """The Jensen-Shannon divergence of two frequency tables (mappings key -> count), in
    bits: 0 for the same distribution, 1 for disjoint supports; symmetric.

    Example:
        >>> jensen_shannon({"a": 1}, {"b": 3})
        1.0
    """
    p_total, q_total = sum(p.values()), sum(q.values())
    if p_total <= 0 or q_total <= 0:
        raise UserError("jensen_shannon needs two non-empty frequency tables")
    divergence = 0.0
    for key in set(p) | set(q):
        a, b = p.get(key, 0) / p_total, q.get(key, 0) / q_total
        m = (a + b) / 2
        if a:
            divergence += a * math.log2(a / m) / 2
        if b:
            divergence += b * math.log2(b / m) / 2
    return max(0.0, min(1.0, divergence))


def ngram_distance(samples, reference, n=2):
    """The Jensen-Shannon divergence (bits, in [0, 1]) between the character n-gram
    frequencies of the samples and of the reference items (the test split).

    0: the samples use the characters, pairs (`n=2`) or triples (`n=3`) of characters,
    beginnings and endings of the reference exactly as often; 1: they share none.

    Example:
        >>> ngram_distance(["ab", "ba"], ["ba", "ab"])
        0.0
    """
    return jensen_shannon(ngram_counts(_samples(samples), n),
                          ngram_counts(_samples(reference, "reference"), n))


def length_distance(samples, reference):
    """The earth mover's (Wasserstein-1) distance between the length distributions of the
    samples and of the reference items, in characters.

    How many characters, on average, each sample's length would have to move for the
    lengths to be distributed as the reference's: 0 for the same distribution; all samples
    one character too long gives 1.

    Example:
        >>> length_distance(["abc", "abcd"], ["ab", "abc"])
        1.0
    """
    a = collections.Counter(map(len, _samples(samples)))
    b = collections.Counter(map(len, _samples(reference, "reference")))
    a_total, b_total = sum(a.values()), sum(b.values())
    distance, a_cdf, b_cdf = 0.0, 0.0, 0.0
    for length in range(max(max(a), max(b))):
        a_cdf += a.get(length, 0) / a_total
        b_cdf += b.get(length, 0) / b_total
        distance += abs(a_cdf - b_cdf)
    return distance


def text_measures(samples, train_items, test_items):
    """Every measure of this module for one set of samples, as `{name: value}`:
    `novelty`, `held_out_hits`, `held_out_coverage`, `diversity`, `bigram_distance`,
    `trigram_distance`, `length_distance` (the distances to the test items)."""
    samples = _samples(samples)
    train, test = set(train_items), list(test_items)
    return {
        "novelty": novelty(samples, train),
        "held_out_hits": held_out_hits(samples, test, train),
        "held_out_coverage": held_out_coverage(samples, test, train),
        "diversity": diversity(samples),
        "bigram_distance": ngram_distance(samples, test, 2),
        "trigram_distance": ngram_distance(samples, test, 3),
        "length_distance": length_distance(samples, test),
    }
