"""The Jinja2 environment that speaks HubL.

HubSpot differences it reproduces: no autoescaping (HubL escapes only through filters),
``None`` renders empty and booleans render ``true``/``false``, undefined values chain
(``a.b.c`` renders empty), dictionary keys win over method names (``module.items``
is the field, as in HubL), and unknown filters, tests, tags and functions are errors
that name the culprit instead of rendering nothing. HubL's own expression syntax
(``||``, ``&&``, ``!``, ``?:``, ``null``, ``else if``) is rewritten to Jinja first
(hubl_syntax.py); imports and includes see the importer's variables, as in HubL, and
resolve Design Manager paths inside the module directory (template_loader.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jinja2 import Environment, nodes, pass_context
from jinja2.exceptions import TemplateSyntaxError
from jinja2.ext import Extension
from jinja2.visitor import NodeTransformer

from oembed_server.hubl.filters import HUBL_FILTERS
from oembed_server.hubl.hubl_errors import ErrorLocation, HublError, UnknownNameError
from oembed_server.hubl.hubl_functions import video_thumbnail
from oembed_server.hubl.hubl_syntax import rewrite_hubl
from oembed_server.hubl.media_bridge_embed import MediaBridgeEmbedExtension
from oembed_server.hubl.tags_extension import HublTagsExtension, state
from oembed_server.hubl.template_loader import ModuleDirLoader, join_design_manager_path
from oembed_server.hubl.undefined import HublUndefined

# Jinja2 globals HubL does not have (dict(), lipsum(), cycler(), joiner(), namespace()).
_JINJA_ONLY_GLOBALS = ("dict", "lipsum", "cycler", "joiner", "namespace")
# Names Jinja2 itself provides inside loops, macros and call blocks.
_IMPLICIT_NAMES = frozenset({"loop", "caller", "varargs", "kwargs", "self", "super"})


class HublSyntaxExtension(Extension):
    """Runs before Jinja's lexer on every template, imported ones included."""

    def preprocess(self, source, name, filename=None):
        return rewrite_hubl(source)


class HublEnvironment(Environment):
    def join_path(self, template, parent):
        return join_design_manager_path(template, parent)

    def _parse(self, source, name, filename):
        # Every template, the module's and each one it imports, gets HubL's rules and
        # the up-front name check (Jinja offers no public hook after parsing).
        tree = super()._parse(source, name, filename)
        apply_hubl_rules(tree)
        check_names(self, tree, name or "template")
        return tree

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


def create_environment(module_dir: Path | None = None) -> HublEnvironment:
    env = HublEnvironment(
        autoescape=False,
        undefined=HublUndefined,
        finalize=finalize,
        extensions=[HublSyntaxExtension, HublTagsExtension, MediaBridgeEmbedExtension, "jinja2.ext.do"],
        keep_trailing_newline=True,
        loader=ModuleDirLoader(module_dir),
        auto_reload=True,
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
        video_thumbnail=video_thumbnail,
    )
    return env


def compile_template(env: HublEnvironment, source: str, name: str = "module.html"):
    """Parses, checks every filter/test/function name up front, then compiles.

    Checking the syntax tree catches a misspelt name even in a branch the preview's data
    never reaches, which is the point of a preview.
    """
    try:
        tree = env.parse(source, name=name, filename=name)
    except TemplateSyntaxError as exc:
        error = HublError(f"{name}, line {exc.lineno}: {exc.message}")
        error.hubl_location = ErrorLocation(name, exc.lineno)  # type: ignore[attr-defined]
        raise error from exc
    # The file name goes into the compiled code, so errors at render time name it too.
    return env.template_class.from_code(env, env.compile(tree, name, name), env.make_globals(None), None)


def apply_hubl_rules(tree: nodes.Template) -> None:
    bare_dict_keys_as_strings(tree)
    _AndIsBoolean().visit(tree)
    for node in tree.find_all((nodes.Import, nodes.FromImport)):
        # HubL's imported macros run with the page's variables (and its render state).
        node.with_context = True  # type: ignore[attr-defined]


class _AndIsBoolean(NodeTransformer):
    """JUEL's ``and``/``&&`` yields true or false, not an operand as Jinja's does."""

    def visit_And(self, node):
        self.generic_visit(node)
        return nodes.Not(nodes.Not(node, lineno=node.lineno), lineno=node.lineno)


def bare_dict_keys_as_strings(tree: nodes.Template) -> None:
    """HubL reads ``{url: x}`` like JavaScript: the bare key is the string "url".
    Jinja2 would look up a variable named ``url`` instead, silently."""
    for pair in tree.find_all(nodes.Pair):
        if isinstance(pair.key, nodes.Name) and pair.key.ctx == "load":
            pair.key = nodes.Const(pair.key.name, lineno=pair.key.lineno)


def check_names(env: Environment, tree: nodes.Template, name: str = "module.html") -> None:
    for node in tree.find_all(nodes.Filter):
        if node.name not in env.filters:
            raise _unknown(name, node.lineno, f"unknown filter {node.name!r}")
    for test in tree.find_all(nodes.Test):
        if test.name not in env.tests:
            raise _unknown(name, test.lineno, f"unknown test {test.name!r}")
    defined = _names_defined_in(tree) | set(env.globals) | _IMPLICIT_NAMES
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name not in defined:
            raise _unknown(name, call.lineno, f"unknown function {call.node.name!r}")


def _unknown(name: str, lineno: int, what: str) -> UnknownNameError:
    error = UnknownNameError(f"{name}, line {lineno}: {what}")
    error.hubl_location = ErrorLocation(name, lineno)  # type: ignore[attr-defined]
    return error


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
