"""The review page in a real browser: Debian's chromium driven by pytest-playwright.

A live server (uvicorn in a thread) reviews two drawn walls with fake detectors. The editor keeps
a slogan the machine hid, draws a box over a name it missed, reloads mid-review, approves; the
written output's pixels are then checked against the input and against `redact`.
"""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright")
pytest.importorskip("uvicorn")
import httpx  # noqa: E402
import uvicorn  # noqa: E402
from conftest import MISSED_NAME, SLOGAN, fake_redactor, review_of_two_walls  # noqa: E402

from redactor import Decisions, io  # noqa: E402
from redactor.render import quad_mask  # noqa: E402
from redactor.web.app import create_app  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make system)"),
]
TOKEN = "browser-token"
MAX_UPLOAD = 1_000_000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Playwright's own browser download is not reachable: use the system chromium. --no-sandbox: CI runs as root.
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-extensions", "--no-first-run"]}


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def server(tmp_path, fake_engines):
    yield from serve(tmp_path)


@pytest.fixture
def server_with_a_broken_file(tmp_path, fake_engines):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c.png").write_bytes(b"not an image at all")
    yield from serve(tmp_path)


@pytest.fixture
def server_not_analysed(tmp_path, fake_engines):
    yield from serve(tmp_path, start=False)


def serve(tmp_path, start=True):
    service, session = review_of_two_walls(tmp_path)
    src, out = tmp_path / "in", tmp_path / "out"
    if start:
        session.start()  # background analysis, as `redactor review` does
    app = create_app(service, session=session, token=TOKEN, max_upload=MAX_UPLOAD)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield {"url": f"http://127.0.0.1:{port}", "src": src, "out": out, "session": session}
    srv.should_exit = True
    thread.join(5)


def shot(page, name):
    """Keep screenshots where REDACTOR_SCREENSHOTS says (to look at them), else nowhere."""
    where = os.environ.get("REDACTOR_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(where) / f"{name}.png"))


def drag(page, box_px, size):
    """Drag over an image-pixel box on the photo as shown (zoomed to fit)."""
    img = page.locator("#photo").bounding_box()
    s = img["width"] / size[0]
    x0, y0, x1, y1 = box_px
    page.mouse.move(img["x"] + x0 * s, img["y"] + y0 * s)
    page.mouse.down()
    page.mouse.move(img["x"] + (x0 + x1) / 2 * s, img["y"] + (y0 + y1) / 2 * s, steps=3)
    page.mouse.move(img["x"] + x1 * s, img["y"] + y1 * s, steps=3)
    page.mouse.up()


def test_keep_slogan_draw_box_reload_approve(server, page):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server['url']}/?token={TOKEN}")
    assert page.url == f"{server['url']}/", "the token stays in the URL"
    page.wait_for_selector("body[data-loaded]")
    hidden = page.locator("#overlay polygon.region.hidden")
    hidden.first.wait_for()
    assert {hidden.nth(i).get_attribute("data-id") for i in range(hidden.count())} >= {"face-1", "text-1", "text-2"}
    assert page.locator("#regions li").count() == page.locator("#overlay polygon.region").count()
    shot(page, "1-queue")

    # Keep the slogan the over-broad deny list hid: click its outline (selects), then t.
    page.locator('#overlay polygon[data-id="text-2"]').click()
    page.wait_for_selector('#overlay polygon.selected.hidden[data-id="text-2"]')
    page.keyboard.press("t")
    page.wait_for_selector('#overlay polygon.kept[data-id="text-2"]')
    # Draw a box over the name the machine missed (category: default custom).
    drag(page, MISSED_NAME, (320, 240))
    page.wait_for_selector('#overlay polygon.editor[data-id="box-1"]')
    assert "custom" in page.locator('#regions li[data-id="box-1"]').inner_text()
    shot(page, "2-edited")

    # Reload mid-review: nothing lost.
    page.reload()
    page.wait_for_selector("body[data-loaded]")
    page.wait_for_selector('#overlay polygon.kept[data-id="text-2"]')
    page.wait_for_selector('#overlay polygon.editor.hidden[data-id="box-1"]')

    # Preview (rendered by the server), then approve with the keyboard.
    page.keyboard.press("v")
    page.wait_for_selector('#photo[data-view="preview"]')  # (no wait_for_function: the CSP forbids eval)
    shot(page, "3-preview")
    page.keyboard.press("v")
    page.keyboard.press("a")
    page.wait_for_selector('#queue-list li[data-status="approved"]')

    out, src = server["out"], server["src"]
    written = io.load(out / "a.png").rgb
    original = io.load(src / "a.png").rgb
    d = Decisions.load(out / "a.png.decisions.json")
    box = d.region("box-1")
    assert box.kind == "manual" and box.source == "editor" and box.hidden and box.changed
    bx0, by0, bx1, by1 = box.quad.bbox()
    assert max(abs(a - b) for a, b in zip((bx0, by0, bx1, by1), MISSED_NAME, strict=True)) <= 3
    slogan = d.region("text-2")
    assert not slogan.hidden and slogan.source == "auto" and slogan.changed
    box_mask = quad_mask(written.shape, box.quad)
    assert (written[box_mask] == 0).all(), "the drawn box is not filled"
    slogan_mask = quad_mask(written.shape, slogan.quad)
    assert np.array_equal(written[slogan_mask], original[slogan_mask]), "the kept slogan was changed"
    rest = ~(box_mask | slogan_mask)
    redacted = fake_redactor().redact(src / "a.png").image
    assert np.array_equal(written[rest], redacted[rest]), "outside the edits, the output differs from redact"
    x0, y0, x1, y1 = SLOGAN.bbox()
    assert not np.array_equal(redacted[int(y0) + 2:int(y1) - 2, int(x0) + 2:int(x1) - 2],
                              written[int(y0) + 2:int(y1) - 2, int(x0) + 2:int(x1) - 2])  # redact did hide it
    shot(page, "4-approved")


