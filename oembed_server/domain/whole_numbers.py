"""The one rule for a whole number written as text (query strings, CSV cells, settings).

Only ASCII digits count: ``int()`` would also take "1_000", "+5", " 5" or Arabic-Indic
digits, which no other part of the toolkit (nor HubSpot) reads as the same number. Huge
digit strings never reach ``int()`` (Python refuses past 4300 digits with a ValueError).
"""
from __future__ import annotations


def parse_whole_number(text: str, maximum: int) -> int | None:
    """The value of ``text`` when it is ASCII digits only, else None.

    A value above ``maximum`` comes back as ``maximum + 1``, so callers refuse or clamp
    it without converting thousands of digits.
    """
    # isascii() first: for ASCII text isdigit() means exactly 0-9 (it would take "²" or "٣").
    if not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return maximum + 1
    return min(int(significant), maximum + 1)
