"""The HubL renderer: HubSpot's semantics on Jinja2, without Flask or a database."""
from __future__ import annotations

import pytest

from oembed_server.domain.media import MediaType
from oembed_server.hubl import (
    EMAIL,
    HublError,
    HublLimitError,
    HublRenderer,
    InMemoryMediaObjects,
    NotAvailableError,
    UnknownNameError,
    media_object_type,
    page_context,
    parse_media_object_type,
)
from oembed_server.hubl.filters import escape_attr, escape_html, escape_js, escape_url, pprint, sanitize_html


@pytest.fixture(scope="module")
def renderer():
    return HublRenderer()


def render(renderer, source, module=None, **kwargs):
    return renderer.render_module(source, module or {}, **kwargs)


def videos(count, provider="123"):
    objects = [{"id": i, "hs_title": f"Video {i}", "hs_duration": i * 1000, "hs_external_id": f"v{i}"}
               for i in range(1, count + 1)]
    return InMemoryMediaObjects({(provider, MediaType.VIDEO): objects})


# --- values, undefined and names -------------------------------------------------------
def test_undefined_values_chain_and_render_empty(renderer):
    out = render(renderer, "[{{ module.missing.deeper.still }}][{{ nothing.at.all }}]", {"x": 1})
    assert out.html == "[][]"


def test_none_renders_empty_and_booleans_like_hubl(renderer):
    assert render(renderer, "[{{ module.a }}|{{ module.b }}|{{ module.c }}]",
                  {"a": None, "b": True, "c": False}).html == "[|true|false]"


def test_dict_keys_win_over_method_names(renderer):
    # A field named "items" is the field in HubL, not dict.items.
    assert render(renderer, "{{ module.items }}", {"items": "the field"}).html == "the field"


def test_bare_dict_keys_are_strings_as_in_hubl(renderer):
    assert render(renderer, "{% set d = {url: 'x', size: 2} %}{{ d.url }}{{ d['size'] }}").html == "x2"


@pytest.mark.parametrize("source, culprit", [
    ("{{ crm_objcts('a1_Videos', [1]) }}", "crm_objcts"),
    ("{% if false %}{{ not_a_function() }}{% endif %}", "not_a_function"),
    ("{{ 'x'|no_such_filter }}", "no_such_filter"),
    ("{% if 1 is no_such_test %}{% endif %}", "no_such_test"),
])
def test_unknown_names_fail_loudly_even_in_unreached_branches(renderer, source, culprit):
    with pytest.raises(UnknownNameError, match=culprit):
        render(renderer, source)


def test_unknown_tag_names_the_tag(renderer):
    with pytest.raises(HublError, match="no_such_tag"):
        render(renderer, "{% no_such_tag x=1 %}")


def test_calling_a_missing_method_names_it(renderer):
    with pytest.raises(UnknownNameError, match="'shout'"):
        render(renderer, "{{ module.text.shout() }}", {"text": "hi"})


