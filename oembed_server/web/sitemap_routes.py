"""``/sitemap.xml``: the public items' media pages, with Google's video sitemap extension.

One sitemap while the public catalog fits a page of ``SITEMAP_PAGE_SIZE``; past that,
``/sitemap.xml`` is a sitemap index naming ``/sitemap.xml?page=N`` for each page.
"""
from __future__ import annotations

import math

from flask import Blueprint, Response, request

from oembed_server.domain.media import Visibility
from oembed_server.domain.structured_data import SITEMAP_PAGE_SIZE, sitemap_index_xml, sitemap_xml
from oembed_server.domain.whole_numbers import parse_whole_number
from oembed_server.web.app_state import current_catalog, current_settings

bp = Blueprint("sitemap", __name__)

# Crawlers fetch it now and then; an hour keeps a busy catalog's load down.
CACHE_CONTROL = "public, max-age=3600"


@bp.get("/sitemap.xml")
def sitemap():
    catalog, settings = current_catalog(), current_settings()
    pages = max(1, math.ceil(catalog.count(visibility=Visibility.PUBLIC) / SITEMAP_PAGE_SIZE))
    raw_page = request.args.get("page")
    if raw_page is None and pages > 1:
        body = sitemap_index_xml(f"{settings.public_url}/sitemap.xml?page={n}" for n in range(1, pages + 1))
        return _xml(body)
    page = parse_whole_number(raw_page, pages) if raw_page is not None else 1
    if page is None or not 1 <= page <= pages:
        return Response(f"page must be a whole number from 1 to {pages}\n", status=404, mimetype="text/plain")
    items = catalog.list_items(limit=SITEMAP_PAGE_SIZE, offset=(page - 1) * SITEMAP_PAGE_SIZE,
                               visibility=Visibility.PUBLIC)
    return _xml(sitemap_xml(settings.public_url, settings.provider_name, items))


def _xml(body: bytes) -> Response:
    return Response(body, mimetype="application/xml", headers={"Cache-Control": CACHE_CONTROL})
