"""`redactor serve` and `redactor review` through the real executable: the printed URL, the token, the warning."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

REDACTOR = str(Path(sys.executable).with_name("redactor"))
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def start(*args, env=None):
    proc = subprocess.Popen([REDACTOR, *map(str, args), "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    url = proc.stdout.readline().strip()
    return proc, url


def stop(proc):
    proc.terminate()
    proc.wait(10)
    return proc.stderr.read()


def test_serve_prints_one_url_with_the_fixed_token_and_warns_off_localhost():
    proc, url = start("serve", "--host", "0.0.0.0", env={"REDACTOR_TOKEN": "fixed-token"})
    try:
        assert url.startswith("http://0.0.0.0:") and url.endswith("/?token=fixed-token")
        base = url.split("/?")[0].replace("0.0.0.0", "127.0.0.1")
        assert httpx.get(base + "/").status_code == 401
        assert httpx.get(base + "/", headers={"Authorization": "Bearer fixed-token"}).status_code == 200
        assert httpx.get(base + "/", headers={"Authorization": "Bearer fixed-token", "Host": "evil.example"}
                         ).status_code == 403
    finally:
        err = stop(proc)
    assert "warning: listening on 0.0.0.0" in err and "fixed-token" not in err  # no access log with the token


def test_review_random_token_and_refuses_output_inside_input(tmp_path):
    state = tmp_path / "state"
    proc, url = start("review", SAMPLES / "name_card.png", "-o", tmp_path / "out", env={"XDG_STATE_HOME": str(state)})
    try:
        assert url.startswith("http://127.0.0.1:") and len(url.split("token=")[1]) >= 24
        r = httpx.get(url, follow_redirects=False)
        port = url.split(":")[2].split("/")[0]
        assert r.status_code == 303 and "HttpOnly" in r.headers["set-cookie"]
        assert r.headers["set-cookie"].startswith(f"redactor_session_{port}=")
    finally:
        err = stop(proc)
    assert "warning" not in err
    # The review state is out of OUTDIR, where the command says, and --purge deletes it.
    (where,) = (state / "redactor" / "review").iterdir()
    assert f"review state (text read from the photos) is in {where}" in " ".join(err.split())
    assert not (tmp_path / "out" / ".redactor-review").exists() and where.stat().st_mode & 0o777 == 0o700
    purged = subprocess.run([REDACTOR, "review", "-o", str(tmp_path / "out"), "--purge"], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "XDG_STATE_HOME": str(state)})
    assert purged.returncode == 0 and "deleted the review state" in purged.stderr and not where.exists()
    bad = subprocess.run([REDACTOR, "review", str(tmp_path), "-o", str(tmp_path / "x"), "--port", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "output folder" in bad.stderr
