"""The metadata fields a policy may keep, the ones never kept, and ``[metadata]`` itself:
data (:data:`FIELDS`, :data:`REFUSED`) and the policy-side parsing of a keep list. What is done
with them on an output (ExifTool, the checks, signing) is in metadata.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import PolicyError

if TYPE_CHECKING:
    from .provenance import Signing

__all__ = ["FIELDS", "PERSONAL_TEXT", "REFUSED", "Field", "MetadataPolicy", "parse_keep", "refusal"]


@dataclass(frozen=True)
class Field:
    """A field that may be kept. ``tag``: ExifTool's family-1 group and tag name, used to read and
    to write it. ``twin``: the XMP field holding the same thing, written instead where the output
    format has no IPTC-IIM block (PNG, WebP, HEIC), per the IPTC Photo Metadata mapping."""

    name: str
    tag: str
    twin: str | None = None
    is_list: bool = False


def _fields(*rows: tuple[str, str, str | None, bool]) -> dict[str, Field]:
    return {name: Field(name, tag, twin, is_list) for name, tag, twin, is_list in rows}


#: Every field that can be kept, by the name a policy uses (``family:[namespace:]Tag``).
FIELDS: dict[str, Field] = _fields(
    ("iptc:By-line", "IPTC:By-line", "xmp:dc:creator", True),
    ("iptc:By-lineTitle", "IPTC:By-lineTitle", "xmp:photoshop:AuthorsPosition", False),
    ("iptc:Credit", "IPTC:Credit", "xmp:photoshop:Credit", False),
    ("iptc:Source", "IPTC:Source", "xmp:photoshop:Source", False),
    ("iptc:CopyrightNotice", "IPTC:CopyrightNotice", "xmp:dc:rights", False),
    ("iptc:Caption-Abstract", "IPTC:Caption-Abstract", "xmp:dc:description", False),
    ("iptc:Headline", "IPTC:Headline", "xmp:photoshop:Headline", False),
    ("iptc:ObjectName", "IPTC:ObjectName", "xmp:dc:title", False),
    ("iptc:Keywords", "IPTC:Keywords", "xmp:dc:subject", True),
    ("iptc:SpecialInstructions", "IPTC:SpecialInstructions", "xmp:photoshop:Instructions", False),
    ("xmp:dc:creator", "XMP-dc:Creator", None, True),
    ("xmp:dc:rights", "XMP-dc:Rights", None, False),
    ("xmp:dc:description", "XMP-dc:Description", None, False),
    ("xmp:dc:title", "XMP-dc:Title", None, False),
    ("xmp:dc:subject", "XMP-dc:Subject", None, True),
    ("xmp:photoshop:Headline", "XMP-photoshop:Headline", None, False),
    ("xmp:photoshop:Credit", "XMP-photoshop:Credit", None, False),
    ("xmp:photoshop:Source", "XMP-photoshop:Source", None, False),
    ("xmp:photoshop:AuthorsPosition", "XMP-photoshop:AuthorsPosition", None, False),
    ("xmp:photoshop:Instructions", "XMP-photoshop:Instructions", None, False),
    ("xmp:xmpRights:UsageTerms", "XMP-xmpRights:UsageTerms", None, False),
    ("xmp:xmpRights:WebStatement", "XMP-xmpRights:WebStatement", None, False),
    ("exif:Artist", "IFD0:Artist", None, False),
    ("exif:Copyright", "IFD0:Copyright", None, False),
    ("exif:ImageDescription", "IFD0:ImageDescription", None, False),
)
_BY_LOWER = {n.lower(): f for n, f in FIELDS.items()}

#: Reasons a field is never kept, with patterns matched on its lower-cased name (a policy's name
#: or ExifTool's, normalised by metadata._policy_name). First match names the reason.
REFUSED: tuple[tuple[str, re.Pattern[str]], ...] = tuple((reason, re.compile(rx)) for reason, rx in (
    ("location", r"gps|^iptc:(city|sub-location|province-state|country-primarylocation(name|code))$"
                 r"|^xmp:photoshop:(city|state|country)$|^xmp:iptc(4xmp)?core:(location|countrycode)$"
                 r"|^xmp:iptc(4xmp)?ext:location|^xmp:exif:gps"),
    ("serial number", r"serialnumber"),
    ("maker notes", r"makernote"),
    ("thumbnail or preview", r"thumbnail|preview"),
    ("owner name", r"ownername"),
    ("face regions", r"^xmp:(mwg-rs|mp|mpri|microsoftphoto|acdsee-rs|lr|digikam):|region"),
    ("history or document id", r"^xmp:xmpmm:|documentid|instanceid|imageuniqueid|documentancestors|history"
                               r"|derivedfrom|originaldocument"),
    ("C2PA manifest", r"^jumbf:|^cbor:|c2pa"),
))

PERSONAL_TEXT = ("mask", "drop")


@dataclass(frozen=True)
class MetadataPolicy:
    """``[metadata]`` in the policy. ``keep``: the fields to keep (names of :data:`FIELDS`);
    ``refused``: names asked for that are never kept, with the reason; ``personal_text``: what
    happens to a kept field holding personal text ("mask" its spans, or "drop" the field);
    ``sign``: the certificate and key that sign outputs (C2PA), or None; ``keep_manifest``: keep
    an input's own C2PA manifest as an ingredient of the signed output (it can hold the original's
    thumbnail; default: removed)."""

    keep: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()
    personal_text: str = "mask"
    sign: Signing | None = None
    keep_manifest: bool = False

    @property
    def active(self) -> bool:
        """False for the default: outputs then skip this module entirely (no ExifTool run)."""
        return bool(self.keep or self.sign)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"keep": list(self.keep), "refused": [n for n, _ in self.refused],
                               "personal_text": self.personal_text, "keep_manifest": self.keep_manifest}
        if self.sign is not None:
            out["sign"] = self.sign.to_dict()
        return out


def parse_keep(names: Iterable[str], source: str) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Names -> (fields to keep, (name, reason) refused). Case-insensitive; an unknown name is a
    PolicyError naming every known one."""
    keep: list[str] = []
    refused: list[tuple[str, str]] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        reason = refusal(name.lower())
        if reason is not None:
            refused.append((name, reason))
        elif name.lower() in _BY_LOWER:
            canonical = _BY_LOWER[name.lower()].name
            if canonical not in keep:
                keep.append(canonical)
        else:
            raise PolicyError(f"{source}: metadata field {name!r} is not known; fields that can be kept: "
                              f"{', '.join(FIELDS)}")
    return tuple(keep), tuple(refused)


def refusal(name: str) -> str | None:
    """Why the field named ``name`` (lower case) is never kept, or None."""
    return next((reason for reason, rx in REFUSED if rx.search(name)), None)
