"""The CMS modules as a visitor's browser sees them in the local preview (Debian Chromium)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from oembed_server.hubl import HublRenderer
from oembed_server.hubl.embed_field import EmbedSize, embed_field_value
from tests.support.cms_modules import PAGE_MODULE

pytestmark = pytest.mark.browser

FRAME = "[data-media-embed-frame]"
PLAYER_IFRAME = "[data-media-embed-frame] iframe"
PAGE_MODULE_HTML = PAGE_MODULE / "module.html"


def iframe_query(page) -> dict[str, str]:
    src = page.locator(PLAYER_IFRAME).get_attribute("src")
    return {k: v[0] for k, v in parse_qs(urlsplit(src).query).items()} | {"_path": urlsplit(src).path}


def player_frame(page):
    return page.locator(PLAYER_IFRAME).element_handle().content_frame()


def wait_until_playing(frame, beyond: float = 0.5) -> None:
    frame.wait_for_selector("video#player")
    frame.wait_for_function(f"() => document.querySelector('video#player').currentTime > {beyond}")


def track_player_loads(page) -> list[str]:
    loads = []
    page.on("framenavigated",
            lambda frame: frame != page.main_frame and "/embed/" in frame.url and loads.append(frame.url))
    return loads


def serve_page_module(page, live_server: str, module: dict) -> None:
    """Opens the page module rendered from hand-made field values (for oEmbed html the
    preview's own provider never gives), with its CSS and JS from the live server."""
    rendered = HublRenderer().render_module(PAGE_MODULE_HTML.read_text("utf-8"), module)
    url = f"{live_server}/_test/page-module"
    html = (f'<!doctype html><html><head><link rel="stylesheet" href="{live_server}/_preview/media_embed/module.css">'
            f'</head><body>{rendered.html}<script src="{live_server}/_preview/media_embed/module.js"></script>'
            '</body></html>')
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    page.goto(url)


def layout_shift_observer(page) -> None:
    page.add_init_script("""
        window.__layoutShift = 0;
        new PerformanceObserver(list => {
            for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__layoutShift += entry.value;
        }).observe({type: 'layout-shift', buffered: true});
    """)


def test_player_loads_once_and_muted_autoplay_plays(live_server, open_page, screenshot):
    page = open_page()
    layout_shift_observer(page)
    loads = track_player_loads(page)
    page.goto(f"{live_server}/_preview/media_embed?media=sample-video&autoplay=1&muted=1")
    frame = player_frame(page)
    wait_until_playing(frame)
    assert frame.evaluate("document.querySelector('video#player').muted") is True
    query = iframe_query(page)
    assert query["_path"] == "/embed/sample-video"
    assert (query["autoplay"], query["muted"], query["hs_portal_id"], query["hs_page_id"]) == ("1", "1", "1234567", "1")
    assert query["hs_page_name"] == "Preview: Media player"
    assert query["hs_page_url"].startswith(f"{live_server}/_preview/media_embed?")
    assert "hs_utk" not in query  # no cookie, no HubSpot tracking code: nothing to wait for
    assert page.locator(PLAYER_IFRAME).get_attribute("title") == "Spring product tour"
    assert page.evaluate("window.__layoutShift") == 0
    screenshot(page, "media_embed-playing")
    assert len(loads) == 1, loads


# Box sizes: the module sits in a 960px-wide page column with 16px padding each side.
@pytest.mark.parametrize("viewport_width", [1200, 400])
@pytest.mark.parametrize("query, expected", [
    ("", lambda c: (min(640, c), min(640, c) * 9 / 16)),
    ("&size_type=auto_full_width", lambda c: (c, c * 9 / 16)),
    ("&size_type=exact&width=400&height=300", lambda c: (min(400, c), min(400, c) * 3 / 4)),
    ("&size_type=auto_custom_max&max_width=500&max_height=200", lambda c: (min(355, c), min(355, c) * 9 / 16)),
], ids=["auto", "auto_full_width", "exact", "auto_custom_max"])
def test_size_types_give_the_expected_box(live_server, open_page, viewport_width, query, expected):
    page = open_page(viewport_width=viewport_width)
    page.goto(f"{live_server}/_preview/media_embed?media=sample-video{query}")
    page.wait_for_selector(PLAYER_IFRAME)
    column = page.locator("#preview-module").bounding_box()["width"]
    assert column == (928 if viewport_width == 1200 else viewport_width - 32)
    box = page.locator(FRAME).bounding_box()
    iframe = page.locator(PLAYER_IFRAME).bounding_box()
    want_w, want_h = expected(column)
    assert box["width"] == pytest.approx(want_w, abs=1)
    assert box["height"] == pytest.approx(want_h, abs=1)
    assert (iframe["width"], iframe["height"]) == (box["width"], box["height"])


def test_playlist_switches_by_mouse_and_keyboard(live_server, open_page, screenshot):
    page = open_page()
    url = f"{live_server}/_preview/media_embed?media=sample-video&media=sample-audio&media=sample-image"
    page.goto(url)
    page.wait_for_selector(PLAYER_IFRAME)
    links = page.locator("[data-media-embed-index]")
    assert links.count() == 3
    assert links.nth(0).get_attribute("role") == "button"

    links.nth(1).click()
    assert iframe_query(page)["_path"] == "/embed/sample-audio"
    assert iframe_query(page)["autoplay"] == "1"  # choosing an item is asking to play it
    assert links.nth(1).get_attribute("aria-current") == "true"
    assert links.nth(0).get_attribute("aria-current") is None
    assert page.locator('[data-media-embed-details="1"]').is_visible()
    assert not page.locator('[data-media-embed-details="0"]').is_visible()
    assert page.url == url  # the link did not navigate
    player_frame(page).wait_for_selector("#player")
    screenshot(page, "media_embed-playlist")

    links.nth(0).focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.mediaEmbedIndex") == "2"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # keyboard focus is visible
    page.keyboard.press("Enter")
    assert iframe_query(page)["_path"] == "/embed/sample-image"
    assert page.locator(FRAME).get_attribute("style") == "width: 100%; max-width: 800px; aspect-ratio: 800 / 600;"
    page.keyboard.press("Home")
    page.keyboard.press(" ")
    assert iframe_query(page)["_path"] == "/embed/sample-video"
    assert links.nth(0).get_attribute("aria-current") == "true"
    assert page.url == url


def test_poster_click_reveals_an_autoplaying_player(live_server, open_page, screenshot):
    page = open_page()
    page.goto(f"{live_server}/_preview/media_embed?media=sample-video&poster=1")
    poster = page.locator("button[data-media-embed-poster]")
    poster.wait_for(state="visible")
    assert page.locator(PLAYER_IFRAME).count() == 0
    screenshot(page, "media_embed-poster")
    poster.click()
    page.wait_for_selector(PLAYER_IFRAME)
    assert not poster.is_visible()
    assert iframe_query(page)["autoplay"] == "1"
    wait_until_playing(player_frame(page))


def test_hubspotutk_cookie_becomes_hs_utk(live_server, open_page):
    page = open_page()
    page.context.add_cookies([{"name": "hubspotutk", "value": "5a1f0c1e9d2b4c3a8e7f6d5c4b3a2910", "url": live_server}])
    page.goto(f"{live_server}/_preview/media_embed?media=sample-video")
    page.wait_for_selector(PLAYER_IFRAME)
    assert iframe_query(page)["hs_utk"] == "5a1f0c1e9d2b4c3a8e7f6d5c4b3a2910"


def test_late_user_token_from_tracking_code_still_loads_the_player_once(live_server, open_page):
    page = open_page()
    # Fake timers: the test decides when module.js's token timeout passes, however slow the machine.
    page.clock.install()
    # Stands in for HubSpot's tracking code: _hsq queues commands until the code loads, which
    # then runs the queued ones and every later push at once.
    page.add_init_script("""
        window._hsq = [];
        window.trackingCodeLoads = (utk) => {
            const run = command => { if (command[0] === 'addUserTokenListener') command[1](utk); };
            const queued = window._hsq;
            window._hsq = {push: run};
            queued.forEach(run);
        };
    """)
    loads = track_player_loads(page)
    page.goto(f"{live_server}/_preview/media_embed?media=sample-video")
    page.wait_for_selector("[data-media-embed-ready]", state="attached")
    assert page.locator(PLAYER_IFRAME).count() == 0  # waiting for the visitor token
    page.evaluate("trackingCodeLoads('late-token')")
    page.wait_for_selector(PLAYER_IFRAME)
    assert iframe_query(page)["hs_utk"] == "late-token"
    player_frame(page).wait_for_load_state()
    page.locator(PLAYER_IFRAME).evaluate("iframe => { iframe.firstMount = true; }")
    page.clock.run_for(10_000)  # far past module.js's token timeout
    assert page.locator(PLAYER_IFRAME).evaluate("iframe => iframe.firstMount") is True  # not remounted
    assert len(loads) == 1, loads


def test_player_without_its_own_title_gets_the_media_title(live_server, open_page):
    # Our own oEmbed html carries a title; other providers' may not, and the iframe needs one.
    response = {"type": "video", "title": "Untitled provider video", "width": 640, "height": 360,
                "html": f'<iframe src="{live_server}/embed/sample-video" width="640" height="360"></iframe>'}
    field = embed_field_value("oembed", oembed_url=f"{live_server}/media/sample-video",
                              oembed_response=response, size=EmbedSize())
    page = open_page()
    serve_page_module(page, live_server, {"playlist": [{"title": "", "media": field}],
                                          "show_details": True, "poster": {}, "styles": {}})
    page.wait_for_selector(PLAYER_IFRAME)
    assert page.locator(PLAYER_IFRAME).get_attribute("title") == "Untitled provider video"


def test_player_shows_without_javascript(live_server, open_page, screenshot):
    page = open_page(java_script_enabled=False)
    page.goto(f"{live_server}/_preview/media_embed?media=sample-video&media=sample-audio&poster=1")
    iframe = page.locator(PLAYER_IFRAME)
    iframe.wait_for(state="visible")
    assert urlsplit(iframe.get_attribute("src")).path == "/embed/sample-video"
    assert not page.locator("button[data-media-embed-poster]").is_visible()
    box = iframe.bounding_box()
    assert (box["width"], box["height"]) == (640, 360)
    screenshot(page, "media_embed-no-javascript")


def test_email_preview_has_no_script_or_style_and_links_the_image(live_server, open_page, screenshot):
    page = open_page(viewport_width=800)
    page.goto(f"{live_server}/_preview/media_email?media=sample-video")
    assert page.locator("script, style, link[rel=stylesheet], iframe").count() == 0
    link = page.locator("a.media-email__image-link")
    assert link.get_attribute("href") == f"{live_server}/media/sample-video?play_from=email"
    image = link.locator("img")
    assert image.get_attribute("src") == f"{live_server}/static/sample/video-thumbnail.png"
    page.wait_for_function("() => document.querySelector('a.media-email__image-link img').naturalWidth > 0")
    assert image.bounding_box()["width"] == 600  # the email column
    badge = page.locator("a.media-email__badge")
    assert badge.get_attribute("href") == f"{live_server}/media/sample-video?play_from=email"
    screenshot(page, "media_email")
    with page.context.expect_page() as opened:  # target="_blank", as email clients open links
        image.click()
    media_page = opened.value
    media_page.wait_for_load_state()
    assert media_page.url == f"{live_server}/media/sample-video?play_from=email"


# --- HubSpot-style Media Bridge modules from a --module-dir (issue 21) ------------------------
# Written for these tests, they use the constructs HubSpot's cms-media-bridge examples use:
# the media_bridge_embed tag with {{ }} arguments, a macro file imported by Design Manager
# path, ||, &&, ?:, else if, tojson|escapejson, require_js of HubSpot's embed script, the
# Embed field snippet's markup, and an email module's linked thumbnail.
MB_EMBED_FIELD = {"name": "embed_field", "label": "Media", "type": "embed", "supported_source_types": ["media_bridge"]}
MB_MODULES = {
    "tag-embed": (
        "{% if module.embed_field.media_bridge_object.oembed_url %}"
        "{% media_bridge_embed media_bridge_object={{ module.embed_field.media_bridge_object }}\n"
        "   poster_url={{ module.custom_poster.src }}\n"
        "   reveal_on={{ module.custom_poster.src ? 'click' : 'load' }}\n"
        "   render_mode={{ module.render_mode }} %}"
        "{% else %}<p>Select media</p>{% endif %}",
        [MB_EMBED_FIELD, {"name": "custom_poster", "label": "Poster", "type": "image"},
         {"name": "render_mode", "label": "Render mode", "type": "choice", "default": "cached",
          "choices": [["cached", "cached"], ["eager", "eager"], ["refetch", "refetch"]]}],
        ["PAGE"]),
    "macro-embed": (
        "{% from '/media-bridge/embed-macros.html' import embed_of, no_media %}"
        "{% if module.embed_field.media_bridge_object.oembed_url %}{{ embed_of(module.embed_field) }}"
        "{% else %}{{ no_media }}{% endif %}",
        [MB_EMBED_FIELD], ["PAGE"]),
    "snippet-embed": (
        "{% if module.embed_field.source_type == 'oembed' || module.embed_field.source_type == 'media_bridge' %}"
        "{{ require_js('https://static.hsappstatic.net/media-bridge-embed-js/ex/v1.js') }}"
        "{% set data = module.embed_field.source_type == 'media_bridge' ? module.embed_field.media_bridge_object"
        " : module.embed_field %}"
        "<div class=\"oembed_container\"><div class=\"iframe_wrapper\" data-embed-url=\"{{ data.oembed_url }}\""
        " data-source-type=\"{{ module.embed_field.source_type }}\""
        "{% unless data.size_type == 'auto_full_width' || data.size_type == 'exact' %}"
        " data-max-width=\"\"{% endunless %}"
        "{% if data.size_type == 'exact' %}"
        " data-width=\"{{ data.width }}\" data-height=\"{{ data.height }}\"{% endif %}>"
        "</div></div>{% endif %}",
        [MB_EMBED_FIELD], ["PAGE"]),
    "email-embed": (
        "{% set value = module.embed_field.media_bridge_object %}"
        "{% set answer = oembed({ url: value.oembed_url }) || value.oembed_response %}"
        "{% set width = current_column_content_width is number ? current_column_content_width"
        " : value.width|default(600) %}"
        "{% set src = answer.type == 'photo' && answer.url ? answer.url : answer.thumbnail_url %}"
        "{% if src %}<a href=\"{{ module.link.href || value.oembed_url }}\" target=\"_blank\">"
        "<img alt=\"{{ answer.title }}\" src=\"{{ src }}\" width=\"{{ width }}\" style=\"max-width: 100%;\"></a>"
        "{% endif %}",
        [MB_EMBED_FIELD, {"name": "link", "label": "Link", "type": "url", "default": {"href": "", "type": "EXTERNAL"}}],
        ["EMAIL"]),
}
MB_MACROS = (
    "<!--\n    templateType: page\n    isAvailableForNewContent: false\n-->\n"
    "{% set no_media = 'Select media' %}"
    "{% macro embed_of(field) %}"
    "{% set value = field.source_type == 'media_bridge' ? field.media_bridge_object : field %}"
    "{% set answer = value.oembed_response %}"
    "{% if answer.type == 'photo' && answer.url %}<img src=\"{{ answer.url }}\">"
    "{% else if answer.html %}"
    "{{ require_js('https://static.hsappstatic.net/media-bridge-embed-js/ex/v1.js',"
    " { position: 'footer', defer: true }) }}"
    "<div class=\"hs-mb-embed-wrapper\" data-oembed-url=\"{{ value.oembed_url }}\""
    " style=\"max-width: {{ value.size_type == 'auto_custom_max' ? value.max_width : answer.width }}px\">"
    "<div class=\"hs-mb-iframe-wrapper\">{{ answer.html|safe }}</div>"
    "<script>window._hsMediaBridge = window._hsMediaBridge || { embedsByUrl: {} };"
    "window._hsMediaBridge.embedsByUrl[\"{{ value.oembed_url }}\"] = JSON.parse(\"{{ answer|tojson|escapejson }}\");"
    "</script></div>"
    "{% else %}<p>Unsupported</p>{% endif %}"
    "{% endmacro %}"
)
UTK = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def mb_server(tmp_path_factory):
    import json

    from oembed_server import create_app
    from oembed_server.usecases.sample_media import load_sample_media
    from tests.support.databases import migrated_sqlite_url
    from tests.support.environment import SECRET_KEY
    from tests.support.live_server import serve_in_thread

    root = tmp_path_factory.mktemp("mb-modules")
    for name, (html, fields, hosts) in MB_MODULES.items():
        (root / f"{name}.module").mkdir()
        (root / f"{name}.module" / "module.html").write_text(html)
        (root / f"{name}.module" / "fields.json").write_text(json.dumps(fields))
        (root / f"{name}.module" / "meta.json").write_text(json.dumps({"label": name, "host_template_types": hosts}))
    (root / "embed-macros.html").write_text(MB_MACROS)
    database = tmp_path_factory.mktemp("mb-live") / "catalog.sqlite3"
    apps = []

    def build(base_url):
        app = create_app({"OEMBED_DATABASE_URL": migrated_sqlite_url(database), "OEMBED_PUBLIC_URL": base_url,
                          "OEMBED_SECRET_KEY": SECRET_KEY, "OEMBED_URL_SCHEMES": "", "OEMBED_ENV": "development",
                          "PREVIEW_ENABLED": True, "CMS_MODULE_DIR": str(root)})
        load_sample_media(app.extensions["catalog"], base_url)
        apps.append(app)
        return app

    with serve_in_thread(build) as base_url:
        yield base_url
    apps[0].extensions["catalog"].dispose()


def mb_page(open_page, base: str, query: str):
    page = open_page()
    page.context.add_cookies([{"name": "hubspotutk", "value": UTK, "url": base}])
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/_preview/{query}")
    return page, errors


def frame_query(page, selector: str) -> dict[str, str]:
    src = page.locator(selector).first.get_attribute("src")
    return {k: v[0] for k, v in parse_qs(urlsplit(src).query).items()}


def test_embed_tag_poster_click_draws_the_player_with_tracking(mb_server, open_page, screenshot):
    page, errors = mb_page(open_page, mb_server, "tag-embed?media=sample-video&muted=1"
                           f"&fields.custom_poster.src={mb_server}/static/sample/video-thumbnail.png")
    placeholder = page.locator(".hs-mb-embed-placeholder")
    placeholder.wait_for(state="visible")
    page.wait_for_function("() => window.hsMediaBridgeApi !== undefined")
    assert page.locator(".hs-mb-embed-wrapper iframe").count() == 0
    screenshot(page, "mb-tag-embed-poster")
    placeholder.click()
    page.wait_for_selector(".hs-mb-embed-wrapper iframe")
    assert not placeholder.is_visible()
    query = frame_query(page, ".hs-mb-embed-wrapper iframe")
    assert (query["autoplay"], query["hs_utk"], query["hs_portal_id"]) == ("1", UTK, "1234567")
    wait_until_playing(page.locator(".hs-mb-embed-wrapper iframe").element_handle().content_frame())
    assert errors == []


@pytest.mark.parametrize("render_mode", ["cached", "refetch", "eager"])
def test_embed_tag_render_modes_play(mb_server, open_page, render_mode):
    page, errors = mb_page(open_page, mb_server,
                           f"tag-embed?media=sample-video&autoplay=1&muted=1&fields.render_mode={render_mode}")
    page.wait_for_function(
        "() => { const f = document.querySelector('.hs-mb-embed-wrapper iframe');"
        " return f && f.src.includes('hs_portal_id=1234567') && f.src.includes('hs_utk='); }")
    wait_until_playing(page.locator(".hs-mb-embed-wrapper iframe").element_handle().content_frame())
    assert errors == []


def test_macro_import_with_eager_html_plays_and_gets_tracking(mb_server, open_page):
    loads: list[str] = []
    page = open_page()
    page.on("framenavigated", lambda f: f != page.main_frame and "/embed/" in f.url and loads.append(f.url))
    page.goto(f"{mb_server}/_preview/macro-embed?media=sample-video&autoplay=1&muted=1")
    page.wait_for_function("() => document.querySelector('.hs-mb-embed-wrapper iframe').src.includes('hs_portal_id')")
    wait_until_playing(page.locator(".hs-mb-embed-wrapper iframe").element_handle().content_frame())
    # The body's own inline <script> has no nonce: the preview's policy refuses it.
    assert page.evaluate("window._hsMediaBridge") is None


def test_embed_field_snippet_markup_is_drawn_at_its_exact_size(mb_server, open_page):
    page, errors = mb_page(open_page, mb_server,
                           "snippet-embed?media=sample-video&size_type=exact&width=400&height=225&autoplay=1&muted=1")
    frame = page.wait_for_selector(".iframe_wrapper iframe")
    assert frame.evaluate("f => [f.style.width, f.style.height]") == ["400px", "225px"]
    assert frame_query(page, ".iframe_wrapper iframe")["hs_utk"] == UTK
    wait_until_playing(frame.content_frame())
    assert errors == []


def test_email_module_links_its_thumbnail_with_real_dimensions(mb_server, open_page, screenshot):
    page = open_page()
    page.goto(f"{mb_server}/_preview/email-embed?media=sample-video")
    image = page.locator("a[target=_blank] img")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('a img').complete")
    assert image.get_attribute("width") == "640"
    assert image.evaluate("img => [img.naturalWidth > 0, img.getBoundingClientRect().width]") == [True, 600]
    assert page.locator("a[target=_blank]").get_attribute("href") == f"{mb_server}/media/sample-video"
    screenshot(page, "mb-email-embed")
