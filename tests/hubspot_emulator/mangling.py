"""Answer-mangling faults: a request is handled and stored as usual, then its successful
answer is replaced by one HubSpot (or a proxy in front of it) should never send, so tests
can check the client never crashes, duplicates or reports a false success on one.

``Fault(kind="mangle", mangle=NAME)`` picks one of ``MANGLINGS``; ``GENERIC`` ones fit any
answer, ``RESULTS`` ones change a ``results`` list, ``PAGING`` ones a paged read."""
from __future__ import annotations

import json

from flask import Request, Response


def _json(value) -> Response:
    return Response(json.dumps(value), 200, mimetype="application/json")


def _decoded(response: Response):
    try:
        return json.loads(response.get_data(as_text=True) or "null")
    except ValueError:
        return None


def _truncated(response: Response, request: Request) -> Response:
    text = response.get_data(as_text=True) or '{"results": [{"id": "1"'
    return Response(text[:max(len(text) // 2, 1)], 200, mimetype="application/json")


def _other_type(value):
    """A value of a different JSON type than ``value``."""
    if isinstance(value, str):
        return 12345
    if isinstance(value, list):
        return "oops"
    if isinstance(value, dict):
        return [1, 2]
    if value is None:
        return []
    return "oops"


def _wrong_types(response: Response, request: Request) -> Response:
    body = _decoded(response)
    if not isinstance(body, dict) or not body:
        return _json({"results": "oops"})
    return _json({key: _other_type(value) for key, value in body.items()})


def _with_results(change):
    def mangle(response: Response, request: Request) -> Response:
        body = _decoded(response)
        if not isinstance(body, dict):
            body = {}
        return _json(change(body))
    return mangle


def _first_half(results) -> list:
    results = results if isinstance(results, list) else []
    return results[:len(results) // 2]


def _repeat_cursor(response: Response, request: Request) -> Response:
    """Point the next page at the cursor this request came with (or at the start): a
    client that trusts it reads the same page for ever."""
    body = _decoded(response)
    if not isinstance(body, dict):
        return response
    if request.is_json:
        sent = (request.get_json(silent=True) or {}).get("after")
    else:
        sent = request.args.get("after")
    return _json(body | {"paging": {"next": {"after": str(sent or "0")}}})


MANGLINGS = {
    "truncated": _truncated,
    "html": lambda r, q: Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 200, mimetype="text/html"),
    "text": lambda r, q: Response("OK", 200, mimetype="text/plain"),
    "empty": lambda r, q: Response(b"", 200, mimetype="application/json"),
    "null": lambda r, q: _json(None),
    "list": lambda r, q: _json([1, 2]),
    "string": lambda r, q: _json("results"),
    "wrong_types": _wrong_types,
    "missing_keys": lambda r, q: _json({}),
    # A 200 carrying an error body, as a misrouted gateway might.
    "errors_200": lambda r, q: _json({"status": "error", "message": "Something went wrong",
                                      "correlationId": "emu-mangled-0001", "errors": [{"message": "boom"}]}),
    "results_oops": _with_results(lambda b: b | {"results": "oops"}),
    "results_numbers": _with_results(lambda b: b | {"results": [1, 2]}),
    "short_results": _with_results(lambda b: b | {"results": _first_half(b.get("results"))}),
    "repeat_cursor": _repeat_cursor,
    # Token information without the app it was issued to (the spec requires app_id).
    "no_app_id": lambda r, q: _json({k: v for k, v in (_decoded(r) or {}).items() if k != "app_id"}),
}
GENERIC = ("truncated", "html", "text", "empty", "null", "list", "string", "wrong_types", "missing_keys", "errors_200")
RESULTS = ("results_oops", "results_numbers", "short_results")
PAGING = ("repeat_cursor",)


def mangle(response: Response, request: Request, how: str) -> Response:
    return MANGLINGS[how](response, request)
