"""CMS source code (OAuth, scope content): validate, upload and inspect one file per request."""
from __future__ import annotations

import mimetypes
import posixpath

from oembed_server.hubspot import response_shapes
from oembed_server.hubspot.api_call import ApiCall, Auth, segment, subpath
from oembed_server.hubspot.client import HubSpotClient
from oembed_server.hubspot.response_shapes import receive

ENVIRONMENTS = ("draft", "published")


def _base(environment: str, action: str, path: str) -> str:
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")
    return f"/cms/v3/source-code/{segment(environment)}/{action}/{subpath(path)}"


def _file_part(path: str, content: bytes) -> dict[str, tuple[str, bytes, str]]:
    name = posixpath.basename(path)
    return {"file": (name, content, mimetypes.guess_type(name)[0] or "application/octet-stream")}


def upload(environment: str, path: str, content: bytes) -> ApiCall:
    # PUT creates or replaces the file: repeating it leaves the same content.
    return ApiCall("PUT", _base(environment, "content", path), Auth.OAUTH, idempotent=True,
                   files=_file_part(path, content))


def validate(environment: str, path: str, content: bytes) -> ApiCall:
    return ApiCall("POST", _base(environment, "validate", path), Auth.OAUTH, idempotent=True,
                   files=_file_part(path, content))


def metadata(environment: str, path: str) -> ApiCall:
    return ApiCall("GET", _base(environment, "metadata", path), Auth.OAUTH, idempotent=True)


class SourceCode:
    def __init__(self, client: HubSpotClient):
        self.client = client

    def validate(self, environment: str, path: str, content: bytes) -> None:
        """Raises HubSpotError (400, with HubSpot's list of problems) when the file is invalid."""
        self.client.execute(validate(environment, path, content))

    def upload(self, environment: str, path: str, content: bytes) -> dict:
        return receive(self.client, upload(environment, path, content), response_shapes.UPLOADED_FILE) or {}

    def metadata(self, environment: str, path: str) -> dict | None:
        return receive(self.client, metadata(environment, path), response_shapes.FILE_METADATA, allow=(404,))
