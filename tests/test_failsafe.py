"""Fail closed, lose nothing, leak nothing: injected failures, killed batches, unsafe paths."""

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redactor import OutputError, Policy, batch
from redactor.detect import FACE_DETECTORS
from redactor.detect.faces import YuFaceDetector
from redactor.types import Detection, Quad

REDACTOR = str(Path(sys.executable).with_name("redactor"))


def make_images(folder: Path, n: int, size=(140, 180)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    paths = []
    for i in range(n):
        p = folder / f"img_{i:02d}.png"
        Image.fromarray(rng.integers(60, 200, (*size, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    return paths


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class ExplodingFaces:
    """Raises on images whose top-left pixel is pure red: an injected detector failure."""

    def __init__(self, error: type[BaseException]):
        self.error = error
        self.real = YuFaceDetector()

    def __call__(self, rgb):
        if tuple(rgb[0, 0]) == (255, 0, 0):
            raise self.error("injected failure")
        return self.real(rgb)


@pytest.mark.parametrize("error", [RuntimeError, MemoryError, ValueError])
def test_detector_failure_writes_nothing_for_that_image_and_batch_goes_on(tmp_path, monkeypatch, error):
    paths = make_images(tmp_path / "in", 3)
    bad = np.asarray(Image.open(paths[1])).copy()
    bad[0, 0] = (255, 0, 0)
    Image.fromarray(bad).save(paths[1])
    monkeypatch.setitem(FACE_DETECTORS, "yuface", lambda **kw: ExplodingFaces(error))
    out = tmp_path / "out"
    outcomes = batch.run(batch.plan([tmp_path / "in"], out), batch.Options(policy=Policy.default()))
    assert [o.status for o in outcomes] == ["redacted", "failed", "redacted"]
    assert "img_01.png" in outcomes[1].message and "injected failure" in outcomes[1].message
    assert not (out / "img_01.png").exists()
    report = json.loads((out / "img_01.png.json").read_text())
    assert report["status"] == "failed" and "injected failure" in report["error"] and report["output"] is None


def test_a_failure_removes_the_stale_output_of_an_earlier_run(tmp_path, monkeypatch):
    (path,) = make_images(tmp_path / "in", 1)
    out = tmp_path / "out"
    jobs = batch.plan([tmp_path / "in"], out)
    assert batch.run(jobs, batch.Options(policy=Policy.default()))[0].status == "redacted"
    assert (out / path.name).exists()
    monkeypatch.setitem(FACE_DETECTORS, "yuface", lambda **kw: ExplodingFaces(RuntimeError))
    img = np.asarray(Image.open(path)).copy()
    img[0, 0] = (255, 0, 0)
    Image.fromarray(img).save(path)  # new content: the earlier output no longer matches it
    assert batch.run(jobs, batch.Options(policy=Policy.default()))[0].status == "failed"
    assert not (out / path.name).exists()


def test_missing_model_is_a_clear_error_naming_the_package(tmp_path):
    make_images(tmp_path / "in", 1)
    code = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda n, *a: None if n == 'yuface' else real(n, *a)\n"
        "from redactor.cli import main\n"
        f"sys.exit(main(['redact', {str(tmp_path / 'in')!r}, '-o', {str(tmp_path / 'out')!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "yuface==2023.5.1" in proc.stderr and "pip install" in proc.stderr
    assert not any((tmp_path / "out").glob("*.png")) if (tmp_path / "out").exists() else True


def test_bad_files_in_a_batch_each_fail_clearly(tmp_path):
    src = tmp_path / "in"
    make_images(src, 1)
    (src / "empty.jpg").write_bytes(b"")
    (src / "text.jpg").write_text("not an image")
    good_png = (src / "img_00.png").read_bytes()
    (src / "cut.png").write_bytes(good_png[: len(good_png) // 2])
    frames = [Image.new("RGB", (40, 30), c) for c in ("red", "blue")]
    frames[0].save(src / "anim.gif", save_all=True, append_images=frames[1:])
    (src / "loop").symlink_to(src, target_is_directory=True)  # a symlink loop: never followed
    before = digest(src)
    proc = subprocess.run([REDACTOR, "redact", str(src), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    for name in ("empty.jpg", "text.jpg", "cut.png", "anim.gif"):
        assert name in proc.stderr, f"{name} not reported"
        assert not (tmp_path / "out" / name).exists()
    assert "frames" in proc.stderr
    assert (tmp_path / "out" / "img_00.png").is_file()
    assert digest(src) == before, "inputs were modified"


def test_killed_batch_resumes_without_loss_or_duplicates(tmp_path):
    src = tmp_path / "in"
    make_images(src, 10, size=(300, 400))
    out = tmp_path / "out"
    before = digest(src)
    proc = subprocess.Popen([REDACTOR, "redact", str(src), "-o", str(out), "--jobs", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("*.png.json")):
        time.sleep(0.05)
    time.sleep(random.uniform(0, 0.5))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.name for p in out.glob("*.png.json")}
    assert 0 < len(done_before) < 10, "kill came too late to test resuming"
    again = subprocess.run([REDACTOR, "redact", str(src), "-o", str(out), "--jobs", "1", "--resume"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{len(done_before)} skipped" in again.stdout
    outputs = sorted(p.name for p in out.iterdir())
    assert outputs == sorted([f"img_{i:02d}.png" for i in range(10)] + [f"img_{i:02d}.png.json" for i in range(10)])
    for i in range(10):
        Image.open(out / f"img_{i:02d}.png").load()  # every output decodes completely
        assert json.loads((out / f"img_{i:02d}.png.json").read_text())["status"] == "redacted"
    assert digest(src) == before


def test_plan_keeps_outputs_inside_outdir_and_refuses_overwrites(tmp_path):
    src = tmp_path / "in" / "deep"
    make_images(src, 1)
    odd = src / "照片 ① (1).png"
    odd.write_bytes((src / "img_00.png").read_bytes())
    out = tmp_path / "out"
    jobs = batch.plan([src / ".." / "deep", Path(os.path.relpath(odd))], out)
    assert len(jobs) == 2, "the same file named twice is redacted once"
    for job in jobs:
        assert out.resolve() in job.out.resolve().parents
    with pytest.raises(OutputError, match="inside the input folder"):
        batch.plan([tmp_path / "in"], tmp_path / "in" / "deep" / "out")
    with pytest.raises(OutputError, match="inside the input folder"):
        batch.plan([tmp_path / "in"], tmp_path / "in")
    with pytest.raises(OutputError, match="lies in the output folder"):
        batch.plan([src / "img_00.png"], src)


class StubbornFace:
    """Finds the same 'face' whatever the pixels: the output will still show it."""

    def __call__(self, rgb):
        return [Detection(kind="face", quad=Quad.from_box(10, 10, 60, 60), score=0.99, detector="stubborn")]


def test_verify_refuses_an_output_where_protected_content_is_still_found(tmp_path, monkeypatch):
    make_images(tmp_path / "in", 1)
    monkeypatch.setitem(FACE_DETECTORS, "yuface", lambda **kw: StubbornFace())
    out = tmp_path / "out"
    opts = batch.Options(policy=Policy.default(), verify=True)
    (outcome,) = batch.run(batch.plan([tmp_path / "in"], out), opts)
    assert outcome.status == "failed" and "verification" in outcome.message
    assert not (out / "img_00.png").exists()


def test_verify_passes_real_redaction(tmp_path):
    samples = Path(__file__).resolve().parents[1] / "samples"
    out = tmp_path / "out"
    opts = batch.Options(policy=Policy.default(), verify=True)
    outcomes = batch.run(batch.plan([samples / "name_card.png"], out), opts)
    assert [o.status for o in outcomes] == ["redacted"], [o.message for o in outcomes]


@pytest.mark.models
def test_very_large_photo_is_redacted_within_a_memory_bound(tmp_path):
    """An 8000x6000 photo (48 MP) goes through the whole CLI in one process under 3 GB."""
    src = tmp_path / "in"
    src.mkdir()
    tile = np.random.default_rng(5).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    Image.fromarray(np.tile(tile, (10, 10, 1))).save(src / "big.jpg", quality=80)
    # The child's own peak: VmHWM belongs to the memory of the program exec'd, while ru_maxrss
    # survives exec and reports the pytest process's size at fork (2.5 GB parent -> 2.5 GB child).
    code = (
        "import re, sys\n"
        "from pathlib import Path\n"
        "from redactor.cli import main\n"
        f"rc = main(['redact', {str(src)!r}, '-o', {str(tmp_path / 'out')!r}])\n"
        "print('peak_kb', re.search(r'VmHWM:\\s*(\\d+)', Path('/proc/self/status').read_text()).group(1))\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    peak_gb = int(proc.stdout.split("peak_kb")[1]) / 1e6
    assert peak_gb < 3.0, f"peak RSS {peak_gb:.2f} GB"
    assert Image.open(tmp_path / "out" / "big.jpg").size == (8000, 6000)


@pytest.mark.parametrize("items, jobs_n, sizes, processes", [
    (10, 1, [4, 4, 2], 1),  # one process: chunks of 4, every core
    (10, 2, [4, 4, 2], 2),
    (3, 2, [2, 1], 2),  # few images: smaller chunks, so both workers get one
    (1, 4, [1], 1),  # a single chunk runs in this process
    (5, 8, [1] * 5, 5),  # never more processes than chunks
])
def test_split_work_shares_images_among_workers(monkeypatch, items, jobs_n, sizes, processes):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    chunks, procs, threads = batch.split_work(list(range(items)), jobs_n)
    assert [len(c) for c in chunks] == sizes and sum(chunks, []) == list(range(items))
    assert procs == processes
    assert threads == (8 if procs == 1 else max(1, 8 // jobs_n))


POISON = (255, 0, 255)  # top-left pixel of an image that kills the worker process redacting it

# Loaded by every worker process (PYTHONPATH): the face detector exits the process, as the
# out-of-memory killer would (no exception, no cleanup), on an image marked with POISON.
_SITECUSTOMIZE = f"""
import os
from redactor import detect

_real = detect.FACE_DETECTORS["yuface"]

def _deadly(**kw):
    real = _real(**kw)
    def call(rgb):
        if tuple(int(v) for v in rgb[0, 0]) == {POISON!r}:
            os._exit(137)
        return real(rgb)
    return call

detect.FACE_DETECTORS["yuface"] = _deadly
"""


def test_a_worker_killed_mid_batch_fails_only_its_image_and_the_batch_goes_on(tmp_path):
    """A worker that dies hung the whole batch (multiprocessing.Pool waits for its lost chunk);
    now its image fails alone, never written, and every other image is redacted."""
    paths = make_images(tmp_path / "in", 6)
    bad = np.asarray(Image.open(paths[3])).copy()
    bad[0, 0] = POISON
    Image.fromarray(bad).save(paths[3])
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    env = {**os.environ, "PYTHONPATH": str(hook)}
    out = tmp_path / "out"
    proc = subprocess.run([REDACTOR, "redact", str(tmp_path / "in"), "-o", str(out), "--jobs", "2"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 1, proc.stderr
    assert "img_03.png" in proc.stderr and "worker process died" in proc.stderr
    assert "5 redacted, 1 failed" in proc.stdout
    assert not (out / "img_03.png").exists()
    assert json.loads((out / "img_03.png.json").read_text())["status"] == "failed"
    for i in (0, 1, 2, 4, 5):
        Image.open(out / f"img_{i:02d}.png").load()
    assert not list(out.glob(".*.tmp"))
