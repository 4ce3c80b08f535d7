"""redactor: find faces, licence plates and personal text in photos and hide them irreversibly.

    from redactor import Redactor, Policy
    result = Redactor(policy=Policy.default()).redact("photo.jpg")
"""

__version__ = "0.2.0"

from .decisions import Decisions, Region  # noqa: E402
from .errors import (  # noqa: E402
    AnalysisError,
    DecisionsError,
    GalleryError,
    ImageError,
    ImageTooLargeError,
    MetadataError,
    ModelError,
    OutputError,
    PolicyError,
    RedactorError,
    RedactorWarning,
    UnreadableImageError,
)
from .pipeline import Failure, Redactor  # noqa: E402
from .policy import Policy  # noqa: E402
from .types import FaceDecision, Finding, Quad, Result  # noqa: E402

__all__ = [
    "AnalysisError",
    "Decisions",
    "DecisionsError",
    "FaceDecision",
    "Failure",
    "Finding",
    "GalleryError",
    "ImageError",
    "ImageTooLargeError",
    "MetadataError",
    "ModelError",
    "OutputError",
    "Policy",
    "PolicyError",
    "Quad",
    "Redactor",
    "RedactorError",
    "RedactorWarning",
    "Region",
    "Result",
    "UnreadableImageError",
    "__version__",
]
