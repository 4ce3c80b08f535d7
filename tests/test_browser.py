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
from conftest import MISSED_NAME, SLOGAN, draw_wall, fake_redactor  # noqa: E402

from redactor import Decisions, batch, io  # noqa: E402
from redactor.render import quad_mask  # noqa: E402
from redactor.web.app import create_app  # noqa: E402
from redactor.web.service import ReviewSession, Service  # noqa: E402

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


@pytest.fixture
def server(tmp_path, fake_engines):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    draw_wall(src / "a.png", seed=1)
    draw_wall(src / "b.png", seed=2)
    service = Service(fake_redactor())
    session = ReviewSession(batch.plan([src], out), out, service)
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

    # Keep the slogan the over-broad deny list hid: click its outline.
    page.locator('#overlay polygon[data-id="text-2"]').click()
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
