"""HubL's expression syntax beyond Jinja's, rewritten into Jinja before Jinja lexes it.

HubL (Jinjava, on a JUEL expression parser) accepts ``a || b``, ``a && b``, ``!a``,
``cond ? a : b``, ``null``, ``{% else if %}`` and ``{{ expr }}`` as a tag argument.
Jinja's lexer rejects most of these outright, so they are rewritten here, on tokens of
HubL's own lexical structure (strings, names, numbers, operators, brackets) inside the
``{{ }}``/``{% %}`` regions only: text, comments, ``raw`` blocks and string literals are
never touched. Every newline stays where it was, so Jinja's line numbers still point at
the author's lines.

Semantics, as Jinjava evaluates them:

- ``||`` is ``or`` (the first truthy operand, as in Jinja); ``&&`` becomes ``and``
  (the environment turns every ``and`` into a boolean, as JUEL's AND is one).
- ``!x`` binds tighter than comparisons (``!a == b`` is ``(not a) == b``).
- ``c ? a : b`` has the lowest precedence and nests to the right; it becomes
  ``((a) if (c) else (b))``.
- ``null`` is ``none``; ``{% else if x %}`` is ``{% elif x %}``.
"""
from __future__ import annotations

import dataclasses
import re

_OPENERS = re.compile(r"\{\{|\{%|\{#")
_RAW_START = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_RAW_END = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|//|==|!=|<=|>=|\|\||&&|[-+*/%~<>=!?:.,|()\[\]{}])
""", re.VERBOSE | re.DOTALL)
_BLOCK_END = re.compile(r"[-+]?%\}")
_VARIABLE_END = re.compile(r"-?\}\}")
_CLOSING = {"(": ")", "[": "]", "{": "}", "{{": "}}"}


@dataclasses.dataclass
class _Token:
    kind: str  # ws, string, number, name, op, other
    text: str


@dataclasses.dataclass
class _Group:
    open: str
    items: list
    close: str


def rewrite_hubl(source: str) -> str:
    out: list[str] = []
    pos = 0
    while True:
        match = _OPENERS.search(source, pos)
        if match is None:
            out.append(source[pos:])
            return "".join(out)
        start = match.start()
        out.append(source[pos:start])
        if match.group() == "{#":
            end = source.find("#}", start + 2)
            end = len(source) if end < 0 else end + 2
            out.append(source[start:end])
            pos = end
            continue
        raw = _RAW_START.match(source, start)
        if raw:
            closing = _RAW_END.search(source, raw.end())
            end = len(source) if closing is None else closing.end()
            out.append(source[start:end])
            pos = end
            continue
        is_block = match.group() == "{%"
        opener_end = start + 2
        if opener_end < len(source) and source[opener_end] in "-+":
            opener_end += 1
        items, end, closer = _lex_region(source, opener_end, is_block)
        out.append(source[start:opener_end])
        out.append(_render(_rewrite_region(items, is_block)))
        out.append(closer)
        pos = end


def _lex_region(source: str, pos: int, is_block: bool) -> tuple[list, int, str]:
    """The region's items up to its closing delimiter (at bracket depth 0), nested as groups."""
    root: list = []
    stack: list[_Group] = []
    ending = _BLOCK_END if is_block else _VARIABLE_END
    while pos < len(source):
        current = stack[-1].items if stack else root
        if not stack:
            end = ending.match(source, pos)
            if end:
                return root, end.end(), end.group()
        if stack and stack[-1].open == "{{" and source.startswith("}}", pos):
            group = stack.pop()
            group.close = "}}"
            pos += 2
            continue
        if is_block and source.startswith("{{", pos):
            group = _Group("{{", [], "")
            current.append(group)
            stack.append(group)
            pos += 2
            continue
        match = _TOKEN.match(source, pos)
        if match is None:
            current.append(_Token("other", source[pos]))
            pos += 1
            continue
        kind = match.lastgroup or "other"
        text = match.group()
        pos = match.end()
        if kind == "op" and text in "([{":
            group = _Group(text, [], "")
            current.append(group)
            stack.append(group)
        elif kind == "op" and text in ")]}" and stack and _CLOSING[stack[-1].open] == text:
            stack.pop().close = text
        else:
            current.append(_Token(kind, text))
    return root, len(source), ""


def _rewrite_region(items: list, is_block: bool) -> list:
    if is_block:
        words = [i for i in items if not (isinstance(i, _Token) and i.kind == "ws")]
        if len(words) >= 2 and _is_name(words[0], "else") and _is_name(words[1], "if"):
            words[0].text = "elif"
            items = [i for i in items if i is not words[1]]
    return _rewrite_sequence(items, top_block=is_block)


def _rewrite_sequence(items: list, top_block: bool = False) -> list:
    items = [_rewrite_group(i) if isinstance(i, _Group) else i for i in items]
    items = _simple_tokens(items)
    items = _rewrite_not(items)
    segments = _segments(items, top_block)
    out: list = []
    for segment in segments:
        out.extend(_rewrite_ternary(segment) if isinstance(segment, list) else [segment])
    return out


def _rewrite_group(group: _Group) -> _Group:
    if group.open == "{{":
        # HubL's `tag arg={{ expr }}`: the expression itself.
        return _Group("(", _rewrite_sequence(group.items), ")")
    return _Group(group.open, _rewrite_sequence(group.items), group.close)