# --- HubL's own syntax (issue 21 reverses the old "syntax error" expectation) -------------
@pytest.mark.parametrize("source, expected", [
    ("{{ module.none || module.b || 'c' }}", "bee"),  # || yields the first truthy operand
    ("{{ module.b && 'x' }}|{{ module.none && 'x' }}", "true|false"),  # && yields a boolean
    ("{{ module.b and 'x' }}", "true"),  # so does `and`: JUEL has one AND
    ("{{ !module.none }}|{{ !module.b == false }}|{{ !!module.b }}", "true|true|true"),
    ("{{ module.b ? 'yes' : 'no' }}|{{ module.none ? 'yes' : 'no' }}", "yes|no"),
    ("{{ module.none ? 1 : module.b ? 2 : 3 }}|{{ module.b ? module.none ? 1 : 2 : 3 }}", "2|2"),
    ("{% set v = module.none || module.zero ? 'a' : 'b' ~ 'c' %}{{ v }}", "bc"),
    ("{{ module.n is number ? module.n : 600 }}|{{ module.none is number ? 1 : module.none|default(600) }}", "5|600"),
    ("{{ f(module.b ? 1 : 2) }}", None),
    ("{{ {'k': module.b ? 'y' : 'n'}.k }}|{{ [module.none ? 1 : 2][0] }}", "y|2"),
    ("{{ null }}|{{ module.none == null }}|{{ {'null': 1}.null }}", "|true|1"),
    ("{% if module.none %}a{% else if module.b %}b{% else %}c{% endif %}", "b"),
    ("{{ 'a || b ? c : d && !e' }}{# x || y ? #}", "a || b ? c : d && !e"),
    ("{% raw %}{{ a || b }}{% endraw %}", "{{ a || b }}"),
])
def test_hubl_operators_null_and_else_if(renderer, source, expected):
    module = {"none": None, "b": "bee", "zero": 0, "n": 5}
    if expected is None:
        with pytest.raises(UnknownNameError, match="'f'"):
            render(renderer, source, module)
        return
    assert render(renderer, source, module).html == expected


def test_rewritten_syntax_keeps_line_numbers(renderer):
    from oembed_server.hubl.hubl_errors import location_of
    source = "{% set a = module.x ?\n 1 :\n 2 %}\n{{ a || b }}\n{{ 'x'|no_such_filter }}"
    with pytest.raises(UnknownNameError) as caught:
        render(renderer, source, name="m.module/module.html")
    assert location_of(caught.value).line == 5
    assert location_of(caught.value).source_line == "{{ 'x'|no_such_filter }}"


def test_tag_arguments_may_be_expressions_in_braces(renderer):
    embed = {"oembed_url": "https://p.test/m/1", "oembed_response": {"type": "video", "html": "<iframe></iframe>"}}
    out = render(renderer, "{% media_bridge_embed media_bridge_object={{ module.e }} "
                           "render_mode={{ module.eager ? 'eager' : 'cached' }} %}", {"e": embed, "eager": True})
    assert 'data-render-mode="eager"' in out.html and "<iframe></iframe>" in out.html


def test_jinja_only_globals_are_not_functions(renderer):
    with pytest.raises(UnknownNameError, match="lipsum"):
        render(renderer, "{{ lipsum() }}")


def test_do_and_list_methods_work(renderer):
    out = render(renderer, "{% set l = [] %}{% do l.append(1) %}{% do l.extend([2, 3]) %}{{ l|join(',') }}")
    assert out.html == "1,2,3"


# --- unless ------------------------------------------------------------------------------
def test_unless_renders_body_only_when_false(renderer):
    source = "{% unless module.flag %}shown{% endunless %}"
    assert render(renderer, source, {"flag": False}).html == "shown"
    assert render(renderer, source, {"flag": True}).html == ""


def test_unless_takes_elif_and_else_like_hubl(renderer):
    # HubL's unless is an if with the test inverted: its elif/else branches work as in if.
    source = "{% unless module.a %}not a{% elif module.b %}a and b{% else %}a only{% endunless %}"
    assert render(renderer, source, {"a": False}).html == "not a"
    assert render(renderer, source, {"a": True, "b": True}).html == "a and b"
    assert render(renderer, source, {"a": True, "b": False}).html == "a only"


# --- require_css / require_js -----------------------------------------------------------
def test_require_blocks_go_to_head_and_footer(renderer):
    out = render(renderer, "a{% require_css %}<style>.x{}</style>{% end_require_css %}"
                           "b{% require_js %}<script>f()</script>{% end_require_js %}"
                           "c{% require_js position='head' %}<script>h()</script>{% end_require_js %}")
    assert out.html == "abc"
    assert out.head_html.splitlines() == ["<style>.x{}</style>", "<script>h()</script>"]
    assert out.footer_html == "<script>f()</script>"


