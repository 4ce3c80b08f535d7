"""Every error redactor raises on purpose, in one tree.

    RedactorError                 base: catch this to catch everything below
    ├── PolicyError               policy file or value is invalid (names the key)
    ├── ModelError                a model is missing or its sha256 does not match the manifest
    ├── ImageError                an input image cannot be used safely
    │   ├── UnreadableImageError  not an image, truncated, unreadable, unsupported format
    │   └── ImageTooLargeError    more pixels than the limit (decompression-bomb guard)
    ├── AnalysisError             a detector failed on an image: the image must not be written
    ├── GalleryError              a face gallery file is invalid, or a portrait to add has no face or several
    ├── DecisionsError            a decisions file is invalid, or belongs to another image than the one given
    ├── OutputError               an output path is unsafe (would escape OUTDIR or overwrite an input)
    └── MetadataError             kept metadata or a signature could not be written and checked: not written

Messages name the file, what was wrong, and what to do about it.

    RedactorWarning (UserWarning) a choice that works but hides less, e.g. an English-only OCR engine
"""

from __future__ import annotations


class RedactorError(Exception):
    """Base of every error redactor raises on purpose."""


class PolicyError(RedactorError):
    """The policy file or a policy value is invalid."""


class ModelError(RedactorError):
    """A model file is missing, or does not match the sha256 in models/manifest.toml."""


class ImageError(RedactorError):
    """An input image cannot be used safely."""


class UnreadableImageError(ImageError):
    """The input is not a readable, supported image."""


class ImageTooLargeError(ImageError):
    """The input has more pixels than allowed; refused before decoding."""


class AnalysisError(RedactorError):
    """A detector failed: the image's findings are unknown, so it is not written."""


class GalleryError(RedactorError):
    """A face gallery file is unreadable or invalid, or an image given to ``gallery add`` cannot be used."""


class DecisionsError(RedactorError):
    """A decisions file is invalid, or its input sha256 does not match the image it is applied to."""


class OutputError(RedactorError):
    """An output path is unsafe: it would escape the output folder or overwrite an input."""


class RedactorWarning(UserWarning):
    """A configuration that runs but protects less than the default (says what and the fix)."""


class MetadataError(RedactorError):
    """Kept metadata or a C2PA signature could not be written and checked; the image is not written."""
