"""`redactor redact --backend ray` on a real local Ray cluster (2 CPUs), through the real entry point.

Each test starts its own small cluster (the CLI's, a few seconds) on a handful of small images,
to keep the file near a minute and a half on 2 cores. Skipped when the `ray` extra is missing
(`make test` installs it).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redactor import ray_backend

pytest.importorskip("ray.data", reason="needs the ray extra: pip install -e '.[ray]'")

REDACTOR = str(Path(sys.executable).with_name("redactor"))
ROOT = Path(__file__).resolve().parents[1]
# Never join a cluster from the environment; no usage reports.
ENV = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | {"RAY_USAGE_STATS_ENABLED": "0"}


def redact(*args, env=None, check=None):
    proc = subprocess.run([REDACTOR, "redact", *map(str, args)], capture_output=True, text=True, timeout=240,
                          env=env or ENV)
    if check is not None:
        assert proc.returncode == check, proc.stderr + proc.stdout
    return proc


def noise_images(folder: Path, n: int, size=(300, 400)) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    names = [f"img_{i:02d}.png" for i in range(n)]
    for name in names:
        Image.fromarray(rng.integers(60, 200, (*size, 3), dtype=np.uint8)).save(folder / name)
    return names


def comparable(report: Path) -> dict:
    """A report without what legitimately differs between two runs: timings, the output folder."""
    rep = json.loads(report.read_text())
    rep.pop("timings", None)
    if rep.get("output"):
        rep["output"] = Path(rep["output"]).name
    return rep


def assert_complete(out: Path, names: list[str]) -> None:
    """Every image written once, whole, with a "redacted" report; no temporary file left."""
    assert sorted(p.name for p in out.iterdir()) == sorted(names + [n + ".json" for n in names])
    for name in names:
        Image.open(out / name).load()  # decodes completely
        assert json.loads((out / (name + ".json")).read_text())["status"] == "redacted"


def processes_tagged(tag: str) -> list[int]:
    """Processes whose environment holds REDACTOR_TEST_RUN=tag."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"REDACTOR_TEST_RUN={tag}".encode() in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def test_ray_backend_writes_what_the_local_backend_writes_even_when_an_actor_is_killed(tmp_path):
    """Same folder, same policy: identical pixels and reports (timings aside), the same failure.
    On the Ray side an actor exits once (as SIGKILL would) after writing astronaut.jpg and before
    cameraman.jpg, the second image of its chunk: Ray restarts it and redoes the whole chunk."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    for p in (ROOT / "tests" / "data" / "astronaut.jpg", ROOT / "tests" / "data" / "cameraman.jpg"):
        (src / p.name).write_bytes(p.read_bytes())
    (src / "sub" / "name_card.png").write_bytes((ROOT / "samples" / "name_card.png").read_bytes())
    (src / "sub" / "broken.jpg").write_text("not a photo")
    marker = tmp_path / "exited-once"
    env = ENV | {ray_backend.TEST_EXIT_ON: "cameraman.jpg", ray_backend.TEST_EXIT_MARKER: str(marker)}
    for backend in ("local", "ray"):
        out = tmp_path / backend
        proc = redact(src, "-o", out, "--jobs", 2, "--backend", backend, env=env, check=1)
        assert "3 redacted, 1 failed" in proc.stdout
        assert "broken.jpg" in proc.stderr and "FAILED" in proc.stderr
        assert not (out / "sub" / "broken.jpg").exists(), "a failed image must never be written"
    assert marker.exists(), "the actor did not exit: the retry was not tested"
    listing = {b: sorted(str(p.relative_to(tmp_path / b)) for p in (tmp_path / b).rglob("*")) for b in ("local", "ray")}
    assert listing["ray"] == listing["local"], "each image written once, no temporary file left"
    images = ["astronaut.jpg", "cameraman.jpg", "sub/name_card.png"]
    for rel in images:
        local, ray = (np.asarray(Image.open(tmp_path / b / rel)) for b in ("local", "ray"))
        assert np.array_equal(local, ray), f"{rel}: pixels differ between backends"
    for rel in [*images, "sub/broken.jpg"]:
        assert comparable(tmp_path / "ray" / (rel + ".json")) == comparable(tmp_path / "local" / (rel + ".json"))
    rep = json.loads((tmp_path / "ray" / "sub" / "name_card.png.json").read_text())
    assert rep["findings"], "the name card has personal text to hide"
    assert json.loads((tmp_path / "ray" / "sub" / "broken.jpg.json").read_text())["status"] == "failed"


def test_killed_driver_resumes_without_loss_or_duplicates(tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    names = noise_images(src, 12)
    tag = f"{tmp_path}-killed-run"  # in the environment of the driver and every Ray process it starts
    proc = subprocess.Popen([REDACTOR, "redact", str(src), "-o", str(out), "--backend", "ray", "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=ENV | {"REDACTOR_TEST_RUN": tag})
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("*.png.json")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver only: Ray's processes are in their own groups
    proc.wait()
    # The local cluster shares the driver's fate: it goes down by itself (an actor may finish
    # the image it is writing). Count what was done once nothing of that run is left.
    while time.time() < deadline and processes_tagged(tag):
        time.sleep(0.2)
    assert not processes_tagged(tag), "Ray processes outlived their driver"
    done_before = {p.name for p in out.glob("*.png.json")}
    assert 0 < len(done_before) < len(names), "kill came too late to test resuming"
    again = redact(src, "-o", out, "--backend", "ray", "--jobs", "2", check=0)
    assert f"{len(done_before)} skipped" in again.stdout
    assert f"{len(names) - len(done_before)} redacted" in again.stdout
    assert_complete(out, names)


def test_an_image_that_kills_every_actor_fails_alone_and_the_batch_goes_on(tmp_path):
    """The actor exits on img_00 at every try. After the retries its chunk-mate goes again
    alone and is written; img_00 fails (exit 1, not written) and the other chunk is written."""
    src, out = tmp_path / "in", tmp_path / "out"
    names = noise_images(src, 4, size=(120, 160))  # chunks [img_00, img_01], [img_02, img_03]
    proc = redact(src, "-o", out, "--backend", "ray", "--jobs", "2", env=ENV | {ray_backend.TEST_EXIT_ON: "img_00.png"},
                  check=1)
    assert "3 redacted, 1 failed" in proc.stdout
    assert "img_00.png" in proc.stderr and "died" in proc.stderr
    assert json.loads((out / "img_00.png.json").read_text())["status"] == "failed"
    assert not (out / "img_00.png").exists()
    for name in names[1:]:
        Image.open(out / name).load()
        assert json.loads((out / (name + ".json")).read_text())["status"] == "redacted"
    assert not list(out.glob(".*.tmp"))


def test_ray_address_needs_the_ray_backend_and_a_cluster_there(tmp_path):
    noise_images(tmp_path / "in", 1, size=(40, 40))
    proc = redact(tmp_path / "in", "-o", tmp_path / "out", "--ray-address", "127.0.0.1:6379", check=2)
    assert "--backend ray" in proc.stderr
    # Nothing listens on port 1: exit 2 at once (ray.init alone would wait for minutes).
    proc = redact(tmp_path / "in", "-o", tmp_path / "out", "--backend", "ray", "--ray-address", "127.0.0.1:1", check=2)
    assert "could not join the Ray cluster at 127.0.0.1:1" in proc.stderr
    assert not (tmp_path / "out" / "img_00.png").exists()
