"""Kept metadata and Content Credentials (redactor/metadata.py, redactor/provenance.py).

Inputs are drawn here and given every field at once with exiftool (the dangerous ones too);
outputs are read back with exiftool, the way a picture desk's tools will. exiftool is a test
dependency (Debian: libimage-exiftool-perl): without it these tests fail, never skip. The
certificate chain is made here, thrown away after the test.
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import c2pa
import numpy as np
import pillow_heif
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fakes import FakeFaces, FakeText
from PIL import Image

from redactor import MetadataError, Policy, PolicyError, batch
from redactor.classify import TextClassifier
from redactor.detect import FACE_DETECTORS, TEXT_ENGINES
from redactor.metadata import FIELDS, Finisher, MetadataPolicy, parse_keep
from redactor.provenance import load_signing, sign
from redactor.types import Finding, Quad

pillow_heif.register_heif_opener()

EXIFTOOL = shutil.which("exiftool")
REDACTOR = str(Path(sys.executable).with_name("redactor"))
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "HEIF": ".heic"}

CAPTION = "Protest in Mong Kok.\nContact the desk on 9123 4567 for prints."
#: Values no output may ever carry, whatever is kept.
SECRETS = ("Mongkok", "ABC123", "L999", "Owner Wong", "Chan Tai Man", "xmp.did:123", "xmp.iid:777",
           "22.3", "9123 4567", "a secret comment")

# Tags ExifTool adds around the fields it writes, and the tags the metadata-free encoding has
# anyway (structure): allowed in an output besides the kept fields.
ALLOWED_EXTRA = {"XMP-x:XMPToolkit", "IPTC:ApplicationRecordVersion", "IPTC:CodedCharacterSet",
                 "IPTC:EnvelopeRecordVersion",
                 "Photoshop:IPTCDigest", "IFD0:XResolution", "IFD0:YResolution", "IFD0:ResolutionUnit",
                 "IFD0:YCbCrPositioning", "ExifIFD:ExifVersion", "ExifIFD:ComponentsConfiguration",
                 "ExifIFD:FlashpixVersion", "ExifIFD:ColorSpace"}
TIFF_STRUCTURE = {"SubfileType", "ImageWidth", "ImageHeight", "BitsPerSample", "Compression",
                  "PhotometricInterpretation", "StripOffsets", "SamplesPerPixel", "RowsPerStrip",
                  "StripByteCounts", "PlanarConfiguration", "ExtraSamples", "Predictor", "SampleFormat"}
METADATA_G0 = {"EXIF", "IPTC", "XMP", "MakerNotes", "Photoshop", "JUMBF", "CBOR", "Jpeg2000"}


def exiftool(*args: str) -> str:
    if EXIFTOOL is None:
        pytest.fail("exiftool is needed to write and read metadata: apt-get install libimage-exiftool-perl")
    return subprocess.run([EXIFTOOL, *args], check=True, capture_output=True, text=True).stdout


def read_tags(path: Path) -> dict[str, Any]:
    """``G1:Tag`` -> value for every metadata tag (EXIF, IPTC, XMP, maker notes, C2PA...)."""
    (tags,) = json.loads(exiftool("-j", "-a", "-u", "-G0:1", str(path)))
    out = {}
    for key, value in tags.items():
        parts = key.split(":")
        if parts[0] in METADATA_G0 or key.endswith(":Comment"):
            out[f"{parts[-2]}:{parts[-1]}"] = value
    return out


def full_input(path: Path, fmt: str, seed: int = 0) -> Path:
    """An image in ``fmt`` carrying every keepable field and every never-kept kind of field."""
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(60, 200, (96, 128, 3), dtype=np.uint8))
    options: dict[str, Any] = {"compression": "tiff_lzw"} if fmt == "TIFF" else {}
    if fmt == "JPEG":  # a maker note (Pillow writes it; exiftool cannot invent one)
        ex = Image.Exif()
        ex.get_ifd(0x8769)[0x927C] = b"Owner Wong maker note"
        options["exif"] = ex.tobytes()
    im.save(path, format=fmt, **options)
    thumb = path.with_name("thumb.jpg")
    im.resize((32, 24)).save(thumb, quality=80)
    args = [
        "-IPTC:By-line=Ann Lee", "-IPTC:Credit=Daily Example", "-IPTC:Caption-Abstract=" + CAPTION,
        "-IPTC:CopyrightNotice=(c) Daily Example", "-IPTC:Headline=March", "-IPTC:Keywords=protest",
        "-IPTC:Keywords=hong kong", "-IPTC:City=Mongkok", "-IPTC:Sub-location=Mongkok",
        "-XMP-dc:Creator=Ann Lee", "-XMP-dc:Rights=(c) Daily Example", "-XMP-dc:Description=" + CAPTION,
        "-XMP-dc:Subject=protest", "-XMP-dc:Subject=hong kong", "-XMP-photoshop:Headline=March",
        "-XMP-photoshop:Credit=Daily Example", "-XMP-photoshop:City=Mongkok",
        "-XMP-iptcCore:Location=Mongkok", "-XMP-iptcExt:DigitalSourceType=digitalCapture",
        "-XMP-xmpMM:DocumentID=xmp.did:123", "-XMP-xmpMM:InstanceID=xmp.iid:777",
        "-XMP-xmpMM:HistoryAction=saved", "-XMP-xmpMM:HistoryInstanceID=xmp.iid:777",
        "-XMP-mwg-rs:RegionInfo={RegionList=[{Area={X=0.5,Y=0.5,W=0.1,H=0.1,Unit=normalized},"
        "Name=Chan Tai Man,Type=Face}]}",
        "-XMP-aux:SerialNumber=ABC123", "-XMP-aux:OwnerName=Owner Wong",
        "-EXIF:Artist=Ann Lee", "-EXIF:Copyright=(c) Daily Example", "-EXIF:SerialNumber=ABC123",
        "-EXIF:LensSerialNumber=L999", "-EXIF:OwnerName=Owner Wong", "-EXIF:GPSLatitude=22.3",
        "-EXIF:GPSLatitudeRef=N", "-EXIF:GPSLongitude=114.17", "-EXIF:GPSLongitudeRef=E",
        "-EXIF:ImageUniqueID=0123456789abcdef0123456789abcdef",
    ]
    if fmt == "JPEG":
        args += [f"-ThumbnailImage<={thumb}", "-Comment=a secret comment"]
    exiftool("-overwrite_original", "-m", *args, str(path))
    thumb.unlink()
    return path


def encoded(path: Path, fmt: str) -> bytes:
    """A metadata-free copy of the pixels, as io.encode writes an output."""
    from redactor import io as rio

    loaded = rio.load(path)
    return rio.encode(loaded.rgb, loaded.alpha, loaded.source)


def finish(tmp_path: Path, src: Path, fmt: str, meta: MetadataPolicy, **kw: Any) -> tuple[Path, dict]:
    clf = TextClassifier(frozenset({"phone", "email", "id", "custom"}), deny_terms=("Chan Tai Man",))
    data, section = Finisher(meta, clf, threshold=0.5).finish(encoded(src, fmt), fmt, src, **kw)
    out = tmp_path / f"out{FORMATS.get(fmt, '.bmp')}"
    out.write_bytes(data)
    return out, section


ALL = tuple(FIELDS)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_only_the_kept_fields_travel_with_their_checked_values(tmp_path, fmt):
    src = full_input(tmp_path / f"in{FORMATS[fmt]}", fmt)
    keep, refused = parse_keep([*ALL, "exif:GPSLatitude", "xmp:mwg-rs:Regions"], "test")
    out, section = finish(tmp_path, src, fmt, MetadataPolicy(keep=keep, refused=refused))
    tags = read_tags(out)
    masked = CAPTION.replace("9123 4567", "[phone]")
    iim = fmt in ("JPEG", "TIFF")
    expected = {
        "XMP-dc:Creator": "Ann Lee", "XMP-dc:Rights": "(c) Daily Example", "XMP-dc:Description": masked,
        "XMP-photoshop:Headline": "March", "XMP-photoshop:Credit": "Daily Example",
        "IFD0:Artist": "Ann Lee", "IFD0:Copyright": "(c) Daily Example", "XMP-dc:Subject": ["protest", "hong kong"],
    }
    if iim:
        expected |= {"IPTC:By-line": "Ann Lee", "IPTC:Credit": "Daily Example", "IPTC:Caption-Abstract": masked,
                     "IPTC:CopyrightNotice": "(c) Daily Example", "IPTC:Headline": "March",
                     "IPTC:Keywords": ["protest", "hong kong"]}
    for tag, value in expected.items():
        assert tags.get(tag) == value, (tag, tags.get(tag))
    extra = {t for t in tags if t not in expected and t not in ALLOWED_EXTRA
             and not (fmt == "TIFF" and t.startswith("IFD0:") and t.split(":")[1] in TIFF_STRUCTURE)}
    assert not extra, f"{fmt} output carries tags that were not kept: {sorted(extra)}"
    blob = out.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in blob, secret
    caption = next(f for f in section["kept"] if f["field"] == "xmp:dc:description")
    assert caption["action"] == "masked" and caption["categories"] == ["phone"]
    if fmt == "PNG":  # read from the input's (non-standard) IPTC, written to the XMP twin
        byline = next(f for f in section["kept"] if f["field"] == "iptc:By-line")
        assert byline["written_as"] == "xmp:dc:creator"
    assert {r["field"]: r["reason"] for r in section["refused"]} == {
        "exif:GPSLatitude": "location", "xmp:mwg-rs:Regions": "face regions"}
    assert section["input_manifest"] == "none" and "signed" not in section


def test_personal_text_can_drop_the_field_and_a_deny_term_counts(tmp_path):
    src = full_input(tmp_path / "in.jpg", "JPEG")
    exiftool("-overwrite_original", "-IPTC:Headline=Chan Tai Man arrested", str(src))
    keep, _ = parse_keep(["iptc:Caption-Abstract", "iptc:Headline", "iptc:Credit"], "test")
    out, section = finish(tmp_path, src, "JPEG", MetadataPolicy(keep=keep, personal_text="drop"))
    tags = read_tags(out)
    assert "IPTC:Caption-Abstract" not in tags and "IPTC:Headline" not in tags
    assert tags["IPTC:Credit"] == "Daily Example"
    fates = {f["field"]: (f["action"], f.get("categories")) for f in section["kept"]}
    assert fates == {"iptc:Caption-Abstract": ("dropped", ["phone"]), "iptc:Headline": ("dropped", ["custom"]),
                     "iptc:Credit": ("kept", None)}


def test_unknown_names_are_an_error_naming_the_known_ones():
    with pytest.raises(PolicyError) as e:
        Policy.from_toml('[metadata]\nkeep = ["iptc:Credit", "iptc:Photographer"]\n', source="p.toml")
    assert "iptc:Photographer" in str(e.value) and "iptc:By-line" in str(e.value) and "p.toml" in str(e.value)
    p = Policy.from_toml('[metadata]\nkeep = ["IPTC:CREDIT", "exif:LensSerialNumber", "exif:OwnerName"]\n')
    assert p.metadata.keep == ("iptc:Credit",)
    assert dict(p.metadata.refused) == {"exif:LensSerialNumber": "serial number", "exif:OwnerName": "owner name"}
    assert p.fingerprint() != Policy.default().fingerprint()
    assert "metadata" not in Policy.default().to_dict()  # old policies keep their fingerprint


def test_bmp_keeps_nothing_and_says_so(tmp_path):
    src = full_input(tmp_path / "in.jpg", "JPEG")
    bmp = tmp_path / "in.bmp"
    Image.open(src).save(bmp)
    out, section = finish(tmp_path, src, "BMP", MetadataPolicy(keep=("iptc:Credit",)))
    assert section["kept"] == [{"field": "iptc:Credit", "action": "dropped", "reason": "BMP cannot carry metadata"}]
    assert b"Daily Example" not in out.read_bytes()


# -- Content Credentials -------------------------------------------------------------------------

def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Daily Example (test)")])


def _cert(subject: str, key, issuer: x509.Name, issuer_key, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    usage = dict(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                 encipher_only=False, decipher_only=False)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=7))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(**usage), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if not ca:
        b = (b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False))
    return b.sign(issuer_key, hashes.SHA256())


def make_chain(d: Path, root_name: str = "Test Root CA", desk_name: str = "Picture Desk") -> tuple[Path, Path, str]:
    """(chain.pem, key.pem, the root's PEM) in ``d``: a throw-away root CA and a desk signing
    certificate (bench/metadata.py uses it too)."""
    root_key, desk_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = _cert(root_name, root_key, _name(root_name), root_key, ca=True)
    desk = _cert(desk_name, desk_key, root.subject, root_key, ca=False)
    pem = serialization.Encoding.PEM
    (d / "chain.pem").write_bytes(desk.public_bytes(pem) + root.public_bytes(pem))
    (d / "key.pem").write_bytes(desk_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return d / "chain.pem", d / "key.pem", root.public_bytes(pem).decode()


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> tuple[Path, Path, str]:
    """(chain.pem, key.pem, the root's PEM): a throw-away root CA and a desk signing certificate."""
    return make_chain(tmp_path_factory.mktemp("pki"))


def manifest_of(path: Path, mime: str, root: str) -> tuple[str, dict]:
    ctx = c2pa.Context.from_dict({"trust": {"user_anchors": root}, "verify": {"verify_trust": True}})
    with path.open("rb") as f:
        reader = c2pa.Reader(mime, f, context=ctx)
        store = json.loads(reader.json())
        return reader.get_validation_state(), store


FINDINGS = (
    Finding("face", Quad.from_box(0, 0, 10, 10), 0.9, "blur", "fake"),
    Finding("face", Quad.from_box(20, 0, 30, 10), 0.9, "blur", "fake"),
    Finding("phone", Quad.from_box(0, 20, 40, 30), 0.9, "fill", "fake", "hk_phone", "9123 4567"),
    Finding("name", Quad.from_box(0, 40, 40, 50), 0.9, "fill", "fake", "ner-en", "Chan Tai Man"),
)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_signed_output_validates_names_the_actions_and_holds_no_hidden_text(tmp_path, chain, fmt):
    cert, key, root = chain
    src = full_input(tmp_path / f"in{FORMATS[fmt]}", fmt)
    meta = MetadataPolicy(keep=("xmp:photoshop:Credit",), sign=load_signing(cert, key))
    if fmt == "HEIF":  # c2pa-python moves a HEIC's XMP item when it signs: refused, not written broken
        with pytest.raises(MetadataError, match="cannot both keep metadata and be signed"):
            finish(tmp_path, src, fmt, meta, findings=FINDINGS)
        meta = MetadataPolicy(sign=meta.sign)
    out, section = finish(tmp_path, src, fmt, meta, findings=FINDINGS)
    mime = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "TIFF": "image/tiff",
            "HEIF": "image/heic"}[fmt]
    state, store = manifest_of(out, mime, root)
    assert state == "Trusted", store.get("validation_status")
    active = store["manifests"][store["active_manifest"]]
    assert active["claim_generator_info"][0]["name"] == "redactor"
    actions = next(a for a in active["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited"]
    assert actions[0]["digitalSourceType"] == "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    assert "2 faces" in actions[1]["description"] and "1 phone number" in actions[1]["description"]
    assert active["ingredients"][0]["relationship"] == "parentOf"
    assert "thumbnail" not in json.dumps(store).lower()
    blob = out.read_bytes()
    for secret in ("9123 4567", "Chan Tai Man", "Mongkok", "ABC123"):
        assert secret not in json.dumps(store, ensure_ascii=False) and secret.encode() not in blob
    assert read_tags(out).get("XMP-photoshop:Credit") == (None if fmt == "HEIF" else "Daily Example")
    assert section["signed"]["actions"] == ["c2pa.opened", "c2pa.edited"]
    assert "Picture Desk" in section["signed"]["subject"]


def test_an_inputs_manifest_is_removed_unless_kept_as_ingredient(tmp_path, chain):
    cert, key, root = chain
    signing = load_signing(cert, key)
    plain = full_input(tmp_path / "plain.jpg", "JPEG")
    signed_in, _ = sign(plain.read_bytes(), "JPEG", signing, findings=())
    src = tmp_path / "signed.jpg"
    src.write_bytes(signed_in)
    # Without --sign: the output carries no manifest at all.
    out, section = finish(tmp_path, src, "JPEG", MetadataPolicy(keep=("iptc:Credit",)))
    assert section["input_manifest"] == "removed"
    assert not any(t.split(":")[0] in ("JUMBF", "CBOR") for t in read_tags(out))
    # Signed: only redactor's manifest, the original a bare ingredient.
    out, section = finish(tmp_path, src, "JPEG", MetadataPolicy(sign=signing))
    _, store = manifest_of(out, "image/jpeg", root)
    assert section["input_manifest"] == "removed" and len(store["manifests"]) == 1
    # Asked to keep it: the input's manifest becomes the parent ingredient's.
    out, section = finish(tmp_path, src, "JPEG", MetadataPolicy(sign=signing, keep_manifest=True))
    state, store = manifest_of(out, "image/jpeg", root)
    assert state == "Trusted" and section["input_manifest"] == "ingredient" and len(store["manifests"]) == 2


def test_a_key_that_is_not_the_certificates_is_refused(tmp_path, chain):
    cert, _, _ = chain
    other = tmp_path / "other.pem"
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(PolicyError, match="not the key of the first certificate"):
        load_signing(cert, other)
    with pytest.raises(PolicyError, match="not a PEM certificate"):
        load_signing(other, other)


# -- through the batch and the CLI ---------------------------------------------------------------

@pytest.fixture
def fake_engines(monkeypatch):
    lines = [(Quad.from_box(10, 10, 80, 30), "電話 9123 4567")]
    monkeypatch.setitem(TEXT_ENGINES, "fake", lambda **kw: FakeText(lines=lines, **kw))
    monkeypatch.setitem(FACE_DETECTORS, "yuface", lambda **kw: FakeFaces([(Quad.from_box(60, 40, 100, 80), 0.9)]))


def _run(src_dir: Path, out: Path, policy: Policy) -> list[batch.Outcome]:
    return batch.run(batch.plan([src_dir], out), batch.Options(policy=policy, ocr="fake"))


def test_batch_keeps_signs_reports_and_redoes_when_the_settings_change(tmp_path, chain, fake_engines):
    cert, key, root = chain
    (tmp_path / "in").mkdir()
    full_input(tmp_path / "in" / "a.jpg", "JPEG")
    out = tmp_path / "out"
    # Default: no metadata at all, no metadata section.
    assert [o.status for o in _run(tmp_path / "in", out, Policy.default())] == ["redacted"]
    assert read_tags(out / "a.jpg") == {}
    assert "metadata" not in json.loads((out / "a.jpg.json").read_text())
    kept = Policy.default().with_metadata(keep=["iptc:Credit", "iptc:Caption-Abstract"])
    assert [o.status for o in _run(tmp_path / "in", out, kept)] == ["redacted"]  # redone: settings changed
    rep = json.loads((out / "a.jpg.json").read_text())
    assert [f["field"] for f in rep["metadata"]["kept"]] == ["iptc:Credit", "iptc:Caption-Abstract"]
    assert read_tags(out / "a.jpg")["IPTC:Credit"] == "Daily Example"
    assert [o.status for o in _run(tmp_path / "in", out, kept)] == ["skipped"]
    signed = kept.with_metadata(sign=(str(cert), str(key)))
    assert [o.status for o in _run(tmp_path / "in", out, signed)] == ["redacted"]
    state, store = manifest_of(out / "a.jpg", "image/jpeg", root)
    assert state == "Trusted"
    rep = json.loads((out / "a.jpg.json").read_text())
    assert rep["metadata"]["signed"]["description"].startswith("Hidden by redactor: 1 face, 1 phone number")
    assert "9123" not in json.dumps(store, ensure_ascii=False)


def test_a_check_that_fails_writes_nothing(tmp_path, fake_engines, monkeypatch):
    import redactor.metadata as md

    (tmp_path / "in").mkdir()
    full_input(tmp_path / "in" / "a.jpg", "JPEG")
    monkeypatch.setattr(md, "_BOOKKEEPING", frozenset())  # XMPToolkit is then a tag nobody allowed
    out = tmp_path / "out"
    outcomes = _run(tmp_path / "in", out, Policy.default().with_metadata(keep=["xmp:dc:creator"]))
    assert [o.status for o in outcomes] == ["failed"] and "XMP-x:XMPToolkit" in outcomes[0].message
    assert not (out / "a.jpg").exists()
    assert json.loads((out / "a.jpg.json").read_text())["status"] == "failed"


def test_exiftool_missing_fails_closed(tmp_path, monkeypatch):
    import redactor.metadata as md

    src = full_input(tmp_path / "in.png", "PNG")
    monkeypatch.setattr(md._ExifTool, "_helper", None)
    monkeypatch.setattr(md.shutil, "which", lambda name: None)
    with pytest.raises(MetadataError, match="libimage-exiftool-perl"):
        finish(tmp_path, src, "PNG", MetadataPolicy(keep=("iptc:Credit",)))


def test_cli_inspect_and_an_unknown_field(tmp_path):
    src = full_input(tmp_path / "in.jpg", "JPEG")
    proc = subprocess.run([REDACTOR, "inspect", str(src), "--keep-metadata", "iptc:Credit,exif:GPSLatitude"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert "kept (text checked)" in lines["IPTC:Credit"]
    assert "never kept: location" in lines["GPS:GPSLatitude"]
    assert "never kept: face regions" in lines["XMP-mwg-rs:RegionName"]
    assert "never kept: serial number" in lines["ExifIFD:SerialNumber"]
    assert "dropped" in lines["IPTC:By-line"]
    assert "exif:GPSLatitude is never kept (location)" in proc.stderr
    proc = subprocess.run([REDACTOR, "redact", str(src), "-o", str(tmp_path / "o"), "--keep-metadata", "credit"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "'credit' is not known" in proc.stderr and "iptc:Credit" in proc.stderr
    assert not (tmp_path / "o").exists()



def test_an_input_replaced_while_it_was_redacted_is_not_written(tmp_path):
    src = full_input(tmp_path / "-in.png", "PNG")  # a name exiftool would take for an option
    data = encoded(src, "PNG")
    fin = Finisher(MetadataPolicy(keep=("xmp:photoshop:Credit",)))
    import hashlib

    _, section = fin.finish(data, "PNG", src, sha256=hashlib.sha256(src.read_bytes()).hexdigest())
    assert section["kept"] == [{"field": "xmp:photoshop:Credit", "action": "kept"}]
    with pytest.raises(MetadataError, match="changed while it was redacted"):
        fin.finish(data, "PNG", src, sha256="0" * 64)


def test_cli_render_keeps_and_signs_like_redact(tmp_path, chain, fake_engines):
    from redactor import cli

    cert, key, root = chain
    (tmp_path / "in").mkdir()
    full_input(tmp_path / "in" / "a.jpg", "JPEG")
    assert cli.main(["analyse", str(tmp_path / "in"), "-o", str(tmp_path / "d"), "--ocr", "fake"]) == 0
    assert cli.main(["render", str(tmp_path / "in"), "--decisions", str(tmp_path / "d"), "-o", str(tmp_path / "o"),
                     "--keep-metadata", "iptc:Credit,exif:GPSLatitude", "--sign", str(cert), str(key)]) == 0
    out = tmp_path / "o" / "a.jpg"
    tags = read_tags(out)
    assert tags["IPTC:Credit"] == "Daily Example" and not any("GPS" in t for t in tags)
    assert manifest_of(out, "image/jpeg", root)[0] == "Trusted"
    rep = json.loads((tmp_path / "o" / "a.jpg.json").read_text())
    assert rep["metadata"]["refused"] == [{"field": "exif:GPSLatitude", "reason": "location"}]
