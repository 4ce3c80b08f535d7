"""The CLI through its real entry point (the `redactor` executable), with the real models."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fakes import written_in_home
from PIL import Image

from redactor.models import manifest

REDACTOR = str(Path(sys.executable).with_name("redactor"))
ROOT = Path(__file__).resolve().parents[1]


def run(*args, check=None):
    proc = subprocess.run([REDACTOR, *map(str, args)], capture_output=True, text=True, timeout=300)
    if check is not None:
        assert proc.returncode == check, proc.stderr + proc.stdout
    return proc


@pytest.fixture
def folder(tmp_path):
    """Two small clean images in a nested folder, plus nothing else."""
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(90, 160, (120, 160, 3), dtype=np.uint8)).save(src / "a.png")
    Image.fromarray(rng.integers(90, 160, (100, 140, 3), dtype=np.uint8)).save(src / "sub" / "b.jpg", quality=90)
    return src


def test_mirrors_folders_writes_reports_and_resumes(folder, tmp_path):
    out = tmp_path / "out"
    proc = run("redact", folder, "-o", out, check=0)
    assert "2 redacted" in proc.stdout
    assert (out / "a.png").is_file() and (out / "sub" / "b.jpg").is_file()
    rep = json.loads((out / "sub" / "b.jpg.json").read_text())
    assert rep["status"] == "redacted" and rep["schema"] == "redactor.report/1"
    assert rep["input"]["sha256"] and rep["models"]["ppocr-rec"].startswith("rapidocr==3.10.0")
    # Re-run: nothing to redo.
    again = run("redact", folder, "-o", out, check=0)
    assert "2 skipped" in again.stdout
    # Changed content under the same name is redone (resume compares content, not names).
    Image.fromarray(np.zeros((50, 50, 3), np.uint8)).save(folder / "a.png")
    third = run("redact", folder, "-o", out, check=0)
    assert "1 redacted" in third.stdout and "1 skipped" in third.stdout


def test_bad_file_fails_clearly_batch_goes_on(folder, tmp_path):
    (folder / "broken.jpg").write_text("this is not a photo")
    out = tmp_path / "out"
    proc = run("redact", folder, "-o", out, check=1)
    assert "broken.jpg" in proc.stderr and "FAILED" in proc.stderr
    assert not (out / "broken.jpg").exists(), "a failed image must never be written"
    assert json.loads((out / "broken.jpg.json").read_text())["status"] == "failed"
    assert (out / "a.png").is_file() and (out / "sub" / "b.jpg").is_file()


def test_refuses_to_write_into_the_input_folder(folder):
    proc = run("redact", folder, "-o", folder / "redacted", check=2)
    assert "inside the input folder" in proc.stderr
    assert not (folder / "redacted").exists()


def test_dry_run_writes_reports_only(folder, tmp_path):
    out = tmp_path / "out"
    run("redact", folder, "-o", out, "--dry-run", check=0)
    assert (out / "a.png.json").is_file() and not (out / "a.png").exists()


def test_bad_policy_exit_2_names_the_key(folder, tmp_path):
    pol = tmp_path / "p.toml"
    pol.write_text("[actions]\nface = 'smudge'\n")
    proc = run("redact", folder, "-o", tmp_path / "out", "--policy", pol, check=2)
    assert "actions.face" in proc.stderr and "p.toml" in proc.stderr


def test_reversible_text_action_warns(folder, tmp_path):
    pol = tmp_path / "p.toml"
    pol.write_text("[actions]\nphone = 'blur'\n")
    proc = run("redact", folder, "-o", tmp_path / "out", "--policy", pol, check=0)
    assert "phone" in proc.stderr and "read back" in proc.stderr


def test_every_command_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from redactor.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        assert run(name, "--help", check=0).stdout.strip()
        assert f"redactor {name}" in readme, f"README does not document `redactor {name}`"


def test_models_command_verifies_all():
    proc = run("models", check=0)
    assert proc.stdout.count("ok ") == len(manifest())  # make test installs the easyocr extra


def test_worker_processes_find_what_one_process_finds(tmp_path):
    """--jobs 3 (one image per worker, one ONNX Runtime thread each) against --jobs 1 (one
    process on every core) on the bundled samples: the same regions hidden in every image."""
    samples = sorted(p for p in (ROOT / "samples").iterdir() if p.suffix in {".jpg", ".png"})
    found = {}
    for jobs in (1, 3):
        out = tmp_path / f"out{jobs}"
        proc = run("redact", *samples, "-o", out, "--jobs", jobs, check=0)
        assert f"{len(samples)} redacted" in proc.stdout
        found[jobs] = {p.name: sorted((f["category"], f["action"]) for f in
                                      json.loads((out / (p.name + ".json")).read_text())["findings"])
                       for p in samples}
    assert all(found[1].values()), "every sample has something to hide"
    assert found[3] == found[1]


_THREADS = "len(__import__('os').listdir('/proc/self/task'))"
TWO_SAMPLES = [ROOT / "samples" / "name_card.png", ROOT / "samples" / "street_car.jpg"]  # a --jobs 2 batch


def test_the_worker_fork_server_imports_the_libraries_and_starts_no_thread():
    """Workers fork from a server that imported redactor.preload. Forking is safe only while that
    process runs no thread beyond what importing numpy and cv2 starts (each wheel's OpenBLAS,
    which forks cleanly): a runtime thread pool forked mid-task deadlocks its child. OpenVINO's
    telemetry ran one at import, which itself forked to send its report (OpenBLAS's threads stop
    at a fork, so on some machines the count came out equal, on CI not)."""
    wanted = ("spacy", "jieba.posseg", "yuface", "openvino", "rapidocr.ch_ppocr_rec")
    code = (f"import numpy, cv2, os, sys\nbefore = {_THREADS}\nimport redactor.preload\n"
            f"print(before, {_THREADS}, os.environ.get('OMP_NUM_THREADS'), "
            f"[m for m in {wanted!r} if m not in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = proc.stdout.split(maxsplit=3)
    assert out[0] == out[1], "the preload started (or forked, stopping OpenBLAS's) threads"
    assert out[2] == "1", "libfacedetection's OpenMP must read one thread when it loads"
    assert out[3].strip() == "[]", "not imported"


def test_the_fork_server_imports_no_library_before_its_files_are_verified():
    """jieba unpickles two of its files at import: with a file failing its check, the preload
    leaves jieba alone (the worker then fails with the model error) and imports the rest."""
    code = ("import sys\nfrom redactor.classify import ner\nfrom redactor.errors import ModelError\n"
            "def refuse(name):\n    raise ModelError(name + ' altered')\n"
            "ner.model_path = refuse\nimport redactor.preload\n"
            "print('jieba' in sys.modules, 'spacy' in sys.modules, 'yuface' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "True"]


def test_a_folder_named_redactor_where_the_command_runs_is_not_imported(tmp_path):
    """The fork server imported its preload with the current folder first on its path: a folder
    named redactor there (an old checkout, say) replaced the package, and every image failed."""
    planted = tmp_path / "cwd" / "redactor"
    planted.mkdir(parents=True)
    marker = tmp_path / "imported"
    (planted / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (planted / "preload.py").write_text("")
    proc = subprocess.run([REDACTOR, "redact", *map(str, TWO_SAMPLES), "-o", str(tmp_path / "out"), "--jobs", "2"],
                          capture_output=True, text=True, timeout=300, cwd=planted.parent)
    assert proc.returncode == 0, proc.stderr
    assert "2 redacted" in proc.stdout
    assert not marker.exists()


def test_workers_start_without_the_fork_server_when_its_socket_cannot_be_made(tmp_path):
    """The fork server listens on a Unix socket under TMPDIR; a path too long for one stopped
    every --jobs batch with a traceback. Now workers start as fresh interpreters, and the batch runs."""
    long_tmp = tmp_path / ("d" * 110)
    long_tmp.mkdir()
    code = ("import warnings\nfrom redactor import batch\nwith warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n    ctx = batch.worker_context()\n"
            "print(ctx.get_start_method(), [str(x.message) for x in w])")
    env = {**os.environ, "TMPDIR": str(long_tmp)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert proc.stdout.startswith("spawn ") and "TMPDIR" in proc.stdout
    proc = subprocess.run([REDACTOR, "redact", *map(str, TWO_SAMPLES), "-o", str(tmp_path / "out"), "--jobs", "2"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "2 redacted" in proc.stdout


_NO_NETWORK = """\
import socket, sys
def _refused(*args, **kwargs):
    sys.stderr.write(f"NETWORK {args[1:]}\\n")
    raise OSError("the test allows no network")
