"""Whose face is this? 128-d face encodings matched against the policy's galleries.

Used only when the policy's ``[faces] mode`` is not "all". face_recognition (dlib) is imported
inside :class:`FaceEncoder`, never at module level: the default path never loads it (its import
takes ≈1.2 s and loads 130 MB of models).

The detector's boxes (libfacedetection) are given to ``face_recognition.face_encodings`` as known face
locations; face_recognition's own detectors are not used. Its 5-point landmark model aligns the
face and dlib's ResNet turns it into 128 numbers; two encodings of one person lie closer than
about 0.6 (Euclidean).

Decision rules, for each detected face at or above ``thresholds.face`` (below it: kept,
"below-threshold", as in every mode):

1. mode "all": hidden ("all"); nothing is encoded.
2. a match in the protected gallery (distance <= ``tolerance``): hidden ("protected"), in any mode.
3. mode "all-except-allowed": a match in the allowed gallery (distance <= ``allow_tolerance``):
   kept ("allowed"); anything else hidden ("unmatched").
4. mode "protected": no protected match: kept ("unmatched").

Fail closed when a face cannot be encoded (dlib raised, the box lies outside the image, or the
encoding is not finite): in "all-except-allowed" that face is hidden ("encoding-failed"), since
hiding is that mode's default; in "protected" the whole image fails with an AnalysisError,
since keeping the face might show a protected person and hiding it silently would change what
the mode promises. The report says which rule decided each face.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .errors import AnalysisError, GalleryError, ModelError
from .models import model_path
from .policy import Policy
from .types import Detection, FaceDecision, Quad

#: Requirements outside pyproject's dependencies (see README "Face galleries"): face_recognition
#: declares a dependency on `dlib`, which pip would compile for ≈18 min; dlib-bin ships the
#: same module prebuilt, so face_recognition itself is installed with --no-deps.
FACE_RECOGNITION = "face_recognition==1.3.0"
DLIB = "dlib-bin==20.0.1.post1"
SETUPTOOLS = "setuptools==80.9.0"  # face_recognition_models imports pkg_resources, gone in setuptools 81

#: Every file face_recognition loads when imported (manifest names), verified before the import.
MODELS = ("face-encoder", "face-landmarks-5", "face-landmarks-68", "face-detector-mmod")

#: An encoding, or a sentence saying why this face could not be encoded, or None (not asked).
Encoding = np.ndarray | str | None


class FaceEncoder:
    """Callable: RGB uint8 image + face boxes -> one 128-d encoding per box (or why not).

    Built once: verifies the model files, then imports face_recognition. Holds no per-call state.
    """

    name = "face_recognition"

    def __init__(self) -> None:
        for m in MODELS:
            model_path(m)
        self._encode = _import_face_recognition().face_encodings

    def __call__(self, rgb: np.ndarray, quads: list[Quad]) -> list[np.ndarray | str]:
        rgb = np.ascontiguousarray(rgb)
        h, w = rgb.shape[:2]
        out: list[np.ndarray | str] = []
        for quad in quads:
            x0, y0, x1, y1 = quad.bbox()
            top, left, bottom, right = max(0, round(y0)), max(0, round(x0)), min(h, round(y1)), min(w, round(x1))
            if bottom - top < 4 or right - left < 4:
                out.append(f"the box ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f}) is not inside the image")
                continue
            try:
                found = self._encode(rgb, known_face_locations=[(top, right, bottom, left)])
            except (RuntimeError, ValueError) as e:  # dlib reports its failures as RuntimeError
                out.append(f"face_recognition failed: {type(e).__name__}: {e}")
                continue
            enc = np.asarray(found[0], dtype=np.float64) if len(found) == 1 else None
            if enc is None or enc.shape != (128,) or not np.isfinite(enc).all():
                out.append("face_recognition returned no valid 128-number encoding")
            else:
                out.append(enc)
        return out


def encode(encoder: FaceEncoder, rgb: np.ndarray, faces: list[Detection], policy: Policy) -> list[Encoding]:
    """Encodings for the faces the policy will decide by identity; None for the others."""
    wanted = [i for i, f in enumerate(faces) if f.score >= policy.face_threshold]
    found = encoder(rgb, [faces[i].quad for i in wanted])
    out: list[Encoding] = [None] * len(faces)
    for i, enc in zip(wanted, found, strict=True):
        out[i] = enc
    return out


def decide(faces: list[Detection], encodings: list[Encoding] | None, policy: Policy, *,
           name: str) -> list[FaceDecision]:
    """One decision per face, in order (rules in the module docstring). ``encodings`` is None
    in mode "all". Raises AnalysisError (naming the image) when mode "protected" meets a face
    that could not be encoded."""
    fp = policy.faces
    out = []
    for i, face in enumerate(faces):
        base: dict[str, Any] = {"quad": face.quad, "score": round(face.score, 4), "detector": face.detector}
        if face.score < policy.face_threshold:
            out.append(FaceDecision(**base, hidden=False, rule="below-threshold"))
            continue
        if fp.mode == "all":
            out.append(FaceDecision(**base, hidden=True, rule="all"))
            continue
        enc = encodings[i] if encodings is not None else "it was not encoded"
        if not isinstance(enc, np.ndarray):
            if fp.mode == "protected":
                x0, y0, x1, y1 = face.quad.bbox()
                raise AnalysisError(
                    f"{name}: the face at ({x0:.0f}, {y0:.0f})-({x1:.0f}, {y1:.0f}) could not be identified "
                    f"({enc}); in faces.mode 'protected' it might be a protected person, so the image was not "
                    "written. Redact this image with faces.mode 'all' (every face hidden)"
                )
            out.append(FaceDecision(**base, hidden=True, rule="encoding-failed"))
            continue
        out.append(_match(enc, base, policy))
    return out


def _match(enc: np.ndarray, base: dict[str, Any], policy: Policy) -> FaceDecision:
    fp = policy.faces
    nearest: list[float] = []
    if fp.protected is not None and (hit := fp.protected.nearest(enc)) is not None:
        who, d = hit
        if d <= fp.tolerance:
            return FaceDecision(**base, hidden=True, rule="protected", name=who, gallery="protected",
                                distance=round(d, 4))
        nearest.append(d)
    if fp.mode == "all-except-allowed" and fp.allowed is not None and (hit := fp.allowed.nearest(enc)) is not None:
        who, d = hit
        if d <= fp.allow_tolerance:
            return FaceDecision(**base, hidden=False, rule="allowed", name=who, gallery="allowed",
                                distance=round(d, 4))
        nearest.append(d)
    return FaceDecision(**base, hidden=fp.mode == "all-except-allowed", rule="unmatched",
                        distance=round(min(nearest), 4) if nearest else None)


def portrait_encoding(rgb: np.ndarray, faces: list[Detection], encoder: FaceEncoder, *, source: str,
                      who: str, min_score: float = 0.5, min_px: int = 40) -> np.ndarray:
    """The encoding of the one face in a portrait given to ``gallery add``.

    Refuses (GalleryError naming the file) an image with no face or with several faces at
    ``min_score`` or more (whose face would the name go to?), and a face under ``min_px``
    pixels wide: small faces encode poorly (bench/README.md) and the gallery's encodings
    decide every later match.
    """
    faces = [f for f in faces if f.score >= min_score]
    if not faces:
        raise GalleryError(f"{source}: no face found; give a photo in which {who}'s face is clearly visible, "
                           f"facing the camera and at least {min_px} px wide")
    if len(faces) > 1:
        where = "; ".join("({:.0f}, {:.0f})-({:.0f}, {:.0f})".format(*f.quad.bbox()) for f in faces)
        raise GalleryError(f"{source}: {len(faces)} faces found ({where}); a gallery portrait must show only "
                           f"{who}, so that the name goes to the right face: crop the photo to {who}'s face "
                           "and add the crop")
    x0, y0, x1, y1 = faces[0].quad.bbox()
    if x1 - x0 < min_px:
        raise GalleryError(f"{source}: the face is {x1 - x0:.0f} px wide; a gallery portrait needs a face at least "
                           f"{min_px} px wide for a reliable encoding: use a larger or sharper photo of {who}")
    (enc,) = encoder(rgb, [faces[0].quad])
    if isinstance(enc, str):
        raise GalleryError(f"{source}: the face could not be encoded ({enc}); try another photo of {who}")
    return enc


def _import_face_recognition() -> Any:
    """Import face_recognition, turning a broken install into a ModelError that says what to install."""
    try:
        import dlib  # noqa: F401
    except ImportError as e:
        raise ModelError(f"face identification needs dlib ({e}): run `pip install '{DLIB}'` "
                         "(prebuilt; or `make demo`, which installs everything)") from e
    try:
        # face_recognition calls quit() when this import fails, so try it first; it imports
        # pkg_resources, which warns that it is deprecated.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            import face_recognition_models  # noqa: F401
    except ImportError as e:
        raise ModelError(f"face_recognition_models cannot be imported ({e}); it needs pkg_resources: run "
                         f"`pip install '{SETUPTOOLS}' 'face_recognition_models==0.3.0'`") from e
    from PIL import ImageFile

    # face_recognition sets Pillow's process-wide LOAD_TRUNCATED_IMAGES = True when imported,
    # which would let redactor half-decode a truncated photo instead of refusing it: restore it.
    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            import face_recognition
    except ImportError as e:
        raise ModelError(f"face identification needs face_recognition ({e}): run "
                         f"`pip install --no-deps '{FACE_RECOGNITION}'` (--no-deps: it would compile dlib "
                         f"from source; '{DLIB}' provides it)") from e
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    return face_recognition
