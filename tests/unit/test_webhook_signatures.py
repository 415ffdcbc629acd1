"""HubSpot's webhook signatures against the reference sheet's worked vectors (the official
SDK's and a v3 one with URL decoding), and the refusals: stale, future, unsigned, altered."""
from __future__ import annotations

import pytest

from oembed_server.domain.webhook_signature import (
    SignatureRefused,
    check_v1,
    check_v3,
    decode_uri,
    v1_signature,
    v2_signature,
    v3_signature,
)

SDK_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
SDK_BODY = b"{'example_field':'example_value'}"
SDK_URI = "https://www.example.com/webhook_uri"
V1_DOC_BODY = (b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
               b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
               b'"changeFlag":"NEW","appId":54321}]')
B_SECRET = "my-client-secret-1234"
B_URI = "https://hooks.example.com/hubspot/webhook?portal=123&src=a%3Ab"
B_TS = "1767225601000"
B_BODY = (b'[{"eventId":100,"subscriptionId":2001,"portalId":62515,"appId":54321,"occurredAt":1767225600000,'
          b'"subscriptionType":"contact.privacyDeletion","attemptNumber":0,"objectId":123456,'
          b'"changeSource":"GDPR","changeFlag":"DELETED"}]')


def test_the_sdk_vectors():
    assert v3_signature(SDK_SECRET, "POST", SDK_URI, SDK_BODY, "1693657560000") == \
        "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    assert v2_signature(SDK_SECRET, "POST", SDK_URI, SDK_BODY) == \
        "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
    assert v2_signature(SDK_SECRET, "GET", SDK_URI, b"") == \
        "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    assert v1_signature(SDK_SECRET, SDK_BODY) == "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
    assert v1_signature(SDK_SECRET, V1_DOC_BODY) == \
        "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"


def test_the_v3_vector_with_url_decoding():
    assert len(B_BODY) == 223
    assert decode_uri(B_URI) == "https://hooks.example.com/hubspot/webhook?portal=123&src=a:b"
    assert v3_signature(B_SECRET, "POST", B_URI, B_BODY, B_TS) == "q967jJA+d1h/FuHd00FEMdXeuIUo28nmMCt4JtD6F80="
    # Hashing the URI as received is the mistake the sheet shows; it does not match.
    undecoded = "DdivKZ0tEzLb8LB7yaWj/t1dcCCR6HtKzuV/I8uJQFc="
    with pytest.raises(SignatureRefused, match="does not match"):
        check_v3(B_SECRET, "POST", B_URI, B_BODY, undecoded, B_TS, now_ms=int(B_TS) + 1000)
    assert v2_signature(B_SECRET, "POST", B_URI, B_BODY) == \
        "1fce8f734173391f03ad5a5aaf01963081c8089ef0dffff9ffc56e7c59e9505f"
    assert v1_signature(B_SECRET, B_BODY) == "91f2b187caa785b20b8180ce9b66e57562c56c12f62adeaf5c0943c41c1c343b"


def test_every_listed_escape_is_decoded_in_either_case_and_nothing_else():
    assert decode_uri("/x?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B") == "/x?a=:/?@!$'()*,;"
    assert decode_uri("/x?a=%3a%2f") == "/x?a=:/"
    assert decode_uri("/x?a=%20%26%3D%25") == "/x?a=%20%26%3D%25"


def test_v3_accepts_within_five_minutes_and_refuses_outside_them():
    signature = "q967jJA+d1h/FuHd00FEMdXeuIUo28nmMCt4JtD6F80="
    sent = int(B_TS)
    check_v3(B_SECRET, "POST", B_URI, B_BODY, signature, B_TS, now_ms=sent + 300_000)  # frozen: exactly 5 min
    with pytest.raises(SignatureRefused, match="more than 5 minutes"):
        check_v3(B_SECRET, "POST", B_URI, B_BODY, signature, B_TS, now_ms=sent + 300_001)
    with pytest.raises(SignatureRefused, match="more than 5 minutes"):
        check_v3(B_SECRET, "POST", B_URI, B_BODY, signature, B_TS, now_ms=sent - 300_001)


@pytest.mark.parametrize("change", ["secret", "method", "uri", "body", "timestamp", "plus_as_space", "missing",
                                    "bad_timestamp"])
def test_v3_refuses_anything_altered(change):
    signature, secret, method, uri, body, ts = ("q967jJA+d1h/FuHd00FEMdXeuIUo28nmMCt4JtD6F80=", B_SECRET, "POST",
                                                 B_URI, B_BODY, B_TS)
    now = int(B_TS) + 10
    if change == "secret":
        secret = "another-secret"
    elif change == "method":
        method = "PUT"
    elif change == "uri":
        uri = uri.replace("portal=123", "portal=124")
    elif change == "body":
        body = body.replace(b"123456", b"123457")
    elif change == "timestamp":
        ts, now = str(int(ts) + 1), now + 1
    elif change == "plus_as_space":
        signature = signature.replace("+", " ")
    elif change == "missing":
        signature = ""
    elif change == "bad_timestamp":
        ts = "1767225601000.5"
    with pytest.raises(SignatureRefused):
        check_v3(secret, method, uri, body, signature, ts, now_ms=now)


def test_v1_checks_the_secret_and_body_and_the_version_header():
    good = "91f2b187caa785b20b8180ce9b66e57562c56c12f62adeaf5c0943c41c1c343b"
    check_v1(B_SECRET, B_BODY, good, "v1")
    check_v1(B_SECRET, B_BODY, good.upper(), None)
    with pytest.raises(SignatureRefused, match="does not match"):
        check_v1(B_SECRET, B_BODY + b" ", good, "v1")
    with pytest.raises(SignatureRefused, match="v2"):
        check_v1(B_SECRET, B_BODY, good, "v2")
    with pytest.raises(SignatureRefused, match="missing"):
        check_v1(B_SECRET, B_BODY, None, "v1")
