"""/cms/v3/source-code/{environment}: upload (multipart field "file"), validate, metadata."""
from __future__ import annotations

import hashlib
import json
import posixpath
import time

from flask import Blueprint, jsonify, request

from tests.hubspot_emulator.responses import ApiError, portal_data, require, state

blueprint = Blueprint("cms", __name__, url_prefix="/cms/v3/source-code/<environment>")

ENVIRONMENTS = ("draft", "published")
HOST_TEMPLATE_TYPES = {"PAGE", "BLOG_POST", "BLOG_LISTING", "EMAIL", "QUOTE_TEMPLATE"}
SOURCE_TYPES = {"oembed", "media_bridge"}


def _check_path(environment: str, path: str) -> None:
    require(environment in ENVIRONMENTS, f"environment must be draft or published, got {environment!r}", 404,
            "OBJECT_NOT_FOUND")
    parts = path.split("/")
    require(bool(path) and not any(p in ("", ".", "..") for p in parts), f"Invalid path {path!r}")


def _uploaded() -> bytes:
    upload = request.files.get("file")
    require(upload is not None, "Missing the multipart form field 'file'")
    require(set(request.files) == {"file"}, "Only the multipart field 'file' is accepted")
    return upload.read()


def validation_problems(path: str, content: bytes) -> list[str]:
    """The checks HubSpot's validator makes that matter for a module: parseable JSON with the
    expected shape, and balanced HubL delimiters."""
    name = posixpath.basename(path)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return ["file is not UTF-8 text"]
    problems = []
    if name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            return [f"invalid JSON: {exc}"]
        if name == "meta.json":
            if not isinstance(data, dict):
                return ["meta.json must be a JSON object"]
            if not isinstance(data.get("label"), str) or not data["label"].strip():
                problems.append("meta.json needs a label")
            types = data.get("host_template_types", [])
            if not isinstance(types, list) or any(t not in HOST_TEMPLATE_TYPES for t in types):
                problems.append(f"host_template_types must be a list among {sorted(HOST_TEMPLATE_TYPES)}")
        elif name == "fields.json":
            if not isinstance(data, list):
                return ["fields.json must be a JSON array of fields"]
            for i, field in enumerate(data):
                if not isinstance(field, dict) or not field.get("name") or not field.get("type"):
                    problems.append(f"field {i} needs a name and a type")
                elif field["type"] == "embed":
                    sources = field.get("supported_source_types", [])
                    if not isinstance(sources, list) or any(s not in SOURCE_TYPES for s in sources):
                        problems.append(f"field {field['name']!r}: supported_source_types must be among "
                                        f"{sorted(SOURCE_TYPES)}")
    elif name.endswith((".html", ".hubl")):
        for opening, closing in (("{%", "%}"), ("{{", "}}"), ("{#", "#}")):
            if text.count(opening) != text.count(closing):
                problems.append(f"unbalanced HubL delimiters {opening} {closing}")
    return problems


@blueprint.post("/validate/<path:path>")
def validate(environment: str, path: str):
    _check_path(environment, path)
    _refuse_invalid(path, _uploaded())
    return "", 204


def _refuse_invalid(path: str, content: bytes) -> None:
    problems = validation_problems(path, content)
    if problems:
        raise ApiError(400, f"{path}: {'; '.join(problems)}", "VALIDATION_ERROR",
                       errors=[{"message": p, "context": {"path": [path]}} for p in problems])


def _metadata(environment: str, path: str, record: dict) -> dict:
    meta = {"id": record["id"], "name": posixpath.basename(path), "folder": False,
            "createdAt": record["createdAt"], "updatedAt": record["updatedAt"]}
    if state().metadata_includes_hash:
        meta["hash"] = hashlib.sha256(record["content"]).hexdigest()
    return meta


@blueprint.put("/content/<path:path>")
def upload(environment: str, path: str):
    _check_path(environment, path)
    content = _uploaded()
    # HubSpot refuses on upload what its validator refuses; a broken file is never stored.
    _refuse_invalid(path, content)
    s = state()
    with s.lock:
        files = portal_data().source_files
        record = files.get((environment, path))
        stamp = int(time.time() * 1000)
        if record is None:
            record = {"id": s.next_id(), "createdAt": stamp}
            files[(environment, path)] = record
        # Strictly increasing, so a re-upload in the same millisecond still shows as a change.
        record["updatedAt"] = max(stamp, record.get("updatedAt", 0) + 1)
        record["content"] = content
        meta = _metadata(environment, path, record)
    # The spec answers 200 whether the file is new or replaced.
    return jsonify(meta), 200


@blueprint.get("/content/<path:path>")
def download(environment: str, path: str):
    _check_path(environment, path)
    record = portal_data().source_files.get((environment, path))
    require(record is not None, f"No file at {path}", 404, "OBJECT_NOT_FOUND")
    return record["content"], 200, {"Content-Type": "application/octet-stream"}


@blueprint.get("/metadata/<path:path>")
def metadata(environment: str, path: str):
    _check_path(environment, path)
    files = portal_data().source_files
    record = files.get((environment, path))
    if record is not None:
        return jsonify(_metadata(environment, path, record))
    children = sorted({p[len(path) + 1:].split("/")[0] for env, p in files
                       if env == environment and p.startswith(path + "/")})
    require(bool(children), f"No file or folder at {path}", 404, "OBJECT_NOT_FOUND")
    stamps = [r["updatedAt"] for (env, p), r in files.items() if env == environment
              and p.startswith(path + "/")]
    return jsonify({"id": path, "name": posixpath.basename(path), "folder": True, "children": children,
                    "createdAt": min(stamps), "updatedAt": max(stamps)})
