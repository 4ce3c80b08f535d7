"""Faces by identity: gallery files, [faces] policy modes, per-face decisions, the gallery CLI.

Unit tests use in-memory galleries and fake encoders; the model tests run libfacedetection (yuface) and
face_recognition on two real people (tests/data, made by tests/data/make_faces.py): Eileen
Collins (skimage's astronaut) and the man of skimage's "camera" photo.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from redactor import AnalysisError, Failure, ModelError, Policy, PolicyError, Redactor, identity
from redactor.detect import FACE_DETECTORS
from redactor.errors import GalleryError
from redactor.gallery import NOTE, SCHEMA, Gallery
from redactor.types import Detection, Quad

DATA = Path(__file__).resolve().parent / "data"
REDACTOR = str(Path(sys.executable).with_name("redactor"))


def unit(i: int) -> np.ndarray:
    """A fake encoding: the unit vector on axis ``i`` (two different axes are 1.41 apart)."""
    v = np.zeros(128)
    v[i] = 1.0
    return v


def save_gallery(path: Path, **people: np.ndarray) -> Path:
    g = Gallery(path=str(path))
    for name, enc in people.items():
        g = g.with_added(name, [enc])
    g.save()
    return path


def face_policy(tmp_path: Path, mode: str, **extra: str) -> Policy:
    lines = ["protect = ['face']", "[faces]", f"mode = '{mode}'", *(f"{k} = '{v}'" for k, v in extra.items())]
    f = tmp_path / "policy.toml"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Policy.load(f)


# -- gallery files ------------------------------------------------------------------------------


def test_gallery_round_trip_holds_names_and_numbers_only(tmp_path):
    path = save_gallery(tmp_path / "g.json", Ann=unit(0), Bob=unit(1))
    Gallery.load(path).with_added("Ann", [unit(2)]).save()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == SCHEMA and data["note"] == NOTE and "no face images" in data["note"]
    assert set(data) == {"schema", "note", "encoder", "people"}
    assert [(p["name"], len(p["encodings"])) for p in data["people"]] == [("Ann", 2), ("Bob", 1)]
    for person in data["people"]:
        assert set(person) == {"name", "encodings"}
        assert all(len(e) == 128 and all(isinstance(v, float) for v in e) for e in person["encodings"])
    g = Gallery.load(path)
    assert g.nearest(unit(2) * 0.9) == ("Ann", pytest.approx(0.1))
    g.without("Ann").save()
    assert Gallery.load(path).names() == ["Bob"]
    assert not list(tmp_path.glob(".*.tmp")), "atomic write left a temporary file"


@pytest.mark.parametrize("content, what", [
    ("not json", "invalid JSON"),
    ('{"schema": "other/1", "people": []}', "schema"),
    ('{"schema": "redactor.gallery/1", "people": [{"name": "A", "encodings": [[0.1, 0.2]]}]}', "128 finite"),
    ('{"schema": "redactor.gallery/1", "people": [{"name": "", "encodings": []}]}', "no name"),
])
def test_invalid_gallery_file_names_the_file(tmp_path, content, what):
    f = tmp_path / "bad.json"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(GalleryError, match=f"bad.json.*{what}"):
        Gallery.load(f)


def test_removing_an_unknown_name_says_who_is_there(tmp_path):
    g = Gallery.load(save_gallery(tmp_path / "g.json", Ann=unit(0)))
    with pytest.raises(GalleryError, match="no person named 'Bob'.*'Ann'"):
        g.without("Bob")


# -- policy -------------------------------------------------------------------------------------


@pytest.mark.parametrize("faces, key", [
    ("mode = 'some'", "faces.mode"),
    ("mode = 'protected'", "faces.protected_gallery"),
    ("mode = 'all-except-allowed'", "faces.allowed_gallery"),
    ("tolerance = 1.5", "faces.tolerance"),
    ("allow_tolerance = 0", "faces.allow_tolerance"),
    ("mode = 'protected'\nprotected_gallery = 'missing.json'", "faces.protected_gallery.*missing.json.*no such"),
    ("colour = 1", "faces.colour"),
])
def test_invalid_faces_table_names_the_key(faces, key):
    with pytest.raises(PolicyError, match=key.replace(".", r"\.").replace(r"\.*", ".*")):
        Policy.from_toml(f"[faces]\n{faces}\n", source="mine.toml")


def test_gallery_mode_needs_faces_protected_and_people(tmp_path):
    save_gallery(tmp_path / "p.json", Ann=unit(0))
    with pytest.raises(PolicyError, match=r"faces\.mode.*needs \"face\" in protect"):
        Policy.from_toml("protect = ['phone']\n[faces]\nmode = 'protected'\nprotected_gallery = 'p.json'",
                         base_dir=tmp_path)
    Gallery(path=str(tmp_path / "empty.json")).save()
    with pytest.raises(PolicyError, match=r"faces\.allowed_gallery.*holds nobody"):
        Policy.from_toml("[faces]\nmode = 'all-except-allowed'\nallowed_gallery = 'empty.json'", base_dir=tmp_path)


def test_gallery_paths_resolve_against_the_policy_folder_and_feed_the_fingerprint(tmp_path, monkeypatch):
    (tmp_path / "pol").mkdir()
    gallery = save_gallery(tmp_path / "pol" / "prot.json", Ann=unit(0))
    monkeypatch.chdir(tmp_path)  # not the policy's folder
    policy = face_policy(tmp_path / "pol", "protected", protected_gallery="prot.json")
    assert policy.faces.protected is not None and policy.faces.protected.names() == ["Ann"]
    assert policy.faces.tolerance == 0.6 and policy.faces.allow_tolerance == 0.5
    before = policy.fingerprint()
    assert Policy.from_dict(policy.to_dict()).fingerprint() == before
    Gallery.load(gallery).with_added("Bob", [unit(1)]).save()
    assert face_policy(tmp_path / "pol", "protected", protected_gallery="prot.json").fingerprint() != before
    assert "faces" not in Policy.default().to_dict(), "the default policy's fingerprint must not change"


# -- decisions (fake encodings) -----------------------------------------------------------------


def det(x: float, score: float = 0.9) -> Detection:
    return Detection(kind="face", quad=Quad.from_box(x, 10, x + 40, 60), score=score, detector="fake")


@pytest.fixture
def galleries(tmp_path):
    save_gallery(tmp_path / "prot.json", Ann=unit(0))
    save_gallery(tmp_path / "allow.json", Mayor=unit(1), Ann=unit(0))  # Ann in both: protected wins
    return tmp_path


def test_decisions_per_mode(galleries):
    faces = [det(0), det(50), det(100), det(150, score=0.1)]
    near_ann, near_mayor, stranger = unit(0) * 0.95, unit(1) + unit(5) * 0.3, unit(9)
    encodings = [near_ann, near_mayor, stranger, None]
    prot = face_policy(galleries, "protected", protected_gallery="prot.json")
    got = identity.decide(faces, encodings, prot, name="x.jpg")
    assert [(d.hidden, d.rule, d.name, d.gallery) for d in got] == [
        (True, "protected", "Ann", "protected"), (False, "unmatched", "", ""), (False, "unmatched", "", ""),
        (False, "below-threshold", "", ""),
    ]
    assert got[0].distance == pytest.approx(0.05) and got[2].distance == pytest.approx(2 ** 0.5, abs=1e-4)
    allow = face_policy(galleries, "all-except-allowed", allowed_gallery="allow.json", protected_gallery="prot.json")
    got = identity.decide(faces, encodings, allow, name="x.jpg")
    assert [(d.hidden, d.rule, d.name) for d in got] == [
        (True, "protected", "Ann"), (False, "allowed", "Mayor"), (True, "unmatched", ""),
        (False, "below-threshold", ""),
    ]
    assert got[1].gallery == "allowed" and got[1].distance == pytest.approx(0.3)
    every = identity.decide(faces, None, Policy.default(), name="x.jpg")
    assert [(d.hidden, d.rule) for d in every] == [(True, "all")] * 3 + [(False, "below-threshold")]


def test_allowed_match_uses_the_stricter_allow_tolerance(galleries):
    allow = face_policy(galleries, "all-except-allowed", allowed_gallery="allow.json")
    almost = unit(1) + unit(7) * 0.55  # 0.55 from Mayor: a match at 0.6, not at 0.5
    (d,) = identity.decide([det(0)], [almost], allow, name="x.jpg")
    assert (d.hidden, d.rule, d.distance) == (True, "unmatched", pytest.approx(0.55))


def test_encoding_failure_hides_the_face_or_fails_the_image(galleries):
    allow = face_policy(galleries, "all-except-allowed", allowed_gallery="allow.json")
    (d,) = identity.decide([det(0)], ["dlib choked"], allow, name="x.jpg")
    assert (d.hidden, d.rule) == (True, "encoding-failed")
    prot = face_policy(galleries, "protected", protected_gallery="prot.json")
    with pytest.raises(AnalysisError, match=r"x\.jpg.*could not be identified.*dlib choked.*not written"):
        identity.decide([det(0)], ["dlib choked"], prot, name="x.jpg")


class FakeEncoder:
    """Encodes a face as Ann when the box starts left of x=100, else fails (or as a stranger)."""

    fail = True

    def __call__(self, rgb, quads):
        return [unit(0) if q.bbox()[0] < 100 else ("no landmarks" if self.fail else unit(9)) for q in quads]


@pytest.fixture
def fake_faces(monkeypatch):
    monkeypatch.setitem(FACE_DETECTORS, "fake", lambda **kw: lambda rgb: [det(20), det(120)])
    monkeypatch.setattr(identity, "FaceEncoder", FakeEncoder)


def test_pipeline_hides_by_identity_and_reports_every_face(galleries, fake_faces):
    from redactor import report

    FakeEncoder.fail = False
    policy = face_policy(galleries, "protected", protected_gallery="prot.json")
    result = Redactor(policy, faces="fake").redact(np.full((100, 200, 3), 128, np.uint8), name="a.png")
    assert [(f.category, f.recognizer) for f in result.findings] == [("face", "protected:Ann")]
    assert result.mask[30:40, 30:50].all() and not result.mask[30:40, 130:150].any()
    rep = report.build(name="a.png", status="redacted", policy=policy, result=result)
    assert rep["policy"]["faces_mode"] == "protected"
    assert [(f["hidden"], f["rule"], f["name"], f["gallery"]) for f in rep["faces"]] == [
        (True, "protected", "Ann", "protected"), (False, "unmatched", None, None)]
    assert rep["faces"][1]["distance"] == pytest.approx(2 ** 0.5, abs=1e-3)


def test_pipeline_encoding_failure_fails_the_image_or_hides_the_face(galleries, fake_faces):
    FakeEncoder.fail = True
    policy = face_policy(galleries, "protected", protected_gallery="prot.json")
    out = list(Redactor(policy, faces="fake").redact_many([np.zeros((100, 200, 3), np.uint8)], names=["b.png"]))
    assert isinstance(out[0], Failure) and "b.png" in str(out[0].error) and "no landmarks" in str(out[0].error)
    allow = face_policy(galleries, "all-except-allowed", allowed_gallery="allow.json")
    result = Redactor(allow, faces="fake").redact(np.zeros((100, 200, 3), np.uint8))
    assert [(d.rule, d.hidden) for d in result.faces] == [("allowed", False), ("encoding-failed", True)]
    assert [f.recognizer for f in result.findings] == ["encoding-failed"]


def test_default_mode_never_imports_face_recognition():
    code = ("import sys, numpy as np\nfrom redactor import Policy, Redactor\n"
            "r = Redactor(Policy.from_toml(\"protect = ['face']\"))\nres = r.redact(np.zeros((64, 64, 3), np.uint8))\n"
            "assert res.faces == ()\nbad = [m for m in ('face_recognition', 'dlib') if m in sys.modules]\n"
            "assert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_missing_face_recognition_is_a_model_error_naming_the_requirement(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kw):
        if name == "face_recognition":
            raise ImportError("No module named 'face_recognition'")
        return real_import(name, *args, **kw)

    monkeypatch.delitem(sys.modules, "face_recognition", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ModelError, match=r"pip install --no-deps 'face_recognition==1\.3\.0'"):
        identity.FaceEncoder()


# -- real models: two real people ---------------------------------------------------------------


def portrait(name: str) -> np.ndarray:
    return np.asarray(Image.open(DATA / f"{name}.jpg").convert("RGB"))


def side_by_side(left: np.ndarray, right: np.ndarray, *, scale_right: float) -> tuple[np.ndarray, int]:
    """Paste two portraits on a grey canvas, the right one resized; returns the image and the seam x."""
    h, w = right.shape[:2]
    right = np.asarray(Image.fromarray(right).resize((round(w * scale_right), round(h * scale_right)),
                                                     Image.Resampling.LANCZOS))
    canvas = np.full((max(left.shape[0], right.shape[0]) + 40, left.shape[1] + right.shape[1] + 60, 3), 150, np.uint8)
    canvas[20:20 + left.shape[0], 20:20 + left.shape[1]] = left
    seam = 40 + left.shape[1]
    canvas[20:20 + right.shape[0], seam:seam + right.shape[1]] = right
    return canvas, seam


@pytest.fixture(scope="module")
def real_galleries(tmp_path_factory):
    folder = tmp_path_factory.mktemp("galleries")
    for name, file in (("Eileen Collins", "prot.json"), ("Cameraman", "allow.json")):
        encs = _encode_portraits([DATA / ("astronaut.jpg" if file == "prot.json" else "cameraman.jpg")], name)
        Gallery(path=str(folder / file)).with_added(name, encs).save()
    return folder


def _encode_portraits(paths, who):
    from redactor.pipeline import encode_portraits

    return encode_portraits(paths, who=who)


def faces_by_side(result, seam):
    left = [d for d in result.faces if d.quad.bbox()[0] < seam and d.rule != "below-threshold"]
    right = [d for d in result.faces if d.quad.bbox()[0] >= seam and d.rule != "below-threshold"]
    assert len(left) == 1 and len(right) == 1, result.faces
    return left[0], right[0]


def box(d):
    """Slices of a face's box, for looking at the mask and pixels there."""
    x0, y0, x1, y1 = (round(v) for v in d.quad.bbox())
    return slice(y0, y1), slice(x0, x1)


