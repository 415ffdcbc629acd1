"""The one whole-number rule shared by the oEmbed API, the preview, imports and settings."""
from __future__ import annotations

import pytest

from oembed_server.domain.whole_numbers import parse_whole_number


@pytest.mark.parametrize("text, value", [("0", 0), ("007", 7), ("640", 640), ("1000", 1000), ("1001", 1001),
                                         ("9" * 10_000, 1001), ("0" * 5000 + "12", 12)])
def test_ascii_digits_are_read_and_huge_values_come_back_just_over_the_maximum(text, value):
    assert parse_whole_number(text, 1000) == value


@pytest.mark.parametrize("text", ["", " 5", "5 ", "+5", "-5", "1_000", "1e3", "5.0", "0x10", "\u0663", "\u00b2",
                                  "\uff15", "5\n"])
def test_anything_but_ascii_digits_is_not_a_whole_number(text):
    assert parse_whole_number(text, 1000) is None
