"""The README's quick start as a newcomer walks it, at desktop and phone widths, on a fresh
catalog: index -> media page -> the player plays -> module preview -> email preview, with
no console error and nothing wider than the screen. And the document player draws its PDF."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def assert_fits(page, where: str) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where}: {overflow}px wider than the screen"


def player_frame(page, path_part: str):
    page.wait_for_function(f"() => [...document.querySelectorAll('iframe')].some(f => f.src.includes('{path_part}'))")
    for _ in range(50):
        frame = next((f for f in page.frames if path_part in f.url), None)
        if frame is not None:
            return frame
        page.wait_for_timeout(100)
    raise AssertionError(f"no frame loaded {path_part}")


@pytest.mark.parametrize("device", WIDTHS)
def test_quick_start_walk(open_page, live_server, screenshot, device):
    width, height = WIDTHS[device]
    page = open_page(width, height, is_mobile=device == "phone", has_touch=device == "phone")
    errors = watch_console(page)

    page.goto(f"{live_server}/")
    assert_fits(page, "index")
    screenshot(page, f"quick-start-{device}-1-index")

    page.click("text=Spring product tour")
    page.wait_for_url("**/media/sample-video")
    assert_fits(page, "media page")
    frame = player_frame(page, "/embed/sample-video")
    frame.wait_for_selector("video#player")
    # A visitor's click starts it; muted so the test does not depend on an audio device.
    frame.eval_on_selector("#player", "v => { v.muted = true; }")
    frame.click("#player")
    frame.eval_on_selector("#player", "v => v.paused ? v.play() : null")
    frame.wait_for_function("() => document.querySelector('#player').currentTime > 0.5")
    screenshot(page, f"quick-start-{device}-2-media-page")

    page.goto(f"{live_server}/")
    page.click(".catalog__row[data-external-id='sample-video'] .catalog__preview")
    page.wait_for_url("**/_preview/media_embed?media=sample-video")
    preview_frame = player_frame(page, "/embed/sample-video")
    preview_frame.wait_for_selector("video#player")
    assert_fits(page, "module preview")
    # The module's title, details and playlist sit in the player's centred column.
    boxes = page.evaluate("""() => ['.media-embed__frame', '.media-embed__details-list', '.preview-page__title']
        .map(s => document.querySelector(s).getBoundingClientRect())
        .map(r => ({left: r.left, right: r.right}))""")
    player, details, title = boxes
    assert abs(details["left"] - player["left"]) <= 1 and abs(details["right"] - player["right"]) <= 1
    centre = page.evaluate("() => document.documentElement.clientWidth / 2")
    assert abs((player["left"] + player["right"]) / 2 - centre) <= 2
    assert page.eval_on_selector(".preview-page__title", "e => getComputedStyle(e).textAlign") == "center"
    screenshot(page, f"quick-start-{device}-3-module-preview")

    page.goto(f"{live_server}/")
    page.click(".catalog__row[data-external-id='sample-video'] .catalog__email-preview")
    page.wait_for_url("**/_preview/media_email?media=sample-video")
    page.wait_for_function("() => document.querySelector('img.media-email__image').naturalWidth > 0")
    assert_fits(page, "email preview")
    screenshot(page, f"quick-start-{device}-4-email-preview")

    assert errors == []


def test_document_player_draws_the_first_page_and_turns_pages(open_page, live_server, screenshot):
    page = open_page(800, 600)
    errors = watch_console(page)
    page.goto(f"{live_server}/embed/sample-document")
    page.wait_for_selector(".player--document-drawn", timeout=15_000)
    assert page.text_content("[data-document-status]") == "Page 1 of 3"
    # Something was drawn: the brochure's dark page and its white heading, not a blank canvas.
    colours = page.eval_on_selector("[data-document-canvas]", """c => {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < data.length; i += 4 * 97) {
            seen.add(data[i] >> 4 << 8 | data[i + 1] >> 4 << 4 | data[i + 2] >> 4);
        }
        return seen.size;
    }""")
    assert colours > 4
    assert page.is_disabled("[data-document-previous]") and page.is_hidden(".player__fallback")
    screenshot(page, "document-player-page-1")
    page.click("[data-document-next]")
    page.wait_for_selector("[data-document-page='2']")
    assert page.text_content("[data-document-status]") == "Page 2 of 3"
    download = page.get_attribute("a.player__download", "href")
    assert download.endswith("/static/sample/document.pdf") and page.get_attribute("a.player__download",
                                                                                    "download") is not None
    assert errors == []
