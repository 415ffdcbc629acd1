"""The HubL tags Jinja2 lacks: ``unless`` and the block forms of ``require_css``/``require_js``.

``{% unless x %}...{% endunless %}`` is ``if not x``, with ``elif``/``else`` as in ``if``.
``{% require_css %}<style>..</style>{% end_require_css %}`` moves its body into the page
head; ``{% require_js %}`` moves its body to the footer, or the head with
``{% require_js position="head" %}``.
"""
from __future__ import annotations

from jinja2 import nodes
from jinja2.ext import Extension

from oembed_server.hubl.hubl_errors import HublError

STATE_KEY = "_hubl_render_state"


class HublTagsExtension(Extension):
    tags = {"unless", "require_css", "require_js"}

    def parse(self, parser):
        token = next(parser.stream)
        if token.value == "unless":
            return self._parse_unless(parser, token.lineno)
        return self._parse_require_block(parser, token.value, token.lineno)

    def _parse_unless(self, parser, lineno):
        # HubL's unless is its if with the first test inverted, so elif and else work too.
        result = node = nodes.If(nodes.Not(parser.parse_expression(), lineno=lineno), [], [], [], lineno=lineno)
        while True:
            node.body = parser.parse_statements(("name:elif", "name:else", "name:endunless"))
            token = next(parser.stream)
            if token.test("name:elif"):
                node = nodes.If(parser.parse_tuple(with_condexpr=False), [], [], [], lineno=token.lineno)
                result.elif_.append(node)
                continue
            if token.test("name:else"):
                result.else_ = parser.parse_statements(("name:endunless",), drop_needle=True)
            return result

    def _parse_require_block(self, parser, tag, lineno):
        position: nodes.Expr = nodes.Const("head" if tag == "require_css" else "footer")
        while parser.stream.current.type != "block_end":
            key = parser.stream.expect("name")
            parser.stream.expect("assign")
            value = parser.parse_expression()
            if tag != "require_js" or key.value != "position":
                raise HublError(f"{tag}: unknown argument {key.value!r}")
            position = value
        body = parser.parse_statements((f"name:end_{tag}",), drop_needle=True)
        method = "_collect_css" if tag == "require_css" else "_collect_js"
        call = self.call_method(method, [nodes.ContextReference(), position])
        return nodes.CallBlock(call, [], [], body, lineno=lineno)

    @staticmethod
    def _collect_css(context, position, caller):
        state(context, "require_css").require_block_css(caller())
        return ""

    @staticmethod
    def _collect_js(context, position, caller):
        state(context, "require_js").require_block_js(caller(), position)
        return ""


def state(context, what: str):
    """The per-render state the renderer put into the context."""
    found = context.get(STATE_KEY)
    if found is None:
        raise HublError(f"{what} needs a render started by HublRenderer")
    return found
