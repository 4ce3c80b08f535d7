"""Metadata that may travel with an output: a chosen few fields, checked, and nothing else.

By default an output carries no metadata at all (io.encode builds it fresh from the pixels).
A policy's ``[metadata] keep`` list (or ``redact --keep-metadata``) names fields a picture desk
needs, such as the credit, the caption and the copyright; :class:`Finisher` copies those from the
input onto the encoded output with ExifTool (Debian's ``exiftool`` through ``pyexiftool``: the one
tool here that writes JPEG, PNG, WebP, TIFF and HEIC; exiv2 cannot write HEIC), then optionally
signs it (provenance.py, C2PA).

Three guarantees, each checked on the bytes about to be written (fail closed: any doubt raises
MetadataError and the image is not written):

- Never kept, whatever is asked: location (GPS, IPTC and XMP places), camera and lens serial
  numbers, maker notes, thumbnails and previews, owner names, face regions (they carry people's
  names), and the history and document ids that link an output to its original. Asking for one
  is not an error: the refusal is named in the report (:data:`REFUSED`).
- A kept field's text goes through the text classifier with the policy's categories, lists and
  threshold: personal text in it is masked (``[phone]``) or the field dropped
  (``[metadata] personal_text``), and the report says which.
- The written file is read back with ExifTool: every tag in it must be one the metadata-free
  encoding already had (its structure), a kept field with exactly the value written, or one of
  the few bookkeeping tags ExifTool adds with them (:data:`_BOOKKEEPING`); signed outputs may
  also hold the C2PA manifest store (JUMBF), itself checked by provenance.py.
"""

from __future__ import annotations

import hashlib
import html
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MetadataError
from .metadata_fields import FIELDS, REFUSED, MetadataPolicy, parse_keep, refusal

if TYPE_CHECKING:
    from .classify import TextClassifier
    from .policy import Policy
    from .types import Finding

__all__ = ["FIELDS", "REFUSED", "Finisher", "MetadataPolicy", "describe", "parse_keep"]

# Tags ExifTool adds when it creates the blocks the kept fields go into: no content of the input.
_BOOKKEEPING = frozenset({
    "XMP-x:XMPToolkit", "IPTC:ApplicationRecordVersion", "IPTC:CodedCharacterSet", "IPTC:EnvelopeRecordVersion",
    "Photoshop:IPTCDigest",
    "IFD0:XResolution", "IFD0:YResolution", "IFD0:ResolutionUnit", "IFD0:YCbCrPositioning",
    "ExifIFD:ExifVersion", "ExifIFD:ComponentsConfiguration", "ExifIFD:FlashpixVersion", "ExifIFD:ColorSpace",
    "File:ExifByteOrder", "File:CurrentIPTCDigest", "RIFF:WebP_Flags", "Composite:ImageSize", "Composite:Megapixels",
})
# Groups holding a C2PA manifest store, allowed only in a signed output (provenance.py checks it).
_C2PA_GROUPS = frozenset({"JUMBF", "CBOR", "Jpeg2000", "C2PA"})
# Where ExifTool 12.57 sees a manifest store without naming it: TIFF's C2PA tag (52545) and the
# HEIF 'uuid' box c2pa writes (the output is otherwise ours: io.encode's pixels, our fields).
_C2PA_TAGS = frozenset({"IFD0:Exif_0xcd41", "QuickTime:UUID-Unknown"})
# Formats whose outputs cannot hold IPTC-IIM (ExifTool would write a non-standard block): the twin.
_NO_IIM = frozenset({"PNG", "WEBP", "HEIF"})
_NO_METADATA = frozenset({"BMP"})  # ExifTool cannot write these
SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "HEIF": ".heic", "BMP": ".bmp"}


def _policy_name(key: str) -> str:
    """ExifTool's ``G0:G1:Tag`` (or ``G0:Tag``) -> the policy's lower-case name for the tag."""
    parts = key.split(":")
    g0, g1, tag = parts[0], parts[-2], parts[-1]
    if g0 == "XMP":
        return f"xmp:{g1.removeprefix('XMP-')}:{tag}".lower()
    return f"{g0}:{tag}".lower()


