"""Photo conditions for measuring robustness: perspective, tilt, blur, noise, JPEG, downscale,
low light, photocopy, orientation (a quarter, half or three-quarter turn), and "phone" (a random
mix), each at three severities.

Each perturbation takes an RGB image and the polygons of its ground truth and returns both
transformed: pixels through the condition, polygons through the same geometry (a 3x3 matrix;
the identity for conditions that move no pixel). Randomness comes from a seed the caller
derives from the image's name, so a record regenerates exactly.

    rgb2, polys2 = apply("perspective:2", rgb, polys, seed=crc32(b"wall_0001.jpg"))

Severity 1 is a careful photographer, 3 a hurried phone photo in a dark street.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .errors import RedactorError

Polygons = list[np.ndarray]  # each N x 2 float64 (x, y) pixels


@dataclass(frozen=True)
class Perturbation:
    name: str
    levels: tuple[float, float, float]  # the parameter at severity 1, 2, 3
    unit: str  # what the parameter means, for reports
    run: Callable[[np.ndarray, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]  # -> rgb, 3x3


def _perspective(rgb: np.ndarray, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each corner moves inward by up to ``share`` of the side: a photo taken off-axis."""
    h, w = rgb.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    inward = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], np.float32)
    dst = (src + inward * rng.uniform(0, share, (4, 2)) * np.array([w, h])).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), m