def _simple_tokens(items: list) -> list:
    out = []
    for index, item in enumerate(items):
        if isinstance(item, _Token):
            previous = _previous_word(items, index)
            if item.kind == "op" and item.text == "||":
                item = _Token("name", " or ")
            elif item.kind == "op" and item.text == "&&":
                item = _Token("name", " and ")
            elif _is_name(item, "null") and not _is_op(previous, "."):
                item = _Token("name", "none")
        out.append(item)
    return out


def _rewrite_not(items: list) -> list:
    """``!x`` -> ``(not x)``, x being the operand with its attribute, call, subscript
    and filter chain (HubL's unary not binds tighter than any binary operator)."""
    out: list = []
    index = 0
    while index < len(items):
        item = items[index]
        if _is_op(item, "!"):
            operand, index = _operand(items, index + 1)
            out.append(_Group("(", [_Token("name", "not "), *operand], ")"))
            continue
        out.append(item)
        index += 1
    return out


def _operand(items: list, index: int) -> tuple[list, int]:
    taken: list = []
    while index < len(items) and _is_ws(items[index]):
        index += 1
    if index >= len(items):
        return taken, index
    if _is_op(items[index], "!"):
        inner, index = _operand(items, index + 1)
        return [_Group("(", [_Token("name", "not "), *inner], ")")], index
    if _is_op(items[index], "-") or _is_op(items[index], "+"):
        taken.append(items[index])
        index += 1
    if index < len(items):
        taken.append(items[index])
        index += 1
    while index < len(items):
        item = items[index]
        if isinstance(item, _Group) and item.open in "([":
            taken.append(item)
            index += 1
        elif _is_op(item, ".") and index + 1 < len(items) and isinstance(items[index + 1], _Token):
            taken.extend(items[index:index + 2])
            index += 2
        elif _is_op(item, "|"):
            after = _skip_ws(items, index + 1)
            if after < len(items) and isinstance(items[after], _Token) and items[after].kind == "name":
                taken.extend(items[index:after + 1])
                index = after + 1
            else:
                break
        else:
            break
    return taken, index


def _segments(items: list, top_block: bool) -> list:
    """Splits a sequence into the expressions it holds; separators stay as single items."""
    out: list = []
    current: list = []
    pending = 0
    words_seen = 0
    tag = None

    def flush():
        nonlocal current
        if current:
            out.append(current)
        current = []

    for index, item in enumerate(items):
        if isinstance(item, _Token) and item.kind != "ws":
            words_seen += 1
        separator = False
        if _is_op(item, "?"):
            pending += 1
        elif _is_op(item, ":"):
            if pending:
                pending -= 1
            else:
                separator = True
        elif _is_op(item, ",") or _is_op(item, "="):
            separator = True
        elif isinstance(item, _Token) and item.kind == "name" and pending == 0:
            following = items[_skip_ws(items, index + 1)] if _skip_ws(items, index + 1) < len(items) else None
            if _is_op(following, "="):
                separator = True  # a keyword argument's name: `a=1 b=c ? 2 : 3`
            elif top_block and words_seen == 1:
                tag = item.text
                separator = True  # the tag's own name
            elif top_block and tag == "for" and item.text == "in":
                separator = True
        if separator:
            flush()
            out.append(item)
        else:
            current.append(item)
    flush()
    return out


def _rewrite_ternary(segment: list) -> list:
    question = next((i for i, item in enumerate(segment) if _is_op(item, "?")), None)
    if question is None:
        return segment
    depth = 0
    colon = None
    for index in range(question, len(segment)):
        if _is_op(segment[index], "?"):
            depth += 1
        elif _is_op(segment[index], ":"):
            depth -= 1
            if depth == 0:
                colon = index
                break
    if colon is None:
        return segment  # Jinja reports the stray `?` with its line
    lead, condition = _split_leading_ws(segment[:question])
    when_true = _rewrite_ternary(segment[question + 1:colon])
    rest, trail = _split_trailing_ws(segment[colon + 1:])
    when_false = _rewrite_ternary(rest)
    return [*lead, _Group("(", [_Group("(", when_true, ")"), _Token("name", " if "),
                                _Group("(", condition, ")"), _Token("name", " else "),
                                _Group("(", when_false, ")")], ")"), *trail]


def _render(items: list) -> str:
    parts = []
    for item in items:
        if isinstance(item, _Group):
            parts.append(item.open + _render(item.items) + item.close)
        else:
            parts.append(item.text)
    return "".join(parts)


def _split_leading_ws(items: list) -> tuple[list, list]:
    index = _skip_ws(items, 0)
    return items[:index], items[index:]


def _split_trailing_ws(items: list) -> tuple[list, list]:
    index = len(items)
    while index > 0 and _is_ws(items[index - 1]):
        index -= 1
    return items[:index], items[index:]


def _skip_ws(items: list, index: int) -> int:
    while index < len(items) and _is_ws(items[index]):
        index += 1
    return index


def _previous_word(items: list, index: int):
    index -= 1
    while index >= 0 and _is_ws(items[index]):
        index -= 1
    return items[index] if index >= 0 else None


def _is_ws(item) -> bool:
    return isinstance(item, _Token) and item.kind == "ws"


def _is_op(item, text: str) -> bool:
    return isinstance(item, _Token) and item.kind == "op" and item.text == text


def _is_name(item, text: str) -> bool:
    return isinstance(item, _Token) and item.kind == "name" and item.text == text