def _g1(key: str) -> str:
    """``G0:G1:Tag`` -> ``G1:Tag``, the form FIELDS and _BOOKKEEPING use."""
    parts = key.split(":")
    return f"{parts[-2]}:{parts[-1]}"


# -- ExifTool ------------------------------------------------------------------------------------

class _ExifTool:
    """One ``exiftool -stay_open`` process per Python process, started at first use (≈0.3 s once;
    a call then takes milliseconds). Calls are serialised: the web server calls from threads."""

    _lock = threading.Lock()
    _helper: Any = None

    @classmethod
    def call(cls, *args: str) -> str:
        with cls._lock:
            if cls._helper is None or not cls._helper.running:
                cls._helper = cls._start()
            try:
                out = str(cls._helper.execute(*args))
                status, stderr = cls._helper.last_status, str(cls._helper.last_stderr or "").strip()
            except Exception as e:  # pyexiftool raises its own errors and plain ones for a dead process
                cls._helper = None
                raise MetadataError(f"exiftool failed ({type(e).__name__}: {e})") from e
            if status != 0:
                raise MetadataError(f"exiftool failed (exit status {status}: {stderr or 'no message'})")
            return out

    @classmethod
    def tags(cls, path: Path) -> dict[str, Any]:
        """Every tag in the file (duplicates and unknown tags too), keyed ``G0:G1:Tag``, values raw."""
        import json

        out = cls.call("-j", "-G0:1", "-a", "-u", "-n", "-charset", "filename=utf8", str(path))
        try:
            (tags,) = json.loads(out)
        except ValueError as e:
            raise MetadataError(f"{path}: exiftool's reading could not be parsed ({e})") from e
        return {k: v for k, v in tags.items() if not k.startswith(("File:System", "System", "SourceFile"))}

    @staticmethod
    def _start() -> Any:
        if shutil.which("exiftool") is None:
            raise MetadataError("keeping metadata or signing needs exiftool, which is not installed; install it "
                                "(Debian/Ubuntu: apt-get install libimage-exiftool-perl; macOS: brew install exiftool)")
        import exiftool

        helper = exiftool.ExifTool(common_args=[], encoding="utf-8")
        helper.run()
        return helper


# -- the write step ------------------------------------------------------------------------------

@dataclass
class _Written:
    """What the kept fields came to, for the report's ``metadata`` section."""

    fields: list[dict[str, Any]] = field(default_factory=list)
    writes: dict[str, list[str]] = field(default_factory=dict)  # FIELDS tag -> values written


