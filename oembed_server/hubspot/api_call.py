"""A HubSpot request as plain data: built by the API helpers, sent by the client, or only
printed by a --dry-run. Building and sending are separate so a dry run shows exactly the
requests a real run would send."""
from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any
from urllib.parse import quote, urlencode


class Auth(enum.Enum):
    # App settings, schemas, properties and event visibility belong to the developer account:
    # its access token as Bearer, else its API key as ?hapikey= (HubSpotClient picks, in one
    # place). Never a portal's token.
    DEVELOPER = "developer"
    # Portal data (CRM objects, CMS source code, media events): Authorization: Bearer.
    OAUTH = "bearer"
    # The app's own client-credentials token as Bearer (the Webhooks Journal).
    APP = "app"
    # The token endpoint authenticates with client credentials in its form body; a
    # pre-signed URL carries its credential in its query.
    NONE = "none"


@dataclasses.dataclass(frozen=True)
class ApiCall:
    method: str
    path: str
    auth: Auth
    # True when sending it twice has the effect of sending it once; only such calls are
    # retried after an answer that leaves the outcome unknown (5xx, dropped connection).
    idempotent: bool
    params: dict[str, Any] | None = None
    json: Any = None
    form: dict[str, str] | None = dataclasses.field(default=None, repr=False)
    # Multipart fields: name -> (filename, content, content type).
    files: dict[str, tuple[str, bytes, str]] | None = None
    # The path as logs and errors show it, when the real one carries a credential
    # (HubSpot's token introspection takes the token in the path).
    log_path: str | None = None
    # Another host than HubSpot's API (a pre-signed journal file URL): ``path`` then keeps
    # its query exactly as given, since the signature covers it.
    base_url: str | None = None
    # Hand back the answer's text as sent, not decoded JSON (what the journal files hold).
    raw_text: bool = False

    @property
    def shown_path(self) -> str:
        return self.log_path or self.path

    def url(self, api_base: str) -> str:
        query = f"?{urlencode(self.params, doseq=True)}" if self.params else ""
        return f"{self.base_url or api_base}{self.path}{query}"

    def describe(self, api_base: str) -> dict[str, Any]:
        """What a dry run prints: never the credentials, only which kind would be used."""
        url = f"{self.base_url}{self.shown_path}" if self.base_url else self.url(api_base)
        described: dict[str, Any] = {"method": self.method, "url": url, "auth": self.auth.value}
        if self.json is not None:
            described["json"] = self.json
        if self.files:
            described["files"] = {name: {"filename": f[0], "bytes": len(f[1]), "content_type": f[2]}
                                  for name, f in self.files.items()}
        if self.form:
            described["form"] = {k: ("[REDACTED]" if k in ("client_secret", "refresh_token", "code") else v)
                                 for k, v in self.form.items()}
        return described

    def describe_line(self, api_base: str) -> str:
        d = self.describe(api_base)
        line = f"{d['method']} {d['url']} [{d['auth']}]"
        if "json" in d:
            body = json.dumps(d["json"], sort_keys=True)
            line += " " + (body if len(body) <= 300 else body[:300] + f"... ({len(body)} chars)")
        if "files" in d:
            line += " " + ", ".join(f"{k}={v['filename']} ({v['bytes']} bytes)" for k, v in d["files"].items())
        return line


@dataclasses.dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


def segment(value: Any) -> str:
    """One path segment, so an id or name can never add a path level."""
    return quote(str(value), safe="")


def subpath(value: str) -> str:
    """A multi-level path (CMS file paths), each level quoted, no empty or dot levels."""
    parts = value.split("/")
    if not value or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a clean relative path: {value!r}")
    return "/".join(quote(p, safe="") for p in parts)
