"""Catalog item -> HubSpot properties, and the diff that decides what a sync sends."""
from __future__ import annotations

from oembed_server.domain.media import MediaItem, MediaType
from oembed_server.domain.media_object_mapping import (
    changed_properties,
    creation_properties,
    item_problems,
    media_object_properties,
)


def test_video_maps_to_hubspot_names_with_the_canonical_media_url():
    item = MediaItem("clip 1", MediaType.VIDEO, "Clip", file_url="https://cdn/x.mp4", thumbnail_url="https://cdn/t.png",
                     poster_url=None, duration_ms=8003, folder_path="/A", details_page_link="https://lib/clip")
    assert media_object_properties(item, "https://media.test") == {
        "hs_title": "Clip", "hs_oembed_url": "https://media.test/media/clip%201", "hs_duration": "8003",
        "hs_file_url": "https://cdn/x.mp4", "hs_thumbnail_url": "https://cdn/t.png", "hs_poster_url": "",
        "hs_external_id": "clip 1", "hs_folder_path": "/A", "hs_details_page_link": "https://lib/clip"}


def test_images_carry_no_duration_and_allowed_narrows_properties():
    item = MediaItem("i", MediaType.IMAGE, "Pic", file_url="https://cdn/i.png", duration_ms=5)
    assert "hs_duration" not in media_object_properties(item, "https://m")
    assert media_object_properties(item, "https://m", allowed=["hs_title", "hs_external_id"]) == {
        "hs_title": "Pic", "hs_external_id": "i"}


def test_creation_drops_empty_values():
    assert creation_properties({"hs_title": "T", "hs_poster_url": ""}) == {"hs_title": "T"}


def test_diff_sends_only_changes_and_clears_removed_values():
    desired = {"hs_title": "New", "hs_duration": "8003", "hs_poster_url": "", "hs_folder_path": "/A"}
    held = {"hs_title": "Old", "hs_duration": "8003.0", "hs_poster_url": "https://old", "hs_folder_path": "/A"}
    assert changed_properties(desired, held) == {"hs_title": "New", "hs_poster_url": ""}
    assert changed_properties(desired, desired) == {}
    assert changed_properties({"hs_poster_url": ""}, {"hs_poster_url": None}) == {}
    assert changed_properties({"hs_duration": "5"}, {"hs_duration": "n/a"}) == {"hs_duration": "5"}


def test_items_hubspot_would_refuse_are_named():
    assert item_problems(MediaItem("i", MediaType.IMAGE, "Pic")) == ["i: IMAGE media need hs_file_url"]
    assert item_problems(MediaItem("v", MediaType.VIDEO, "Clip")) == []