def test_require_functions_deduplicate_and_honour_options(renderer):
    out = render(renderer, "{{ require_css('https://cdn.test/a.css') }}{{ require_css('https://cdn.test/a.css') }}"
                           "{{ require_js('https://cdn.test/a.js') }}"
                           "{{ require_js('https://cdn.test/b.js', {position: 'head', defer: true}) }}"
                           "{{ require_js('https://cdn.test/c.js', 'head') }}")
    assert out.html == ""
    assert out.head_html.splitlines() == [
        '<link rel="stylesheet" href="https://cdn.test/a.css">',
        '<script src="https://cdn.test/b.js" defer></script>',
        '<script src="https://cdn.test/c.js"></script>',
    ]
    assert out.footer_html == '<script src="https://cdn.test/a.js"></script>'


def test_require_js_rejects_unknown_position(renderer):
    with pytest.raises(HublError, match="position"):
        render(renderer, "{{ require_js('https://cdn.test/a.js', 'middle') }}")


@pytest.mark.parametrize("source", [
    "{{ require_css('https://cdn.test/a.css') }}",
    "{% require_js %}<script></script>{% end_require_js %}",
])
def test_email_modules_may_not_require_css_or_js(renderer, source):
    with pytest.raises(NotAvailableError, match="email"):
        render(renderer, source, host_type=EMAIL)


# --- filters -----------------------------------------------------------------------------
def test_escape_html_escapes_markup_but_keeps_entities():
    assert escape_html('<b title="x">Tom & Jerry &amp; co</b>') == \
        "&lt;b title=&quot;x&quot;&gt;Tom &amp; Jerry &amp; co&lt;/b&gt;"
    assert escape_html(None) == ""


def test_escape_attr_escapes_quotes_and_ampersands():
    assert escape_attr("\"a\" & 'b' <c>") == "&quot;a&quot; &amp; &#39;b&#39; &lt;c&gt;"


@pytest.mark.parametrize("url, expected", [
    ("https://media.test/media/a b?x=1&y='2'", "https://media.test/media/a%20b?x=1&amp;y=%272%27"),
    ('https://media.test/"><script>', "https://media.test/%22%3E%3Cscript%3E"),
    ("/relative/path?q=1", "/relative/path?q=1"),
    ("mailto:someone@example.com", "mailto:someone@example.com"),
    ("javascript:alert(1)", ""),
    ("  JavaScript:alert(1)", ""),
    ("java\tscript:alert(1)", ""),
    ("data:text/html,<b>x</b>", ""),
    ("https://[::1", ""),
    ("https:///no-host", ""),
])
def test_escape_url(url, expected):
    assert escape_url(url) == expected


def test_escape_js_keeps_strings_and_script_blocks_closed():
    assert escape_js("it's \"x\"\n</script>") == "it\\'s \\\"x\\\"\\n\\u003c\\u002fscript\\u003e"


def test_sanitize_html_keeps_player_iframes_and_removes_everything_dangerous():
    dirty = ('<p onclick="x()">Hi <script>alert(1)</script><b>there</b></p>'
             '<iframe src="https://player.test/embed/1" width="640" height="360" title="T" '
             'allow="autoplay; camera; fullscreen" onload="x()" style="position:fixed" allowfullscreen></iframe>'
             '<iframe src="javascript:alert(1)"></iframe>'
             '<a href="javascript:alert(1)">bad</a><a href="https://ok.test" target="_blank">ok</a>'
             '<img src="x" onerror="alert(1)"><style>body{}</style><!-- note --><blink>text</blink>')
    clean = sanitize_html(dirty)
    assert "script" not in clean and "onclick" not in clean and "onerror" not in clean
    assert "onload" not in clean and "style" not in clean and "note" not in clean
    assert "javascript" not in clean and "camera" not in clean and "<blink" not in clean
    assert '<p>Hi <b>there</b></p>' in clean
    assert ('<iframe allow="autoplay; fullscreen" allowfullscreen height="360" '
            'src="https://player.test/embed/1" title="T" width="640"></iframe>') in clean
    assert clean.count("<iframe") == 1
    assert '<a>bad</a>' in clean
    assert '<a href="https://ok.test" rel="noopener noreferrer" target="_blank">ok</a>' in clean
    assert "text" in clean  # unknown elements are unwrapped, their text stays


