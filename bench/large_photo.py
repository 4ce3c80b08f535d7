"""Seconds and peak memory of one camera-size photo, each in a fresh process (issue 17).

    .venv/bin/python bench/large_photo.py [--repeat 3] [--threads 1] [--textured] [--wall PATH]

Makes ``samples/name_card.png`` pasted at full size into a 6000x4000 (24 MP) and an 8000x6000
(48 MP) JPEG of a plain light wall, and redacts each in a child process with the default
policy, as one batch worker would (ONNX Runtime on ``--threads`` threads). Prints, per photo,
the median of ``--repeat`` runs: seconds for the redaction (model load excluded), the CPU
seconds the process spent on it (steadier than seconds on a shared machine), text detection
seconds, the process's peak RSS (VmHWM, which, unlike ru_maxrss, is this process's
own) and the categories found. ``--wall`` adds an ordinary photo (e.g. a 1600x1200 wall of the
shared corpus) to check that photos under the tiling threshold cost what they did.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, re, resource, sys, time
from pathlib import Path
from redactor import Redactor
from redactor.detect.text import TextOptions
r = Redactor(text_options=TextOptions(threads=int(sys.argv[2])))
def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime
t, c = time.perf_counter(), cpu()
res = r.redact(sys.argv[1])
seconds, cpu_s = time.perf_counter() - t, cpu() - c
peak = int(re.search(r"VmHWM:\\s*(\\d+)", Path("/proc/self/status").read_text()).group(1)) / 1e6
print(json.dumps({"seconds": seconds, "cpu_s": cpu_s, "text_detect": res.timings.get("text_detect", 0.0),
                  "peak_gb": peak, "categories": sorted({f.category for f in res.findings})}))
"""


def camera_photo(width: int, height: int, path: Path, textured: bool = False) -> Path:
    """The sample card pasted at full size (1:1) a little off centre on a plain light wall, or
    on a textured one (grain of ±6 grey levels: no tile is plain enough to be skipped, as in
    most real photos)."""
    card = np.asarray(Image.open(ROOT / "samples" / "name_card.png").convert("RGB"))
    wall = np.full((height, width, 3), 200, np.uint8)
    if textured:
        grain = np.random.default_rng(17).normal(0, 6, (height, width, 1))
        wall = np.clip(wall + grain, 0, 255).astype(np.uint8)
    y, x = height * 3 // 8, width * 5 // 12
    wall[y:y + card.shape[0], x:x + card.shape[1]] = card
    Image.fromarray(wall).save(path, quality=80)
    return path


def measure(path: Path, threads: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), str(threads)], capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--wall", type=Path, action="append", default=[])
    ap.add_argument("--textured", action="store_true", help="the card on a textured wall instead of a plain one")
    args = ap.parse_args()
    kind = "textured" if args.textured else "plain"
    with tempfile.TemporaryDirectory() as tmp:
        photos = [camera_photo(6000, 4000, Path(tmp) / f"card_24mp_{kind}.jpg", args.textured),
                  camera_photo(8000, 6000, Path(tmp) / f"card_48mp_{kind}.jpg", args.textured), *args.wall]
        for path in photos:
            runs = [measure(path, args.threads) for _ in range(args.repeat)]
            print(json.dumps({
                "photo": path.name, "size": Image.open(path).size,
                "seconds": round(statistics.median(r["seconds"] for r in runs), 2),
                "cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
                "text_detect": round(statistics.median(r["text_detect"] for r in runs), 2),
                "peak_gb": round(statistics.median(r["peak_gb"] for r in runs), 3),
                "seconds_all": [round(r["seconds"], 2) for r in runs],
                "categories": runs[0]["categories"],
            }), flush=True)


if __name__ == "__main__":
    main()