def test_guards_against_a_live_server(server, page, browser):
    url = server["url"]
    # No token: 401 (a fresh context has no cookie).
    context = browser.new_context()
    assert context.new_page().goto(f"{url}/").status == 401
    context.close()
    # A foreign Host header (DNS rebinding): 403.
    r = httpx.get(f"{url}/?token={TOKEN}", headers={"Host": "evil.example"})
    assert r.status_code == 403
    # Logged in by cookie: a POST without the CSRF header is 403; an oversized upload is 413.
    page.goto(f"{url}/?token={TOKEN}")
    page.wait_for_selector("body[data-loaded]")
    iid = server["session"].order[0]
    status = page.evaluate(f"fetch('/api/images/{iid}/undo', {{method: 'POST'}}).then(r => r.status)")
    assert status == 403
    status = page.evaluate("""(limit) => {
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const form = new FormData();
        form.append('image', new Blob([new Uint8Array(limit + 200000)]), 'big.jpg');
        return fetch('/api/redact', {method: 'POST', body: form, headers: {'X-CSRF-Token': csrf}}).then(r => r.status);
    }""", MAX_UPLOAD)
    assert status == 413


def open_review(page, url):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{url}/?token={TOKEN}")
    page.wait_for_selector("body[data-loaded]")
    page.locator("#overlay polygon.region").first.wait_for()


