"""HubSpot's ``{% media_bridge_embed %}`` tag, as HubSpot/cms-media-bridge documents it.

    {% media_bridge_embed media_bridge_object=module.embed_field.media_bridge_object,
       render_mode='cached', reveal_on='load', poster_url=..., placeholder_html=... %}

- ``render_mode``: ``cached`` (default) puts the stored oEmbed answer on the page for the
  embed script to draw; ``refetch`` leaves the script to fetch the oEmbed URL on every
  view; ``eager`` renders the stored oEmbed ``html`` server-side.
- ``reveal_on``: ``load`` (default), ``click`` (the poster until clicked) or ``defer``
  (until ``hsMediaBridgeApi.revealDeferredPlayer(oembed_url)``); meaningless with eager.
- ``poster_url`` defaults to the oEmbed ``thumbnail_url``.

The markup is HubSpot's wrapper as its embed script reads it (``hs-mb-embed-wrapper`` with
``data-oembed-url``, ``hs-mb-embed-placeholder`` elements, ``window._hsMediaBridge
.embedsByUrl``), sized from the field's ``size_type`` like HubSpot's own macro, and the
tag requires HubSpot's embed script itself, as HubSpot's does.
"""
from __future__ import annotations

from collections.abc import Mapping

from jinja2 import Undefined, nodes
from jinja2.ext import Extension
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import escape

from oembed_server.hubl.hubl_errors import HublError
from oembed_server.hubl.tags_extension import state

# HubSpot's embed script, which the tag requires (a preview may serve a stand-in for it).
MEDIA_BRIDGE_EMBED_JS = "https://static.hsappstatic.net/media-bridge-embed-js/ex/v1.js"
RENDER_MODES = ("cached", "refetch", "eager")
REVEAL_ON = ("load", "click", "defer")
PARAMETERS = frozenset({"media_bridge_object", "render_mode", "reveal_on", "poster_url", "placeholder_html"})


class MediaBridgeEmbedExtension(Extension):
    tags = {"media_bridge_embed"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        arguments: list[nodes.Keyword] = []
        while parser.stream.current.type != "block_end":
            if arguments and parser.stream.current.type == "comma":
                next(parser.stream)  # HubL takes the arguments with or without commas
            key = parser.stream.expect("name")
            if key.value not in PARAMETERS:
                raise HublError(f"line {key.lineno}: media_bridge_embed: unknown parameter {key.value!r} "
                                f"(it takes {', '.join(sorted(PARAMETERS))})")
            parser.stream.expect("assign")
            arguments.append(nodes.Keyword(key.value, parser.parse_expression(), lineno=key.lineno))
        call = self.call_method("_render", [nodes.ContextReference()], arguments, lineno=lineno)
        return nodes.Output([call], lineno=lineno)

    @staticmethod
    def _render(context, media_bridge_object=None, render_mode=None, reveal_on=None,
                poster_url=None, placeholder_html=None):
        render_state = state(context, "media_bridge_embed")
        return render_embed(render_state, media_bridge_object, render_mode=_choice("render_mode", render_mode,
                                                                                    RENDER_MODES),
                            reveal_on=_choice("reveal_on", reveal_on, REVEAL_ON),
                            poster_url=_text(poster_url), placeholder_html=_text(placeholder_html))


def render_embed(render_state, media_bridge_object, *, render_mode: str, reveal_on: str,
                 poster_url: str, placeholder_html: str) -> str:
    value: Mapping = media_bridge_object if isinstance(media_bridge_object, Mapping) else {}
    if not value or not _text(value.get("oembed_url")):
        raise HublError("media_bridge_embed: media_bridge_object must be the Embed field's media_bridge_object "
                        "(a dict with oembed_url and oembed_response)")
    stored = value.get("oembed_response")
    response: Mapping = stored if isinstance(stored, Mapping) else {}
    if render_mode == "eager" and not response.get("html") and response.get("type") != "photo":
        raise HublError("media_bridge_embed: render_mode eager needs an oembed_response with html")
    render_state.require_js_url(MEDIA_BRIDGE_EMBED_JS, {"position": "footer", "defer": True})
    url = _text(value["oembed_url"])
    attributes = {
        "class": "hs-mb-embed-wrapper",
        "data-oembed-url": url,
        "data-source-type": _text(value.get("source_type")) or "media_bridge",
        "data-size-type": _text(value.get("size_type")) or "auto",
        "data-render-mode": render_mode,
        "data-reveal-on": reveal_on,
        "style": _wrapper_style(value, response),
    }
    opening = "<div" + "".join(f' {name}="{escape(v)}"' for name, v in attributes.items()) + ">"
    if response.get("type") == "photo" and response.get("url"):
        inner = f'<img src="{escape(response["url"])}" alt="{escape(_text(response.get("title")))}" ' \
                'style="display: block; max-width: 100%;">'
    elif render_mode == "eager":
        inner = str(response["html"])
    else:
        inner = _placeholder(poster_url or _text(response.get("thumbnail_url")), _text(response.get("title")))
    parts = [opening, f'<div class="hs-mb-iframe-wrapper">{inner}</div>']
    if placeholder_html:
        parts.append(placeholder_html)
    if render_mode == "cached" and response:
        nonce = getattr(render_state, "script_nonce", None)
        nonce_attr = f' nonce="{escape(nonce)}"' if nonce else ""
        parts.append(f"<script{nonce_attr}>window._hsMediaBridge = window._hsMediaBridge || {{ embedsByUrl: {{}} }};"
                     f"window._hsMediaBridge.embedsByUrl[{htmlsafe_json_dumps(url)}] = "
                     f"{htmlsafe_json_dumps(dict(response))};</script>")
    parts.append("</div>")
    return "".join(parts)


def _placeholder(poster: str, title: str) -> str:
    if poster:
        return (f'<img class="hs-mb-embed-placeholder" src="{escape(poster)}" alt="{escape(title)}" '
                'style="display: block; margin: 0 auto; max-width: 100%; cursor: pointer;">')
    # Nothing to show but the title: still something to click when reveal_on is click.
    return (f'<div class="hs-mb-embed-placeholder" role="button" tabindex="0" '
            f'style="padding: 48px 16px; text-align: center; cursor: pointer;">&#9654; {escape(title)}</div>')


def _wrapper_style(value: Mapping, response: Mapping) -> str:
    size_type = value.get("size_type") or "auto"
    sizes: dict[str, object] = {}
    if size_type in ("auto", "auto_custom_max"):
        custom = size_type == "auto_custom_max"
        sizes["max-width"] = value.get("max_width") if custom else response.get("width")
        sizes["max-height"] = value.get("max_height") if custom else response.get("height")
    elif size_type == "exact":
        sizes = {"width": value.get("width"), "height": value.get("height")}
    declarations = [f"{name}: {_px(size)}px;" for name, size in sizes.items() if _px(size)]
    return " ".join(["position: relative;", *declarations])


def _px(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _choice(name: str, value, allowed: tuple[str, ...]) -> str:
    text = _text(value)
    if not text:
        return allowed[0]
    if text not in allowed:
        raise HublError(f"media_bridge_embed: {name} must be one of {', '.join(allowed)}, got {text!r}")
    return text


def _text(value) -> str:
    if value is None or isinstance(value, Undefined):
        return ""
    return str(value)
