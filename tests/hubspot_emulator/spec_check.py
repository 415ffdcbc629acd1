"""Holds every request the emulator receives, and every answer it sends, to HubSpot's published
OpenAPI specs (the trimmed copies in ``openapi/``; ``openapi/SOURCE.md`` says where they come from).

A request must name an operation the specs know (path and method), carry the kind of
credential that operation names, give its required query parameters, and send a body its
request schema accepts. A request that does not is refused with 400 in HubSpot's error shape
and the validation message, and recorded in ``state.spec_violations``, so every test that
drifts from the specs fails. Answers are checked against the response schema for their status
and only recorded (the client under test must still see what the emulator meant to send).

The guide's v2 event paths are not in the specs: they carry the v1 bodies, so they are held
to the v1 operations. Schemas are compiled once per process; validating costs well under a
millisecond per request."""
from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.hubspot_emulator.responses import error_response, state

SPEC_DIR = Path(__file__).resolve().parent / "openapi"
SPEC_FILES = ("media-bridge-v1.json", "media-bridge-2026-03.json", "crm-objects-v3.json", "cms-source-code-v3.json",
              "oauth-v1.json", "cms-domains-v3.json", "marketing-forms-v3.json", "webhooks-journal-2026-03.json",
              "app-uninstalls-2026-03.json")
# Held to another version's operation: same bodies, path not in the specs.
ALIASES = ((re.compile(r"^/media-bridge/v2/events/"), "/media-bridge/v1/events/"),)
# Which request credential each security scheme of the specs stands for.
SCHEME_CREDENTIAL = {"oauth2": "bearer", "developer_hapikey": "hapikey", "private_apps": "private-app",
                     "private_apps_legacy": "private-app"}
# App-level Media Bridge operations name only OAuth (developers-read / developers-write);
# HubSpot's long-standing developer API key is accepted there too unless a test turns it off.
DEVELOPER_SCOPES = frozenset({"developers-read", "developers-write"})


class _Validator:
    """One compiled schema; ``problem(value)`` is the most relevant error message or None."""

    def __init__(self, schema: dict, components: dict):
        self.schema = schema
        self._validator = OAS30Validator(schema | {"components": components}, format_checker=oas30_format_checker)

    def problem(self, value: Any) -> str | None:
        error = best_match(self._validator.iter_errors(value))
        if error is None:
            return None
        where = error.json_path if error.json_path != "$" else "the body"
        return f"{where}: {error.message}"


@dataclasses.dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query
    required: bool
    validator: _Validator | None


@dataclasses.dataclass(frozen=True)
class Operation:
    spec: str
    method: str
    template: str
    pattern: re.Pattern
    security: tuple[tuple[str, frozenset[str]], ...]  # (scheme, scopes) alternatives; empty: none needed
    parameters: tuple[Parameter, ...]
    body_required: bool
    bodies: dict[str, _Validator | None]  # media type -> schema
    responses: dict[str, dict[str, _Validator | None]]  # status or "default" -> media type -> schema

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(scope for _, scopes in self.security for scope in scopes)

    @property
    def credentials(self) -> frozenset[str]:
        kinds = {SCHEME_CREDENTIAL.get(scheme, scheme) for scheme, _ in self.security}
        if self.scopes & DEVELOPER_SCOPES:
            kinds.add("hapikey")
        return frozenset(kinds)


def _compile_path(template: str) -> re.Pattern:
    pattern = ""
    for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", template):
        pattern += re.escape(literal)
        if name:
            # CMS file paths span several levels; every other parameter is one segment.
            pattern += f"(?P<{name}>.+)" if name == "path" else f"(?P<{name}>[^/]+)"
    return re.compile(f"^{pattern}$")


def _validator(schema: dict | None, components: dict) -> _Validator | None:
    return _Validator(schema, components) if schema else None


