"""Regenerate the trimmed spec copies in this folder from HubSpot's published OpenAPI specs.

Usage: python tests/hubspot_emulator/openapi/trim.py DIR_WITH_THE_PUBLISHED_SPECS [FILE.json ...]
  (FILE.json ...: only these specs)

Keeps only the operations the emulator serves (OPERATIONS below) and the components they
reach, and drops null examples, so the emulator never needs anything outside the repository.
One cut beyond that: HubSpot's calculated-property expression tree (about 90 mutually
recursive schemas, half a megabyte, reached only through ``calculationExpression``, which
nothing here sends or answers) becomes a plain object."""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_APP = ("get /{appId}/settings/object-definitions/{mediaType}", "post /{appId}/settings/object-definitions",
        "patch /{appId}/schemas/{objectType}", "get /{appId}/properties/{objectType}",
        "post /{appId}/properties/{objectType}", "patch /{appId}/properties/{objectType}/{propertyName}",
        "delete /{appId}/properties/{objectType}/{propertyName}", "get /{appId}/settings/oembed-domains",
        "post /{appId}/settings/oembed-domains", "delete /{appId}/settings/oembed-domains",
        "get /{appId}/settings/oembed-domains/{oEmbedDomainId}",
        "patch /{appId}/settings/oembed-domains/{oEmbedDomainId}", "get /{appId}/settings/event-visibility",
        "patch /{appId}/settings/event-visibility", "post /events/media-played",
        "post /events/media-played-percent", "post /events/attention-span")
_CRM = ("get ", "post ", "post /batch/read", "post /batch/create", "post /batch/update", "post /batch/upsert",
        "post /batch/archive", "post /search")
OPERATIONS = {
    "media-bridge-v1.json": [(o.split()[0], "/media-bridge/v1" + o.split()[1]) for o in _APP],
    "media-bridge-2026-03.json": [(o.split()[0], "/media-bridge/2026-03" + o.split()[1]) for o in _APP],
    "crm-objects-v3.json": [(o.split(" ")[0], "/crm/v3/objects/{objectType}" + o.split(" ")[1]) for o in _CRM],
    "cms-source-code-v3.json": [("get", "/cms/v3/source-code/{environment}/content/{path}"),
                                ("put", "/cms/v3/source-code/{environment}/content/{path}"),
                                ("get", "/cms/v3/source-code/{environment}/metadata/{path}"),
                                ("post", "/cms/v3/source-code/{environment}/validate/{path}")],
    "oauth-v1.json": [("post", "/oauth/v1/token"), ("get", "/oauth/v1/access-tokens/{token}"),
                      ("delete", "/oauth/v1/refresh-tokens/{token}")],
    "cms-domains-v3.json": [("get", "/cms/v3/domains")],
    "marketing-forms-v3.json": [("get", "/marketing/v3/forms"), ("get", "/marketing/v3/forms/{formId}")],
    "webhooks-journal-2026-03.json": [("get", "/webhooks-journal/subscriptions/2026-03"),
                                      ("post", "/webhooks-journal/subscriptions/2026-03"),
                                      ("delete", "/webhooks-journal/subscriptions/2026-03/{subscriptionId}"),
                                      ("get", "/webhooks-journal/journal/2026-03/batch/earliest/{count}"),
                                      ("get", "/webhooks-journal/journal/2026-03/batch/{offset}/next/{count}")],
    "app-uninstalls-2026-03.json": [("delete", "/appinstalls/2026-03/external-install")],
}


def _refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _without_null_examples(node):
    if isinstance(node, dict):
        return {k: _without_null_examples(v) for k, v in node.items() if not (k == "example" and v is None)}
    if isinstance(node, list):
        return [_without_null_examples(v) for v in node]
    return node


def _without_expressions(node, expression_schemas: set[str]):
    if isinstance(node, dict):
        choices = node.get("oneOf")
        if isinstance(choices, list) and choices and all(c.get("$ref", "").rsplit("/", 1)[-1] in expression_schemas
                                                          for c in choices):
            return {"type": "object", "description": "calculation expression (trimmed, see trim.py)"}
        return {k: _without_expressions(v, expression_schemas) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_expressions(v, expression_schemas) for v in node]
    return node


# Specs whose sub-typed schemas are real bodies (a form definition is one of its form
# types, a journal subscription one of its subscription kinds), not the calculated-property
# expression tree.
KEEP_SUB_TYPES = ("marketing-forms-v3.json", "webhooks-journal-2026-03.json")


def trim(spec: dict, operations: list[tuple[str, str]], keep_sub_types: bool = False) -> dict:
    schemas = spec["components"].get("schemas", {})
    expressions = set() if keep_sub_types else {
        name for name, schema in schemas.items() if schema.get("x-hubspot-sub-type-impl")}
    spec = _without_expressions(spec, expressions)
    paths: dict = {}
    for method, path in operations:
        paths.setdefault(path, {})[method] = spec["paths"][path][method]
    components: dict = {}
    todo: set[str] = set()
    _refs(paths, todo)
    done: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in done:
            continue
        done.add(ref)
        _, section, name = ref.lstrip("#/").split("/")
        target = spec["components"][section][name]
        components.setdefault(section, {})[name] = target
        _refs(target, todo)
    components["securitySchemes"] = spec["components"]["securitySchemes"]
    return _without_null_examples({"openapi": spec["openapi"], "info": spec["info"], "servers": spec.get("servers", []),
                                   "paths": paths, "components": components})


def main(source: Path, only: list[str]) -> None:
    for name, operations in OPERATIONS.items():
        if only and name not in only:
            continue
        trimmed = trim(json.loads((source / name).read_text()), operations, name in KEEP_SUB_TYPES)
        (HERE / name).write_text(json.dumps(trimmed, indent=1, sort_keys=True) + "\n")
        print(f"{name}: {len(operations)} operations, {len(trimmed['components'].get('schemas', {}))} schemas")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