@pytest.mark.models
def test_protected_person_hidden_other_kept(real_galleries):
    # Eileen Collins at 0.6x on the right, the cameraman full size on the left.
    image, seam = side_by_side(portrait("cameraman"), portrait("astronaut"), scale_right=0.6)
    policy = face_policy(real_galleries, "protected", protected_gallery="prot.json")
    result = Redactor(policy).redact(image)
    man, eileen = faces_by_side(result, seam)
    assert (eileen.hidden, eileen.rule, eileen.name, eileen.gallery) == (True, "protected", "Eileen Collins",
                                                                         "protected")
    assert eileen.distance is not None and eileen.distance < 0.4
    assert (man.hidden, man.rule, man.gallery) == (False, "unmatched", "")
    assert man.distance is not None and man.distance > 0.7
    assert result.mask[box(eileen)].all(), "the protected face is not covered"
    assert not result.mask[box(man)].any(), "the unmatched face was hidden in mode 'protected'"
    assert np.array_equal(result.image[box(man)], image[box(man)])


@pytest.mark.models
def test_allowed_person_kept_everyone_else_hidden(real_galleries):
    # The cameraman at 0.5x on the right (face ≈30 px), Eileen Collins full size on the left.
    image, seam = side_by_side(portrait("astronaut"), portrait("cameraman"), scale_right=0.5)
    policy = face_policy(real_galleries, "all-except-allowed", allowed_gallery="allow.json")
    result = Redactor(policy).redact(image)
    eileen, man = faces_by_side(result, seam)
    assert (man.hidden, man.rule, man.name, man.gallery) == (False, "allowed", "Cameraman", "allowed")
    assert man.distance is not None and man.distance <= 0.5
    assert (eileen.hidden, eileen.rule, eileen.name) == (True, "unmatched", "")
    assert not result.mask[box(man)].any(), "the allowed face was hidden"
    assert result.mask[box(eileen)].all(), "an unmatched face was kept in mode 'all-except-allowed'"


