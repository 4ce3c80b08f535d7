"""Face recall and false alarms, faces only, on the shared corpus under photo conditions.

    .venv/bin/python bench/faces.py [--conditions clean,photocopy:3,...] [--splits synthetic,real]
                                    [--jobs 2] [--detector yuface] [--corpus DIR]

Runs the default policy restricted to faces (no OCR: a few seconds a condition instead of
minutes) through ``redactor.evaluate`` and prints, per split and condition, face recall, the
faces missed, false-alarm faces (hidden face boxes touching no annotated face, optional ones
included) and the area replaced on photos with nothing to hide, and the face stage's CPU seconds
per image. A record for bench/README.md, not a test.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("REDACTOR_CORPUS", ROOT.parent / "shared" / "corpus"))  # workers inherit it
_REDACTOR: Any = None


def _init(detector: str, kw: dict[str, Any]) -> None:
    global _REDACTOR
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from dataclasses import replace

    from redactor import Policy, Redactor
    from redactor.detect import FACE_DETECTORS

    _REDACTOR = Redactor(replace(Policy.default(), protect=frozenset({"face"})), faces=detector)
    if kw:
        _REDACTOR._faces = FACE_DETECTORS[detector](**kw)


def _one(task: tuple[str, str, str]) -> dict[str, Any]:
    from redactor.evaluate import _perturbed, _score, coverage, load_truth
    from redactor.io import load

    split, spec, path = task
    image = Path(path)
    truth = load_truth(image.with_name(image.name + ".json"))
    name = image.relative_to(CORPUS / split).as_posix()
    if spec == "clean":
        rgb = load(image).rgb
    else:
        rgb, truth = _perturbed(image, name, truth, spec)
    t = time.process_time()
    result = _REDACTOR.redact(rgb)
    cpu = time.process_time() - t
    tally: dict[str, list[int]] = {}
    wrong = _score(image, result.mask, truth, tally, strict=spec == "clean")
    faces = [r for r in truth.regions if r.category == "face"]
    alarms = 0
    import numpy as np

    for f in result.findings:
        if f.category != "face":
            continue
        box = np.zeros(result.mask.shape, dtype=bool)
        x0, y0, x1, y1 = (int(round(v)) for v in f.quad.bbox())
        box[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = True
        if not any(coverage(box, r.polygon)[0] > 0 for r in faces if coverage(box, r.polygon)[1]):
            alarms += 1
    empty = not any(r.must == "hide" for r in truth.regions)
    return {"split": split, "spec": spec, "name": name, "face": tally.get("face", [0, 0]),
            "missed": [f"{name}#{w.region.index}({w.coverage:.2f})" for w in wrong if w.region.key == "face"],
            "alarms": alarms, "empty": empty, "area": float(result.mask.mean()) if empty else 0.0, "cpu": cpu,
            "seed": zlib.crc32(name.encode())}


def main() -> None:
    global CORPUS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conditions", default="clean,photocopy:3,noise:3,blur:3,phone:2,phone:3")
    ap.add_argument("--splits", default="synthetic,real")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--detector", default="yuface")
    ap.add_argument("--real-conditions", default="clean")
    ap.add_argument("--kw", default="{}", help="detector keyword arguments, JSON")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="folder holding the splits (env REDACTOR_CORPUS)")
    args = ap.parse_args()
    CORPUS = args.corpus.resolve()
    os.environ["REDACTOR_CORPUS"] = str(CORPUS)
    from redactor.evaluate import find_images

    tasks = []
    for split in args.splits.split(","):
        conds = args.conditions if split == "synthetic" else args.real_conditions
        for spec in conds.split(","):
            tasks += [(split, spec, str(p)) for p in find_images(CORPUS / split)]
    init = (args.detector, json.loads(args.kw))
    with mp.get_context("spawn").Pool(args.jobs, initializer=_init, initargs=init) as pool:
        rows = pool.map(_one, tasks, chunksize=1)
    print(f"detector {args.detector} {args.kw}")
    print("| split | condition | face | missed | false-alarm faces (all / on empty photos) | area on empty | "
          "CPU s/img |")
    print("|---|---|---|---|---|---|---|")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["split"], r["spec"]), []).append(r)
    for (split, spec), rs in groups.items():
        ok = sum(r["face"][0] for r in rs)
        n = sum(r["face"][1] for r in rs)
        empty = [r for r in rs if r["empty"]]
        area = sum(r["area"] for r in empty) / max(1, len(empty))
        print(f"| {split} | {spec} | {ok / max(n, 1):.3f} ({ok}/{n}) | {n - ok} | {sum(r['alarms'] for r in rs)} / "
              f"{sum(r['alarms'] for r in empty)} | {area:.4f} | {sum(r['cpu'] for r in rs) / len(rs):.2f} |")
    for (split, spec), rs in groups.items():
        missed = [m for r in rs for m in r["missed"]]
        if missed:
            print(f"missed {split} {spec}: {' '.join(missed)}")


if __name__ == "__main__":
    main()
