"""The CMS module source trees: HubSpot's file and field conventions, escaping, email
restrictions, the Jinja2-compatible HubL subset, and HubSpot's own HubL parser."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from jinja2 import nodes

from oembed_server.hubl import HublRenderer
from oembed_server.hubl.environment import bare_dict_keys_as_strings
from tests.support.cms_modules import EMAIL_MODULE, PAGE_MODULE
from tests.support.environment import service_missing

ROOT = Path(__file__).resolve().parents[2]
ALL_MODULES = [PAGE_MODULE, EMAIL_MODULE]
HUBL_CHECK = ROOT / "tests" / "support" / "hubl_check.cjs"

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
ESCAPING_FILTERS = {"escape_html", "escape_attr", "escape_url", "escape_js", "sanitize_html"}
# Filters whose result is a number (or a number formatted), so nothing to escape.
NUMERIC_FILTERS = {"int", "round", "length"}


def fields_of(module: Path) -> list:
    return json.loads((module / "fields.json").read_text("utf-8"))


def meta_of(module: Path) -> dict:
    return json.loads((module / "meta.json").read_text("utf-8"))


def walk_fields(fields):
    for field in fields:
        yield field
        yield from walk_fields(field.get("children", []))


# --- files and meta.json ---------------------------------------------------------------
def test_module_folders_hold_exactly_the_expected_files():
    assert sorted(p.name for p in PAGE_MODULE.iterdir()) == \
        ["fields.json", "meta.json", "module.css", "module.html", "module.js"]
    # Email modules may not carry CSS or JavaScript (HubSpot refuses them).
    assert sorted(p.name for p in EMAIL_MODULE.iterdir()) == ["fields.json", "meta.json", "module.html"]


@pytest.mark.parametrize("module, hosts", [(PAGE_MODULE, ["PAGE", "BLOG_POST"]), (EMAIL_MODULE, ["EMAIL"])])
def test_meta_json(module, hosts):
    meta = meta_of(module)
    assert meta["label"] and meta["label"][0].isupper()
    assert meta["icon"]
    assert meta["host_template_types"] == hosts
    assert meta["global"] is False
    assert meta["is_available_for_new_content"] is True
    assert meta.get("css_assets", []) == [] and meta.get("js_assets", []) == []


# --- fields.json -------------------------------------------------------------------------
@pytest.mark.parametrize("module", ALL_MODULES, ids=lambda m: m.name)
def test_field_names_snake_case_and_labels_sentence_case(module):
    for field in walk_fields(fields_of(module)):
        assert SNAKE_CASE.match(field["name"]), field["name"]
        words = field["label"].split()
        assert words[0][0].isupper(), field["label"]
        # Later words stay lower case unless they are acronyms (URL, ID).
        for word in words[1:]:
            assert not (word[0].isupper() and word[1:].islower()), f"{field['label']!r} is not sentence case"


@pytest.mark.parametrize("module", ALL_MODULES, ids=lambda m: m.name)
def test_content_fields_come_before_style_fields(module):
    tabs = [field.get("tab", "CONTENT") for field in fields_of(module)]
    assert "STYLE" in tabs
    assert tabs == sorted(tabs, key=lambda tab: tab == "STYLE"), tabs


@pytest.mark.parametrize("module", ALL_MODULES, ids=lambda m: m.name)
def test_embed_fields_offer_media_bridge_and_oembed(module):
    embeds = [f for f in walk_fields(fields_of(module)) if f["type"] == "embed"]
    assert len(embeds) == 1
    embed = embeds[0]
    assert embed["supported_source_types"] == ["media_bridge", "oembed"]
    assert embed["supported_media_bridge_providers"] == []
    assert embed["default"]["source_type"] == "media_bridge"


def test_page_module_playlist_is_a_repeater_of_1_to_20():
    playlist = next(f for f in fields_of(PAGE_MODULE) if f["name"] == "playlist")
    assert playlist["type"] == "group"
    occurrence = playlist["occurrence"]
    assert (occurrence["min"], occurrence["max"]) == (1, 20)
    group, child = occurrence["sorting_label_field"].split(".")
    assert group == "playlist" and child in {c["name"] for c in playlist["children"]}
    assert [c["type"] for c in playlist["children"]][0] == "embed"


def test_fields_the_templates_read_exist():
    page = {f["name"] for f in fields_of(PAGE_MODULE)}
    assert {"playlist", "poster", "show_details", "styles"} <= page
    email = {f["name"] for f in fields_of(EMAIL_MODULE)}
    assert {"media", "poster", "link", "styles"} <= email


# --- module.html: email restrictions, escaping, Jinja2 subset ------------------------------
def test_email_module_has_no_script_style_or_required_assets():
    html = (EMAIL_MODULE / "module.html").read_text("utf-8").lower()
    for forbidden in ("<script", "<style", "<link", "require_css", "require_js", "<noscript"):
        assert forbidden not in html, forbidden


@pytest.mark.parametrize("module", ALL_MODULES, ids=lambda m: m.name)
def test_no_hubl_only_operators(module):
    html = (module / "module.html").read_text("utf-8")
    for tag in re.findall(r"\{[{%](.*?)[}%]\}", html, flags=re.S):
        assert "||" not in tag and "&&" not in tag, tag
        # `a ? b : c` is HubL-only; "?" may only appear inside string literals.
        assert "?" not in re.sub(r"\"[^\"]*\"|'[^']*'", "", tag), tag


@pytest.mark.parametrize("module", ALL_MODULES, ids=lambda m: m.name)
def test_module_html_compiles_in_the_jinja2_subset(module):
    # Parses with stock Jinja2 syntax plus HubL's unless/require_* tags, and every filter,
    # test and function it names exists.
    HublRenderer().compile((module / "module.html").read_text("utf-8"))


@pytest.mark.parametrize("module", ALL_MODULES, ids=lambda m: m.name)
def test_every_output_is_escaped_or_numeric(module):
    env = HublRenderer().environment
    tree = env.parse((module / "module.html").read_text("utf-8"))
    bare_dict_keys_as_strings(tree)
    problems = unescaped_outputs(tree)
    assert not problems, "outputs without an escaping filter: " + ", ".join(problems)


def test_escaping_check_catches_an_unescaped_value():
    env = HublRenderer().environment
    tree = env.parse('{% set n = 3|int %}<a href="{{ module.url }}">{{ n }} {{ module.t|escape_html }}</a>'
                     '{{ entry.html|safe }}{{ module.title|safe }}')
    assert unescaped_outputs(tree) == ["module.url (line 1)", "Filter (line 1)"]  # module.title|safe


def unescaped_outputs(tree: nodes.Template) -> list[str]:
    macros = {m.name for m in tree.find_all(nodes.Macro)}
    numeric: set[str] = set()
    assigns = [(a.target.name, a.node) for a in tree.find_all(nodes.Assign) if isinstance(a.target, nodes.Name)]
    changed = True
    while changed:  # names whose every assignment is numeric, to a fixed point
        changed = False
        for name in {n for n, _ in assigns} - numeric:
            if all(_is_safe(value, macros, numeric, numbers_only=True) for n, value in assigns if n == name):
                numeric.add(name)
                changed = True
    problems = []
    for output in tree.find_all(nodes.Output):
        for expr in output.nodes:
            if not isinstance(expr, nodes.TemplateData) and not _is_safe(expr, macros, numeric):
                problems.append(f"{_describe(expr)} (line {expr.lineno})")
    return problems


def _is_safe(expr, macros, numeric, numbers_only=False) -> bool:
    if isinstance(expr, nodes.Const):
        return isinstance(expr.value, (int, float)) or not numbers_only
    if isinstance(expr, nodes.Filter):
        if expr.name in NUMERIC_FILTERS:
            return True
        if expr.name == "safe":
            # Only the provider's oEmbed html may go out unescaped (HubSpot's own modules do so).
            return not numbers_only and _describe(expr.node).endswith(".html")
        if expr.name == "format":  # "%02d"|format(number)
            return all(_is_safe(arg, macros, numeric, True) for arg in expr.args)
        return not numbers_only and expr.name in ESCAPING_FILTERS
    if isinstance(expr, nodes.BinExpr):
        return _is_safe(expr.left, macros, numeric, True) and _is_safe(expr.right, macros, numeric, True)
    if isinstance(expr, nodes.Name):
        return expr.name in numeric
    if isinstance(expr, nodes.Getattr) and isinstance(expr.node, nodes.Name) and expr.node.name == "loop":
        return True
    if isinstance(expr, nodes.Call) and isinstance(expr.node, nodes.Name):
        return not numbers_only and expr.node.name in macros  # macros escape what they print
    if isinstance(expr, nodes.CondExpr):
        return all(_is_safe(e, macros, numeric, numbers_only) for e in (expr.expr1, expr.expr2) if e is not None)
    return False


def _describe(expr) -> str:
    if isinstance(expr, nodes.Getattr):
        return f"{_describe(expr.node)}.{expr.attr}"
    if isinstance(expr, nodes.Name):
        return expr.name
    return type(expr).__name__


# --- HubSpot's own HubL parser ------------------------------------------------------------
def _hubl_check(*files: Path) -> subprocess.CompletedProcess:
    if shutil.which("node") is None:
        service_missing("node is not installed (tests/run_all.sh needs Node 20 for the HubL parser check)")
    if not (ROOT / "node_modules" / "@hubspot" / "prettier-plugin-hubl").is_dir():
        service_missing("node_modules is absent: run `npm ci` (tests/run_all.sh does) for HubSpot's HubL parser")
    return subprocess.run(["node", str(HUBL_CHECK), *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_module_html_parses_with_hubspots_hubl_parser():
    result = _hubl_check(*(m / "module.html" for m in ALL_MODULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok ") == 2


@pytest.mark.parametrize("broken", [
    "{% if module.a %}<p>never closed</p>",
    "{{ module.a ? : }}",
    "{% for x in %}{% endfor %}",
    "{% if a %}{% endfor %}",
])
def test_hubl_parser_check_rejects_broken_hubl(tmp_path, broken):
    bad = tmp_path / "module.html"
    bad.write_text(broken, "utf-8")
    result = _hubl_check(bad)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"ERROR {bad}" in result.stdout
