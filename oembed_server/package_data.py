"""Where the files shipped inside the package live, so an installed wheel finds them as a
checkout does. Imports nothing of the project: every layer may ask."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The HubL module source trees (NAME.module/ with module.html, fields.json, meta.json).
CMS_MODULES_DIR = PACKAGE_DIR / "cms_module"
SAMPLE_CATALOG = PACKAGE_DIR / "sample" / "catalog.json"
WEB_TEMPLATES_DIR = PACKAGE_DIR / "web" / "templates"
WEB_STATIC_DIR = PACKAGE_DIR / "web" / "static"
MIGRATIONS_DIR = PACKAGE_DIR / "storage" / "migrations"
# JSON schemas for the HubSpot developer project files (usecases.hubspot_project).
PROJECT_SCHEMAS_DIR = PACKAGE_DIR / "project_schemas"
