"""The per-image JSON report (schema ``redactor.report/1``).

A report lists every finding (category, polygon, score, action, detector, recognizer), every
detected face with the rule that hid or kept it (``faces``: "all", "protected", "allowed",
"unmatched", "encoding-failed" or "below-threshold", with the gallery name and distance), the
timings, the tool and model versions, and the input's sha256 (what a resumed batch compares).
Hidden text is personal data: it appears only masked (``9*** **67``) unless the caller asks
for clear text explicitly.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from . import __version__
from .detect import TEXT_ENGINE_WARNINGS
from .models import versions
from .policy import Policy
from .types import Result, Source

SCHEMA = "redactor.report/1"


def mask_text(text: str) -> str:
    """Keep the first and the last two visible characters; replace the others with '*'.

    Spaces and punctuation stay so the shape is recognisable; strings of 4 characters or
    fewer are masked entirely (a Chinese name is 2-3 characters).
    """
    visible = [i for i, ch in enumerate(text) if ch.isalnum()]
    if len(visible) <= 4:
        keep: set[int] = set()
    else:
        keep = {visible[0], *visible[-2:]}
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(text))


def input_warnings(source: Source | None) -> list[str]:
    """What the output loses against its input, said in the report and by the CLI."""
    if source is None or source.bits <= 8:
        return []
    return [f"{source.name}: the input stores {source.bits} bits per channel; the output has 8 (redactor reads "
            "and writes 8-bit RGB), so finer tones are rounded. Keep the original if that precision matters"]


def build(*, name: str, status: str, policy: Policy | None, result: Result | None = None,
          source: Source | None = None, output: str | None = None, output_sha256: str | None = None,
          error: str | None = None, clear_text: bool = False, ocr: str = "rapidocr",
          policy_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-ready report. ``status``: "redacted", "dry-run" or "failed". ``ocr``: the text engine;
    what it cannot read (e.g. Chinese, for easyocr) is listed under ``ocr.warnings``.
    ``policy_info`` replaces the ``policy`` section when the output was rendered from a
    decisions file (the policy that analysed it is recorded there, not loaded again)."""
    if policy_info is None:
        assert policy is not None, "a report needs the policy or policy_info"
        policy_info = {"source": policy.source, "fingerprint": policy.fingerprint(), "faces_mode": policy.faces.mode}
    src = source or (result.source if result else None)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "status": status,
        "input": {"path": name},
        "output": output,
        "output_sha256": output_sha256,  # what a resumed batch checks the output file against
        "error": error,
        "tool": {"name": "redactor", "version": __version__},
        "models": versions(),
        "policy": policy_info,
        "ocr": {"engine": ocr, "warnings": [TEXT_ENGINE_WARNINGS[ocr]] if ocr in TEXT_ENGINE_WARNINGS else []},
        "warnings": input_warnings(src),  # what the output lost against the input (e.g. 16-bit -> 8-bit)
    }
    if src is not None:
        report["input"].update({
            "sha256": src.sha256, "format": src.format, "width": src.width, "height": src.height,
            "exif_orientation": src.orientation, "bits_per_channel": src.bits,
        })
    if result is not None:
        report["findings"] = [
            {
                "category": f.category,
                "polygon": [[round(x, 1), round(y, 1)] for x, y in f.quad.points],
                "score": f.score,
                "action": f.action,
                "detector": f.detector,
                "recognizer": f.recognizer,
                **({"text": f.text} if clear_text else {"text_masked": mask_text(f.text)} if f.text else {}),
            }
            for f in result.findings
        ]
        # Every detected face, hidden or kept, and the rule that decided it (kept faces are no findings).
        report["faces"] = [
            {
                "box": [round(v, 1) for v in d.quad.bbox()],
                "score": d.score,
                "detector": d.detector,
                "hidden": d.hidden,
                "rule": d.rule,
                "gallery": d.gallery or None,
                "name": d.name or None,
                "distance": d.distance,
            }
            for d in result.faces
        ]
        report["counts"] = dict(Counter(f.category for f in result.findings))
        report["replaced_fraction"] = round(float(result.mask.mean()), 5)
        report["timings"] = {k: round(v, 4) for k, v in result.timings.items()}
    return report


def dumps(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
