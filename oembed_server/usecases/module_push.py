"""Push a CMS module folder to the portal: validate every changed file, then upload one
file per request, meta.json first; skip files HubSpot already holds unchanged."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Protocol

from oembed_server.hubspot.api_call import ApiCall, subpath
from oembed_server.hubspot.api_error import HubSpotError
from oembed_server.hubspot.source_code_api import SourceCode, metadata, upload, validate

MODULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
REQUIRED_FILES = ("meta.json", "fields.json", "module.html")


class ModuleFolderError(ValueError):
    """The module folder is missing, incomplete, or reaches outside itself."""


@dataclasses.dataclass(frozen=True)
class ModuleFile:
    relative: str  # inside the module folder, with /
    remote_path: str  # in the portal's design manager
    content: bytes = dataclasses.field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def md5(self) -> str:
        return hashlib.md5(self.content, usedforsecurity=False).hexdigest()


def collect_module_files(source_dir: Path, module: str, dest: str) -> list[ModuleFile]:
    if not MODULE_NAME.match(module):
        raise ModuleFolderError(f"module name {module!r} must be letters, digits, - and _ only")
    dest = dest.strip("/")
    try:
        # Checked only: the request builders quote each level when they build the URL.
        subpath(dest)
    except ValueError:
        raise ModuleFolderError(f"destination {dest!r} must be a relative folder path without . or .. parts") from None
    folder = Path(source_dir) / f"{module}.module"
    if folder.is_symlink() or not folder.is_dir():
        raise ModuleFolderError(f"{folder} is not a module folder (a real directory, not a symlink)")
    root = folder.resolve()
    files = []
    for current, dirs, names in os.walk(root, followlinks=False):
        # Hidden entries (.DS_Store, editor swap files) are not part of a module.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for d in dirs:
            if (Path(current) / d).is_symlink():
                raise ModuleFolderError(f"{Path(current) / d}: symlinked folders are refused")
        for name in sorted(n for n in names if not n.startswith(".")):
            path = Path(current) / name
            resolved = path.resolve()
            if path.is_symlink() and not resolved.is_relative_to(root):
                raise ModuleFolderError(f"{path} points outside the module folder ({resolved}); refused")
            if not resolved.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            files.append(ModuleFile(relative, f"{dest}/{module}.module/{relative}", resolved.read_bytes()))
    missing = [f for f in REQUIRED_FILES if f not in {m.relative for m in files}]
    if missing:
        raise ModuleFolderError(f"{folder} lacks {', '.join(missing)}")
    # HubSpot's own CLI sends meta.json first: the module exists before its parts arrive.
    return sorted(files, key=lambda f: (f.relative != "meta.json", f.relative))


class PushRecords(Protocol):
    """Where the last push of each file is remembered: a PushRecord file here, or the
    database (storage.provisioning_marks.StoredPushRecord) for the worker."""

    def get(self, key: str) -> dict | None: ...

    def put(self, key: str, sha256: str, updated_at: Any) -> None: ...


class PushRecord:
    """What this machine last pushed, per portal, environment and path: the fallback when
    HubSpot's metadata carries no hash."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.entries: dict[str, dict] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.entries = {}
        except ValueError:
            # A damaged record only costs re-uploads.
            self.entries = {}

    @staticmethod
    def key(portal_id: int | None, environment: str, remote_path: str) -> str:
        return f"{portal_id}|{environment}|{remote_path}"

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)

    def put(self, key: str, sha256: str, updated_at) -> None:
        self.entries[key] = {"sha256": sha256, "updatedAt": updated_at}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


@dataclasses.dataclass
class PushReport:
    environment: str
    uploaded: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.uploaded)

    def to_dict(self) -> dict:
        return {"changed": self.changed} | dataclasses.asdict(self)

    def lines(self) -> list[str]:
        lines = [f"uploaded {p} ({self.environment})" for p in self.uploaded]
        lines += [f"unchanged {p}" for p in self.unchanged]
        if not self.changed:
            lines.append("Nothing to change: every file in the portal matches the module folder.")
        return lines


class ModuleValidationError(ValueError):
    """HubSpot's validator refused one or more files; nothing was uploaded."""


def _unchanged(f: ModuleFile, meta: dict | None, recorded: dict | None) -> bool:
    if meta is None:
        return False
    if meta.get("hash"):
        # HubSpot does not document the hash algorithm; either common one counts as a match.
        return meta["hash"] in (f.sha256, f.md5)
    if not recorded:
        return False
    return recorded.get("sha256") == f.sha256 and recorded.get("updatedAt") == meta.get("updatedAt")


def push_module(source: SourceCode, files: list[ModuleFile], environment: str, record: PushRecords | None,
                portal_id: int | None) -> PushReport:
    report = PushReport(environment)
    to_upload = []
    for f in files:
        key = PushRecord.key(portal_id, environment, f.remote_path)
        if _unchanged(f, source.metadata(environment, f.remote_path), record.get(key) if record else None):
            report.unchanged.append(f.remote_path)
        else:
            to_upload.append(f)
    problems = []
    for f in to_upload:
        try:
            source.validate(environment, f.remote_path, f.content)
        except HubSpotError as exc:
            if exc.status != 400:
                raise
            problems.append(f"{f.relative}: {exc.message}")
    if problems:
        raise ModuleValidationError("HubSpot refused the module, nothing uploaded: " + "; ".join(problems))
    for f in to_upload:
        answer = source.upload(environment, f.remote_path, f.content)
        report.uploaded.append(f.remote_path)
        if record is not None:
            record.put(PushRecord.key(portal_id, environment, f.remote_path), f.sha256, answer.get("updatedAt"))
    return report


def plan_push(files: list[ModuleFile], environment: str) -> list[ApiCall]:
    """Requests when the portal holds none of the files (a real run skips unchanged ones)."""
    calls = [metadata(environment, f.remote_path) for f in files]
    calls += [validate(environment, f.remote_path, f.content) for f in files]
    calls += [upload(environment, f.remote_path, f.content) for f in files]
    return calls
