"""Measure the text classifier alone on the annotated lines of an evaluation corpus (no OCR).

    .venv/bin/python bench/classify_lines.py /work/shared/corpus/real /work/shared/corpus/synthetic
    PYTHONPATH=/tmp/old .venv/bin/python bench/classify_lines.py ...   # another version of redactor

Every sidecar's text regions (format: the corpus README) are grouped into notes by the
pipeline's own geometry (layout.group_lines on their polygons or boxes), and each note is
classified with ``TextClassifier.classify_lines``, as the pipeline does with OCR's lines. A
line counts as hidden when a hit reaches the default policy's text threshold. Prints recall per
``pii`` kind on the lines that must be hidden, and the share of must-spare lines (``pii`` none)
left alone. Optional regions give context but are not counted. ``--by-line`` classifies each
line alone (no note context). ``--misses`` prints the missed and wrongly hidden lines, to read
(not to copy into tests: write a general rule and a made-up example instead).

This measures the classifier on the annotators' text, so OCR misreadings are not in it: it
moves with the rules, not with the photos' quality. ``redactor eval`` measures the whole thing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from redactor import Policy
from redactor.classify import TextClassifier
from redactor.layout import group_lines, merge_rows
from redactor.types import TEXT_CATEGORIES, Detection, Quad


def _quad(region: dict) -> Quad:
    if region.get("polygon") and len(region["polygon"]) == 4:
        return Quad.from_array(region["polygon"])
    return Quad.from_box(*region["bbox"])


def _row_holding(quad: Quad, rows: list[Detection]) -> int:
    """Index of the merged row whose quad holds the centre of ``quad`` (the nearest otherwise)."""
    cx, cy = quad.array().mean(axis=0)
    best, best_d = 0, float("inf")
    for i, row in enumerate(rows):
        x0, y0, x1, y1 = row.quad.bbox()
        d = max(x0 - cx, 0, cx - x1) + max(y0 - cy, 0, cy - y1)
        if d < best_d:
            best, best_d = i, d
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="+", type=Path)
    ap.add_argument("--by-line", action="store_true", help="classify each line alone, without its note")
    ap.add_argument("--no-merge", action="store_true", help="judge the annotated lines as drawn, without joining rows")
    ap.add_argument("--misses", action="store_true", help="print missed and wrongly hidden lines")
    ap.add_argument("--json", type=Path, help="write the counts here")
    args = ap.parse_args()

    policy = Policy.default()
    t = time.perf_counter()
    clf = TextClassifier(frozenset(policy.protect & set(TEXT_CATEGORIES)))
    clf.classify("warm-up: Chan Tai Man 陳大文")  # models load lazily at the first call
    load_s = time.perf_counter() - t
    out: dict[str, dict[str, list[int]]] = {}
    elapsed, n_lines = 0.0, 0
    for corpus in args.corpus:
        hidden: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for sidecar in sorted(corpus.glob("*.json")):
            if sidecar.name == "index.json" or not sidecar.name.count("."):
                continue
            data = json.loads(sidecar.read_text("utf-8"))
            if not isinstance(data, dict) or "regions" not in data:
                continue
            regions = [r for r in data["regions"] if r["category"] == "text" and r.get("text", "").strip()]
            if not regions:
                continue
            # Annotators draw some rows word by word ("David" | "Johnson"); OCR's fragments are
            # joined into rows before classification (layout.merge_rows), so they are here too:
            # each region is then judged by the row that holds its centre.
            drawn = [Detection(kind="text", quad=_quad(r), score=1.0, detector="truth", text=r["text"])
                     for r in regions]
            rows = drawn if args.no_merge else merge_rows(drawn)
            row_of = list(range(len(regions))) if args.no_merge else [_row_holding(_quad(r), rows) for r in regions]
            groups = ([[i] for i in range(len(rows))] if args.by_line
                      else group_lines([row.quad for row in rows]))
            notes = [[rows[i].text or "" for i in group] for group in groups]
            t = time.perf_counter()
            if args.by_line or not hasattr(clf, "classify_notes"):  # older versions: one note at a time
                results = [clf.classify_lines(note) for note in notes]
            else:
                results = clf.classify_notes(notes)
            elapsed += time.perf_counter() - t
            n_lines += len(rows)
            row_hits = {i: hits for group, note_hits in zip(groups, results, strict=True)
                        for i, hits in zip(group, note_hits, strict=True)}
            for r, row in zip(regions, row_of, strict=True):
                hits = row_hits[row]
                if r.get("optional"):
                    continue
                pii = r.get("pii", "none")
                hid = any(h.score >= policy.text_threshold for h in hits)
                total[pii] += 1
                hidden[pii] += hid
                if args.misses and hid != (pii != "none"):
                    best = max(hits, key=lambda h: h.score, default=None)
                    why = f"{best.category}/{best.recognizer} {best.score:.2f}" if best else "-"
                    print(f"{'MISS' if pii != 'none' else 'HID '} {pii:8} {sidecar.name[:-5]}: "
                          f"{r['text']!r}  [{why}]", file=sys.stderr)
        out[corpus.name] = {k: [hidden[k], total[k]] for k in sorted(total)}
        pii_h = sum(hidden[k] for k in total if k != "none")
        pii_n = sum(total[k] for k in total if k != "none")
        print(f"\n{corpus.name}: PII lines {pii_h}/{pii_n} = {pii_h / max(1, pii_n):.3f}; "
              f"spared {total['none'] - hidden['none']}/{total['none']}")
        print("| " + " | ".join(k for k in sorted(total) if k != "none") + " |")
        print("| " + " | ".join(f"{hidden[k]}/{total[k]}" for k in sorted(total) if k != "none") + " |")
    print(f"\nclassifier built and first line in {load_s:.2f} s; {n_lines} lines, "
          f"{1000 * elapsed / max(1, n_lines):.2f} ms a line")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