def test_pprint_shows_hubl_type_names():
    assert pprint("hi") == "(String: hi)"
    assert pprint(3) == "(Long: 3)"
    assert pprint({"a": [1]}) == '(SizeLimitingPyMap: {"a": [1]})'
    assert pprint(None) == "null"


def test_filters_are_available_in_templates(renderer):
    out = render(renderer, "{{ module.t|escape_html }}|{{ module.u|escape_url }}|{{ module.d|tojson }}"
                           "|{{ module.t|pprint }}",
                 {"t": "<i>", "u": "javascript:x", "d": {"a": "</script>"}})
    assert out.html == '&lt;i&gt;||{"a": "\\u003c/script\\u003e"}|(String: <i>)'


# --- crm_object / crm_objects --------------------------------------------------------------
def test_object_type_names_follow_hubspots_example():
    assert media_object_type(123, "VIDEO") == "a123_Videos"
    assert media_object_type(123, MediaType.AUDIO) == "a123_Audio"
    assert media_object_type(123, "IMAGE") == "a123_Images"
    assert parse_media_object_type("a123_Images") == ("123", MediaType.IMAGE)
    with pytest.raises(HublError, match="a123_Cats"):
        parse_media_object_type("a123_Cats")


def test_crm_objects_by_ids_returns_hubspot_shape(renderer):
    out = render(renderer, "{% set r = crm_objects('a123_Videos', [3, 1, 99], 'hs_title,hs_duration') %}"
                           "{{ r.results|map(attribute='hs_title')|join(',') }}|{{ r.total }}|{{ r.has_more }}"
                           "|{{ r.offset }}|{{ r.results[0]|tojson }}",
                 media_objects=videos(5))
    assert out.html == 'Video 3,Video 1|2|false|2|{"hs_duration": 3000, "hs_title": "Video 3", "id": 3}'


def test_crm_objects_query_string_filters_orders_and_pages(renderer):
    out = render(renderer, "{% set r = crm_objects('a123_Videos',"
                           " 'hs_duration__gte=2000&order=-hs_duration&limit=2&offset=1', 'hs_title') %}"
                           "{{ r.results|map(attribute='hs_title')|join(',') }}|{{ r.total }}|{{ r.has_more }}"
                           "|{{ r.offset }}",
                 media_objects=videos(5))
    assert out.html == "Video 4,Video 3|4|true|3"


def test_crm_object_by_id_and_by_query(renderer):
    out = render(renderer, "{{ crm_object('a123_Videos', 2, 'hs_title').hs_title }}|"
                           "{{ crm_object('a123_Videos', 'hs_external_id=v4', 'hs_title').hs_title }}|"
                           "[{{ crm_object('a123_Videos', 42) }}]",
                 media_objects=videos(5))
    assert out.html == "Video 2|Video 4|[]"


def test_other_providers_objects_are_not_visible(renderer):
    out = render(renderer, "{{ crm_objects('a999_Videos', [1]).total }}", media_objects=videos(2))
    assert out.html == "0"


def test_crm_objects_rejects_unknown_properties_and_operators(renderer):
    with pytest.raises(HublError, match="hs_titel"):
        render(renderer, "{{ crm_objects('a123_Videos', [1], 'hs_titel') }}", media_objects=videos(1))
    with pytest.raises(HublError, match="sounds_like"):
        render(renderer, "{{ crm_objects('a123_Videos', 'hs_title__sounds_like=x') }}", media_objects=videos(1))


