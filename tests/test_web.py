"""The review app and the HTTP API in-process through httpx (Starlette's TestClient), fake detectors."""

import json
import re

import numpy as np
import pytest

pytest.importorskip("starlette")
from conftest import MISSED_NAME, draw_wall, fake_redactor  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from redactor import Decisions, batch, io  # noqa: E402
from redactor.web.app import create_app  # noqa: E402
from redactor.web.service import ReviewSession, Service  # noqa: E402

TOKEN = "test-token"
HOSTS = frozenset({"testserver"})


def make_review(tmp_path, *, analyse=True):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir(exist_ok=True)
    draw_wall(src / "a.png", seed=1)
    draw_wall(src / "b.png", seed=2)
    service = Service(fake_redactor())
    session = ReviewSession(batch.plan([src], out), out, service)
    if analyse:
        session.analyse_pending()
    app = create_app(service, session=session, token=TOKEN, allowed_hosts=HOSTS)
    return TestClient(app), session


def login(client):
    r = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    page = client.get("/")
    assert page.status_code == 200
    return re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)


@pytest.fixture
def review(tmp_path, fake_engines):
    return make_review(tmp_path)


def test_token_then_cookie_and_security_headers(review):
    client, _ = review
    assert client.get("/").status_code == 401
    assert client.get("/api/queue").status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    assert client.get("/api/queue", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    login(client)
    r = client.get("/api/queue")
    assert r.status_code == 200 and [i["status"] for i in r.json()["items"]] == ["ready", "ready"]
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    page = client.get("/").text
    assert "<script src=\"/static/review.js\"" in page and "<script>" not in page  # no inline script
    assert client.get("/static/review.js").status_code == 200


def test_foreign_host_is_refused(review):
    client, _ = review
    r = client.get(f"/?token={TOKEN}", headers={"Host": "evil.example:8766"})
    assert r.status_code == 403 and "host" in r.json()["error"]
    assert client.get("/api/queue", headers={"Host": "localhost:8766", "Authorization": f"Bearer {TOKEN}"}).is_success


def test_state_change_needs_csrf(review):
    client, session = review
    csrf = login(client)
    iid = session.order[0]
    r = client.post(f"/api/images/{iid}/regions/text-1", json={"hidden": False})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    r = client.post(f"/api/images/{iid}/regions/text-1", json={"hidden": False}, headers={"X-CSRF-Token": "x"})
    assert r.status_code == 403
    r = client.post(f"/api/images/{iid}/regions/text-1", json={"hidden": False}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and not Decisions.from_json(r.json()["decisions"]).region("text-1").hidden


def test_images_by_id_only(review):
    client, _ = review
    login(client)
    assert client.get("/api/images/nope/image").status_code == 404
    assert client.get("/api/images/..%2F..%2Fetc%2Fpasswd/image").status_code == 404


def test_review_edits_persist_and_approve_writes_outputs(tmp_path, fake_engines):
    client, session = make_review(tmp_path)
    csrf = {"X-CSRF-Token": login(client)}
    a, b = session.order
    # Keep the slogan the deny list hid; draw over the missed name; undo a box.
    assert client.post(f"/api/images/{a}/regions/text-2", json={"hidden": False}, headers=csrf).is_success
    r = client.post(f"/api/images/{a}/regions", json={"box": list(MISSED_NAME)}, headers=csrf)
    assert r.json()["added"] == "box-1"
    assert Decisions.from_json(r.json()["decisions"]).region("box-1").category == "custom"
    r = client.post(f"/api/images/{a}/regions", json={"box": [0, 0, 10, 10], "category": "name"}, headers=csrf)
    assert r.json()["added"] == "box-2"
    assert client.post(f"/api/images/{a}/undo", headers=csrf).is_success
    r = client.delete(f"/api/images/{a}/regions/text-1", headers=csrf)
    assert r.status_code == 422 and "found by the analysis" in r.json()["error"]
    # Keep the phone on b, then hide it again everywhere from a's line.
    client.post(f"/api/images/{b}/regions/text-1", json={"hidden": False}, headers=csrf)
    client.post(f"/api/images/{a}/regions/text-1", json={"hidden": False}, headers=csrf)
    r = client.post(f"/api/images/{a}/regions/text-1/hide-everywhere", headers=csrf)
    assert r.json()["changed"] == 2
    preview = client.get(f"/api/images/{a}/preview")
    assert preview.headers["content-type"] == "image/png"
    r = client.post(f"/api/images/{a}/approve", headers=csrf)
    assert r.is_success and r.json()["output"] == "a.png"
    out = tmp_path / "out"
    written = io.load(out / "a.png").rgb
    assert np.array_equal(written, io.load(preview.content).rgb), "the preview is not what was written"
    x0, y0, x1, y1 = MISSED_NAME
    assert (written[y0:y1, x0:x1] == 0).all()
    d = Decisions.load(out / "a.png.decisions.json")
    assert {r.id for r in d.regions if r.source == "editor"} == {"box-1"} and not d.region("text-2").hidden
    assert json.loads((out / "a.png.json").read_text())["status"] == "redacted"

    # A new server on the same OUTDIR: a stays approved, b keeps its edits, nothing re-analysed.
    client2, session2 = make_review(tmp_path, analyse=False)
    login(client2)
    items = {i["id"]: i for i in client2.get("/api/queue").json()["items"]}
    assert items[a]["status"] == "approved" and items[b]["status"] == "ready"
    assert Decisions.from_json(client2.get(f"/api/images/{b}/decisions").json()["decisions"]).region("text-1").hidden
    assert session2.items[b].undo, "undo history lost on restart"


def test_api_redact_analyse_render_match_redact(tmp_path, fake_engines):
    service = Service(fake_redactor(), queue=1)
    client = TestClient(create_app(service, token=TOKEN, allowed_hosts=HOSTS, max_upload=200_000))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    raw = draw_wall(tmp_path / "w.png").read_bytes()
    expected = fake_redactor().redact(raw)
    r = client.post("/api/redact", files={"image": ("w.png", raw, "image/png")}, headers=auth)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert np.array_equal(io.load(r.content).rgb, expected.image)
    d = client.post("/api/analyse", files={"image": ("w.png", raw)}, headers=auth)
    assert d.json()["schema"] == "redactor.decisions/1"
    r2 = client.post("/api/render", files={"image": ("w.png", raw), "decisions": ("d.json", d.content)}, headers=auth)
    assert r2.content == r.content
    other = draw_wall(tmp_path / "o.png", seed=9).read_bytes()
    r3 = client.post("/api/render", files={"image": ("o.png", other), "decisions": ("d.json", d.content)}, headers=auth)
    assert r3.status_code == 422 and "not the image these decisions" in r3.json()["error"]
    bad = client.post("/api/redact", files={"image": ("x.png", b"not an image")}, headers=auth)
    assert bad.status_code == 422 and bad.json()["error"].startswith("x.png: not a recognised image")
    assert client.post("/api/redact", files={"other": ("x", b"1")}, headers=auth).status_code == 400
    service._pending = service.queue  # the queue is full
    busy = client.post("/api/redact", files={"image": ("w.png", raw)}, headers=auth)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "5"


def test_oversized_upload_is_413(tmp_path, fake_engines):
    client = TestClient(create_app(Service(fake_redactor()), token=TOKEN, allowed_hosts=HOSTS, max_upload=1000))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    big = b"x" * 200_000
    r = client.post("/api/redact", files={"image": ("big.png", big)}, headers=auth)
    assert r.status_code == 413 and "limit" in r.json()["error"]

    def chunks():  # no Content-Length: counted while read
        for _ in range(50):
            yield b"y" * 10_000
    form = {"Content-Type": "multipart/form-data; boundary=z"}
    r = client.post("/api/redact", content=chunks(), headers={**auth, **form})
    assert r.status_code == 413
