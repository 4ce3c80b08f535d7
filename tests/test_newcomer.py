"""What a careful newcomer tried (issue 17): odd folder layouts, colliding names, an OUTDIR that
is a file, outputs damaged between runs. CLI cases run the real `redactor` command."""

import errno
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redactor import OutputError, Policy, batch

REDACTOR = str(Path(sys.executable).with_name("redactor"))


def run(*args, check=None):
    proc = subprocess.run([REDACTOR, *map(str, args), "--jobs", "1"], capture_output=True, text=True, timeout=300)
    if check is not None:
        assert proc.returncode == check, proc.stderr + proc.stdout
    return proc


def png(path: Path, seed: int = 0, size=(60, 80)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(80, 170, (*size, 3), dtype=np.uint8)).save(path, "PNG")
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_input_folder_inside_outdir_is_refused_and_no_input_is_overwritten(tmp_path):
    w2 = tmp_path / "w2"
    top, nested = png(w2 / "in" / "x.png", 1), png(w2 / "in" / "in" / "x.png", 2)
    before = {p: sha(p) for p in (top, nested)}
    proc = run("redact", w2 / "in", "-o", w2, check=2)
    assert "Traceback" not in proc.stderr
    assert str(w2 / "in") in proc.stderr and str(w2) in proc.stderr  # names both
    assert {p: sha(p) for p in (top, nested)} == before
    assert sorted(p.relative_to(w2) for p in w2.rglob("*") if p.is_file()) == [Path("in/in/x.png"), Path("in/x.png")]


def test_plan_refuses_every_overlap_after_resolving_dots_and_symlinks(tmp_path):
    src = tmp_path / "in"
    png(src / "sub" / "a.png")
    out = tmp_path / "out"
    out.mkdir()
    # An input file anywhere under OUTDIR (not only directly in it) could be replaced by an output.
    inside = png(out / "deep" / "b.png")
    with pytest.raises(OutputError, match="lies in the output folder"):
        batch.plan([inside], out)
    with pytest.raises(OutputError, match="contains the input folder"):
        batch.plan([out / "deep" / ".." / "deep"], out)
    # OUTDIR reached through a symlink into the input folder.
    (tmp_path / "link").symlink_to(src / "sub")
    with pytest.raises(OutputError, match="inside the input folder"):
        batch.plan([src], tmp_path / "link" / "o")
    # A symlinked file in an input folder whose target lies in OUTDIR.
    (src / "sub" / "c.png").symlink_to(inside)
    with pytest.raises(OutputError, match="lies in the output folder"):
        batch.plan([src], out)


def test_outputs_with_a_changed_format_get_distinct_names_and_resume(tmp_path):
    src = tmp_path / "in"
    png(src / "b.png", 1)
    Image.fromarray(np.full((40, 50, 3), 120, np.uint8)).save(src / "b.gif")
    png(src / "a.png", 2)
    (src / "a.jpg").write_bytes(png(tmp_path / "tmp.png", 3).read_bytes())  # PNG bytes under a .jpg name
    out = tmp_path / "out"
    proc = run("redact", src, "-o", out, check=0)
    assert "4 redacted" in proc.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["a.png", "a.png.json", "a.jpg.png", "a.jpg.json",
                            "b.png", "b.png.json", "b.gif.png", "b.gif.json"])
    for name, source in [("a.png", "a.png"), ("a.jpg.png", "a.jpg"), ("b.png", "b.png"), ("b.gif.png", "b.gif")]:
        rep = json.loads((out / f"{source}.json").read_text())
        assert rep["output"] == str(out / name) and rep["input"]["path"] == str(src / source)
        assert rep["output_sha256"] == sha(out / name)
    assert np.array_equal(np.asarray(Image.open(out / "a.jpg.png")), np.asarray(Image.open(tmp_path / "tmp.png")))
    assert "4 skipped" in run("redact", src, "-o", out, check=0).stdout


