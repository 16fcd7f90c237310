"""A character n-gram model of short text items: the classical baseline for text.

Plain Python and numpy, no TensorFlow: counts of which character follows which
`order - 1` characters, smoothed, sampled one character at a time. Each item is read
with `order - 1` start markers before it and an end marker after it, so the model learns
how items begin and end (`^^smith$` for a trigram model); one boundary symbol serves as
both, as in makemore. Each item given to `fit` counts once per occurrence (give distinct
items to model a list of names rather than their frequencies).

Smoothing (`SMOOTHINGS`):
- `witten_bell` (default): interpolated Witten-Bell. The probability of a character after
  a context mixes the context's counts with the next-shorter context's probability,
  trusting the counts more the more often the context was seen relative to how many
  different characters followed it; the chain ends in the uniform distribution, so every
  character of the alphabet keeps some probability after any context.
- `add_k`: add `k` to the count of every character after the full-length context (the
  classic Laplace / Lidstone estimate); an unseen context gives the uniform distribution.

Example:
    >>> model = CharNGram(order=3).fit(["anna", "hannah", "joanna"])
    >>> model.sample(2, seed=0)  # doctest: +SKIP
    ['anna', 'hanna']
    >>> model.save("trigram.json")
    >>> CharNGram.load("trigram.json").order
    3
"""

import collections
import json
import math
import os

import numpy as np

from keras_aegan.errors import UserError, check_int, check_number

FORMAT = "keras_aegan.CharNGram"
# Distributions kept per model while sampling or scoring; each is one float per symbol,
# so a large alphabet with many contexts stays within a few hundred MB.
_CACHE_LIMIT = 20_000


def _witten_bell(counts, total, lower, model):
    """Interpolated Witten-Bell: `(c(h, w) + N1+(h) P_lower(w)) / (c(h) + N1+(h))`."""
    del model
    followers = np.count_nonzero(counts)
    return (counts + followers * lower) / (total + followers)


def _add_k(counts, total, lower, model):
    """Add-k: `(c(h, w) + k) / (c(h) + k V)` (the lower orders are not used)."""
    del lower
    return (counts + model.k) / (total + model.k * len(counts))


# name -> `f(counts, total, lower, model)`: the distribution after a seen context, from
# its counts (a vector over the symbols), their total, and the next-shorter context's
# distribution.
SMOOTHINGS = {"witten_bell": _witten_bell, "add_k": _add_k}
# Which smoothings read the shorter contexts (add-k does not, and so needs no counts of them).
_INTERPOLATED = {"witten_bell": True, "add_k": False}


