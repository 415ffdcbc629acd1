"""What ``require_css``/``require_js`` collect during a render, and how it lands in the page.

HubSpot hoists required CSS into the page ``<head>`` and JavaScript into the footer
(or the head when asked), each URL once, in first-required order.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from markupsafe import escape

from oembed_server.hubl.hubl_errors import HublError

POSITIONS = ("head", "footer")


@dataclasses.dataclass
class PageAssets:
    head: list[str] = dataclasses.field(default_factory=list)
    footer: list[str] = dataclasses.field(default_factory=list)
    _seen_urls: set[str] = dataclasses.field(default_factory=set)

    def add_css_url(self, url: str, options: Mapping | None = None) -> None:
        if self._first_time(url):
            self.head.append(f'<link rel="stylesheet" href="{escape(url)}">')

    def add_js_url(self, url: str, options: Mapping | str | None = None) -> None:
        position, flags = _js_options(options)
        if self._first_time(url):
            attrs = "".join(f" {flag}" for flag in flags)
            self._list(position).append(f'<script src="{escape(url)}"{attrs}></script>')

    def add_css_block(self, markup: str) -> None:
        self.head.append(markup.strip())

    def add_js_block(self, markup: str, position: str = "footer") -> None:
        self._list(_checked_position(position)).append(markup.strip())

    def head_html(self) -> str:
        return "\n".join(self.head)

    def footer_html(self) -> str:
        return "\n".join(self.footer)

    def _first_time(self, url: str) -> bool:
        if url in self._seen_urls:
            return False
        self._seen_urls.add(url)
        return True

    def _list(self, position: str) -> list[str]:
        return self.head if position == "head" else self.footer


def _js_options(options) -> tuple[str, list[str]]:
    # HubL accepts either a position string or an options dict {position, async, defer}.
    if options is None or isinstance(options, str):
        return _checked_position(options or "footer"), []
    position = _checked_position(options.get("position") or "footer")
    flags = [flag for flag in ("async", "defer") if options.get(flag) is True]
    return position, flags


def _checked_position(position) -> str:
    if position not in POSITIONS:
        raise HublError(f"require_js: position must be 'head' or 'footer', got {position!r}")
    return position
