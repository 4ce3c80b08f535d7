"""Read images into RGB pixels safely; write metadata-free copies atomically.

Reading: every input (path, bytes, PIL image, numpy array) becomes a fresh H x W x 3 uint8 RGB
array with the EXIF orientation applied, so pixel coordinates everywhere else in redactor are
those a viewer shows. Inputs that cannot be redacted safely are refused loudly with a message
naming the file, the problem and the fix: oversized images (decompression bombs) before any
pixel is decoded, damaged or truncated files (Pillow's ``LOAD_TRUNCATED_IMAGES`` must stay
False), and multi-frame images (redacting frame 1 and dropping the rest would lose content).

Writing: the output is a *new* image built from the pixel array, so nothing from the input file
rides along: no EXIF (GPS, maker notes, thumbnail), XMP, IPTC or comments. Only the ICC profile
is passed on, because dropping it would shift colours.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image, ImageCms, UnidentifiedImageError

from redactor.errors import ImageTooLargeError, UnreadableImageError
from redactor.types import Source

__all__ = ["INPUT_SUFFIXES", "OUTPUT_SUFFIX", "Loaded", "Source", "encode", "load", "output_format", "sniff_format",
           "write_atomic"]

pillow_heif.register_heif_opener()

#: Pillow format names redactor reads. Restricting ``Image.open`` to these keeps exotic decoders
#: (EPS runs Ghostscript, PSD, ICO...) away from untrusted files. "JPEG" also yields "MPO".
READ_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "TIFF", "HEIF", "GIF", "BMP")

#: File suffixes taken as images when a folder is searched (batch) or a corpus is read (eval);
#: the format itself always comes from the content, never from the name.
INPUT_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".heic", ".heif", ".bmp", ".gif"})

#: Input format -> output format. GIF becomes PNG: writing GIF would re-quantise the redacted
#: image to a 256-colour palette, which can shift or dither fill colours and blur edges.
_OUTPUT_FORMAT: dict[str, str] = {f: f for f in READ_FORMATS} | {"GIF": "PNG"}

#: Input format -> suffix of the output file, for the pipeline to name outputs.
OUTPUT_SUFFIX: dict[str, str] = {
    "JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif", "HEIF": ".heic", "BMP": ".bmp",
    "GIF": ".png",
}

_NO_ALPHA = frozenset({"JPEG"})  # output formats that cannot carry transparency
_NO_ICC = frozenset({"BMP"})  # Pillow cannot write an ICC profile into these

_ORIENTATION_TAG = 0x0112
_T = Image.Transpose
_TRANSPOSE: dict[int, Image.Transpose] = {  # EXIF orientation -> what makes the pixels upright
    2: _T.FLIP_LEFT_RIGHT, 3: _T.ROTATE_180, 4: _T.FLIP_TOP_BOTTOM, 5: _T.TRANSPOSE,
    6: _T.ROTATE_270, 7: _T.TRANSVERSE, 8: _T.ROTATE_90,
}

# Pillow's own bomb guard is a process-wide global (Image.MAX_IMAGE_PIXELS) that warns above
# ~89 MP and refuses above ~179 MP without telling the dimensions. redactor's limit is a per-call
# argument checked right after the header is parsed, so the global is lifted only around
# Image.open (a header parse, never a decode), under this lock.
_OPEN_LOCK = threading.Lock()

_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, RuntimeError)


@dataclass(frozen=True, eq=False)
class Loaded:
    """Decoded input. ``rgb`` and ``alpha`` are new C-contiguous arrays, never views of the input."""

    rgb: np.ndarray  # H x W x 3 uint8, RGB, EXIF orientation applied
    alpha: np.ndarray | None  # H x W uint8 when the input had transparency, else None
    source: Source


def load(
    x: str | os.PathLike[str] | bytes | Image.Image | np.ndarray, *, max_pixels: int = 120_000_000
) -> Loaded:
    """Decode ``x`` into RGB pixels (+ alpha), upright per its EXIF orientation.

    A corrupt EXIF block does not make the image unreadable: the orientation is taken from it
    when the tag can still be read, and is 1 (as stored) only when it cannot. Raises
    ``ImageTooLargeError`` before decoding when width x height exceeds ``max_pixels``, and
    ``UnreadableImageError`` for anything that is not a whole, single-frame, supported image.
    """
    if isinstance(x, np.ndarray):
        return _load_array(x, max_pixels)
    if isinstance(x, Image.Image):
        fmt = _format_name(x)
        return _load_image(x, "<PIL image>", fmt if fmt in READ_FORMATS else "PNG", None, max_pixels)
    if isinstance(x, bytes | bytearray | memoryview):
        name, data = "<bytes>", bytes(x)
    elif isinstance(x, str | os.PathLike):
        name, data = str(x), _read_file(Path(x))
    else:
        raise UnreadableImageError(f"<{type(x).__name__}>: not an image; pass a path, bytes, a PIL image or an "
                                   "RGB numpy array")
    if not data:
        raise UnreadableImageError(f"{name}: the file is empty (0 bytes); copy or export it again.")
    sha256 = hashlib.sha256(data).hexdigest()  # of exactly the bytes decoded below
    try:
        im = _open_header(io.BytesIO(data))
    except UnidentifiedImageError as e:
        raise UnreadableImageError(
            f"{name}: not a recognised image; redactor reads {', '.join(READ_FORMATS)}. "
            "If it is an image in another format, convert it to PNG or JPEG first."
        ) from e
    except _DECODE_ERRORS as e:
        raise UnreadableImageError(f"{name}: the image header is damaged ({e}); export it again.") from e
    with im:
        loaded = _load_image(im, name, _format_name(im), sha256, max_pixels)
    return Loaded(loaded.rgb, loaded.alpha, replace(loaded.source, size=len(data)))


def _open_header(fp: Any) -> Image.Image:
    """``Image.open`` (a header parse, never a decode) with Pillow's global bomb guard lifted."""
    with _OPEN_LOCK:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(fp, formats=READ_FORMATS)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def sniff_format(path: Path) -> str | None:
    """The format of the image file at ``path`` from its header alone, or None when it cannot
    be read as one (load() then says why). Lets a batch name every output before any work."""
    try:
        with _open_header(path) as im:
            return _format_name(im)
    except (UnidentifiedImageError, *_DECODE_ERRORS):
        return None


