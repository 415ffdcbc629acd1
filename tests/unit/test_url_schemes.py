"""url_schemes.py: compiling HubSpot-style schemes and reading the external_id off a media URL."""
from __future__ import annotations

import pytest

from oembed_server.domain.url_schemes import compile_url_schemes
from oembed_server.settings import ConfigError
from tests.support.apps import make_app

PUBLIC = "http://media.test"


@pytest.fixture
def matcher():
    return compile_url_schemes([f"{PUBLIC}/media/*"], PUBLIC)


@pytest.mark.parametrize("url, expected", [
    ("http://media.test/media/clip", "clip"),
    ("http://media.test/media/clip/", "clip"),                      # trailing slash
    ("http://media.test/media/clip?autoplay=1&utm_source=x", "clip"),  # query string
    ("http://media.test/media/clip#t=30", "clip"),                  # fragment
    ("http://media.test/media/clip/?a=b#frag", "clip"),
    ("http://media.test/embed/clip", "clip"),                       # the player URL form
    ("http://media.test/embed/clip/?autoplay=1", "clip"),
    ("http://media.test/media/clip%201%2B2", "clip 1+2"),           # percent-encoding decoded
    ("http://media.test/media/clip%201+2", "clip 1+2"),             # '+' is literal in a path
    ("http://media.test/media/caf%C3%A9-%E2%98%95", "café-☕"),
    ("http://media.test/media/café", "café"),                       # an IRI as pasted
    ("HTTP://MEDIA.TEST/media/Clip", "Clip"),                       # scheme and host are case-insensitive
    ("http://media.test:80/media/clip", "clip"),                    # default port
    ("  http://media.test/media/clip  ", "clip"),
])
def test_matching_urls_give_the_external_id(matcher, url, expected):
    assert matcher.external_id(url) == expected


@pytest.mark.parametrize("url", [
    "https://media.test/media/clip",          # https is a different scheme unless configured
    "http://media.test:8080/media/clip",
    "http://other.test/media/clip",
    "http://media.test.evil.example/media/clip",
    "http://evil.example/?u=http://media.test/media/clip",
    "http://user@media.test/media/clip",
    "http://media.test/media/",
    "http://media.test/media",
    "http://media.test/media/a/b",
    "http://media.test/media/a%2Fb",          # ids never contain '/'
    "http://media.test/media/%FF%FE",         # not UTF-8
    "http://media.test/media/a%00b",          # control character
    "http://media.test/MEDIA/clip",           # paths are case-sensitive
    "http://media.test/other/clip",
    "ftp://media.test/media/clip",
    "media.test/media/clip",
    "http://[::1/media/clip",                 # unparsable
    "",
])
def test_other_urls_do_not_match(matcher, url):
    assert matcher.external_id(url) is None


def test_non_string_input_is_no_match(matcher):
    assert matcher.external_id(None) is None
    assert matcher.external_id(b"http://media.test/media/clip") is None


def test_http_and_https_both_match_when_both_are_configured():
    both = compile_url_schemes([f"{PUBLIC}/media/*", "https://media.test/media/*"], PUBLIC)
    assert both.external_id("http://media.test/media/clip") == "clip"
    assert both.external_id("https://media.test/media/clip") == "clip"
    assert both.external_id("https://media.test:443/embed/clip") == "clip"


def test_https_only_configuration_refuses_http():
    https_only = compile_url_schemes(["https://media.test/media/*"], "https://media.test")
    assert https_only.external_id("https://media.test/media/clip") == "clip"
    assert https_only.external_id("http://media.test/media/clip") is None


def test_subdomain_wildcard():
    wildcard = compile_url_schemes(["https://*.media.test/media/*"], "https://www.media.test")
    assert wildcard.external_id("https://eu.media.test/media/clip") == "clip"
    assert wildcard.external_id("https://a.b.media.test/embed/clip") == "clip"
    assert wildcard.external_id("https://media.test/media/clip") is None
    assert wildcard.external_id("https://evil.test/x.media.test/media/clip") is None
    assert wildcard.external_id("https://evil.test:1@x.media.test/media/clip") is None


def test_public_url_with_a_path_prefix():
    prefixed = compile_url_schemes(["https://example.com/library/media/*"], "https://example.com/library")
    assert prefixed.external_id("https://example.com/library/media/clip") == "clip"
    assert prefixed.external_id("https://example.com/library/embed/clip") == "clip"
    assert prefixed.external_id("https://example.com/media/clip") is None
    assert prefixed.external_id("https://example.com/libraryx/media/clip") is None


def test_scheme_narrower_than_the_media_path_limits_matches():
    narrow = compile_url_schemes([f"{PUBLIC}/media/promo-*"], PUBLIC)
    assert narrow.external_id("http://media.test/media/promo-1") == "promo-1"
    assert narrow.external_id("http://media.test/embed/promo-1") == "promo-1"
    assert narrow.external_id("http://media.test/media/other") is None


def test_scheme_with_a_query_matches_on_the_query():
    query = compile_url_schemes(["http://example.com/watch?v=*"], PUBLIC)
    assert query.matches("http://example.com/watch?v=1")
    assert not query.matches("http://example.com/watch")
    # It names no /media/ or /embed/ path, so there is no external_id to read.
    assert query.external_id("http://example.com/watch?v=1") is None


@pytest.mark.parametrize("scheme", [
    "*://media.test/media/*",
    "http*://media.test/media/*",
    "http://media.*/media/*",          # '*' as the top-level domain
    "http://media.te*/media/*",
    "http://*/media/*",
    "http://[::*]/media/*",
    "ftp://media.test/media/*",
    "media.test/media/*",
    "http:///media/*",
    "http://media.test:*/media/*",
    "http://media.test:99999/media/*",
    "http://user@media.test/media/*",
    "http://media test/media/*",
    "http://media.test/media/*#frag",
    "",
])
def test_malformed_schemes_are_rejected(scheme):
    with pytest.raises(ValueError):
        compile_url_schemes([scheme], PUBLIC)


def test_no_scheme_at_all_is_rejected():
    with pytest.raises(ValueError):
        compile_url_schemes([], PUBLIC)


def test_many_schemes_still_match_the_one_for_this_provider():
    # How long matching takes is scripts/bench_url_schemes.py's question; this is what it returns.
    many = compile_url_schemes([f"https://site{n}.example/media/*" for n in range(200)] + [f"{PUBLIC}/media/*"], PUBLIC)
    assert many.external_id("http://media.test/media/clip?x=1") == "clip"
    assert many.external_id("https://elsewhere.example/media/clip") is None


# --- wiring in create_app -------------------------------------------------------------------
def test_malformed_setting_fails_create_app_naming_it(sqlite_url):
    with pytest.raises(ConfigError, match="OEMBED_URL_SCHEMES"):
        make_app(sqlite_url, OEMBED_URL_SCHEMES="https://media.*/media/*")


def test_configured_schemes_reach_the_app(sqlite_url):
    app = make_app(sqlite_url, OEMBED_URL_SCHEMES="http://media.test/media/* https://media.test/media/*")
    try:
        matcher = app.extensions["url_matcher"]
        assert matcher.external_id("https://media.test/media/clip") == "clip"
    finally:
        app.extensions["catalog"].dispose()


def test_default_scheme_follows_public_url(app):
    matcher = app.extensions["url_matcher"]
    assert matcher.schemes == ("http://media.test/media/*",)
    assert matcher.external_id("https://media.test/media/clip") is None