def test_a_stale_tab_cannot_approve_and_reloads(server, browser):
    """Two editors (two browser contexts) on one batch: tab 1 keeps the face, tab 2 still shows it
    hidden and approves: the server refuses, tab 2 reloads and says why, nothing is written."""
    tabs = []
    for _ in range(2):
        context = browser.new_context()
        page = context.new_page()
        open_review(page, server["url"])
        tabs.append(page)
    one, two = tabs
    one.locator('#regions li[data-id="face-1"] button[data-action="toggle"]').click()
    one.wait_for_selector('#overlay polygon.kept[data-id="face-1"]')
    assert two.locator('#overlay polygon.hidden[data-id="face-1"]').count() == 1  # what tab 2 shows
    two.keyboard.press("a")
    two.wait_for_selector("body[data-reloaded]")
    two.wait_for_selector('#overlay polygon.kept[data-id="face-1"]')  # it now shows the server's state
    assert "changed since this page showed it" in two.locator("#message").inner_text()
    assert not (server["out"] / "a.png").exists(), "the stale tab wrote an output"
    for page in tabs:
        page.context.close()


def test_another_local_port_cannot_show_the_original(server, page):
    """A page served from another 127.0.0.1 port is same-site: the cookie goes with its <img>;
    Cross-Origin-Resource-Policy is what keeps chromium from showing it."""
    import http.server

    open_review(page, server["url"])
    iid = server["session"].order[0]
    html = f'<img id="x" src="{server["url"]}/api/images/{iid}/image">'.encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        other = page.context.new_page()  # same browser profile: it holds the review cookie
        with other.expect_event("requestfailed", timeout=10_000) as failed:
            other.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        assert "/image" in failed.value.url
        other.wait_for_load_state("load")
        assert other.evaluate("document.getElementById('x').naturalWidth") == 0, "the original was shown"
        # ...while the review page itself shows it.
        assert page.evaluate("document.getElementById('photo').naturalWidth") == 320
    finally:
        evil.shutdown()


def test_click_selects_keys_toggle_text_in_clear_candidates_on_request(server, page):
    open_review(page, server["url"])
    # A click on the photo selects (list and photo in step) and changes nothing.
    page.locator('#overlay polygon[data-id="text-1"]').click()
    page.wait_for_selector('#regions li.selected[data-id="text-1"]')
    assert page.locator('#overlay polygon.selected.hidden[data-id="text-1"]').count() == 1
    # A click in the list selects too; space and the toolbar button toggle.
    page.locator('#regions li[data-id="text-2"] .what').click()
    page.wait_for_selector('#overlay polygon.selected[data-id="text-2"]')
    page.keyboard.press(" ")
    page.wait_for_selector('#overlay polygon.kept[data-id="text-2"]')
    page.locator("#toggle").click()
    page.wait_for_selector('#overlay polygon.hidden[data-id="text-2"]')
    # The editor's own view shows the text, kept or hidden (the files handed on stay masked).
    assert page.locator('#regions li[data-id="text-1"] .text').inner_text() == "電話 9123 4567"
    assert page.locator('#regions li[data-id="text-2"] .text').inner_text() == "Stand with Hong Kong"
    # Unconfirmed plate candidates are in the decisions, not drawn until asked for.
    d = server["session"].decisions(server["session"].order[0])
    candidates = [r.id for r in d.regions if r.kind == "plate" and not r.hidden]
    if candidates:
        assert page.locator(f'#overlay polygon[data-id="{candidates[0]}"]').count() == 0
        page.locator("#candidates").click()
        page.wait_for_selector(f'#overlay polygon[data-id="{candidates[0]}"]')
    shot(page, "5-selected")


def test_kept_harmless_line_is_labelled_as_text_not_personal(server, page):
    from dataclasses import replace

    session = server["session"]
    while session.items[session.order[0]].decisions is None:
        time.sleep(0.05)
    item = session.items[session.order[0]]
    kept = replace(item.decisions.region("text-1"), hidden=False, recognizer="", category="custom")
    item.decisions = replace(item.decisions, regions=tuple(kept if r.id == "text-1" else r
                                                          for r in item.decisions.regions))
    open_review(page, server["url"])
    assert "text, not personal" in page.locator('#regions li[data-id="text-1"] .what').inner_text()