def _format_name(im: Image.Image) -> str:
    """Pillow's format name, with MPO (a JPEG with appended previews) reported as JPEG."""
    return "JPEG" if im.format == "MPO" else str(im.format)


def _read_file(path: Path) -> bytes:
    """Read the whole file once: the hash and the decoder then see the same bytes."""
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise UnreadableImageError(f"{path}: no such file; check the path.") from e
    except IsADirectoryError as e:
        raise UnreadableImageError(f"{path}: is a directory, not an image; pass the images in it.") from e
    except PermissionError as e:
        raise UnreadableImageError(f"{path}: permission denied; make the file readable (chmod u+r).") from e
    except OSError as e:
        raise UnreadableImageError(f"{path}: cannot be read ({e.strerror or e}).") from e


def _check_size(name: str, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}x{height} = {width * height:,} pixels is more than the limit of "
            f"{max_pixels:,} (a guard against decompression bombs). If the image is genuine, "
            "raise the limit with --max-pixels (or load(..., max_pixels=...))."
        )


def _load_image(im: Image.Image, name: str, fmt: str, sha256: str | None, max_pixels: int) -> Loaded:
    """Checks in order of cost: header size, frame count, then the full decode."""
    _check_size(name, im.width, im.height, max_pixels)
    try:
        frames = int(getattr(im, "n_frames", 1))
    except Image.DecompressionBombError as e:  # a later GIF frame larger than Pillow's limit
        raise ImageTooLargeError(f"{name}: {e}; raise the limit with --max-pixels if genuine.") from e
    except _DECODE_ERRORS as e:
        raise UnreadableImageError(f"{name}: the {fmt} image is damaged ({e}); export it again.") from e
    # MPO is a JPEG with extra preview/stereo images appended; the primary image is the photo
    # and only it is written out, so nothing is lost or leaked by reading frame 0.
    if frames > 1 and im.format != "MPO":
        raise UnreadableImageError(
            f"{name}: this {fmt} has {frames} frames; redactor redacts single-frame images only — "
            f"split the frames first (e.g. `magick in.{fmt.lower()} frame_%03d.png`) and redact each one."
        )
    bits = _bits_per_channel(im)  # from the header: the decode drops what says it
    try:
        im.load()  # the full decode: truncated data raises here
    except Image.DecompressionBombError as e:  # a TIFF tile larger than Pillow's global limit
        raise ImageTooLargeError(f"{name}: {e}; raise the limit with --max-pixels if genuine.") from e
    except _DECODE_ERRORS as e:
        raise UnreadableImageError(
            f"{name}: the {fmt} image is damaged or truncated ({e}); download or export it again."
        ) from e
    orientation = _orientation(im)
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    # pillow-heif applies the HEIF rotation itself while decoding and resets the EXIF tag to 1,
    # keeping the tag it found as info["original_orientation"]: report that, don't rotate twice.
    orientation = int(im.info.get("original_orientation") or orientation)
    rgb, alpha, icc = _to_rgb(im, name)
    source = Source(name, fmt, rgb.shape[1], rgb.shape[0], icc, sha256, orientation, bits=bits)
    return Loaded(rgb, alpha, source)


