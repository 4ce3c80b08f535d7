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

from .errors import PolicyError
from .types import ACTIONS, CATEGORIES, Action, Category

_SCHEMA: dict[str, Any] = {
    "version": int,
    "protect": list,
    "actions": {"default": str, **{c: str for c in CATEGORIES}},
    "thresholds": {"face": float, "text": float},
    "padding": {"face": float, "text": float, "plate": float},
    "lists": {"allow": list, "deny": list, "deny_patterns": list},
    "render": {"fill_color": list},
}


@dataclass(frozen=True)
class Policy:
    protect: frozenset[Category]
    actions: MappingProxyType[Category, Action]  # every category has an action
    face_threshold: float = 0.35
    text_threshold: float = 0.5
    padding: MappingProxyType[str, float] = field(
        default_factory=lambda: MappingProxyType({"face": 0.2, "text": 0.05, "plate": 0.5})
    )
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    deny_patterns: tuple[str, ...] = ()
    fill_color: tuple[int, int, int] = (0, 0, 0)
    source: str = "<default>"

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
        return cls.from_toml(text, source=str(p))

    @classmethod
    def from_toml(cls, text: str, *, source: str = "<string>") -> Policy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise PolicyError(f"{source}: not valid TOML: {e}") from e
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<dict>") -> Policy:
        """Build from a dict shaped like the TOML file; missing keys take the defaults."""
        _check_keys(data, _SCHEMA, source, "")
        if data.get("version", 1) != 1:
            raise PolicyError(f"{source}: version = {data['version']!r} is not supported; use version = 1")

        protect = data.get("protect", list(CATEGORIES))
        for c in protect:
            if c not in CATEGORIES:
                raise PolicyError(f"{source}: protect: unknown category {c!r}; known: {', '.join(CATEGORIES)}")

        actions_in = data.get("actions", {})
        default_action = actions_in.get("default", "fill")
        actions: dict[Category, Action] = {}
        for c in CATEGORIES:
            a = actions_in.get(c, "blur" if c == "face" and "face" not in actions_in else default_action)
            if a not in ACTIONS:
                raise PolicyError(f"{source}: actions.{c} = {a!r}; use one of {', '.join(ACTIONS)}")
            actions[c] = cast(Action, a)
        if default_action not in ACTIONS:
            raise PolicyError(f"{source}: actions.default = {default_action!r}; use one of {', '.join(ACTIONS)}")

        th = data.get("thresholds", {})
        pad = {"face": 0.2, "text": 0.05, "plate": 0.5, **data.get("padding", {})}
        for key, value in [*(("thresholds." + k, v) for k, v in th.items()),
                           *(("padding." + k, v) for k, v in pad.items())]:
            if not 0 <= float(value) <= (1 if key.startswith("thresholds") else 2):
                raise PolicyError(f"{source}: {key} = {value!r} is out of range")

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
            padding=MappingProxyType({k: float(v) for k, v in pad.items()}),
            allow=tuple(lists.get("allow", [])),
            deny=tuple(lists.get("deny", [])),
            deny_patterns=tuple(lists.get("deny_patterns", [])),
            fill_color=(color[0], color[1], color[2]),
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "protect": sorted(self.protect),
            "actions": dict(self.actions),
            "thresholds": {"face": self.face_threshold, "text": self.text_threshold},
            "padding": dict(self.padding),
            "lists": {"allow": list(self.allow), "deny": list(self.deny), "deny_patterns": list(self.deny_patterns)},
            "render": {"fill_color": list(self.fill_color)},
        }

    def fingerprint(self) -> str:
        """Stable hash of the policy's meaning (not its file name): a resumed batch redoes an
        image when the policy that produced its output has changed."""
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def reversible_text_actions(self) -> list[str]:
        """Text categories set to blur/pixelate: these can be partly reversed; callers warn."""
        return [c for c in sorted(self.protect) if c != "face" and self.actions[c] != "fill"]


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
