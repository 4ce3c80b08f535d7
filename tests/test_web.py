"""The review app and the HTTP API in-process through httpx (Starlette's TestClient), fake detectors."""

import json
import re

import numpy as np
import pytest

pytest.importorskip("starlette")
from conftest import MISSED_NAME, draw_wall, fake_redactor, review_of_two_walls  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from redactor import Decisions, io  # noqa: E402
from redactor.web.app import create_app  # noqa: E402
from redactor.web.service import Service  # noqa: E402

TOKEN = "test-token"
HOSTS = frozenset({"testserver"})


def make_review(tmp_path, *, analyse=True):
    service, session = review_of_two_walls(tmp_path)
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


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    """Review state goes under $XDG_STATE_HOME: a test's own folder, never the real home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def review(tmp_path, fake_engines):
    return make_review(tmp_path)


def rev(client, iid):
    """The revision of image ``iid`` as a page showing it now would send."""
    return client.get(f"/api/images/{iid}/decisions").json().get("revision", 0)


def post(client, url, csrf, iid, **body):
    return client.post(url, json={**body, "revision": rev(client, iid)}, headers=csrf)


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
    r = client.post(f"/api/images/{iid}/regions/text-1", json={"hidden": False, "revision": rev(client, iid)},
                    headers={"X-CSRF-Token": csrf})
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
    assert post(client, f"/api/images/{a}/regions/text-2", csrf, a, hidden=False).is_success
    r = post(client, f"/api/images/{a}/regions", csrf, a, box=list(MISSED_NAME))
    assert r.json()["added"] == "box-1"
    assert Decisions.from_json(r.json()["decisions"]).region("box-1").category == "custom"
    r = post(client, f"/api/images/{a}/regions", csrf, a, box=[0, 0, 10, 10], category="name")
    assert r.json()["added"] == "box-2"
    assert post(client, f"/api/images/{a}/undo", csrf, a).is_success
    r = client.request("DELETE", f"/api/images/{a}/regions/text-1", json={"revision": rev(client, a)}, headers=csrf)
    assert r.status_code == 422 and "found by the analysis" in r.json()["error"]
    # Keep the phone on b, then hide it again everywhere from a's line.
    post(client, f"/api/images/{b}/regions/text-1", csrf, b, hidden=False)
    post(client, f"/api/images/{a}/regions/text-1", csrf, a, hidden=False)
    r = post(client, f"/api/images/{a}/regions/text-1/hide-everywhere", csrf, a)
    assert r.json()["changed"] == 2
    preview = client.get(f"/api/images/{a}/preview")
    assert preview.headers["content-type"] == "image/png"
    r = post(client, f"/api/images/{a}/approve", csrf, a)
    assert r.is_success and r.json()["output"] == "a.png"
    out = tmp_path / "out"
    written = io.load(out / "a.png").rgb
    assert np.array_equal(written, io.load(preview.content).rgb), "the preview is not what was written"
    x0, y0, x1, y1 = MISSED_NAME
    assert (written[y0:y1, x0:x1] == 0).all()
    d = Decisions.load(out / "a.png.decisions.json")
    assert {r.id for r in d.regions if r.source == "editor"} == {"box-1"} and not d.region("text-2").hidden
    assert json.loads((out / "a.png.json").read_text())["status"] == "redacted"

    # A new server on the same OUTDIR: a stays approved, b keeps its edits, nothing re-analysed,
    # and it resumes on the image the editor was on (a); the ids are new.
    client2, session2 = make_review(tmp_path, analyse=False)
    login(client2)
    a2, b2 = session2.order
    assert {a2, b2}.isdisjoint({a, b})
    q = client2.get("/api/queue").json()
    items = {i["id"]: i for i in q["items"]}
    assert items[a2]["status"] == "approved" and items[b2]["status"] == "ready" and q["resume"] == a2
    assert Decisions.from_json(client2.get(f"/api/images/{b2}/decisions").json()["decisions"]).region("text-1").hidden
    assert session2.items[b2].undo, "undo history lost on restart"


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


# -- issue 25: leaks (each of these failed before the fix) -------------------------------------

def test_stale_page_cannot_approve_what_it_does_not_show(review, tmp_path):
    """Tab 1 keeps the face; tab 2, still showing it hidden, approves: refused with 409."""
    client, session = review
    csrf = {"X-CSRF-Token": login(client)}
    a = session.order[0]
    shown = client.get(f"/api/images/{a}/decisions").json().get("revision", 0)  # both tabs show this
    r = client.post(f"/api/images/{a}/regions/face-1", json={"hidden": False, "revision": shown}, headers=csrf)
    assert r.is_success  # tab 1
    r = client.post(f"/api/images/{a}/approve", json={"revision": shown}, headers=csrf)  # tab 2
    assert r.status_code == 409 and "changed since this page showed it" in r.json()["error"]
    assert not (tmp_path / "out" / "a.png").exists(), "a stale page wrote an output"
    r = client.post(f"/api/images/{a}/regions/text-1", json={"hidden": False, "revision": shown}, headers=csrf)
    assert r.status_code == 409, "a stale page edited"
    r = client.post(f"/api/images/{a}/regions/text-1", json={"hidden": False}, headers=csrf)
    assert r.status_code == 400 and "revision" in r.json()["error"]
    # Approving what the page now shows writes exactly that: the face in clear.
    assert post(client, f"/api/images/{a}/approve", csrf, a).is_success
    assert not Decisions.load(tmp_path / "out" / "a.png.decisions.json").region("face-1").hidden


def test_editing_an_approved_image_withdraws_its_output(review, tmp_path):
    client, session = review
    csrf = {"X-CSRF-Token": login(client)}
    a, b = session.order
    out = tmp_path / "out"
    files = lambda name: [out / name, out / f"{name}.json", out / f"{name}.decisions.json"]  # noqa: E731
    assert post(client, f"/api/images/{a}/approve", csrf, a).is_success
    assert all(f.exists() for f in files("a.png"))
    r = post(client, f"/api/images/{a}/regions/text-2", csrf, a, hidden=False)
    assert not any(f.exists() for f in files("a.png")), "the old output outlived the edit"
    assert r.json()["withdrawn"] == ["a.png"] and r.json()["status"] == "ready"
    q = client.get("/api/queue").json()
    assert q["approved"] == 0 and q["reapprove"] == 1
    assert post(client, f"/api/images/{a}/approve", csrf, a).is_success
    assert client.get("/api/queue").json()["reapprove"] == 0
    # Through "hide this text everywhere" started on another image: b keeps the phone, is approved,
    # then the editor hides that phone everywhere from a.
    post(client, f"/api/images/{b}/regions/text-1", csrf, b, hidden=False)
    assert post(client, f"/api/images/{b}/approve", csrf, b).is_success
    post(client, f"/api/images/{a}/regions/text-1", csrf, a, hidden=False)  # withdraws a
    r = post(client, f"/api/images/{a}/regions/text-1/hide-everywhere", csrf, a)
    assert r.json()["changed"] == 2 and r.json()["withdrawn"] == ["b.png"]
    assert not any(f.exists() for f in files("b.png"))
    q = client.get("/api/queue").json()
    assert q["approved"] == 0 and q["reapprove"] == 2 and {i["status"] for i in q["items"]} == {"ready"}
    # A restart keeps it true.
    client2, session2 = make_review(tmp_path, analyse=False)
    assert {i.status for i in session2.items.values()} == {"ready"}
    assert all(i.withdrawn for i in session2.items.values())


def test_review_state_is_private_and_out_of_outdir(review, tmp_path, state_home):
    client, session = review
    csrf = {"X-CSRF-Token": login(client)}
    a = session.order[0]
    post(client, f"/api/images/{a}/regions/text-1", csrf, a, hidden=False)
    out = tmp_path / "out"
    assert not (out / ".redactor-review").exists()
    assert session.state_dir.parent == state_home / "redactor" / "review"
    assert session.state_dir.name not in str(out) and not session.state_dir.is_relative_to(out)
    for d in (session.state_dir, session.state_dir.parent, session.state_dir.parent.parent):
        assert d.stat().st_mode & 0o777 == 0o700, d
    files = list(session.state_dir.iterdir())
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    assert any("9123 4567" in f.read_text() for f in files)  # what it protects: clear text


def test_state_defaults_to_home_and_an_old_state_in_outdir_is_moved(tmp_path, fake_engines, monkeypatch):
    from redactor.web.service import default_state_dir, purge

    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    out = tmp_path / "out"
    assert default_state_dir(out).parent == tmp_path / "home" / ".local" / "state" / "redactor" / "review"
    # An old version kept the state inside OUTDIR: the next start moves it and says so.
    _, old = make_review(tmp_path)
    iid = old.order[0]
    old.toggle(iid, "text-1", False, old.items[iid].revision)
    legacy = out / ".redactor-review"
    legacy.mkdir(mode=0o755, parents=True)
    for f in old.state_dir.glob("*.json"):
        f.rename(legacy / f.name)
    _, new = make_review(tmp_path, analyse=False)
    assert new.moved_from == legacy and not legacy.exists()
    assert not new.decisions(new.order[0]).region("text-1").hidden, "the edit was lost in the move"
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in new.state_dir.iterdir())
    assert purge(new.state_dir, out) == [new.state_dir] and not new.state_dir.exists()


def test_cross_origin_headers_random_ids_cookie_per_port_strict_host(review, tmp_path):
    client, session = review
    login(client)
    a = session.order[0]
    for r in (client.get(f"/api/images/{a}/image"), client.get("/api/queue"), TestClient(client.app).get("/")):
        assert r.headers["cross-origin-resource-policy"] == "same-origin"
        assert r.headers["cross-origin-opener-policy"] == "same-origin"
    # Ids are drawn per session, not a hash anyone can compute from the file name.
    import hashlib

    _, again = make_review(tmp_path, analyse=False)
    assert set(again.order).isdisjoint(session.order)
    assert a != hashlib.sha256(b"a.png").hexdigest()[:12] and len(a) >= 16
    # The cookie is named after the port (TestClient's server is testserver:80).
    r = TestClient(client.app).get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.headers["set-cookie"].startswith("redactor_session_80=")
    for host in ("[::1]evil", "[::1]:8766x", "localhost:80:80", "127.0.0.1 evil", "[::1]@evil"):
        assert client.get("/api/queue", headers={"Host": host}).status_code == 403, host
    for host in ("[::1]:8766", "[::1]", "localhost", "127.0.0.1:8766"):
        assert client.get("/api/queue", headers={"Host": host}).status_code == 200, host


# -- issue 25: the page's view ---------------------------------------------------------------

def test_page_view_has_clear_text_and_flags_unconfirmed_plate_candidates(review):
    from dataclasses import replace

    from redactor.decisions import Region
    from redactor.types import Quad

    client, session = review
    csrf = {"X-CSRF-Token": login(client)}
    a = session.order[0]
    item = session.items[a]
    plate = Region(id="plate-99", kind="plate", category="plate", quad=Quad.from_box(1, 1, 30, 10), hidden=False,
                   action="fill", score=0.0, detector="plate-cascade")
    item.decisions = replace(item.decisions, regions=(*item.decisions.regions, plate))
    body = client.get(f"/api/images/{a}/decisions").json()
    texts = {r["id"]: r.get("text") for r in body["decisions"]["regions"]}
    assert texts["text-1"] == "電話 9123 4567", "the editor's own view must show the text"
    assert "plate-99" in body["candidates"]
    # A region's category and action can be changed; a changed candidate is no longer one.
    r = client.patch(f"/api/images/{a}/regions/plate-99", json={"action": "blur", "revision": rev(client, a)},
                     headers=csrf)
    assert r.is_success and "plate-99" not in r.json()["candidates"]
    r = client.patch(f"/api/images/{a}/regions/text-1", json={"category": "name", "revision": rev(client, a)},
                     headers=csrf)
    got = Decisions.from_json(r.json()["decisions"])
    assert got.region("text-1").category == "name" and got.region("plate-99").action == "blur"
    r = client.patch(f"/api/images/{a}/regions/text-1", json={"action": "erase", "revision": rev(client, a)},
                     headers=csrf)
    assert r.status_code == 400
    # The files handed on stay masked.
    assert post(client, f"/api/images/{a}/approve", csrf, a).is_success
    assert "9123 4567" not in (session.outdir / "a.png.decisions.json").read_text()


def test_failed_image_is_named_not_counted_and_not_approvable(tmp_path, fake_engines):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c.png").write_bytes(b"not an image")
    client, session = make_review(tmp_path)
    csrf = {"X-CSRF-Token": login(client)}
    q = client.get("/api/queue").json()
    failed = next(i for i in q["items"] if i["name"] == "c.png")
    assert failed["status"] == "failed" and "c.png" in failed["error"]
    assert q["failed"] == 1 and q["to_approve"] == 2
    r = client.post(f"/api/images/{failed['id']}/approve", json={"revision": failed["revision"]}, headers=csrf)
    assert r.status_code == 404 and "could not be analysed" in r.json()["error"]


def test_analysis_starts_with_the_image_the_editor_opens(tmp_path, fake_engines):
    client, session = make_review(tmp_path, analyse=False)
    login(client)
    b = session.order[1]
    assert client.get(f"/api/images/{b}/decisions").status_code == 404  # not analysed yet, but now next
    analysed = []
    real = session.service.analyse_many
    session.service.analyse_many = lambda images, names: analysed.append(names) or real(images, names)
    session.analyse_pending()
    assert analysed[0] == [str(session.items[b].job.src)]


def test_approve_all_opened(review):
    client, session = review
    csrf = {"X-CSRF-Token": login(client)}
    a, b = session.order
    revisions = {i["id"]: i["revision"] for i in client.get("/api/queue").json()["items"]}
    client.get(f"/api/images/{a}/decisions")  # a is opened, b is not
    r = client.post("/api/approve-all", json={"revisions": revisions}, headers=csrf).json()
    assert r["approved"] == ["a.png"] and r["skipped"] == [{"name": "b.png", "why": "not opened yet"}]
