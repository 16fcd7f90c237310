"""The shared lookup of a registry by a user's name."""

import pytest

from keras_aegan.errors import UserError, lookup


def test_lookup_returns_the_entry():
    assert lookup({"gan": 1, "vae": 2}, "vae", "model") == 2


def test_lookup_names_the_close_and_the_known_names_in_one_line():
    with pytest.raises(UserError) as error:
        lookup({"vae": 2, "gan": 1, "dcgan": 3}, "gann", "model")
    message = str(error.value)
    assert message.startswith("unknown model 'gann' (did you mean gan")
    assert message.endswith("; known: dcgan, gan, vae") and "\n" not in message


def test_lookup_without_a_close_name_lists_the_known_ones():
    with pytest.raises(UserError, match=r"^unknown study kind 'zzz'; known: a, b$"):
        lookup({"b": 0, "a": 0}, "zzz", "study kind")