def test_more_than_100_objects_in_one_call_is_refused(renderer):
    with pytest.raises(HublLimitError, match="100"):
        render(renderer, "{{ crm_objects('a123_Videos', range(1, 102)) }}", media_objects=videos(1))
    with pytest.raises(HublLimitError, match="100"):
        render(renderer, "{{ crm_objects('a123_Videos', 'limit=101') }}", media_objects=videos(1))
    out = render(renderer, "{{ crm_objects('a123_Videos', range(1, 101)).total }}", media_objects=videos(100))
    assert out.html == "100"


def test_more_than_10_calls_per_page_is_refused(renderer):
    ten = "{% for i in range(10) %}{{ crm_objects('a123_Videos', [1]).total }}{% endfor %}"
    assert render(renderer, ten, media_objects=videos(1)).html == "1" * 10
    with pytest.raises(HublLimitError, match="10 calls per page"):
        render(renderer, ten + "{{ crm_objects('a123_Videos', [1]) }}", media_objects=videos(1))


def test_call_limits_are_per_render(renderer):
    ten = "{% for i in range(10) %}{{ crm_object('a123_Videos', 1).id }}{% endfor %}"
    for _ in range(3):
        assert render(renderer, ten, media_objects=videos(1)).html == "1" * 10


# --- oembed() ---------------------------------------------------------------------------
def test_oembed_works_in_emails_and_passes_limits(renderer):
    calls = []

    def resolve(url, maxwidth, maxheight):
        calls.append((url, maxwidth, maxheight))
        return {"title": "T", "thumbnail_url": "https://media.test/t.png"}

    out = render(renderer, "{{ oembed({url: 'https://media.test/media/a', max_width: 600}).title }}",
                 host_type=EMAIL, resolve_oembed=resolve)
    assert out.html == "T"
    assert calls == [("https://media.test/media/a", 600, None)]


def test_oembed_without_answer_is_empty_so_templates_can_fall_back(renderer):
    out = render(renderer, "{% set r = oembed({'url': 'https://x.test/a'}) %}{{ r.title or 'stored' }}",
                 host_type=EMAIL, resolve_oembed=lambda *a: None)
    assert out.html == "stored"


def test_oembed_is_email_only(renderer):
    with pytest.raises(NotAvailableError, match="email"):
        render(renderer, "{{ oembed({'url': 'https://x.test/a'}) }}", resolve_oembed=lambda *a: {})


# --- context ------------------------------------------------------------------------------
def test_module_widget_and_page_context(renderer):
    context = page_context(portal_id=42, page_id=7, page_name="Page", page_url="https://site.test/p?a=1",
                           module_name="widget_1")
    out = render(renderer, "{{ module.x }}{{ widget.x }}|{{ hub_id }}|{{ portal_id }}|{{ content.id }}|{{ name }}|"
                           "{{ request.path }}|{{ request.query_dict.a }}|{{ request.domain }}",
                 {"x": "v"}, context=context)
    assert out.html == "vv|42|42|7|widget_1|/p|1|site.test"


def test_missing_values_convert_to_zero_like_null(renderer):
    assert render(renderer, "{{ module.nope|int }}|{{ module.nope.deeper|float }}|{{ module.none|int }}",
                  {"none": None}).html == "0|0.0|0"


# --- HubL filters and functions from HubSpot's examples -----------------------------------
def test_escapejson_escapes_like_jinjava():
    from oembed_server.hubl.filters import escape_json
    assert escape_json('A"\\/') == 'A\\"\\\\\\/'
    assert escape_json("M\x134 \x08") == "M\\u00134 \\b"
    assert escape_json("it's\n\té") == "it's\\n\\t\\u00E9"


def test_tojson_then_escapejson_parses_back(renderer):
    import json
    out = render(renderer, '{{ module.r|tojson|escapejson }}', {"r": {"html": "<iframe src='x'></iframe>"}})
    assert json.loads(json.loads(f'"{out.html}"')) == {"html": "<iframe src='x'></iframe>"}


def test_default_also_replaces_null_as_in_hubl(renderer):
    out = render(renderer, "{{ module.none|default(600) }}|{{ nope|default(1) }}|{{ module.zero|default(5) }}"
                           "|{{ module.zero|default(5, true) }}", {"none": None, "zero": 0})
    assert out.html == "600|1|0|5"


