"""An allow-list HTML sanitiser for HubL's ``sanitize_html`` filter.

Everything not listed is removed: unknown elements are unwrapped (their text stays),
dangerous ones (script, style, forms, plugins ...) go with their content, attributes
outside the per-element list are dropped, and URLs must use a safe scheme. Player
iframes from oEmbed answers survive when their ``src`` is http(s), because the
modules render provider HTML through this filter.
"""
from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, Doctype, ProcessingInstruction
from bs4.element import CData, Declaration, Tag

# Elements kept as they are (with their allowed attributes).
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "iframe", "img", "ins", "li", "ol", "p", "pre", "q", "s", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul", "video", "audio", "source", "picture",
})

# Elements removed together with everything inside them.
DROPPED_TAGS = frozenset({
    "script", "style", "template", "noscript", "object", "embed", "applet", "form",
    "input", "button", "select", "textarea", "option", "link", "meta", "base", "head",
    "title", "frame", "frameset", "svg", "math", "canvas", "dialog", "portal",
})

GLOBAL_ATTRIBUTES = frozenset({"title", "lang", "dir", "class"})
TAG_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "target", "rel"}),
    "img": frozenset({"src", "alt", "width", "height", "loading"}),
    "iframe": frozenset({"src", "width", "height", "allow", "allowfullscreen", "frameborder",
                         "loading", "referrerpolicy", "name", "sandbox"}),
    "video": frozenset({"src", "poster", "width", "height", "controls", "muted", "loop",
                        "playsinline", "preload"}),
    "audio": frozenset({"src", "controls", "loop", "muted", "preload"}),
    "source": frozenset({"src", "type"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "blockquote": frozenset({"cite"}),
    "q": frozenset({"cite"}),
    "ol": frozenset({"start", "reversed"}),
}
URL_ATTRIBUTES = frozenset({"href", "src", "poster", "cite"})
# Only http(s) may be framed or loaded; links may also be mailto/tel.
EMBED_SCHEMES = frozenset({"http", "https"})
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Permissions a player legitimately asks for; anything else (camera, microphone ...) is dropped.
IFRAME_ALLOW_FEATURES = frozenset({
    "autoplay", "fullscreen", "encrypted-media", "picture-in-picture", "clipboard-write",
    "accelerometer", "gyroscope", "web-share",
})

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def sanitize_html(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for node in list(soup.descendants):
        if isinstance(node, (Comment, Doctype, ProcessingInstruction, CData, Declaration)):
            node.extract()
    _clean_children(soup)
    return soup.decode(formatter="html5")


def _clean_children(parent: Tag) -> None:
    for child in list(parent.children):
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name in DROPPED_TAGS or (name == "iframe" and not _safe_url(child.get("src"), EMBED_SCHEMES)):
            child.decompose()
            continue
        _clean_children(child)
        if name not in ALLOWED_TAGS:
            child.unwrap()
            continue
        _clean_attributes(child, name)


def _clean_attributes(tag: Tag, name: str) -> None:
    allowed = GLOBAL_ATTRIBUTES | TAG_ATTRIBUTES.get(name, frozenset())
    for attr in list(tag.attrs):
        value = tag.attrs[attr]
        key = attr.lower()
        if key not in allowed:
            del tag.attrs[attr]
        elif key in URL_ATTRIBUTES:
            schemes = LINK_SCHEMES if name == "a" else EMBED_SCHEMES
            if not _safe_url(value, schemes):
                del tag.attrs[attr]
        elif key == "allow":
            features = [f.strip() for f in str(value).split(";")]
            kept = [f for f in features if f.split(" ")[0] in IFRAME_ALLOW_FEATURES]
            if kept:
                tag.attrs[attr] = "; ".join(kept)
            else:
                del tag.attrs[attr]
    if name == "a" and tag.get("target"):
        # A new browsing context must not get a handle on the page (reverse tabnabbing).
        tag["rel"] = "noopener noreferrer"


def _safe_url(value, schemes: frozenset[str]) -> bool:
    if value is None:
        return False
    # Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").
    compact = _INVISIBLE.sub("", str(value))
    if not compact:
        return False
    match = _SCHEME.match(compact)
    if match is None:
        return True  # relative or protocol-relative
    return match.group(1).lower() in schemes