def test_two_inputs_that_would_share_an_output_are_refused_before_any_work(tmp_path):
    src = tmp_path / "in"
    png(src / "b.gif.png")
    Image.fromarray(np.full((40, 50, 3), 120, np.uint8)).save(src / "b.gif")
    proc = run("redact", src, "-o", tmp_path / "out", check=2)
    assert "b.gif" in proc.stderr and "b.gif.png" in proc.stderr and "both be written" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["file", "under-file"])
def test_outdir_that_is_a_file_exits_2_in_one_line_before_any_work(tmp_path, where):
    png(tmp_path / "in" / "a.png")
    target = tmp_path / "out.txt"
    target.write_text("keep me")
    outdir = target if where == "file" else target / "sub"
    proc = run("redact", tmp_path / "in", "-o", outdir, check=2)
    assert "Traceback" not in proc.stderr and "a file, not a folder" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("damage", ["missing", "truncated", "edited"])
def test_a_damaged_output_is_redone_on_resume(tmp_path, damage):
    src = tmp_path / "in"
    png(src / "a.png", 1)
    png(src / "b.png", 2)
    out = tmp_path / "out"
    run("redact", src, "-o", out, check=0)
    good = (out / "a.png").read_bytes()
    if damage == "missing":
        (out / "a.png").unlink()
    elif damage == "truncated":
        (out / "a.png").write_bytes(good[: len(good) // 2])
    else:  # same size, one byte changed: still decodes, but it is not what was written
        (out / "a.png").write_bytes(good[:-20] + bytes([good[-20] ^ 1]) + good[-19:])
    proc = run("redact", src, "-o", out, check=0)
    assert "1 redacted" in proc.stdout and "1 skipped" in proc.stdout
    assert (out / "a.png").read_bytes() == good


def test_an_upgrade_of_redactor_or_a_model_redoes_earlier_outputs(tmp_path):
    png(tmp_path / "in" / "a.png")
    jobs = batch.plan([tmp_path / "in"], tmp_path / "out")
    opts = batch.Options(policy=Policy.default())
    assert [o.status for o in batch.run(jobs, opts)] == ["redacted"]
    assert batch.is_done(jobs[0], opts)
    report = jobs[0].report
    original = json.loads(report.read_text())
    for edit in ({"tool": {"name": "redactor", "version": "0.0.9"}},
                 {"models": {**original["models"], "ppocr-det": "rapidocr==3.9.0 0123456789ab"}}):
        report.write_text(json.dumps({**original, **edit}))
        assert not batch.is_done(jobs[0], opts), edit
    report.write_text(json.dumps(original))
    assert batch.is_done(jobs[0], opts)


@pytest.mark.parametrize("size", [(5000, 1), (1, 5000)])
def test_a_one_pixel_strip_is_redacted(tmp_path, size):
    """Nothing fits a face or a plate in a 1 px strip: redacted as is, not an OpenCV error."""
    src = tmp_path / "in"
    src.mkdir()
    Image.new("RGB", size, (120, 130, 140)).save(src / "strip.png")
    proc = run("redact", src, "-o", tmp_path / "out", check=0)
    assert "1 redacted" in proc.stdout, proc.stderr
    assert Image.open(tmp_path / "out" / "strip.png").size == size


def test_library_redacts_thin_arrays_and_names_the_shape_of_an_empty_one():
    from redactor import Redactor, RedactorError

    r = Redactor()
    for shape in [(1, 5000, 3), (5000, 1, 3), (7, 30, 3)]:
        assert r.redact(np.full(shape, 128, np.uint8)).image.shape == shape
    with pytest.raises(RedactorError, match=r"shape \(0, 0, 3\)"):
        r.redact(np.zeros((0, 0, 3), np.uint8))


def test_eval_on_a_folder_without_sidecars_prints_its_error_on_a_line_of_its_own(tmp_path):
    proc = subprocess.run([REDACTOR, "eval", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("redactor: error:") and "sidecar" in proc.stderr, repr(proc.stderr)


# -- issue 25: a read-only OUTDIR, Ctrl-C ---------------------------------------------------------

def _read_only(folder: Path) -> list[str]:
    """A command prefix under which ``folder`` cannot be written. chmod does not stop root, so
    as root the folder is bind-mounted read-only in a mount namespace of the command's own
    (``unshare -m``: nothing outside it sees the mount)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    probe = subprocess.run(["unshare", "-m", "sh", "-c", script, str(folder), "sh", "-c", 'touch "$0/.x"', str(folder)],
                           capture_output=True, text=True)
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot make a read-only folder as root here (unshare -m, mount --bind): {probe.stderr.strip()}")
    return ["unshare", "-m", "sh", "-c", script, str(folder)]


@pytest.mark.parametrize("command", ["redact", "analyse", "render", "redact-subfolder"])
def test_a_read_only_outdir_exits_2_in_one_line_before_any_work(tmp_path, command):
    """It ran the whole analysis, then ended in a traceback (EROFS in the failure handler)."""
    png(tmp_path / "in" / "a.png")
    locked = tmp_path / "out"
    locked.mkdir()
    outdir = locked / "new" / "sub" if command == "redact-subfolder" else locked
    argv = {"redact": ["redact", tmp_path / "in", "-o", outdir, "--jobs", "1"],
            "analyse": ["analyse", tmp_path / "in", "-o", outdir],
            "render": ["render", tmp_path / "in", "--decisions", tmp_path / "d", "-o", outdir]
            }[command.split("-")[0]]
    proc = subprocess.run([*_read_only(locked), REDACTOR, *map(str, argv)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(outdir) in proc.stderr and "cannot be written" in proc.stderr and "writable" in proc.stderr
    assert "img/s" not in proc.stderr  # no progress bar: refused before the models load
    assert list(locked.iterdir()) == []


def test_the_failure_handler_does_not_raise_when_the_folder_cannot_be_written(tmp_path, monkeypatch):
    """A folder that turns read-only during a batch: the image fails with a message that says
    what could not be removed or written, instead of an OSError out of the handler."""
    png(tmp_path / "in" / "a.png")
    (job,) = batch.plan([tmp_path / "in"], tmp_path / "out")
    job.out.parent.mkdir(parents=True)
    job.out.write_bytes(b"an earlier output")

    def refused(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(Path, "unlink", refused)
    monkeypatch.setattr("redactor.io.write_atomic", refused)
    outcome = batch.record_failure(job, OSError(errno.EROFS, "Read-only file system"), batch.Options(Policy.default()))
    assert outcome.status == "failed"
    assert f"earlier output {job.out} could not be removed" in outcome.message
    assert "delete it by hand" in outcome.message
    assert "its report could not be written" in outcome.message


def _images(folder: Path, n: int) -> Path:
    """``n`` photos-like images with text to read, so that a --jobs 2 batch takes a while."""
    from PIL import ImageDraw

    for k in range(n):
        im = Image.fromarray(np.random.default_rng(k).integers(150, 200, (400, 600, 3), dtype=np.uint8))
        d = ImageDraw.Draw(im)
        for row in range(3):
            d.text((40, 40 + 80 * row), f"Tel 9{k}{row}3 45{row}7  Chan Tai Man {row}", fill=(20, 20, 20),
                   font_size=32)
        im.save(folder / f"img{k:02d}.png")
    return folder


@pytest.mark.parametrize("when", ["starting", "working"])
def test_ctrl_c_prints_one_line_exits_130_and_the_batch_resumes(tmp_path, when):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while the fork server
    imports or the workers redact: a worker's KeyboardInterrupt traceback was printed, and the
    command waited for the workers' chunks to finish."""
    src = tmp_path / "in"
    src.mkdir()
    _images(src, 12)
    out = tmp_path / "out"
    proc = subprocess.Popen([REDACTOR, "redact", str(src), "-o", str(out), "--jobs", "2"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as a terminal has it
    err = bytearray()

    def read() -> None:
        for chunk in iter(lambda: proc.stderr.read1(4096), b""):
            err.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wanted = b" 0/12 " if when == "starting" else b"/12 "
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        text = bytes(err)
        if (when == "starting" and wanted in text) or (when == "working" and any(
                f" {k}/12 ".encode() in text for k in range(1, 12))):
            break
        time.sleep(0.1)
    time.sleep(1.5 if when == "starting" else 0)  # starting: the fork server is importing its libraries
    assert proc.poll() is None, "the batch ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    t0 = time.monotonic()
    proc.wait(timeout=120)
    waited = time.monotonic() - t0
    reader.join(10)
    stderr = err.decode(errors="replace")
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    bar = re.compile(r"\d+/12 \[")  # tqdm's progress lines
    lines = [line for line in stderr.replace("\r", "\n").splitlines() if line.strip() and not bar.search(line)]
    assert lines == ["redactor: interrupted; re-run the same command to resume"], lines
    assert waited < 15, f"{waited:.1f} s from Ctrl-C to exit: the workers were waited for"
    # Nothing half-written: no temporary file left, every output that is there decodes and is
    # the one its report records; the re-run redoes only what was not finished.
    for p in out.glob("*.png"):  # an OUTDIR that was not made yet globs to nothing
        Image.open(p).load()
    assert not list(out.glob(".*"))
    again = subprocess.run([REDACTOR, "redact", str(src), "-o", str(out), "--jobs", "2"], capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert len(list(out.glob("*.png"))) == 12 and len(list(out.glob("*.png.json"))) == 12
    assert not list(out.glob(".*"))


# -- issue 25: what the output loses, said in the report and on the command line --------------

def test_a_16bit_png_is_written_8bit_with_a_warning_and_a_multi_frame_gif_is_refused(tmp_path):
    import cv2

    src = tmp_path / "in"
    src.mkdir()
    wide = np.random.default_rng(3).integers(20000, 50000, (50, 70, 3), dtype=np.uint16)
    assert cv2.imwrite(str(src / "deep.png"), wide)
    png(src / "plain.png")
    frames = [Image.fromarray(np.full((30, 40, 3), v, np.uint8)) for v in (0, 120, 240)]
    frames[0].save(src / "moving.gif", save_all=True, append_images=frames[1:])
    out = tmp_path / "out"
    proc = run("redact", src, "-o", out, check=1)  # the GIF fails, the others are written
    warned = [line for line in proc.stderr.splitlines() if "warning:" in line]
    assert len(warned) == 1 and str(src / "deep.png") in warned[0], proc.stderr
    assert "16 bits per channel" in warned[0] and "the output has 8" in warned[0]
    deep = json.loads((out / "deep.png.json").read_text())
    assert deep["input"]["bits_per_channel"] == 16 and deep["warnings"] == [warned[0].split("warning: ", 1)[1]]
    assert Image.open(out / "deep.png").mode == "RGB"  # 8 bits per channel, as the warning says
    plain = json.loads((out / "plain.png.json").read_text())
    assert plain["input"]["bits_per_channel"] == 8 and plain["warnings"] == []
    gif = json.loads((out / "moving.gif.json").read_text())
    assert gif["status"] == "failed" and "has 3 frames" in gif["error"] and "split the frames" in gif["error"]
    assert not (out / "moving.gif.png").exists()


def test_the_readme_says_what_is_refused_and_what_is_narrowed():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    assert "single-frame" in readme and "animated GIF" in readme and "multi-page TIFF" in readme
    assert "16 bits per channel" in readme and "8-bit" in readme


def test_a_failed_analysis_whose_old_decisions_cannot_be_removed_says_so(tmp_path, monkeypatch, fake_engines):
    from conftest import fake_redactor

    from redactor.workflow import analyse_files, decisions_path

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad.png").write_bytes(b"not an image")
    (job,) = batch.plan([tmp_path / "in"], tmp_path / "out")
    decisions_path(job).parent.mkdir(parents=True)
    decisions_path(job).write_text("{}")

    def refused(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(Path, "unlink", refused)
    (outcome,) = analyse_files([job], fake_redactor())
    assert outcome.status == "failed" and "not a recognised image" in outcome.message
    assert f"earlier {decisions_path(job)} could not be removed" in outcome.message
