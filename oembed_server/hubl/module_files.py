"""A module folder as HubSpot's Design Manager holds it (``NAME.module/``), read from disk,
and the field values an editor starts from (the ``default`` of each field in fields.json)."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

MODULE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ModuleNotFound(LookupError):
    pass


@dataclasses.dataclass(frozen=True)
class ModuleFiles:
    name: str
    path: Path
    html: str
    fields: list
    meta: dict
    has_css: bool
    has_js: bool

    @property
    def host_template_types(self) -> tuple[str, ...]:
        return tuple(self.meta.get("host_template_types") or ())

    @property
    def is_email_module(self) -> bool:
        return self.host_template_types == ("EMAIL",)


def load_module(modules_dir: Path, name: str) -> ModuleFiles:
    if not MODULE_NAME_RE.match(name):
        raise ModuleNotFound(f"no module named {name!r}")
    path = Path(modules_dir) / f"{name}.module"
    if not (path / "module.html").is_file():
        raise ModuleNotFound(f"no module named {name!r}")
    return ModuleFiles(
        name=name,
        path=path,
        html=(path / "module.html").read_text("utf-8"),
        fields=_json_file(path, "fields.json", []),
        meta=_json_file(path, "meta.json", {}),
        has_css=(path / "module.css").is_file(),
        has_js=(path / "module.js").is_file(),
    )


class ModuleFileError(ValueError):
    """A module's fields.json or meta.json that cannot be used; ``module_file`` names it."""

    def __init__(self, message: str, module_file: str):
        super().__init__(message)
        self.module_file = module_file


def _json_file(path: Path, filename: str, empty):
    file = path / filename
    label = f"{path.name}/{filename}"
    if not file.is_file():
        return empty  # HubSpot treats a missing fields.json/meta.json as empty
    try:
        value = json.loads(file.read_text("utf-8"))
    except ValueError as exc:
        raise ModuleFileError(f"{label} is not valid JSON: {exc}", label) from None
    if not isinstance(value, type(empty)):
        raise ModuleFileError(f"{label} must hold a JSON {type(empty).__name__}", label)
    return value


def list_modules(modules_dir: Path) -> list[ModuleFiles]:
    """Every ``NAME.module`` folder of the directory that loads, by name."""
    found = []
    for path in sorted(Path(modules_dir).glob("*.module")):
        name = path.name[: -len(".module")]
        try:
            found.append(load_module(modules_dir, name))
        except (ModuleNotFound, ModuleFileError):
            continue
    return found


def default_values(fields: list) -> dict:
    """What ``module`` holds for a freshly added module: each field's default."""
    return {field["name"]: _default(field) for field in fields}


def _default(field: dict):
    if "default" in field:
        return json.loads(json.dumps(field["default"]))  # a copy the caller may change
    if field.get("type") == "group":
        group = default_values(field.get("children", []))
        return [group] if "occurrence" in field else group
    return None


def find_embed_field(fields: list) -> tuple[str | None, dict, int]:
    """Where the module's Embed field sits: (repeater group name or None, the field, max items)."""
    for field in fields:
        if field.get("type") == "embed":
            return None, field, 1
        if field.get("type") == "group":
            for child in field.get("children", []):
                if child.get("type") == "embed":
                    occurrence = field.get("occurrence")
                    if occurrence:
                        return field["name"], child, int(occurrence.get("max") or 1)
                    raise ValueError(f"embed field {child['name']!r} in non-repeating group {field['name']!r}")
    raise ValueError("module has no embed field")
