"""Face gallery files: names and 128-d face encodings, never face images (schema ``redactor.gallery/1``).

A gallery is a JSON file::

    {"schema": "redactor.gallery/1",
     "note": "Face encodings and names only; no face images. ...",
     "encoder": "dlib_face_recognition_resnet_model_v1 (face_recognition_models==0.3.0)",
     "people": [{"name": "Jane Doe", "encodings": [[0.0123, ...128 numbers], ...]}, ...]}

One person may have several encodings (one per portrait added); a face matches a person at
the smallest distance to any of them. Encodings are biometric data: whoever holds the file can
recognise these people in other photos. This module only reads, checks and writes the file
(atomically); computing encodings is redactor/identity.py's job.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GalleryError

SCHEMA = "redactor.gallery/1"
DIMENSIONS = 128
ENCODER = "dlib_face_recognition_resnet_model_v1 (face_recognition_models==0.3.0)"
NOTE = (
    "Face encodings (128 numbers per portrait) and names only; this file holds no face images. "
    "Encodings are biometric data: anyone with this file can recognise these people in other photos. "
    "Keep it as private as the photos themselves."
)


@dataclass(frozen=True)
class Person:
    name: str
    encodings: tuple[tuple[float, ...], ...]  # each DIMENSIONS numbers


@dataclass(frozen=True)
class Gallery:
    """An immutable gallery; ``with_added`` / ``without`` return new ones, ``save`` writes one."""

    people: tuple[Person, ...] = ()
    path: str = ""  # where it was read from ("" when made in memory)
    sha256: str = ""  # of the file's bytes, so a policy fingerprint changes when the gallery does

    # -- reading ----------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> Gallery:
        p = Path(path)
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            raise GalleryError(
                f"{p}: no such gallery file; create it with `redactor gallery add NAME IMAGE --gallery {p}`"
            ) from None
        except OSError as e:
            raise GalleryError(f"{p}: cannot read the gallery file ({e.strerror}); check the path") from e
        try:
            data = json.loads(raw)
        except ValueError as e:
            raise GalleryError(f"{p}: not a gallery file (invalid JSON: {e}); check the path") from e
        return cls._from_json(data, str(p), hashlib.sha256(raw).hexdigest())

    @classmethod
    def load_or_new(cls, path: str | Path) -> Gallery:
        """The gallery at ``path``, or an empty one to be saved there when the file does not exist."""
        p = Path(path)
        return cls.load(p) if p.exists() else cls(path=str(p))

    @classmethod
    def _from_json(cls, data: Any, path: str, digest: str) -> Gallery:
        def bad(what: str) -> GalleryError:
            return GalleryError(f"{path}: {what}; this is not a valid {SCHEMA} file (re-create it with "
                                "`redactor gallery add`)")

        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise bad(f"schema is {found!r}, expected {SCHEMA!r}")
        if not isinstance(data.get("people"), list):
            raise bad("'people' must be a list")
        people: list[Person] = []
        for i, entry in enumerate(data["people"]):
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name.strip():
                raise bad(f"people[{i}] has no name")
            encs = entry.get("encodings")
            if not isinstance(encs, list) or not encs:
                raise bad(f"{name!r} has no encodings")
            for enc in encs:
                if not (isinstance(enc, list) and len(enc) == DIMENSIONS and all(
                        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in enc)):
                    raise bad(f"an encoding of {name!r} is not {DIMENSIONS} finite numbers")
            if any(p.name == name for p in people):
                raise bad(f"{name!r} appears twice")
            people.append(Person(name, tuple(tuple(float(v) for v in enc) for enc in encs)))
        return cls(tuple(people), path=path, sha256=digest)

    # -- changing ---------------------------------------------------------------------------

    def names(self) -> list[str]:
        return [p.name for p in self.people]

    def with_added(self, name: str, encodings: list[np.ndarray]) -> Gallery:
        """Add encodings to ``name`` (a new person, or more portraits of one already there)."""
        name = name.strip()
        if not name:
            raise GalleryError(f"{self.path or '<gallery>'}: a person's name cannot be empty")
        new = tuple(_as_tuple(e) for e in encodings)
        people = list(self.people)
        for i, p in enumerate(people):
            if p.name == name:
                people[i] = Person(name, p.encodings + new)
                break
        else:
            people.append(Person(name, new))
        return Gallery(tuple(people), path=self.path)

    def without(self, name: str) -> Gallery:
        if name not in self.names():
            known = ", ".join(map(repr, self.names())) or "nobody yet"
            raise GalleryError(f"{self.path or '<gallery>'}: no person named {name!r} in the gallery "
                               f"(it holds {known}); names are case-sensitive")
        return Gallery(tuple(p for p in self.people if p.name != name), path=self.path)

    def to_json(self) -> bytes:
        """The file's bytes: one line per encoding, so a diff shows which person changed."""
        head = {"schema": SCHEMA, "note": NOTE, "encoder": ENCODER}
        lines = ["{", *(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items())]
        people = []
        for p in self.people:
            encs = ",\n   ".join(json.dumps([round(v, 7) for v in enc]) for enc in p.encodings)
            people.append(f'  {{"name": {json.dumps(p.name, ensure_ascii=False)}, "encodings": [\n   {encs}]}}')
        lines.append(' "people": [' + ("\n" + ",\n".join(people) + "\n ]" if people else "]"))
        lines.append("}")
        return ("\n".join(lines) + "\n").encode("utf-8")

    def save(self, path: str | Path | None = None) -> None:
        """Write atomically (a reader sees the old gallery or the new one, never half of one)."""
        from .io import write_atomic

        target = Path(path or self.path)
        if not str(target):
            raise GalleryError("<gallery>: no file to save to; give a path")
        write_atomic(target, self.to_json())

    # -- matching ---------------------------------------------------------------------------

    @cached_property
    def _matrix(self) -> tuple[np.ndarray, list[str]]:
        rows = [(p.name, enc) for p in self.people for enc in p.encodings]
        matrix = np.array([enc for _, enc in rows], dtype=np.float64).reshape(-1, DIMENSIONS)
        return matrix, [name for name, _ in rows]

    def nearest(self, encoding: np.ndarray) -> tuple[str, float] | None:
        """(name, Euclidean distance) of the closest person, or None for an empty gallery."""
        matrix, names = self._matrix
        if not names:
            return None
        d = np.linalg.norm(matrix - np.asarray(encoding, dtype=np.float64), axis=1)
        i = int(np.argmin(d))
        return names[i], float(d[i])


def _as_tuple(encoding: np.ndarray) -> tuple[float, ...]:
    a = np.asarray(encoding, dtype=np.float64).ravel()
    if a.shape != (DIMENSIONS,) or not np.isfinite(a).all():
        raise GalleryError(f"an encoding must be {DIMENSIONS} finite numbers, got shape {a.shape}")
    return tuple(float(v) for v in a)
