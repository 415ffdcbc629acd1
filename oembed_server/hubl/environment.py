"""The Jinja2 environment that speaks the HubL subset the modules use.

HubSpot differences it reproduces: no autoescaping (HubL escapes only through filters),
``None`` renders empty and booleans render ``true``/``false``, undefined values chain
(``a.b.c`` renders empty), dictionary keys win over method names (``module.items``
is the field, as in HubL), and unknown filters, tests, tags and functions are errors
that name the culprit instead of rendering nothing.
"""
from __future__ import annotations

from collections.abc import Mapping

from jinja2 import Environment, nodes, pass_context
from jinja2.exceptions import TemplateSyntaxError

from oembed_server.hubl.filters import HUBL_FILTERS
from oembed_server.hubl.hubl_errors import HublError, UnknownNameError
from oembed_server.hubl.tags_extension import HublTagsExtension, state
from oembed_server.hubl.undefined import HublUndefined

# Jinja2 globals HubL does not have (dict(), lipsum(), cycler(), joiner(), namespace()).
_JINJA_ONLY_GLOBALS = ("dict", "lipsum", "cycler", "joiner", "namespace")
# Names Jinja2 itself provides inside loops, macros and call blocks.
_IMPLICIT_NAMES = frozenset({"loop", "caller", "varargs", "kwargs", "self", "super"})


class HublEnvironment(Environment):
    def getattr(self, obj, attribute):
        # HubL looks a name up as a key first: a field called "items" is the field.
        if isinstance(obj, Mapping) and isinstance(attribute, str) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        if isinstance(obj, Mapping) and argument in obj:
            return obj[argument]
        return super().getitem(obj, argument)


def finalize(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def create_environment() -> HublEnvironment:
    env = HublEnvironment(
        autoescape=False,
        undefined=HublUndefined,
        finalize=finalize,
        extensions=[HublTagsExtension, "jinja2.ext.do"],
        keep_trailing_newline=True,
    )
    for name in _JINJA_ONLY_GLOBALS:
        env.globals.pop(name, None)
    env.filters.update(HUBL_FILTERS)
    env.globals.update(
        require_css=_require_css,
        require_js=_require_js,
        crm_object=_crm_object,
        crm_objects=_crm_objects,
        oembed=_oembed,
    )
    return env


def compile_template(env: HublEnvironment, source: str, name: str = "module.html"):
    """Parses, checks every filter/test/function name up front, then compiles.

    Checking the syntax tree catches a misspelt name even in a branch the preview's data
    never reaches, which is the point of a preview.
    """
    try:
        tree = env.parse(source, name=name)
    except TemplateSyntaxError as exc:
        raise HublError(f"{name}, line {exc.lineno}: {exc.message}") from exc
    bare_dict_keys_as_strings(tree)
    check_names(env, tree, name)
    return env.from_string(tree)


def bare_dict_keys_as_strings(tree: nodes.Template) -> None:
    """HubL reads ``{url: x}`` like JavaScript: the bare key is the string "url".
    Jinja2 would look up a variable named ``url`` instead, silently."""
    for pair in tree.find_all(nodes.Pair):
        if isinstance(pair.key, nodes.Name) and pair.key.ctx == "load":
            pair.key = nodes.Const(pair.key.name, lineno=pair.key.lineno)


def check_names(env: Environment, tree: nodes.Template, name: str = "module.html") -> None:
    for node in tree.find_all(nodes.Filter):
        if node.name not in env.filters:
            raise UnknownNameError(f"{name}, line {node.lineno}: unknown filter {node.name!r}")
    for test in tree.find_all(nodes.Test):
        if test.name not in env.tests:
            raise UnknownNameError(f"{name}, line {test.lineno}: unknown test {test.name!r}")
    defined = _names_defined_in(tree) | set(env.globals) | _IMPLICIT_NAMES
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name not in defined:
            raise UnknownNameError(f"{name}, line {call.lineno}: unknown function {call.node.name!r}")


def _names_defined_in(tree: nodes.Template) -> set[str]:
    names = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    names |= {m.name for m in tree.find_all(nodes.Macro)}
    names |= {i.target for i in tree.find_all(nodes.Import)}
    for imp in tree.find_all(nodes.FromImport):
        names |= {n[1] if isinstance(n, tuple) else n for n in imp.names}
    return names


# --- HubL functions: thin adapters onto the per-render state ---------------------------
@pass_context
def _require_css(context, url, options=None):
    state(context, "require_css").require_css_url(url, options)
    return ""


@pass_context
def _require_js(context, url, options=None):
    state(context, "require_js").require_js_url(url, options)
    return ""


@pass_context
def _crm_object(context, object_type, id_or_query, properties=None):
    return state(context, "crm_object").crm.crm_object(object_type, id_or_query, properties)


@pass_context
def _crm_objects(context, object_type, ids_or_query, properties=None):
    return state(context, "crm_objects").crm.crm_objects(object_type, ids_or_query, properties)


@pass_context
def _oembed(context, request):
    return state(context, "oembed").oembed(request)
