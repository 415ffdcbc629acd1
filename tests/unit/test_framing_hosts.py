"""The framing rules (issue 17, item 2): which origins count as a portal's pages, and the
player token that seals the framing origin."""
from __future__ import annotations

import pytest

from oembed_server.domain.framing_hosts import framing_verdict, host_problem, is_hubspot_host, origin_host
from oembed_server.domain.player_tokens import PlayerClaims, issue_token, read_token
from oembed_server.domain.player_tokens import _serializer as token_serializer

SECRET = "unit-test-secret-key-long-enough-0123456789"


@pytest.mark.parametrize("host", ["app.hubspot.com", "app-eu1.hubspot.com", "portal-1.hs-sites.com",
                                  "x.hubspotpagebuilder.com", "x.hs-sites-eu1.com", "x.hubspotpagebuilder-eu1.com"])
def test_hubspots_own_hosts(host):
    assert is_hubspot_host(host)


@pytest.mark.parametrize("host", ["hubspot.com.evil.test", "evilhubspot.com", "hs-sites.com.test", "example.com"])
def test_lookalikes_are_not_hubspots(host):
    assert not is_hubspot_host(host)


def test_origins_are_reduced_to_their_host():
    assert origin_host("https://WWW.Example.com:8443/a?b") == "www.example.com"
    assert origin_host("http://127.0.0.1:5000") == "127.0.0.1"
    for bad in ("null", "about:blank", "javascript:alert(1)", "", None, "https://", "ftp://x.test"):
        assert origin_host(bad) is None


def test_every_revealed_origin_must_be_the_portals():
    hosts = {"www.customer.test"}
    assert framing_verdict(["https://www.customer.test/p", None], hosts) is None
    assert framing_verdict(["https://www.customer.test", "https://portal.hs-sites.com"], hosts) is None
    assert framing_verdict(["https://www.customer.test", "https://evil.test"], hosts) == "foreign"
    assert framing_verdict(["https://sub.www.customer.test"], hosts) == "foreign"  # exact hosts only
    assert framing_verdict(["null"], hosts) == "foreign"
    assert framing_verdict([None, ""], hosts) == "unknown"


def test_operator_hosts_are_plain_dns_names():
    assert host_problem("www.example.com") is None
    for bad in ("https://x.test", "x.test:80", "x.test/p", "localhost", "-a.test", "a..test", "x" * 254):
        assert host_problem(bad), bad


def test_the_token_seals_the_framing_origin_and_older_tokens_still_read():
    claims = PlayerClaims("clip", "VIDEO", 42, False, "https://www.customer.test")
    assert read_token(SECRET, issue_token(SECRET, claims)) == claims
    older = token_serializer(SECRET).dumps(["clip", "VIDEO", 42, 0])  # issued before origins were sealed
    assert read_token(SECRET, older) == PlayerClaims("clip", "VIDEO", 42, False, None)
    forged = token_serializer(SECRET).dumps(["clip", "VIDEO", 42, 0, 7])
    assert read_token(SECRET, forged) is None