class Finisher:
    """The write step for outputs that keep metadata or are signed. Built once per worker (the
    classifier's name models load at the first kept field that needs them); ``finish`` is called
    for each encoded output and returns the bytes to write, or raises MetadataError."""

    def __init__(self, meta: MetadataPolicy, classifier: TextClassifier | None = None, *,
                 threshold: float = 0.5) -> None:
        self.meta = meta
        self._classifier = classifier
        self._threshold = threshold

    @classmethod
    def for_policy(cls, policy: Policy) -> Finisher:
        """The policy's [metadata], with its text categories, lists and threshold for kept text."""
        from .classify import TextClassifier
        from .types import TEXT_CATEGORIES

        categories = frozenset(c for c in policy.protect if c in TEXT_CATEGORIES and c != "unreadable")
        clf = TextClassifier(categories, deny_terms=policy.deny, deny_patterns=policy.deny_patterns,
                             allow_terms=policy.allow) if policy.metadata.keep else None
        return cls(policy.metadata, clf, threshold=policy.text_threshold)

    def finish(self, data: bytes, fmt: str, original: Path, findings: Sequence[Finding] = (),
               sha256: str | None = None) -> tuple[bytes, dict]:
        """``data`` (io.encode's metadata-free bytes in format ``fmt``) with the kept fields of
        ``original`` and, when signing, a C2PA manifest. Returns (bytes, report section).

        ExifTool reads a private copy of ``original`` (its name can then hold nothing ExifTool
        could take for an option); with ``sha256`` (the pixels' source), a copy that is not the
        file the pixels came from (replaced since) raises MetadataError."""
        with tempfile.TemporaryDirectory(prefix="redactor-meta-") as tmp:
            out = Path(tmp) / f"out{SUFFIX.get(fmt, '.img')}"
            out.write_bytes(data)
            copy = Path(tmp) / "input"
            try:
                content = Path(original).read_bytes()
            except OSError as e:
                raise MetadataError(f"{original}: cannot be read again for its metadata ({e.strerror or e})") from e
            if sha256 is not None and hashlib.sha256(content).hexdigest() != sha256:
                raise MetadataError(f"{original}: the file changed while it was redacted; run the command again")
            copy.write_bytes(content)
            original = copy
            structure = set(map(_g1, _ExifTool.tags(out))) if fmt not in _NO_METADATA else set()
            source = _ExifTool.tags(original)
            section: dict[str, Any] = {"refused": [{"field": n, "reason": r} for n, r in self.meta.refused]}
            written = self._plan(source, fmt, section)
            if written.writes and self.meta.sign is not None and fmt == "HEIF":
                raise MetadataError("a HEIC output cannot both keep metadata and be signed: c2pa-python 0.38 moves "
                                    "the XMP item of a HEIC it signs (its data then points into the pixels). Keep "
                                    "the fields or sign, not both, for HEIC inputs (or convert them to JPEG)")
            if written.writes:
                self._write(out, written.writes)
            section["kept"] = written.fields
            had_manifest = any(k.split(":")[0] in _C2PA_GROUPS for k in source)
            section["input_manifest"] = ("none" if not had_manifest else
                                         "ingredient" if self.meta.keep_manifest and self.meta.sign else "removed")
            if self.meta.sign is not None:
                from . import provenance

                signed, section["signed"] = provenance.sign(
                    out.read_bytes(), fmt, self.meta.sign, findings=findings,
                    source_type=_source_type(source),
                    ingredient=original if had_manifest and self.meta.keep_manifest else None)
                out.write_bytes(signed)
            if fmt not in _NO_METADATA:
                _check(out, structure, written.writes, signed=self.meta.sign is not None)
            return out.read_bytes(), section

    def _plan(self, source: dict[str, Any], fmt: str, section: dict[str, Any]) -> _Written:
        by_tag: dict[str, Any] = {}
        for key, value in source.items():
            by_tag.setdefault(_g1(key), value)
        w = _Written()
        for name in self.meta.keep:
            f = FIELDS[name]
            if f.tag not in by_tag:
                continue
            values = _values(by_tag[f.tag])
            if fmt in _NO_METADATA:
                w.fields.append({"field": name, "action": "dropped", "reason": f"{fmt} cannot carry metadata"})
                continue
            target = FIELDS[f.twin] if f.tag.startswith("IPTC:") and fmt in _NO_IIM and f.twin else f
            entry: dict[str, Any] = {"field": name, "action": "kept"}
            if target is not f:
                entry["written_as"] = target.name
            cleaned, categories = self._clean(values)
            if categories:
                entry["categories"] = sorted(categories)
                entry["action"] = "masked" if cleaned is not None else "dropped"
            w.fields.append(entry)
            if cleaned is None or target.tag in w.writes:
                continue  # dropped, or its twin already written from the field kept under that name
            if not target.is_list:
                cleaned = [" ".join(cleaned)] if len(cleaned) > 1 else cleaned
            w.writes[target.tag] = cleaned
        return w

    def _clean(self, values: list[str]) -> tuple[list[str] | None, set[str]]:
        """Values with personal text masked as ``[category]`` (or None: dropped) and the categories."""
        if self._classifier is None:
            return values, set()
        found: set[str] = set()
        out = []
        for v in values:
            spans = []
            for line_start, line in _lines(v):
                hits = [h for h in self._classifier.classify(line) if h.score >= self._threshold]
                spans += [(line_start + h.start, line_start + h.end, h.category) for h in hits]
            found |= {c for _, _, c in spans}
            out.append(_mask(v, spans))
        if found and self.meta.personal_text == "drop":
            return None, found
        return out, found

    @staticmethod
    def _write(path: Path, writes: dict[str, list[str]]) -> None:
        args = ["-E", "-q", "-overwrite_original", "-m"]  # -E: values HTML-escaped (newlines survive the arg file)
        if any(tag.startswith("IPTC:") for tag in writes):
            args.append("-IPTC:CodedCharacterSet=UTF8")
        for tag, values in writes.items():
            args += [f"-{tag}={_escape(v)}" for v in values]
        _ExifTool.call(*args, str(path))


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, line) for each line: the classifier reads one line at a time, as it does OCR."""
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        out.append((pos, line.rstrip("\r\n")))
        pos += len(line)
    return out


def _mask(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    for start, end, category in sorted(spans, key=lambda s: -s[0]):
        text = text[:start] + f"[{category}]" + text[end:]
    return text


def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _escape(value: str) -> str:
    return html.escape(value, quote=False).replace("\n", "&#xa;").replace("\r", "&#xd;")


def _source_type(source: dict[str, Any]) -> str | None:
    """The input's IPTC digital source type (XMP Iptc4xmpExt:DigitalSourceType) as a full URI."""
    value = next((v for k, v in source.items() if _g1(k) == "XMP-iptcExt:DigitalSourceType"), None)
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    return value if "/" in value else f"http://cv.iptc.org/newscodes/digitalsourcetype/{value}"


