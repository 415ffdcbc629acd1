"""``oembed-server hubspot-project``: write this provider's HubSpot developer project
(platform 2026.03) and check one, the way ``hs project validate`` reports problems.

HubSpot's CLI validates ``config`` against schemas it downloads at upload time; none are
published, so ours (``oembed_server/project_schemas``, JSON Schema 2020-12) follow the
reference sheet's field table. Beyond the schemas the check applies HubSpot's rules for
every ``*-hsmeta.json`` (top-level keys, uid, type and directory, one app) and ours: the
webhook target and redirect URLs must be reachable by HubSpot, and the scopes must be
the ones ``/hubspot/connect`` asks for. Refuses to write a project whose public URL is
loopback, private or plain http, as the install flow's scripts do.
"""
from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from oembed_server.domain import hubspot_app
from oembed_server.domain.public_url import unreachable_reason
from oembed_server.package_data import PROJECT_SCHEMAS_DIR

# The component types of platform 2025.2+ and the directory each must sit in (under src/).
TYPE_DIRECTORIES = {
    "app": "app", "webhooks": "app/webhooks", "card": "app/cards", "settings": "app/settings",
    "app-function": "app/functions", "app-event": "app/app-events", "media-bridge": "app/media-bridge",
    "webhooks-journal": "app/webhooks-journal", "app-object": "app/app-objects", "scim": "app/scim",
    "workflow-action": "app/workflow-actions", "telemetry": "app/telemetry", "calling": "app/calling",
    "marketing-event": "app/marketing-events", "mcp-server": "app/mcp-servers",
}
SINGLE_TYPES = ("app", "webhooks", "webhooks-journal", "settings", "scim", "telemetry")
TOP_LEVEL_KEYS = ("uid", "type", "config", "dependencies")
SCHEMA_FILES = {"project": "hsproject.schema.json", "app": "app-hsmeta.schema.json",
                "webhooks": "webhooks-hsmeta.schema.json"}


class ProjectRefused(ValueError):
    """The project cannot be written as asked (a public URL HubSpot cannot reach, a bad flag)."""


