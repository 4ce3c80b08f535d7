"""Policy: which categories to hide and how. Loaded from TOML; every key is checked at load time.

The shipped default (redactor/default_policy.toml) hides all faces, plates and personal text.
Unknown keys and bad values raise :class:`PolicyError` naming the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from .errors import GalleryError, PolicyError
from .gallery import Gallery
from .metadata_fields import PERSONAL_TEXT, MetadataPolicy, parse_keep
from .types import ACTIONS, CATEGORIES, Action, Category

#: [faces] mode: which detected faces are hidden (see FacePolicy).
FACE_MODES = ("all", "protected", "all-except-allowed")

_SCHEMA: dict[str, Any] = {
    "version": int,
    "protect": list,
    "actions": {"default": str, **{c: str for c in CATEGORIES}},
    "thresholds": {"face": float, "text": float, "readable": float},
    "padding": {"face": float, "text": float, "plate": float},
    "lists": {"allow": list, "deny": list, "deny_patterns": list},
    "render": {"fill_color": list},
    "faces": {"mode": str, "tolerance": float, "allow_tolerance": float,
              "protected_gallery": str, "allowed_gallery": str},
    "metadata": {"keep": list, "personal_text": str, "sign_cert": str, "sign_key": str, "keep_manifest": bool},
}


@dataclass(frozen=True)
class FacePolicy:
    """Which faces to hide, by identity ([faces] in the policy file; redactor/identity.py applies it).

    ``mode``: "all" hides every face (no face recognition is loaded); "protected" hides only
    faces matching the protected gallery; "all-except-allowed" hides every face except those
    matching the allowed gallery. A face matching the protected gallery is hidden in every mode.
    Distances are Euclidean between 128-d dlib encodings. ``tolerance`` (0.6, face_recognition's
    own default) decides a protected match: lenient, since a missed match shows a protected
    person. ``allow_tolerance`` (0.5) decides an allowed match: stricter, since a false match
    shows a stranger. Measured in bench/README.md: the same person at 20 px or more stayed
    under 0.50, two different people stayed over 0.70.
    """

    mode: str = "all"
    tolerance: float = 0.6
    allow_tolerance: float = 0.5
    protected: Gallery | None = None
    allowed: Gallery | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode, "tolerance": self.tolerance, "allow_tolerance": self.allow_tolerance}
        for key, g in (("protected_gallery", self.protected), ("allowed_gallery", self.allowed)):
            if g is not None:
                out[key] = g.path
        return out


@dataclass(frozen=True)
class Policy:
    protect: frozenset[Category]
    actions: MappingProxyType[Category, Action]  # every category has an action
    face_threshold: float = 0.35
    text_threshold: float = 0.5
    readable_threshold: float = 0.7  # reading confidence under which a line is "unreadable"
    padding: MappingProxyType[str, float] = field(
        default_factory=lambda: MappingProxyType({"face": 0.3, "text": 0.05, "plate": 0.5})
    )
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    deny_patterns: tuple[str, ...] = ()
    fill_color: tuple[int, int, int] = (0, 0, 0)
    source: str = "<default>"
    faces: FacePolicy = field(default_factory=FacePolicy)
    metadata: MetadataPolicy = field(default_factory=MetadataPolicy)  # redactor/metadata_fields.py

    # Read-only mappings do not pickle; `--jobs N` sends the policy to each worker process.
    # The state names the fields that were read-only, so exactly those come back read-only.
    def __getstate__(self) -> tuple[dict[str, Any], frozenset[str]]:
        proxies = frozenset(k for k, v in vars(self).items() if isinstance(v, MappingProxyType))
        return {k: dict(v) if k in proxies else v for k, v in vars(self).items()}, proxies

    def __setstate__(self, state: tuple[dict[str, Any], frozenset[str]]) -> None:
        values, proxies = state
        for k, v in values.items():
            object.__setattr__(self, k, MappingProxyType(v) if k in proxies else v)

    @classmethod
    def default(cls) -> Policy:
        text = resources.files("redactor").joinpath("default_policy.toml").read_text("utf-8")
        return cls.from_toml(text, source="<default>")

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except OSError as e:
            raise PolicyError(f"{p}: cannot read the policy file ({e.strerror}); check the path") from e
        return cls.from_toml(text, source=str(p), base_dir=p.parent)

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<string>", base_dir: Path | None = None) -> Policy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise PolicyError(f"{source}: not valid TOML: {e}") from e
        return cls.from_dict(data, source=source, base_dir=base_dir)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<dict>", base_dir: Path | None = None) -> Policy:
        """Build from a dict shaped like the TOML file; missing keys take the defaults.

        Relative gallery paths resolve against ``base_dir`` (the policy file's folder; default
        the current folder). Gallery files are read and checked here, at load time."""
        _check_keys(data, _SCHEMA, source, "")
        if data.get("version", 1) != 1:
            raise PolicyError(f"{source}: version = {data['version']!r} is not supported; use version = 1")

        protect = data.get("protect", list(CATEGORIES))
        for c in protect:
            if c not in CATEGORIES:
                raise PolicyError(f"{source}: protect: unknown category {c!r}; known: {', '.join(CATEGORIES)}")

        actions_in = data.get("actions", {})
        default_action = actions_in.get("default", "fill")
        if default_action not in ACTIONS:  # before the categories, which inherit it
            raise PolicyError(f"{source}: actions.default = {default_action!r}; use one of {', '.join(ACTIONS)}")
        actions: dict[Category, Action] = {}
        for c in CATEGORIES:
            a = actions_in.get(c, "blur" if c == "face" and "face" not in actions_in else default_action)
            if a not in ACTIONS:
                raise PolicyError(f"{source}: actions.{c} = {a!r}; use one of {', '.join(ACTIONS)}")
            actions[c] = cast(Action, a)

        th = data.get("thresholds", {})
        pad = {"face": 0.3, "text": 0.05, "plate": 0.5, **data.get("padding", {})}
        for key, value in [*(("thresholds." + k, v) for k, v in th.items()),
                           *(("padding." + k, v) for k, v in pad.items())]:
            top = 1 if key.startswith("thresholds") else 2
            if not 0 <= float(value) <= top:
                raise PolicyError(f"{source}: {key} = {value!r} is out of range; use a number from 0 to {top}")

        lists = data.get("lists", {})
        for key in ("allow", "deny", "deny_patterns"):
            if not all(isinstance(t, str) and t.strip() for t in lists.get(key, [])):
                raise PolicyError(f"{source}: lists.{key} must be a list of non-empty strings")
        for pat in lists.get("deny_patterns", []):
            try:
                re.compile(pat)
            except re.error as e:
                raise PolicyError(f"{source}: lists.deny_patterns: {pat!r} is not a valid regex: {e}") from e

        color = data.get("render", {}).get("fill_color", [0, 0, 0])
        if len(color) != 3 or not all(isinstance(v, int) and 0 <= v <= 255 for v in color):
            raise PolicyError(f"{source}: render.fill_color = {color!r}; use three integers 0-255, e.g. [0, 0, 0]")

        return cls(
            protect=frozenset(cast(list[Category], protect)),
            actions=MappingProxyType(actions),
            face_threshold=float(th.get("face", 0.35)),
            text_threshold=float(th.get("text", 0.5)),
            readable_threshold=float(th.get("readable", 0.7)),
            padding=MappingProxyType({k: float(v) for k, v in pad.items()}),
            allow=tuple(lists.get("allow", [])),
            deny=tuple(lists.get("deny", [])),
            deny_patterns=tuple(lists.get("deny_patterns", [])),
            fill_color=(color[0], color[1], color[2]),
            source=source,
            faces=_face_policy(data.get("faces", {}), protect, source, base_dir),
            metadata=_metadata_policy(data.get("metadata", {}), source, base_dir),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "protect": sorted(self.protect),
            "actions": dict(self.actions),
            "thresholds": {"face": self.face_threshold, "text": self.text_threshold,
                           "readable": self.readable_threshold},
            "padding": dict(self.padding),
            "lists": {"allow": list(self.allow), "deny": list(self.deny), "deny_patterns": list(self.deny_patterns)},
            "render": {"fill_color": list(self.fill_color)},
            # Only when set: policies without [faces] keep the fingerprint they always had.
            **({"faces": self.faces.to_dict()} if self.faces != FacePolicy() else {}),
            **({"metadata": self.metadata.to_dict()} if self.metadata != MetadataPolicy() else {}),
        }

    def fingerprint(self) -> str:
        """Stable hash of the policy's meaning (not its file name): a resumed batch redoes an
        image when the policy that produced its output has changed."""
        meaning = self.to_dict()
        if "faces" in meaning:  # the galleries' content, not only their paths
            meaning["gallery_sha256"] = [g.sha256 for g in (self.faces.protected, self.faces.allowed) if g]
        blob = json.dumps(meaning, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_metadata(self, *, keep: list[str] | None = None, sign: tuple[str, str] | None = None,
                      keep_manifest: bool = False) -> Policy:
        """This policy with [metadata] changed from the command line: ``keep`` replaces the list,
        ``sign`` (CERT, KEY) the signing credentials; ``keep_manifest`` only turns keeping on."""
        from dataclasses import replace

        from .provenance import load_signing

        m = self.metadata
        if keep is not None:
            fields, refused = parse_keep(keep, "--keep-metadata")
            m = replace(m, keep=fields, refused=refused)
        if sign is not None:
            m = replace(m, sign=load_signing(sign[0], sign[1]))
        if keep_manifest:
            if m.sign is None:
                raise PolicyError("--keep-manifest keeps an input's manifest as an ingredient of the signed output; "
                                  "it needs --sign CERT KEY (or sign_cert and sign_key in the policy)")
            m = replace(m, keep_manifest=True)
        return replace(self, metadata=m)

    def reversible_text_actions(self) -> list[str]:
        """Text categories set to blur/pixelate: these can be partly reversed; callers warn."""
        return [c for c in sorted(self.protect) if c != "face" and self.actions[c] != "fill"]


def _metadata_policy(meta: dict[str, Any], source: str, base_dir: Path | None) -> MetadataPolicy:
    """[metadata]: fields to keep (names checked here), personal text in them, signing (C2PA)."""
    if not all(isinstance(n, str) for n in meta.get("keep", [])):
        raise PolicyError(f"{source}: metadata.keep must be a list of field names, e.g. [\"iptc:Credit\"]")
    keep, refused = parse_keep(meta.get("keep", []), source)
    personal = meta.get("personal_text", "mask")
    if personal not in PERSONAL_TEXT:
        raise PolicyError(f"{source}: metadata.personal_text = {personal!r}; use one of {', '.join(PERSONAL_TEXT)}")
    signing = None
    if ("sign_cert" in meta) != ("sign_key" in meta):
        raise PolicyError(f"{source}: metadata.sign_cert and metadata.sign_key go together; give both or neither")
    if "sign_cert" in meta:
        from .provenance import load_signing

        cert, key = (_relative(meta[k], base_dir) for k in ("sign_cert", "sign_key"))
        signing = load_signing(cert, key, f"{source}: metadata.sign_cert")
    return MetadataPolicy(keep=keep, refused=refused, personal_text=personal, sign=signing,
                          keep_manifest=bool(meta.get("keep_manifest", False)))


def _relative(path: str, base_dir: Path | None) -> Path:
    p = Path(path).expanduser()
    return (p if p.is_absolute() else (base_dir or Path.cwd()) / p).absolute()


def _face_policy(faces: dict[str, Any], protect: list[str], source: str, base_dir: Path | None) -> FacePolicy:
    mode = faces.get("mode", "all")
    if mode not in FACE_MODES:
        raise PolicyError(f"{source}: faces.mode = {mode!r}; use one of {', '.join(map(repr, FACE_MODES))}")
    if mode != "all" and "face" not in protect:
        raise PolicyError(f"{source}: faces.mode = {mode!r} needs \"face\" in protect (faces are not detected "
                          "without it)")
    tolerances = {"tolerance": 0.6, "allow_tolerance": 0.5}
    for key in tolerances:
        value = float(faces.get(key, tolerances[key]))
        if not 0 < value <= 1:
            raise PolicyError(f"{source}: faces.{key} = {value!r} is out of range; use a distance in (0, 1], "
                              "e.g. 0.6 (lower is stricter)")
        tolerances[key] = value
    needs = {"protected": "protected_gallery", "all-except-allowed": "allowed_gallery"}.get(mode)
    if needs and needs not in faces:
        raise PolicyError(f"{source}: faces.mode = {mode!r} needs faces.{needs} (a gallery file made with "
                          "`redactor gallery add`)")
    galleries: dict[str, Gallery] = {}
    for key in ("protected_gallery", "allowed_gallery"):
        if key not in faces:
            continue
        path = Path(faces[key]).expanduser()
        path = (path if path.is_absolute() else (base_dir or Path.cwd()) / path).absolute()
        try:
            galleries[key] = gallery = Gallery.load(path)
        except GalleryError as e:
            raise PolicyError(f"{source}: faces.{key}: {e}") from e
        if not gallery.people:
            raise PolicyError(f"{source}: faces.{key}: {path} holds nobody; add people with "
                              f"`redactor gallery add NAME IMAGE --gallery {path}`")
    return FacePolicy(mode=mode, tolerance=tolerances["tolerance"], allow_tolerance=tolerances["allow_tolerance"],
                      protected=galleries.get("protected_gallery"), allowed=galleries.get("allowed_gallery"))


def _check_keys(data: dict[str, Any], schema: dict[str, Any], source: str, prefix: str) -> None:
    for key, value in data.items():
        name = prefix + key
        if key not in schema:
            raise PolicyError(f"{source}: unknown key {name!r}; known keys here: {', '.join(schema)}")
        expected = schema[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise PolicyError(f"{source}: {name} must be a table ([{name}])")
            _check_keys(value, expected, source, name + ".")
        elif expected is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PolicyError(f"{source}: {name} = {value!r} must be a number")
        elif not isinstance(value, expected) or isinstance(value, bool) and expected is int:
            raise PolicyError(f"{source}: {name} = {value!r} must be of type {expected.__name__}")
