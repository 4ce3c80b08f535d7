"""Content Credentials (C2PA): sign an output with what was done to it, never what was hidden.

Opt-in (``redact --sign CERT KEY``, ``[metadata] sign_cert``/``sign_key``). The manifest, written
with c2pa-python, holds: the claim generator ``redactor/VERSION``; the actions ``c2pa.opened``
(the original, as a bare ingredient: no thumbnail, no hash, no title, nothing of it embedded; with
the input's IPTC digital source type where the input names one) and ``c2pa.edited``, whose
description counts what was hidden by category ("2 faces, 1 phone number"), never the text.
Thumbnails are off: a claim thumbnail would only repeat the output, and an ingredient's would be
the unredacted original.

An input's own manifest never reaches the output (io.encode writes fresh pixels); with
``keep_manifest`` it is added as the parent ingredient instead, with the manifests it holds
(which can include the original's thumbnail: the user asked for it).

Each signed output is read back with c2pa's Reader before it is written: a manifest that does
not validate, or that holds any hidden text, raises MetadataError (fail closed).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import MetadataError, PolicyError

if TYPE_CHECKING:
    from .types import Finding

__all__ = ["Signing", "describe_hidden", "load_signing", "sign"]

MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "TIFF": "image/tiff", "HEIF": "image/heic"}

_WORDS = {  # category -> (one, many) as a reader of the manifest sees them
    "face": ("face", "faces"), "plate": ("licence plate", "licence plates"), "name": ("name", "names"),
    "role": ("rank or job title", "ranks or job titles"), "phone": ("phone number", "phone numbers"),
    "email": ("email address", "email addresses"), "address": ("address", "addresses"),
    "birthday": ("birth date", "birth dates"), "handle": ("social media handle", "social media handles"),
    "id": ("ID number", "ID numbers"), "custom": ("term on the newsroom's list", "terms on the newsroom's list"),
    "unreadable": ("unreadable line of personal text", "unreadable lines of personal text"),
}


@dataclass(frozen=True)
class Signing:
    """A certificate chain (PEM, signing certificate first) and its private key (PEM)."""

    cert_path: str
    key_path: str
    chain: bytes = field(repr=False)
    key: bytes = field(repr=False)
    alg: str  # c2pa.C2paSigningAlg member name, from the key's type
    subject: str

    def to_dict(self) -> dict[str, Any]:
        """For the policy's fingerprint and the report: never the key."""
        return {"cert": self.cert_path, "cert_sha256": hashlib.sha256(self.chain).hexdigest(), "subject": self.subject}


def load_signing(cert: str | Path, key: str | Path, source: str = "--sign") -> Signing:
    """Read and check a certificate chain and key: both PEM, the key the certificate's own."""
    check_installed()
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        chain, key_pem = Path(cert).read_bytes(), Path(key).read_bytes()
    except OSError as e:
        raise PolicyError(f"{source}: cannot read {e.filename} ({e.strerror}); check the path") from e
    try:
        certs = x509.load_pem_x509_certificates(chain)
    except ValueError as e:
        raise PolicyError(f"{source}: {cert} is not a PEM certificate chain ({e}); export it as PEM, signing "
                          "certificate first, then its intermediates") from e
    try:
        private = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as e:
        raise PolicyError(f"{source}: {key} is not an unencrypted PEM private key ({e}); e.g. `openssl pkcs8 "
                          "-topk8 -nocrypt -in KEY -out key.pem`") from e
    if private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) \
            != certs[0].public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo):
        raise PolicyError(f"{source}: {key} is not the key of the first certificate in {cert}; put the signing "
                          "certificate first in the chain")
    if isinstance(private, ec.EllipticCurvePrivateKey):
        alg = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}.get(private.curve.name)
    elif isinstance(private, ed25519.Ed25519PrivateKey):
        alg = "ED25519"
    elif isinstance(private, rsa.RSAPrivateKey):
        alg = "PS256"
    else:
        alg = None
    if alg is None:
        raise PolicyError(f"{source}: {key}: C2PA signs with EC P-256/384/521, Ed25519 or RSA keys; this is "
                          f"{type(private).__name__}")
    return Signing(str(cert), str(key), chain, key_pem, alg, certs[0].subject.rfc4514_string())


