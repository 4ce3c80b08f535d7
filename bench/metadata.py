"""Cost per image of keeping metadata and of signing (issue 26), beside the encode it follows.

    .venv/bin/python bench/metadata.py [--repeat 5] [--sizes 1600x1200,4000x3000] [--formats JPEG,PNG,HEIF]

Draws a photo-like image per size, gives it every field tests/test_metadata.py uses (exiftool),
and times the write step as a batch worker runs it: ``io.encode`` alone (the default, no
metadata), then ``Finisher.finish`` keeping the newsroom fields (credit, by-line, caption,
copyright, headline; the caption checked by the text classifier), signing only (C2PA, a
throw-away EC P-256 chain), and both. The classifier's name models load once before timing, as
in a worker. Prints the median seconds (wall), the CPU seconds of this process, and the CPU
seconds of the exiftool process (it runs beside Python: -stay_open), per image.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

KEEP = ["iptc:By-line", "iptc:Credit", "iptc:Caption-Abstract", "iptc:CopyrightNotice", "iptc:Headline",
        "xmp:dc:creator", "xmp:dc:rights", "xmp:dc:description", "xmp:photoshop:Headline"]


def photo(w: int, h: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 255 // (w + h))], axis=2)
    return np.clip(base + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)


def cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def exiftool_cpu() -> float:
    from redactor.metadata import _ExifTool

    helper = _ExifTool._helper
    if helper is None:
        return 0.0
    fields = Path(f"/proc/{helper._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="1600x1200,4000x3000")
    ap.add_argument("--formats", default="JPEG,PNG,HEIF")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-metadata-") as d:
        run(Path(d), args)


def run(tmp: Path, args: argparse.Namespace) -> None:
    from redactor import Policy
    from redactor import io as rio
    from redactor.metadata import Finisher

    chain, key = _pki(tmp)
    base = Policy.default()
    variants = {
        "keep": base.with_metadata(keep=KEEP),
        "sign": base.with_metadata(sign=(str(chain), str(key))),
        "keep+sign": base.with_metadata(keep=KEEP, sign=(str(chain), str(key))),
    }
    finishers = {k: Finisher.for_policy(p) for k, p in variants.items()}
    print(f"{'image':22} {'step':10} {'wall s':>8} {'cpu s':>8} {'exiftool cpu s':>15} {'bytes added':>12}")
    for size in args.sizes.split(","):
        w, h = map(int, size.split("x"))
        for fmt in args.formats.split(","):
            suffix = {"JPEG": ".jpg", "PNG": ".png", "HEIF": ".heic", "WEBP": ".webp", "TIFF": ".tif"}[fmt]
            src = tmp / f"in-{size}{suffix}"
            Image.fromarray(photo(w, h)).save(src, format=fmt)
            _fields(src, fmt)
            loaded = rio.load(src)
            plain = rio.encode(loaded.rgb, loaded.alpha, loaded.source)
            for name in ("encode", *finishers):
                if name == "keep+sign" and fmt == "HEIF":
                    continue  # refused: c2pa moves a HEIC's XMP item (redactor/metadata.py)

                def step(name=name, loaded=loaded, plain=plain, fmt=fmt, src=src) -> bytes:
                    if name == "encode":
                        return rio.encode(loaded.rgb, loaded.alpha, loaded.source)
                    return finishers[name].finish(plain, fmt, src)[0]

                step()  # warm: exiftool started, name models loaded
                walls, cpus, ets, out = [], [], [], b""
                for _ in range(args.repeat):
                    t, c, e = time.perf_counter(), cpu(), exiftool_cpu()
                    out = step()
                    walls.append(time.perf_counter() - t)
                    cpus.append(cpu() - c)
                    ets.append(exiftool_cpu() - e)
                added = len(out) - len(plain) if name != "encode" else 0
                print(f"{fmt + ' ' + size:22} {name:10} {statistics.median(walls):8.3f} {statistics.median(cpus):8.3f} "
                      f"{statistics.median(ets):15.3f} {added:12,}")


def _fields(path: Path, fmt: str) -> None:
    """The fields of tests/test_metadata.py's full input, on an existing photo."""
    import test_metadata as tm

    args = ["-IPTC:By-line=Ann Lee", "-IPTC:Credit=Daily Example", "-IPTC:Caption-Abstract=" + tm.CAPTION,
            "-IPTC:CopyrightNotice=(c) Daily Example", "-IPTC:Headline=March", "-XMP-dc:Creator=Ann Lee",
            "-XMP-dc:Rights=(c) Daily Example", "-XMP-dc:Description=" + tm.CAPTION, "-XMP-photoshop:Headline=March",
            "-EXIF:GPSLatitude=22.3", "-EXIF:GPSLatitudeRef=N", "-EXIF:SerialNumber=ABC123",
            "-XMP-iptcExt:DigitalSourceType=digitalCapture"]
    tm.exiftool("-overwrite_original", "-m", *args, str(path))


def _pki(d: Path) -> tuple[Path, Path]:
    from test_metadata import make_chain

    chain, key, _ = make_chain(d, "Bench Root CA", "Bench Desk")
    return chain, key


if __name__ == "__main__":
    main()
