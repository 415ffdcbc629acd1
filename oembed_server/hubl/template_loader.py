"""Design Manager paths (``{% import '/media-bridge/macros.html' %}``) resolved inside one
module directory, never outside it.

HubSpot resolves ``./`` and ``../`` against the importing file's folder and anything else
from the Design Manager root. The directory given to the preview stands for some folder of
that tree whose name the preview cannot know (HubSpot's examples upload ``src/`` as
``media-bridge/``), so a root path is tried as it is and then with its leading folders
dropped one by one: ``/media-bridge/mb-hubl-macros.html`` finds ``DIR/media-bridge/...``
or else ``DIR/mb-hubl-macros.html``.
"""
from __future__ import annotations

import posixpath
from pathlib import Path

from jinja2 import BaseLoader, TemplateNotFound


def join_design_manager_path(template: str, parent: str | None) -> str:
    """The path of ``template`` as imported from ``parent`` (both module-dir relative)."""
    if parent and (template.startswith("./") or template.startswith("../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(parent), template))
    return template


class ModuleDirLoader(BaseLoader):
    def __init__(self, root: Path | None):
        self.root = Path(root).resolve() if root is not None else None

    def get_source(self, environment, template: str):
        path, name = self.resolve(template)
        source = path.read_text("utf-8")
        mtime = path.stat().st_mtime

        def uptodate() -> bool:
            try:
                return path.stat().st_mtime == mtime
            except OSError:
                return False
        return source, name, uptodate

    def resolve(self, template: str) -> tuple[Path, str]:
        """(file, its module-dir relative name) for a Design Manager path."""
        if self.root is None:
            raise TemplateNotFound(template, f"{template!r}: no module directory to import from")
        normal = posixpath.normpath("/" + template.replace("\\", "/")) if template.startswith("/") \
            else posixpath.normpath(template.replace("\\", "/"))
        if normal.startswith("..") or "\x00" in normal:
            raise TemplateNotFound(template, f"{template!r} points outside the module directory")
        parts = [p for p in normal.split("/") if p and p != "."]
        tried = []
        for first in range(len(parts)):
            relative = "/".join(parts[first:])
            candidate = (self.root / relative).resolve()
            if not candidate.is_relative_to(self.root):
                raise TemplateNotFound(template, f"{template!r} points outside the module directory")
            tried.append(relative)
            if candidate.is_file():
                return candidate, relative
        raise TemplateNotFound(
            template, f"{template!r}: no such file in the module directory (tried {', '.join(tried) or 'nothing'})")