def test_failed_image_says_what_to_do_and_is_not_counted(server_with_a_broken_file, page):
    server = server_with_a_broken_file
    open_review(page, server["url"])
    page.wait_for_selector('#queue-list li[data-status="failed"]')
    assert "0/2 approved · 1 failed" in page.locator("#progress").inner_text()
    page.locator('#queue-list li[data-status="failed"]').click()
    page.wait_for_selector("#failure:not([hidden])")
    text = page.locator("#failure").inner_text()
    assert "c.png" in text and "could not be analysed" in text and "run redactor review" in text.replace("\n", " ")
    page.keyboard.press("a")
    page.wait_for_selector("#message.show.error")
    assert "nothing can be approved" in page.locator("#message").inner_text()
    shot(page, "6-failed")


def test_tools_category_action_help_confirm_approve_all_resume_compare(server, page):
    url, out = server["url"], server["out"]
    open_review(page, url)
    # Change a region's action and category from the page.
    page.locator('#regions li[data-id="text-1"] .what').click()
    page.locator('#regions li[data-id="text-1"] select[data-field="action"]').select_option("blur")
    page.wait_for_selector('#regions li[data-id="text-1"] .what:has-text("blur")')
    page.locator('#regions li[data-id="text-1"] select[data-field="category"]').select_option("name")
    page.wait_for_selector('#regions li[data-id="text-1"] .what:has-text("name")')
    # The ? overlay lists every key.
    page.keyboard.press("?")
    page.wait_for_selector("#help:not([hidden])")
    assert "approve every image you have opened" in page.locator("#help").inner_text()
    page.keyboard.press("Escape")
    # Hold c to compare with the output, let go to come back.
    page.keyboard.down("c")
    page.wait_for_selector('#compare[data-view="preview"]:not([hidden])')
    page.keyboard.up("c")
    page.wait_for_selector("#compare[hidden]", state="attached")
    # Keep the face: approving asks first; dismissing writes nothing.
    page.locator('#regions li[data-id="face-1"] button[data-action="toggle"]').click()
    page.wait_for_selector('#overlay polygon.kept[data-id="face-1"]')
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.keyboard.press("a")
    page.wait_for_timeout(300)
    assert asked and "kept visible" in asked[0] and not (out / "a.png").exists()
    # Open b, then reload: the page resumes on b.
    page.keyboard.press("j")
    page.wait_for_selector("#queue-list li.current:has-text('b.png')")
    page.reload()
    page.wait_for_selector("body[data-loaded]")
    assert "b.png" in page.locator("#queue-list li.current").inner_text()
    # Approve all opened (a and b), confirming the kept face.
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.keyboard.press("A")
    page.wait_for_selector("#done:not([hidden])")
    assert "1 face kept visible" in asked[-1]
    d = Decisions.load(out / "a.png.decisions.json")
    assert not d.region("face-1").hidden and d.region("text-1").action == "blur"
    assert (out / "b.png").exists()
    shot(page, "7-done")


def test_the_photo_shows_before_its_analysis_and_that_image_is_analysed_first(server_not_analysed, page):
    server = server_not_analysed
    session = server["session"]
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server['url']}/?token={TOKEN}")
    page.wait_for_selector("body[data-loaded]")  # the photo, before any analysis
    assert page.locator("#overlay polygon").count() == 0
    assert "analysing" in page.locator("#counts").inner_text()
    page.keyboard.press("j")  # the editor moves to b: it is analysed first
    page.wait_for_selector("#queue-list li.current:has-text('b.png')")
    page.wait_for_timeout(300)
    b = session.order[1]
    assert session.current == b
    order = []
    real = session.service.analyse_many
    session.service.analyse_many = lambda images, names: order.extend(names) or real(images, names)
    session.start()
    page.locator('#overlay polygon[data-id="face-1"]').wait_for()
    assert order[0] == str(session.items[b].job.src)