def _operations_of(name: str, doc: dict) -> Iterable[Operation]:
    components = doc.get("components", {})
    for template, methods in doc["paths"].items():
        for method, op in methods.items():
            security = tuple((scheme, frozenset(scopes)) for requirement in op.get("security") or []
                             for scheme, scopes in requirement.items())
            parameters = tuple(Parameter(p["name"], p["in"], bool(p.get("required")),
                                         _validator(p.get("schema"), components))
                               for p in op.get("parameters", []) if p.get("in") in ("path", "query"))
            body = op.get("requestBody") or {}
            bodies = {media: _validator(content.get("schema"), components)
                      for media, content in (body.get("content") or {}).items()}
            responses = {}
            for status, answer in op.get("responses", {}).items():
                if "$ref" in answer:
                    answer = components["responses"][answer["$ref"].rsplit("/", 1)[-1]]
                responses[status] = {media: _validator(content.get("schema"), components)
                                     for media, content in (answer.get("content") or {}).items()}
            yield Operation(name, method.upper(), template, _compile_path(template), security, parameters,
                            bool(body.get("required")), bodies, responses)


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation of the shipped specs, compiled once per process."""
    found = []
    for name in SPEC_FILES:
        found += _operations_of(name, json.loads((SPEC_DIR / name).read_text()))
    return tuple(found)


def match(method: str, path: str) -> tuple[Operation | None, dict[str, str], bool]:
    """(the operation, its path parameters, whether the path is known under another method)."""
    for pattern, replacement in ALIASES:
        path = pattern.sub(replacement, path)
    path_known = False
    for op in operations():
        found = op.pattern.match(path)
        if found is None:
            continue
        if op.method == method:
            return op, found.groupdict(), True
        path_known = True
    return None, {}, path_known


def operation_for(method: str, path: str) -> Operation | None:
    return match(method, path)[0]


def _typed(texts: list[str], validator: _Validator | None) -> Any:
    """A query or path value as the JSON type its schema expects, where it reads as one.
    Arrays come repeated (the specs' explode form) or comma-separated, as HubSpot takes both."""
    schema = validator.schema if validator else {}
    if schema.get("type") == "array":
        items = [part for text in texts for part in text.split(",")]
        return [_scalar(item, schema.get("items") or {}) for item in items]
    return _scalar(texts[-1], schema)


def _scalar(text: str, schema: dict) -> Any:
    if schema.get("type") == "integer" and re.fullmatch(r"-?\d+", text):
        return int(text)
    if schema.get("type") == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def request_problem(op: Operation, path_params: dict[str, str], credential: str) -> str | None:
    """What makes the current request differ from ``op``, or None."""
    if op.security and credential not in op.credentials:
        return f"{op.name} takes {' or '.join(sorted(op.credentials))} credentials, not {credential}"
    for param in op.parameters:
        texts = [path_params[param.name]] if param.name in path_params else (
            request.args.getlist(param.name) if param.location == "query" else [])
        if not texts:
            if param.required:
                return f"the required {param.location} parameter {param.name} is missing"
            continue
        problem = param.validator.problem(_typed(texts, param.validator)) if param.validator else None
        if problem:
            return f"{param.location} parameter {param.name}: {problem.split(': ', 1)[-1]}"
    return _body_problem(op)


def _body_problem(op: Operation) -> str | None:
    if not op.bodies:
        return None
    raw = request.get_data(cache=True)
    if not raw:
        return "a request body is required" if op.body_required else None
    media = (request.mimetype or "").lower()
    if media not in op.bodies:
        return f"Content-Type {media or 'none'} is not one of {', '.join(op.bodies)}"
    validator = op.bodies[media]
    if media == "application/json":
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return f"the body is not valid JSON: {exc}"
    elif media == "multipart/form-data":
        body = {name: "(file)" for name in request.files} | request.form.to_dict()
    else:
        body = request.form.to_dict()
    return validator.problem(body) if validator else None


def response_problem(op: Operation, status: int, mimetype: str, data: bytes) -> str | None:
    schemas = op.responses.get(str(status))
    if schemas is None and status < 300 and mimetype != "application/json":
        # The spec describes no success answer for a file download (GET .../content/{path}):
        # the file itself is the answer, and "default" covers only errors.
        return None
    if schemas is None:
        schemas = op.responses.get("default")
        if schemas is None:
            return f"status {status} is not an answer the spec lists ({', '.join(op.responses)})"
    if not data and status == 204:
        return None
    if not schemas:
        return f"status {status} carries no body in the spec" if data else None
    media = mimetype if mimetype in schemas else "*/*"
    if media not in schemas:
        return f"Content-Type {mimetype} is not one of {', '.join(schemas)}"
    validator = schemas[media]
    if validator is None:
        return None
    try:
        body = json.loads(data)
    except ValueError:
        return "the body is not JSON"
    return validator.problem(body)


def _record(kind: str, op: Operation | None, message: str) -> None:
    s = state()
    with s.lock:
        s.spec_violations.append({"kind": kind, "method": request.method, "path": request.path,
                                  "operation": op.name if op else None, "message": message})


# The consent page is HubSpot's web app (app.hubspot.com), not an API the specs describe.
WEB_PAGES = ("/oauth/authorize",)
# HubSpot's form submission API (api.hsforms.com) is in no spec the collection holds (its
# legacy spec is not published there); routes_forms checks its bodies as the reference
# (hubspot-forms-submit.md) describes them.
UNSPECIFIED_PREFIXES = ("/submissions/v3/integration/submit/",)


def _check_request():
    if request.path.startswith(("/_emulator/", *UNSPECIFIED_PREFIXES)) or request.path in WEB_PAGES \
            or not state().validate_spec:
        return None
    op, path_params, path_known = match(request.method, request.path)
    if op is None:
        message = (f"{request.method} is not an operation HubSpot's specs list for {request.path}" if path_known
                   else f"No operation in HubSpot's specs matches {request.method} {request.path}")
        _record("request", None, message)
        return error_response(405 if path_known else 404, message, "VALIDATION_ERROR" if path_known
                              else "OBJECT_NOT_FOUND")
    g.spec_operation = op
    s = state()
    with s.lock:
        s.spec_operations[op.name] += 1
    problem = request_problem(op, path_params, g.get("auth_kind", "none"))
    if problem:
        _record("request", op, problem)
        return error_response(400, f"Invalid request for {op.name}: {problem}", "VALIDATION_ERROR")
    return None


def _check_response(response):
    op = g.get("spec_operation")
    # v2 events have no spec answer of their own (HubSpot only queues them).
    if op is None or request.path.startswith("/media-bridge/v2/") or response.direct_passthrough:
        return response
    problem = response_problem(op, response.status_code, response.mimetype or "", response.get_data())
    if problem:
        _record("response", op, f"answer {response.status_code}: {problem}")
    return response


def install(app: Flask) -> None:
    """Hook the checks in app-wide: after authentication (so a missing or refused credential
    still answers 401/403 as HubSpot does), before any route."""
    app.before_request(_check_request)
    app.after_request(_check_response)