def test_video_thumbnail_checks_its_arguments(renderer):
    out = render(renderer, "{{ video_thumbnail({url: 'https://f.test/p.png', color: '#ff7a59', width: 600}) }}",
                 host_type=EMAIL)
    assert out.html == "https://f.test/p.png"
    for bad, culprit in [("{}", "url"), ("{url: 'x', color: 'red!'}", "color"), ("{url: 'x', width: -1}", "width")]:
        with pytest.raises(HublError, match=culprit):
            render(renderer, f"{{{{ video_thumbnail({bad}) }}}}", host_type=EMAIL)


# --- media_bridge_embed ----------------------------------------------------------------------
def mb_object(**sizing):
    response = {"type": "video", "html": '<iframe src="https://p.test/embed/1" width="640" height="360"></iframe>',
                "width": 640, "height": 360, "title": "Clip", "thumbnail_url": "https://p.test/t.png"}
    return {"oembed_url": "https://p.test/media/1", "oembed_response": response, "source_type": "media_bridge",
            "size_type": "auto"} | sizing


def embed_tag(renderer, arguments, module, **kwargs):
    from bs4 import BeautifulSoup
    out = render(renderer, "{% media_bridge_embed media_bridge_object=module.mb" + arguments + " %}", module, **kwargs)
    return out, BeautifulSoup(out.html, "html.parser")


def test_embed_tag_cached_renders_poster_and_conveys_the_answer(renderer):
    from oembed_server.hubl.media_bridge_embed import MEDIA_BRIDGE_EMBED_JS
    out, soup = embed_tag(renderer, "", {"mb": mb_object()}, script_nonce="n0nce",
                          script_urls={MEDIA_BRIDGE_EMBED_JS: "/local/embed.js"})
    wrapper = soup.select_one(".hs-mb-embed-wrapper")
    assert wrapper["data-oembed-url"] == "https://p.test/media/1"
    assert (wrapper["data-render-mode"], wrapper["data-reveal-on"], wrapper["data-size-type"]) == (
        "cached", "load", "auto")
    assert "max-width: 640px; max-height: 360px;" in wrapper["style"]
    assert soup.select_one("img.hs-mb-embed-placeholder")["src"] == "https://p.test/t.png"
    assert soup.iframe is None
    script = soup.select_one("script")
    assert script["nonce"] == "n0nce" and 'embedsByUrl["https://p.test/media/1"]' in script.text
    assert "\\u003ciframe" in script.text  # html-safe JSON inside <script>
    assert out.footer_html == '<script src="/local/embed.js" defer></script>'


def test_embed_tag_eager_refetch_click_and_sizes(renderer):
    _, eager = embed_tag(renderer, ", render_mode='eager'", {"mb": mb_object(size_type="exact", width=300, height=200)})
    assert eager.iframe["src"] == "https://p.test/embed/1" and eager.script is None
    assert "width: 300px; height: 200px;" in eager.select_one(".hs-mb-embed-wrapper")["style"]
    _, refetch = embed_tag(renderer, " render_mode='refetch' reveal_on='click' poster_url=module.p",
                           {"mb": mb_object(size_type="auto_custom_max", max_width=480), "p": "https://f.test/p.png"})
    wrapper = refetch.select_one(".hs-mb-embed-wrapper")
    assert (wrapper["data-render-mode"], wrapper["data-reveal-on"]) == ("refetch", "click")
    assert refetch.script is None and refetch.img["src"] == "https://f.test/p.png"
    assert wrapper["style"] == "position: relative; max-width: 480px;"


@pytest.mark.parametrize("arguments, culprit", [
    (", render_mode='lazy'", "render_mode"), (", reveal_on='hover'", "reveal_on"), (", size=1", "size"),
])
def test_embed_tag_refuses_bad_arguments(renderer, arguments, culprit):
    with pytest.raises(HublError, match=culprit):
        embed_tag(renderer, arguments, {"mb": mb_object()})