def _bits_per_channel(im: Image.Image) -> int:
    """Bits per channel the file stores, read before the decode. Pillow opens a 16-bit RGB PNG
    or TIFF as 8-bit RGB without a word (its tile's raw mode, e.g. ``RGB;16B``, says 16), and
    16-bit grey as mode I;16, which _to_rgb scales to 8 bits."""
    if im.mode.startswith("I;16"):
        return 16
    if im.mode == "I":
        return 32
    for tile in getattr(im, "tile", None) or ():  # an ImageFile's; a PIL image made in memory has none
        args = tile[3]
        raw = args[0] if isinstance(args, tuple) and args else args
        if isinstance(raw, str) and ";16" in raw:
            return 16
    depth = im.info.get("bit_depth")  # pillow-heif: 10 or 12 for an HDR HEIC
    return depth if isinstance(depth, int) and depth > 8 else 8


def _orientation(im: Image.Image) -> int:
    """EXIF orientation 1..8; 1 when absent, out of range, or unreadable in a corrupt block."""
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, KeyError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _to_rgb(im: Image.Image, name: str) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    """Any supported mode -> (RGB uint8, alpha uint8 or None, an RGB ICC profile or None).

    16-bit grey is scaled (>> 8): Pillow's own I;16 -> L conversion clips at 255 instead.
    A CMYK or grey ICC profile cannot describe RGB output, so such pixels are converted to sRGB
    through the profile when possible, and the profile is not passed on.
    """
    icc: bytes | None = im.info.get("icc_profile") or None
    alpha: np.ndarray | None = None
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        wide = np.array(im, dtype=np.int64)
        im = Image.fromarray((np.clip(wide, 0, 65535) >> 8).astype(np.uint8))
    elif im.mode == "F":
        raise UnreadableImageError(f"{name}: 32-bit float pixels are not supported; export as 8 or 16-bit.")
    if "A" in im.getbands() or (im.mode in ("P", "L", "RGB", "1") and "transparency" in im.info):
        im = im.convert("RGBA")
        alpha = np.array(im.getchannel("A"), dtype=np.uint8)
    if icc is not None and icc[16:20] != b"RGB ":
        im, icc = _icc_to_srgb(im, icc), None
    try:
        rgb = np.array(im.convert("RGB"), dtype=np.uint8)
    except ValueError as e:
        raise UnreadableImageError(f"{name}: pixel mode {im.mode} cannot be converted to RGB ({e}).") from e
    return np.ascontiguousarray(rgb), alpha, icc


def _icc_to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Colour-manage CMYK/grey pixels into sRGB; fall back to Pillow's naive conversion."""
    mode = im.mode if im.mode in ("CMYK", "L") else None
    if mode is None:
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB") or im
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im


