"""The catalog's description key on import: optional text, bounded, checked like every key."""
from __future__ import annotations

import pytest

from oembed_server.domain.media import MEDIA_DESCRIPTION_MAX
from tests.support.catalog_rows import VIDEO, validate_rows


def test_description_is_read_and_trimmed_with_its_line_breaks():
    (item,), problems = validate_rows([VIDEO | {"description": "  Spring release.\nTwo lines & more  "}])
    assert problems == []
    assert item.description == "Spring release.\nTwo lines & more"
    assert item.content()["description"] == item.description


@pytest.mark.parametrize("value", ["", None])
def test_an_empty_description_is_none(value):
    (item,), problems = validate_rows([VIDEO | {"description": value}])
    assert problems == [] and item.description is None


@pytest.mark.parametrize("value, message", [
    ("x" * (MEDIA_DESCRIPTION_MAX + 1), f"longer than {MEDIA_DESCRIPTION_MAX} characters"),
    (42, "expected text, got a number"),
    (["a"], "expected text, got an array"),
    ("bell\x07", "contains control characters"),
])
def test_bad_descriptions_are_named(value, message):
    items, problems = validate_rows([VIDEO | {"description": value}])
    assert items == []
    assert [(p.field, p.message) for p in problems] == [("description", message)]


def test_a_description_at_the_limit_is_taken():
    (item,), problems = validate_rows([VIDEO | {"description": "x" * MEDIA_DESCRIPTION_MAX}])
    assert problems == [] and len(item.description) == MEDIA_DESCRIPTION_MAX