def test_embed_tag_needs_a_media_bridge_object_and_a_page(renderer):
    with pytest.raises(HublError, match="media_bridge_object"):
        embed_tag(renderer, "", {"mb": None})
    with pytest.raises(NotAvailableError, match="email"):
        embed_tag(renderer, "", {"mb": mb_object()}, host_type=EMAIL)


def test_require_js_blocks_carry_the_page_nonce(renderer):
    out = render(renderer, "{% require_js %}<script>a()</script><SCRIPT type='module'>b()</SCRIPT>{% end_require_js %}",
                 script_nonce="abc")
    assert out.footer_html == '<script nonce="abc">a()</script><script nonce="abc" type=\'module\'>b()</SCRIPT>'


# --- imports and includes from the module directory ----------------------------------------
@pytest.fixture
def module_dir(tmp_path):
    (tmp_path / "media-bridge").mkdir()
    (tmp_path / "macros.html").write_text(
        "<!-- templateType: page -->{% set greeting = 'hi' %}"
        "{% macro shout(x) %}{{ x|upper }}{{ require_js('https://cdn.test/m.js') }}{% endmacro %}")
    (tmp_path / "media-bridge" / "partial.html").write_text("[{{ module.v }}]")
    (tmp_path / "broken.html").write_text("ok\n{% if %}")
    (tmp_path / "m.module").mkdir()
    return tmp_path


def test_imports_resolve_design_manager_paths_inside_the_module_dir(module_dir):
    renderer = HublRenderer(module_dir)
    source = ("{% from '/media-bridge/macros.html' import shout, greeting %}{{ shout(greeting) }}"
              "{% import '../macros.html' as m %}{{ m.shout('x') }}"
              "{% include '/media-bridge/partial.html' %}{% include 'media-bridge/partial.html' %}")
    out = renderer.render_module(source, {"v": 1}, name="m.module/module.html")
    assert out.html == "HIX[1][1]"
    assert out.footer_html == '<script src="https://cdn.test/m.js"></script>'  # macros see the render state


@pytest.mark.parametrize("path, message", [
    ("../../etc/passwd", "outside the module directory"),
    ("/missing.html", "no such file"),
])
def test_imports_outside_the_dir_or_missing_are_named(module_dir, path, message):
    from oembed_server.hubl.hubl_errors import location_of
    renderer = HublRenderer(module_dir)
    with pytest.raises(HublError, match=message) as caught:
        renderer.render_module(f"line one\n{{% include '{path}' %}}", {}, name="m.module/module.html")
    where = location_of(caught.value)
    assert (where.file, where.line) == ("m.module/module.html", 2) and path in where.source_line


def test_syntax_error_in_an_imported_file_names_that_file(module_dir):
    from oembed_server.hubl.hubl_errors import location_of
    with pytest.raises(HublError) as caught:
        HublRenderer(module_dir).render_module("{% import 'macros.html' as a %}{% include '/broken.html' %}", {},
                                               name="m.module/module.html")
    where = location_of(caught.value)
    assert (where.file, where.line, where.source_line) == ("broken.html", 2, "{% if %}")


def test_runtime_errors_name_file_line_and_construct(renderer):
    from oembed_server.hubl.hubl_errors import location_of
    with pytest.raises(HublError, match="a123_Cats") as caught:
        render(renderer, "a\nb\n{{ crm_object('a123_Cats', 1) }}", name="x.module/module.html")
    where = location_of(caught.value)
    assert (where.file, where.line) == ("x.module/module.html", 3)
    assert where.source_line == "{{ crm_object('a123_Cats', 1) }}"
    with pytest.raises(HublError, match="ZeroDivisionError") as caught:
        render(renderer, "\n{{ 1 / module.zero }}", {"zero": 0}, name="x.module/module.html")
    assert location_of(caught.value).line == 2