def _rotation(rgb: np.ndarray, degrees: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A tilt of ``degrees`` either way; the canvas grows so that nothing is cut off."""
    h, w = rgb.shape[:2]
    angle = degrees * rng.choice([-1.0, 1.0])
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(h * sin + w * cos)), int(np.ceil(h * cos + w * sin))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    out = cv2.warpAffine(rgb, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, np.vstack([m, [0, 0, 1]])


def _orientation(rgb: np.ndarray, degrees: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The photo turned ``degrees`` (90, 180 or 270) clockwise, as a card or a note photographed
    sideways or upside down arrives. Exact: no pixel is interpolated. The matrix maps continuous
    pixel coordinates (0..w, 0..h), so polygons land on the same pixels."""
    h, w = rgb.shape[:2]
    turns = int(degrees) // 90 % 4
    out = np.rot90(rgb, k=-turns)  # k < 0: clockwise
    m = {0: np.eye(3),
         1: np.array([[0.0, -1, h], [1, 0, 0], [0, 0, 1]]),      # (x, y) -> (h - y, x)
         2: np.array([[-1.0, 0, w], [0, -1, h], [0, 0, 1]]),     # (x, y) -> (w - x, h - y)
         3: np.array([[0.0, 1, 0], [-1, 0, w], [0, 0, 1]])}[turns]  # (x, y) -> (y, w - x)
    return np.ascontiguousarray(out), m


def _blur(rgb: np.ndarray, sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return cv2.GaussianBlur(rgb, (0, 0), sigma), np.eye(3)


def _noise(rgb: np.ndarray, sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Sensor noise: Gaussian, ``sigma`` in grey levels of 255, per channel."""
    noisy = rgb.astype(np.float32) + rng.normal(0, sigma, rgb.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8), np.eye(3)


def _jpeg(rgb: np.ndarray, quality: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=int(quality))
    return np.asarray(Image.open(buf).convert("RGB")), np.eye(3)


def _downscale(rgb: np.ndarray, factor: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    h, w = rgb.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    out = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return out, np.diag([size[0] / w, size[1] / h, 1.0])


def _low_light(rgb: np.ndarray, gamma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Darker mid-tones (gamma) and corners (a vignette that grows with gamma)."""
    h, w = rgb.shape[:2]
    y, x = np.ogrid[:h, :w]
    r2 = ((x - w / 2) / (w / 2)) ** 2 + ((y - h / 2) / (h / 2)) ** 2
    vignette = 1 - (gamma - 1) * 0.35 * np.clip(r2 / 2, 0, 1)
    dark = (rgb.astype(np.float32) / 255) ** gamma * vignette[:, :, None]
    return np.clip(dark * 255, 0, 255).astype(np.uint8), np.eye(3)


def _photocopy(rgb: np.ndarray, contrast: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Grey, contrast stretched around mid-grey by ``contrast``, with toner speckle above 1.2."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = (grey - 128) * contrast + 128
    if contrast > 1.2:
        speckle = rng.random(grey.shape) < 0.002 * contrast
        grey[speckle] = 0
    out = np.clip(grey, 0, 255).astype(np.uint8)
    return np.repeat(out[:, :, None], 3, axis=2), np.eye(3)


PERTURBATIONS: dict[str, Perturbation] = {p.name: p for p in (
    Perturbation("perspective", (0.05, 0.12, 0.20), "corner shift / side", _perspective),
    Perturbation("rotation", (2, 4, 6), "degrees", _rotation),
    Perturbation("blur", (0.5, 1.0, 1.5), "Gaussian sigma px", _blur),
    Perturbation("noise", (4, 7, 10), "sigma / 255", _noise),
    Perturbation("jpeg", (80, 70, 60), "JPEG quality", _jpeg),
    Perturbation("downscale", (0.75, 0.5, 0.35), "scale", _downscale),
    Perturbation("lowlight", (1.5, 2.0, 2.5), "gamma (+ vignette)", _low_light),
    Perturbation("photocopy", (1.0, 1.4, 1.8), "grey contrast", _photocopy),
    Perturbation("orientation", (90, 180, 270), "degrees clockwise", _orientation),
)}
#: The mix a newsroom photo is taken in, drawn per image: geometry first, then the camera.
PHONE_ORDER = ("perspective", "rotation", "downscale", "lowlight", "blur", "noise", "jpeg")
NAMES = (*(n for n in PERTURBATIONS if n != "orientation"), "phone", "orientation")
# A condition's place in NAMES is part of its seed: "orientation" comes after "phone" so that the
# phone mix (and every earlier record of it) draws what it drew before orientation was added.


def parse(spec: str) -> tuple[str, int]:
    """``NAME[:SEVERITY]`` -> (name, severity 1..3); severity defaults to 2."""
    name, _, level = spec.partition(":")
    if name not in NAMES:
        raise RedactorError(f"--perturb {spec}: unknown condition {name!r}; use one of {', '.join(NAMES)}")
    if level and level not in ("1", "2", "3"):
        raise RedactorError(f"--perturb {spec}: severity {level!r}; use 1, 2 or 3 (e.g. {name}:2)")
    return name, int(level or 2)


def apply(spec: str, rgb: np.ndarray, polygons: Polygons, *, seed: int) -> tuple[np.ndarray, Polygons]:
    """The image and its ground-truth polygons under condition ``spec`` (``NAME[:SEVERITY]``)."""
    name, severity = parse(spec)
    rng = np.random.default_rng([seed, NAMES.index(name), severity])
    if name == "phone":
        # Each part with probability 0.7 (low light 0.3), at a severity up to the one asked for.
        steps = [(p, int(rng.integers(1, severity + 1))) for p in PHONE_ORDER
                 if rng.random() < (0.3 if p == "lowlight" else 0.7)]
    else:
        steps = [(name, severity)]
    m = np.eye(3)
    for step, level in steps:
        p = PERTURBATIONS[step]
        rgb, mi = p.run(rgb, p.levels[level - 1], rng)
        m = mi @ m
    return np.ascontiguousarray(rgb), [_transform(poly, m) for poly in polygons]


def _transform(poly: np.ndarray, m: np.ndarray) -> np.ndarray:
    pts = np.hstack([poly, np.ones((len(poly), 1))]) @ m.T
    return pts[:, :2] / pts[:, 2:3]


def describe(spec: str) -> str:
    """e.g. "blur:2 (Gaussian sigma px 1.0)" for reports."""
    name, severity = parse(spec)
    if name == "phone":
        return f"phone:{severity} (a random mix of {', '.join(PHONE_ORDER)}, each up to severity {severity})"
    p = PERTURBATIONS[name]
    return f"{name}:{severity} ({p.unit} {p.levels[severity - 1]:g})"