def check_installed() -> None:
    """Signing needs the [sign] extra; say so before any work."""
    import importlib.util

    if importlib.util.find_spec("c2pa") is None or importlib.util.find_spec("cryptography") is None:
        raise PolicyError("signing (--sign, [metadata] sign_cert) needs c2pa-python: pip install 'redactor[sign]'")


def describe_hidden(findings: Sequence[Finding]) -> str:
    """What was hidden, by category and count ("2 faces, 1 phone number"), never the content."""
    counts = Counter(f.category for f in findings)
    if not counts:
        return "Checked by redactor: nothing protected was found; all metadata not explicitly kept was removed"
    parts = [f"{n} {_WORDS[c][n != 1] if c in _WORDS else c}" for c, n in sorted(counts.items(), key=lambda x: -x[1])]
    return f"Hidden by redactor: {', '.join(parts)}; all metadata not explicitly kept was removed"


def sign(data: bytes, fmt: str, signing: Signing, *, findings: Sequence[Finding] = (),
         source_type: str | None = None, ingredient: Path | None = None) -> tuple[bytes, dict[str, Any]]:
    """``data`` with a C2PA manifest; returns (signed bytes, the report's ``signed`` section)."""
    import c2pa

    mime = MIME.get(fmt)
    if mime is None:
        raise MetadataError(f"{fmt} cannot carry Content Credentials; redact a JPEG, PNG, WebP, TIFF or HEIC "
                            "to sign it, or leave out --sign")
    description = describe_hidden(findings)
    opened: dict[str, Any] = {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}}
    if source_type:
        opened["digitalSourceType"] = source_type
    actions = [opened, {"action": "c2pa.edited", "description": description,
                        "softwareAgent": {"name": "redactor", "version": __version__}}]
    parent = {"title": "original (not embedded)", "format": mime, "relationship": "parentOf", "label": "original"}
    manifest: dict[str, Any] = {
        "claim_generator_info": [{"name": "redactor", "version": __version__}],
        "title": f"redacted {fmt} image",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}],
    }
    if ingredient is None:
        manifest["ingredients"] = [parent]
    dst = io.BytesIO()
    try:
        context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
        builder = c2pa.Builder(manifest, context=context)
        if ingredient is not None:
            with ingredient.open("rb") as f:
                builder.add_ingredient({**parent, "title": "original (its own manifest kept)"}, mime, f)
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
            getattr(c2pa.C2paSigningAlg, signing.alg), signing.chain, signing.key, None))
        builder.sign(signer, mime, io.BytesIO(data), dst)
        reader = c2pa.Reader(mime, io.BytesIO(dst.getvalue()))
        state = reader.get_validation_state()
        store = reader.json()
    except c2pa.C2paError as e:
        raise MetadataError(f"signing failed ({e}); check that the certificate is a C2PA signing certificate "
                            "(digitalSignature key usage, not a CA)") from e
    if state not in ("Valid", "Trusted"):
        status = json.loads(store).get("validation_status")
        raise MetadataError(f"the signed output did not validate ({state}: {status}); it was not written")
    leaked = sorted({f.category for f in findings if f.text and len(f.text.strip()) >= 3 and f.text.strip() in store})
    if leaked:
        raise MetadataError(f"the manifest would contain hidden text ({', '.join(leaked)}); the output was not written")
    return dst.getvalue(), {**signing.to_dict(), "actions": [a["action"] for a in actions],
                            "description": description, "digital_source_type": source_type,
                            "ingredient_manifest": ingredient is not None}