@pytest.mark.models
def test_gallery_cli_add_list_remove_and_refusals(tmp_path):
    gallery = tmp_path / "g.json"

    def run(*args, check):
        proc = subprocess.run([REDACTOR, "gallery", *map(str, args), "--gallery", str(gallery)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == check, proc.stderr + proc.stdout
        return proc

    noface = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 300, 3), 180, np.uint8)).save(noface)
    proc = run("add", "Nobody", noface, check=2)
    assert "wall.png" in proc.stderr and "no face found" in proc.stderr
    pair, _ = side_by_side(portrait("astronaut"), portrait("cameraman"), scale_right=1.0)
    Image.fromarray(pair).save(tmp_path / "pair.jpg")
    proc = run("add", "Both", tmp_path / "pair.jpg", check=2)
    assert "pair.jpg" in proc.stderr and "2 faces found" in proc.stderr and "crop" in proc.stderr
    assert not gallery.exists(), "a refused add must not write the gallery"

    run("add", "Eileen Collins", DATA / "astronaut.jpg", check=0)
    run("add", "Cameraman", DATA / "cameraman.jpg", check=0)
    assert run("list", check=0).stdout.splitlines() == ["Eileen Collins\t1 encoding(s)", "Cameraman\t1 encoding(s)"]
    run("remove", "Cameraman", check=0)
    assert run("list", check=0).stdout.splitlines() == ["Eileen Collins\t1 encoding(s)"]
    assert "no person named 'Nobody'" in run("remove", "Nobody", check=2).stderr
    text = gallery.read_text(encoding="utf-8")
    assert len(text) < 4000 and "no face images" in text  # 128 numbers, a name and the note: no pixels

    # The whole path: a policy naming the gallery, `redactor redact`, the report per face.
    (tmp_path / "policy.toml").write_text("protect = ['face']\n[faces]\nmode = 'protected'\n"
                                          "protected_gallery = 'g.json'\n", encoding="utf-8")
    src = tmp_path / "in"
    src.mkdir()
    (src / "pair.jpg").write_bytes((tmp_path / "pair.jpg").read_bytes())
    proc = subprocess.run([REDACTOR, "redact", src, "-o", tmp_path / "out", "--policy", tmp_path / "policy.toml"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rep = json.loads((tmp_path / "out" / "pair.jpg.json").read_text(encoding="utf-8"))
    decided = sorted((f["rule"], f["name"], f["hidden"]) for f in rep["faces"] if f["rule"] != "below-threshold")
    assert decided == [("protected", "Eileen Collins", True), ("unmatched", None, False)]


def test_face_recognition_pins_agree_with_the_lock_file_and_makefile():
    root = DATA.parents[1]
    lock = (root / "requirements.lock").read_text(encoding="utf-8").split()
    for req in (identity.FACE_RECOGNITION, identity.DLIB, identity.SETUPTOOLS):
        assert req in lock, f"{req} is not pinned in requirements.lock"
    assert f'--no-deps "{identity.FACE_RECOGNITION}"' in (root / "Makefile").read_text(encoding="utf-8")


@pytest.mark.models
def test_loading_face_recognition_keeps_truncated_images_refused(tmp_path):
    """face_recognition sets Pillow's LOAD_TRUNCATED_IMAGES when imported; redactor undoes that."""
    from PIL import ImageFile

    from redactor import UnreadableImageError, io

    identity.FaceEncoder()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    data = (DATA / "astronaut.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(UnreadableImageError):
        io.load(cut)