def _connect(self, address, _real=socket.socket.connect):
    return _real(self, address) if self.family == socket.AF_UNIX else _refused(self, address)
socket.socket.connect = _connect
socket.socket.connect_ex = _connect
socket.getaddrinfo = lambda *args, **kwargs: _refused(None, *args)
"""


def test_a_batch_opens_no_network_connection_and_writes_nothing_in_home_but_its_cache(tmp_path):
    """A redaction reports to nobody. OpenVINO's import sent a Google Analytics event from a
    thread and wrote a client id to ~/intel, in every worker and the fork server. Every process
    here refuses and names any connection but the fork server's Unix socket."""
    hook, home = tmp_path / "hook", tmp_path / "home"
    hook.mkdir(), home.mkdir()
    (hook / "sitecustomize.py").write_text(_NO_NETWORK)
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(hook)}
    env.pop("XDG_CACHE_HOME", None)
    proc = subprocess.run([REDACTOR, "redact", *map(str, TWO_SAMPLES), "-o", str(tmp_path / "out"), "--jobs", "2"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "2 redacted" in proc.stdout
    assert "NETWORK" not in proc.stderr, proc.stderr
    # nothing but redactor's own cache (jieba's tables, issue 27)
    assert written_in_home(home) == []


@pytest.mark.parametrize("cores, memory_gb, ocr, expected", [
    (2, 24, "rapidocr", 2),  # the reference machine: one worker per core
    (8, 10, "rapidocr", 5),  # memory-bound: 2 GB counted per worker
    (8, 16, "easyocr", 2),  # EasyOCR workers peak at ≈6.3 GB
    (4, 1, "rapidocr", 1),  # never fewer than one
])
def test_default_jobs_is_one_per_core_as_memory_allows(monkeypatch, cores, memory_gb, ocr, expected):
    from redactor import cli

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    pages = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": memory_gb * 2**30 // 4096}
    monkeypatch.setattr(os, "sysconf", lambda name: pages[name])
    assert cli._default_jobs(ocr) == expected


def test_small_text_on_a_very_wide_photo_is_found_and_hidden(tmp_path):
    """An 8000x60 strip with a 28 px line: shrunk to 2048 px for detection it was 7 px, and no
    finding; --verify could not tell, as it runs the same detector."""
    from PIL import ImageDraw, ImageFont

    src = tmp_path / "in"
    src.mkdir()
    img = Image.new("RGB", (8000, 60), "white")
    ImageDraw.Draw(img).text((5000, 14), "Tel 9123 4567", fill="black", font=ImageFont.load_default(size=28))
    img.save(src / "strip.jpg", quality=90)
    run("redact", src, "-o", tmp_path / "out", "--verify", check=0)
    rep = json.loads((tmp_path / "out" / "strip.jpg.json").read_text())
    assert [f["category"] for f in rep["findings"]] == ["phone"], rep["findings"]