@dataclasses.dataclass
class CheckResult:
    name: str
    # Problems per file (relative path), in the order found; an empty dict is a valid project.
    problems: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        self.problems.setdefault(path, []).append(message)

    @property
    def valid(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        if self.valid:
            return [f"Project {self.name} is valid and ready to upload"]
        out = ["Project validation failed:"]
        for path, messages in self.problems.items():
            out += ["", f"Encountered the following errors for {path}:"]
            out += [f"\t- {m}" for m in messages]
        return out + ["", f"Project {self.name} is invalid"]


@cache
def _validator(kind: str) -> Draft202012Validator:
    schema = json.loads((PROJECT_SCHEMAS_DIR / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _describe(error: ValidationError) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"Missing required field: '{where + '.' if where else ''}{missing}'"
    if error.validator == "enum":
        values = error.validator_value
        allowed = ", ".join(str(v) for v in values) if isinstance(values, list) else str(values)
        return f"{where}: must be equal to one of the allowed values\n\t\t-  allowedValues: {allowed}"
    if error.validator == "type":
        return f"Value ({json.dumps(error.instance)}) in {where}: must be {error.validator_value}"
    return f"{where or '(top level)'}: {error.message}"


def schema_problems(kind: str, value: Any) -> list[str]:
    errors = sorted(_validator(kind).iter_errors(value), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [_describe(e) for e in errors]


def public_url_problem(public_url: str) -> str | None:
    reason = unreachable_reason(public_url)
    if reason is None:
        return None
    return (f"OEMBED_PUBLIC_URL={public_url} cannot go into a HubSpot project: {reason}. Set OEMBED_PUBLIC_URL "
            "to this provider's public https address (e.g. https://media.example.com)")


def write_project(out_dir: Path, *, name: str, public_url: str, public_url_explicit: bool, distribution: str,
                  required_scopes: tuple[str, ...], support: dict[str, str], force: bool = False) -> list[Path]:
    """Write the project's files under ``out_dir``, after checking them; returns the paths."""
    if not public_url_explicit:
        raise ProjectRefused(f"OEMBED_PUBLIC_URL is not set, so the default {public_url} cannot go into a "
                             "HubSpot project: set it to this provider's public https address")
    problem = public_url_problem(public_url)
    if problem:
        raise ProjectRefused(problem)
    try:
        files = hubspot_app.project_files(name=name, public_url=public_url, distribution=distribution,
                                          required_scopes=required_scopes, support=support)
    except ValueError as exc:
        raise ProjectRefused(str(exc)) from None
    result = CheckResult(name)
    _check_values(result, files, required_scopes)
    if not result.valid:
        raise ProjectRefused("\n".join(result.lines()))
    existing = [p for p in files if (out_dir / p).exists()]
    if existing and not force:
        raise ProjectRefused(f"{out_dir} already holds {', '.join(existing)} (pass --force to overwrite)")
    written = []
    for relative, value in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def check_project(project_dir: Path, required_scopes: tuple[str, ...]) -> CheckResult:
    """Every problem of the project in ``project_dir``, as ``hs project validate`` lists them."""
    config_path = project_dir / hubspot_app.PROJECT_FILE
    result = CheckResult(project_dir.name)
    config = _load(result, config_path, hubspot_app.PROJECT_FILE)
    if config is None:
        return result
    if isinstance(config, dict) and isinstance(config.get("name"), str):
        result.name = config["name"]
    problems = schema_problems("project", config)
    if problems:
        for p in problems:
            result.add(hubspot_app.PROJECT_FILE, p)
        return result
    src = (project_dir / config["srcDir"]).resolve()
    if not src.is_relative_to(project_dir.resolve()):
        result.add(hubspot_app.PROJECT_FILE, f"Invalid value for 'srcDir' {config['srcDir']}: must be a relative "
                                             "path to a folder under the project root")
        return result
    if not src.is_dir():
        result.add(hubspot_app.PROJECT_FILE, f"Project source directory {config['srcDir']} could not be found in "
                                             f"{project_dir}.")
        return result
    metas = sorted(p for p in src.rglob("*-hsmeta.json") if p.is_file())
    if not metas:
        result.add(hubspot_app.PROJECT_FILE, f"No *-hsmeta.json files found in {config['srcDir']}.")
        return result
    values = {hubspot_app.PROJECT_FILE: config}
    for path in metas:
        relative = path.relative_to(project_dir).as_posix()
        value = _load(result, path, relative)
        if value is not None:
            values[relative] = value
    _check_values(result, values, required_scopes, src_prefix=f"{Path(config['srcDir']).as_posix()}/")
    return result


def _load(result: CheckResult, path: Path, relative: str) -> Any:
    if not path.is_file():
        result.add(relative, f"The project configuration file {relative} is missing.")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        result.add(relative, f"Invalid JSON: {exc}")
        return None


def _check_values(result: CheckResult, files: dict[str, Any], required_scopes: tuple[str, ...],
                  src_prefix: str = "src/") -> None:
    """HubSpot's per-file rules, our schemas, and our own rules, over parsed files."""
    if hubspot_app.PROJECT_FILE in files:
        for p in schema_problems("project", files[hubspot_app.PROJECT_FILE]):
            result.add(hubspot_app.PROJECT_FILE, p)
    uids: dict[str, str] = {}
    seen_types: dict[str, str] = {}
    for relative, value in files.items():
        if relative == hubspot_app.PROJECT_FILE:
            continue
        if not isinstance(value, dict):
            result.add(relative, "must be a JSON object")
            continue
        extra = sorted(set(value) - set(TOP_LEVEL_KEYS))
        if extra:
            result.add(relative, f"Unexpected top-level properties found: {', '.join(extra)}")
        for field in ("type", "config"):
            if field not in value:
                result.add(relative, f"Missing required field: '{field}'")
        kind = value.get("type")
        if not isinstance(kind, str) or kind not in TYPE_DIRECTORIES:
            if "type" in value:
                result.add(relative, f"Unsupported type: {kind}")
            continue
        directory = relative[len(src_prefix):].rsplit("/", 1)[0] if relative.startswith(src_prefix) else ""
        if directory != TYPE_DIRECTORIES[kind]:
            result.add(relative, f"The directory '{directory}' is incorrect for type '{kind}': put it in "
                                 f"'{TYPE_DIRECTORIES[kind]}'")
        if kind in SINGLE_TYPES:
            if kind in seen_types:
                result.add(relative, f"Only one {kind} component is allowed (also {seen_types[kind]})")
            seen_types.setdefault(kind, relative)
        uid = value.get("uid")
        if isinstance(uid, str):
            if uid in uids:
                result.add(relative, f"Duplicate uid '{uid}' (also in {uids[uid]})")
            uids.setdefault(uid, relative)
        if kind in SCHEMA_FILES:
            problems = schema_problems(kind, value)
            for p in problems:
                result.add(relative, p)
            if not problems:
                for p in (_app_problems(value, required_scopes) if kind == "app" else _webhooks_problems(value)):
                    result.add(relative, p)
    if "app" not in seen_types:
        result.add(hubspot_app.PROJECT_FILE, f"No app component: the project needs {src_prefix}app/app-hsmeta.json")


def _app_problems(value: dict, required_scopes: tuple[str, ...]) -> list[str]:
    auth = value["config"]["auth"]
    problems = []
    for url in auth["redirectUrls"]:
        parts = urlsplit(url)
        # HubSpot takes plain http for localhost only (a first hand-made install uses it).
        if parts.scheme == "http" and parts.hostname == "localhost":
            continue
        reason = unreachable_reason(url)
        if reason:
            problems.append(f"config.auth.redirectUrls: {url} cannot be reached by browsers HubSpot sends: {reason}")
    if not any(urlsplit(u).path == hubspot_app.OAUTH_CALLBACK_PATH for u in auth["redirectUrls"]):
        problems.append(f"config.auth.redirectUrls: none ends in this server's callback "
                        f"{hubspot_app.OAUTH_CALLBACK_PATH}")
    declared = list(auth["requiredScopes"])
    if sorted(declared) != sorted(required_scopes):
        problems.append(f"config.auth.requiredScopes: {' '.join(declared)} differs from what /hubspot/connect asks "
                        f"for ({' '.join(required_scopes)}); regenerate the project or change HUBSPOT_SCOPES")
    optional = list(auth.get("optionalScopes", []))
    if sorted(optional) != sorted(hubspot_app.OPTIONAL_SCOPES):
        problems.append(f"config.auth.optionalScopes: {' '.join(optional) or '(none)'} differs from what "
                        f"/hubspot/connect asks for ({' '.join(hubspot_app.OPTIONAL_SCOPES)})")
    return problems


def _webhooks_problems(value: dict) -> list[str]:
    config = value["config"]
    problems = []
    target = config["settings"]["targetUrl"]
    reason = unreachable_reason(target)
    if reason:
        problems.append(f"config.settings.targetUrl: HubSpot cannot deliver to {target}: {reason}")
    elif urlsplit(target).path != hubspot_app.WEBHOOK_PATH:
        problems.append(f"config.settings.targetUrl: this server takes webhooks at {hubspot_app.WEBHOOK_PATH}")
    subscriptions = config["subscriptions"]
    active = {s["subscriptionType"] for group in subscriptions.values() for s in group if s.get("active", True)}
    for wanted in (hubspot_app.PRIVACY_DELETION, hubspot_app.CONTACT_DELETION):
        if wanted not in active:
            problems.append(f"config.subscriptions: no active {wanted} subscription: privacy deletions would not "
                            "reach this server")
    return problems
