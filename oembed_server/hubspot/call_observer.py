"""What the client tells whoever watches it about each attempt it sends (the worker counts
them in its metrics and logs the correlation id with each job); HTTP knowledge only, no
metrics library: the hubspot package stays outbound HTTP."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

# Segments followed by a name or id that varies per app, portal or file.
_NAMED_BY_NEXT = {"objects": "{objectType}", "schemas": "{objectType}", "properties": "{objectType}",
                  "object-definitions": "{mediaType}", "access-tokens": "{token}"}


@dataclasses.dataclass(frozen=True)
class CallObservation:
    operation: str            # method and path template, e.g. "POST /crm/v3/objects/{objectType}/batch/upsert"
    portal: str               # the portal id, "default" (the configured one, unset) or "app" (developer calls)
    status: int | None        # None: no answer (connection failed)
    seconds: float
    retried: bool             # the client sends this call again (429, 5xx, dropped connection)
    correlation_id: str | None


CallObserver = Callable[[CallObservation], None]


def operation_of(method: str, path: str) -> str:
    """``method`` and ``path`` with every varying segment replaced by its name, so metric
    labels stay a short, fixed list: ids become ``{id}``, object types ``{objectType}``,
    a CMS file path ``{path}``."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    template: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part == "source-code" and i + 2 < len(parts):
            template += [part, parts[i + 1], parts[i + 2], "{path}"]
            break
        if part in _NAMED_BY_NEXT and i + 1 < len(parts):
            template += [part, _NAMED_BY_NEXT[part]]
            i += 2
            if part == "properties" and i < len(parts):
                template.append("{name}")
                i += 1
            continue
        template.append("{id}" if part.isdigit() else part)
        i += 1
    return f"{method} /" + "/".join(template)
