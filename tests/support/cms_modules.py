"""The CMS module source trees the package ships."""
from __future__ import annotations

from oembed_server.package_data import CMS_MODULES_DIR

MODULES = CMS_MODULES_DIR
PAGE_MODULE = MODULES / "media_embed.module"
EMAIL_MODULE = MODULES / "media_email.module"