class CharNGram:
    """A character n-gram model with start and end markers (see the module).

    Args:
        order: characters per n-gram (the context is `order - 1` characters); 1 to 10.
        smoothing: a key of `SMOOTHINGS` (`witten_bell` or `add_k`).
        k: the pseudo-count of `add_k` (ignored by `witten_bell`).

    Attributes:
        alphabet: the characters seen in `fit`, in code-point order (empty before).
        max_item_length: the longest item seen in `fit`: `sample` stops there unless told.
    """

    def __init__(self, order=3, smoothing="witten_bell", k=0.1):
        self.order = check_int("order", order, minimum=1, maximum=10)
        if smoothing not in SMOOTHINGS:
            raise UserError(f"unknown smoothing {smoothing!r}; choose from "
                            f"{', '.join(SMOOTHINGS)}")
        self.smoothing = smoothing
        self.k = check_number("k", k, 0, low_open=True)
        self.alphabet = ()
        self.max_item_length = 0
        # counts[m]: context (a tuple of m symbol ids) -> dense counts of the next symbol.
        # Symbol 0 is the boundary (start / end); characters are 1..len(alphabet).
        self._counts = []
        self._symbol_ids = {}
        self._cache = {}

    # ----------------------------------------------------------------------- fitting

    @property
    def fitted(self):
        return bool(self._counts)

    @property
    def num_symbols(self):
        """The characters and the end marker: the size of every next-symbol distribution."""
        return len(self.alphabet) + 1

    @property
    def num_parameters(self):
        """The counts the model keeps (non-zero n-gram counts of every order it reads):
        its size, as a network's weights are."""
        return int(sum(np.count_nonzero(row) for table in self._counts
                       for row in table.values()))

    def fit(self, items):
        """Count the n-grams of `items` (strings); replaces an earlier fit.

        Returns:
            The model itself.

        Raises:
            UserError: no items, or an item that is not a non-empty string.
        """
        items = list(items)
        if not items:
            raise UserError("an n-gram model needs at least one item to fit")
        for item in items:
            if not isinstance(item, str) or not item:
                raise UserError(f"n-gram items must be non-empty strings, got {item!r}")
        self.alphabet = tuple(sorted(set().union(*items)))
        self.max_item_length = max(map(len, items))
        ids = {c: i + 1 for i, c in enumerate(self.alphabet)}
        lowest = 0 if _INTERPOLATED[self.smoothing] else self.order - 1
        raw = [collections.Counter() for _ in range(self.order)]
        pad = (0,) * (self.order - 1)
        for item in items:
            seq = pad + tuple(ids[c] for c in item) + (0,)
            for t in range(self.order - 1, len(seq)):
                for m in range(lowest, self.order):
                    raw[m][seq[t - m:t + 1]] += 1
        self._set_counts(raw)
        return self

    def _set_counts(self, raw):
        """`raw[m]`: Counter of (context of m symbols + next symbol) -> count."""
        size = self.num_symbols
        self._symbol_ids = {c: i + 1 for i, c in enumerate(self.alphabet)}
        self._counts = []
        for counter in raw:
            table = {}
            for gram, count in counter.items():
                row = table.get(gram[:-1])
                if row is None:
                    row = table[gram[:-1]] = np.zeros(size)
                row[gram[-1]] += count
            self._counts.append(table)
        self._cache = {}

    def _check_fitted(self):
        if not self.fitted:
            raise UserError("the n-gram model is not fitted yet; call fit(items) first")

    # ------------------------------------------------------------------ probabilities

    def _distribution(self, context):
        """The next-symbol distribution after `context` (a tuple of order-1 ids)."""
        cached = self._cache.get(context)
        if cached is not None:
            return cached
        smooth = SMOOTHINGS[self.smoothing]
        size = self.num_symbols
        if _INTERPOLATED[self.smoothing]:
            p = np.full(size, 1.0 / size)
            for m in range(self.order):
                row = self._counts[m].get(context[len(context) - m:] if m else ())
                if row is not None:
                    p = smooth(row, row.sum(), p, self)
        else:
            row = self._counts[self.order - 1].get(context)
            p = np.full(size, 1.0 / size) if row is None else smooth(row, row.sum(), None, self)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache = {}
        self._cache[context] = p
        return p

    def distribution(self, context=""):
        """The probability of each next symbol after the text `context`.

        Args:
            context: the item's characters so far (the start markers are added; only the
                last `order - 1` characters matter).

        Returns:
            `(probabilities, symbols)`: a float array summing to 1 and the symbols it is
            over, `""` (the end of the item) first, then `alphabet`.
        """
        self._check_fitted()
        context = self._context(self._ids(context))
        return self._distribution(context).copy(), ("", *self.alphabet)

    def _ids(self, item):
        """Symbol ids of `item`'s characters, -1 for a character outside the alphabet."""
        return [self._symbol_ids.get(c, -1) for c in item]

    def _context(self, ids):
        """The last order-1 symbols of start markers + ids, as a tuple."""
        width = self.order - 1
        if not width:
            return ()
        return tuple(([0] * width + list(ids))[-width:])

    def log_prob(self, items):
        """The natural-log probability of each item, its end marker included.

        An item holding a character outside `alphabet` gets `-inf`.

        Returns:
            A float64 array, one value per item.
        """
        self._check_fitted()
        out = np.zeros(len(items))
        for row, item in enumerate(items):
            ids = self._ids(item)
            if -1 in ids:
                out[row] = -np.inf
                continue
            seq = ids + [0]
            total = 0.0
            for t, symbol in enumerate(seq):
                total += math.log(self._distribution(self._context(seq[:t]))[symbol])
            out[row] = total
        return out

    def bits_per_char(self, items):
        """Cross-entropy of `items` under the model in bits per symbol (each item's
        characters and its end): lower is better; `inf` when an item is impossible."""
        items = list(items)
        symbols = sum(len(item) + 1 for item in items)
        if not symbols:
            raise UserError("bits_per_char needs at least one item")
        return float(-self.log_prob(items).sum() / symbols / math.log(2))

    # ----------------------------------------------------------------------- sampling

    def sample(self, n, seed=0, temperature=1.0, max_length=None):
        """Draw `n` items, one character at a time, until the end marker.

        Args:
            n: number of items.
            seed: the same seed gives the same items.
            temperature: probabilities are raised to `1 / temperature` and renormalised:
                below 1 favours the likely characters (surer, more repetitive), above 1
                flattens the distribution (more varied, less plausible).
            max_length: cut an item that has not ended after this many characters
                (default: the longest item seen in `fit`).

        Returns:
            A list of `n` strings (an item may be empty only if the model gives its end
            marker probability right after the start, which smoothing makes tiny).
        """
        self._check_fitted()
        n = check_int("n", n, minimum=0)
        seed = check_int("seed", seed, minimum=0)
        temperature = check_number("temperature", temperature, 0, 100, low_open=True)
        max_length = self.max_item_length if max_length is None else \
            check_int("max_length", max_length)
        rng = np.random.default_rng(seed)
        uniforms = rng.random((n, max_length))
        cumulative = {}
        out = []
        for row in range(n):
            ids = []
            for step in range(max_length):
                context = self._context(ids)
                cdf = cumulative.get(context)
                if cdf is None:
                    cdf = cumulative[context] = self._tempered_cdf(context, temperature)
                symbol = int(np.searchsorted(cdf, uniforms[row, step] * cdf[-1], side="right"))
                symbol = min(symbol, len(cdf) - 1)  # a draw of exactly cdf[-1]
                if symbol == 0:
                    break
                ids.append(symbol)
            out.append("".join(self.alphabet[i - 1] for i in ids))
        return out

    def _tempered_cdf(self, context, temperature):
        p = self._distribution(context)
        if temperature != 1.0:
            logits = np.log(np.maximum(p, 1e-300)) / temperature
            p = np.exp(logits - logits.max())
        return np.cumsum(p)

    # ------------------------------------------------------------------ saving, loading

    def get_config(self):
        """The constructor arguments, as plain data."""
        return {"order": self.order, "smoothing": self.smoothing, "k": self.k}

    def save(self, path):
        """Write the model (its configuration, alphabet and counts) as one JSON file."""
        self._check_fitted()
        counts = []
        for table in self._counts:
            counts.append([[list(context), np.flatnonzero(row).tolist(),
                            row[row > 0].astype(int).tolist()]
                           for context, row in table.items()])
        data = {"format": FORMAT, "config": self.get_config(), "alphabet": list(self.alphabet),
                "max_item_length": self.max_item_length, "counts": counts}
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path):
        """A model saved by `save`.

        Raises:
            UserError: a missing file or one that is not a saved n-gram model.
        """
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise UserError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise UserError(f"{path}: not a saved n-gram model ({e})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UserError(f"{path}: not a saved n-gram model (no format {FORMAT!r})")
        model = cls(**data["config"])
        model.alphabet = tuple(data["alphabet"])
        model.max_item_length = int(data["max_item_length"])
        raw = []
        for table in data["counts"]:
            counter = collections.Counter()
            for context, symbols, values in table:
                for symbol, value in zip(symbols, values):
                    counter[(*context, symbol)] = value
            raw.append(counter)
        model._set_counts(raw)
        return model