def _load_array(a: np.ndarray, max_pixels: int) -> Loaded:
    """H x W x 3 RGB, H x W grey or H x W x 4 RGBA, all uint8; always copied."""
    if a.dtype != np.uint8:
        if a.dtype.kind == "f":
            hint = "np.clip(a * 255, 0, 255).astype(np.uint8) for floats in 0..1"
        elif a.dtype == np.uint16:
            hint = "(a >> 8).astype(np.uint8) for 16-bit pixels in 0..65535"
        else:
            hint = "np.clip(a, 0, 255).astype(np.uint8) for integers already in 0..255"
        raise UnreadableImageError(
            f"<array>: pixel dtype is {a.dtype}, expected uint8 (0..255); convert first, e.g. {hint}.")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise UnreadableImageError(f"<array>: shape {a.shape}, expected H x W, H x W x 3 or H x W x 4.")
    h, w = a.shape[:2]
    if a.size == 0:
        raise UnreadableImageError(f"<array>: shape {a.shape} holds no pixels; pass an image at least 1 x 1.")
    _check_size("<array>", w, h, max_pixels)
    alpha: np.ndarray | None = None
    if a.ndim == 2:
        rgb = np.repeat(a[:, :, None], 3, axis=2)
    else:
        rgb = np.array(a[:, :, :3], order="C", copy=True)
        if a.shape[2] == 4:
            alpha = np.array(a[:, :, 3], order="C", copy=True)
    return Loaded(np.ascontiguousarray(rgb), alpha, Source("<array>", "PNG", w, h, None, None, 1))


def output_format(fmt: str) -> str:
    """The format :func:`encode` writes for an input in format ``fmt``."""
    return _OUTPUT_FORMAT.get(fmt, "PNG")


def encode(rgb: np.ndarray, alpha: np.ndarray | None, source: Source, *, jpeg_quality: int = 92) -> bytes:
    """Encode pixels in the input's format with no metadata but the ICC profile.

    The image is built fresh from the array (``Image.fromarray`` has an empty ``info``), so no
    EXIF, GPS, thumbnail, XMP, IPTC, comment or HEIF auxiliary image can be copied over.
    ``jpeg_quality`` is also used for lossy WebP and HEIF.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"encode() needs H x W x 3 uint8 RGB, got {rgb.dtype} {rgb.shape}")
    fmt = output_format(source.format)
    im = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    if alpha is not None:
        if fmt in _NO_ALPHA:
            raise ValueError(f"{source.name}: {fmt} cannot carry the alpha channel; pass alpha=None")
        if alpha.shape != rgb.shape[:2] or alpha.dtype != np.uint8:
            raise ValueError(f"alpha must be {rgb.shape[:2]} uint8, got {alpha.dtype} {alpha.shape}")
        im.putalpha(Image.fromarray(np.ascontiguousarray(alpha), "L"))
    options: dict[str, Any] = {}
    if source.icc_profile and fmt not in _NO_ICC:
        options["icc_profile"] = source.icc_profile
    if fmt == "JPEG":
        options |= {"quality": jpeg_quality, "subsampling": 2, "progressive": False}  # 2 = 4:2:0
    elif fmt in ("WEBP", "HEIF"):
        options |= {"quality": jpeg_quality}
    elif fmt == "TIFF":
        options |= {"compression": "tiff_lzw"}
    buf = io.BytesIO()
    im.save(buf, format=fmt, **options)
    return buf.getvalue()


def write_atomic(path: Path, data: bytes, *, mode: int = 0o666) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The temporary file sits in the target's directory (``os.replace`` is atomic only within
    one file system) and is named ``.<name>.<random>.tmp`` so a leftover is obviously not an
    output. It is created with ``O_EXCL`` and ``mode`` minus the umask (0o666: like a normal
    file; 0o600: private, for review state that holds text read from the photos).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    done = False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        done = True
    finally:
        if not done:
            tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX only: directories cannot be opened on Windows)."""
    if os.name != "posix":
        return
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