def _check(path: Path, structure: set[str], writes: dict[str, list[str]], *, signed: bool) -> None:
    """Fail closed: every tag the output holds is structure, a kept value exactly, or bookkeeping."""
    wrong: list[str] = []
    seen: dict[str, list[str]] = {}
    for key, value in _ExifTool.tags(path).items():
        tag = _g1(key)
        if tag in writes:
            seen.setdefault(tag, []).extend(_values(value))
        elif not (tag in structure or tag in _BOOKKEEPING
                  or (signed and (key.split(":")[0] in _C2PA_GROUPS or tag in _C2PA_TAGS
                                  or "c2pa" in tag.lower()))):
            wrong.append(tag)
    for tag, values in writes.items():
        if seen.get(tag) != values:
            wrong.append(f"{tag} (value differs from the one written)")
    if wrong:
        raise MetadataError(f"the output would carry metadata that is not allowed ({', '.join(sorted(wrong))}); "
                            "it was not written. Report this with the input's `redactor inspect` output")


# -- inspect -------------------------------------------------------------------------------------

def describe(path: Path, meta: MetadataPolicy) -> list[tuple[str, str, str]]:
    """(name, value, what redaction does with it) for every metadata tag in ``path``: "kept",
    "never kept: REASON" or "dropped" (not on the keep list), for ``redactor inspect``."""
    rows = []
    kept = {FIELDS[n].tag for n in meta.keep}
    for key, value in _ExifTool.tags(path).items():
        g0 = key.split(":")[0]
        if g0 in ("ExifTool", "Composite") or (g0 == "File" and not key.endswith(":Comment")):
            continue
        reason = refusal(_policy_name(key))
        fate = (f"never kept: {reason}" if reason else "kept (text checked)" if _g1(key) in kept
                else "kept: colour profile" if g0 == "ICC_Profile" else "dropped")
        rows.append((_g1(key), _short(value), fate))
    return rows


def _short(value: Any, width: int = 60) -> str:
    text = " | ".join(_values(value)).replace("\n", "⏎")
    return text if len(text) <= width else text[:width - 1] + "…"
