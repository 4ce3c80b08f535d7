"""Paying for models only when needed (issue 27): the name models loaded in the background,
jieba's tables from a checked cache file in the user's cache folder."""

import os
import threading

import numpy as np
import pytest
from conftest import LINES, fake_redactor
from fakes import FakeFaces, FakeText

from redactor import Redactor, models
from redactor.classify import ner
from redactor.classify.ner import NameModels
from redactor.detect import FACE_DETECTORS, TEXT_ENGINES
from redactor.errors import AnalysisError, ModelError
from redactor.pipeline import Failure
from redactor.types import Quad

LINES_WITH_NAMES = ["記者 鄭紀平 報道", "By Rachel Ostrowski | Staff reporter", "電話 9123 4567"]


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "redactor"


def test_name_models_loaded_in_the_background_find_what_loading_at_first_use_finds():
    background = NameModels()
    background.load_in_background()
    background.load_in_background()  # once: a second call starts no second thread
    background._loader.join(timeout=120)
    assert background._nlp is not None and background._pos is not None
    found = background.find(LINES_WITH_NAMES)
    assert found == NameModels().find(LINES_WITH_NAMES)
    assert [m[4] for m in found[0]] == ["ner-zh"] and [m[4] for m in found[1]] == ["ner-en"]


@pytest.mark.parametrize("loader, line", [("load_spacy", "Rachel Ostrowski"), ("load_jieba", "記者 鄭紀平 報道")])
def test_a_name_model_that_failed_to_load_in_the_background_fails_every_use(monkeypatch, loader, line):
    """Never "no names": the error the background thread met is raised where the model is needed."""
    threads = []

    def broken():
        threads.append(threading.current_thread().name)
        raise ModelError(f"{loader}: altered")

    monkeypatch.setattr(ner, loader, broken)
    names = NameModels()
    names.load_in_background()
    names._loader.join(timeout=120)
    for _ in range(2):
        with pytest.raises(ModelError, match="altered"):
            names.find([line])
    assert threads == ["redactor-name-models"], "loaded once, in the background, and not retried"


def _text_with(lines):
    return lambda **kw: FakeText(lines=[(Quad.from_box(10, 10 + 30 * i, 200, 34 + 30 * i), t)
                                        for i, t in enumerate(lines)], **kw)


def test_the_pipeline_loads_the_name_models_in_the_background_and_uses_them(monkeypatch):
    monkeypatch.setitem(TEXT_ENGINES, "fake-names", _text_with(["By Rachel Ostrowski | Staff reporter"]))
    monkeypatch.setitem(FACE_DETECTORS, "fake", lambda **kw: FakeFaces([]))
    threads = []
    real = ner.load_spacy

    def watched():
        threads.append(threading.current_thread().name)
        return real()

    monkeypatch.setattr(ner, "load_spacy", watched)
    r = Redactor(ocr="fake-names", faces="fake")
    assert r._names is not None and r._names._loader is None, "building a Redactor loads no name model"
    result = r.redact(np.full((120, 240, 3), 200, np.uint8))
    assert any(f.category == "name" and f.recognizer == "ner-en" for f in result.findings), result.findings
    assert threads == ["redactor-name-models"]


def test_an_image_whose_name_model_failed_to_load_is_not_written(monkeypatch, fake_engines):
    """Fail closed: the image fails with the model's error, naming the file."""
    def broken():
        raise ModelError("spacy-en-ner: sha256 mismatch")

    monkeypatch.setattr(ner, "load_spacy", broken)
    assert any("Stand with" in t for _, t in LINES)  # an English line the name model must read
    r = fake_redactor()
    (out,) = r.redact_many([np.full((240, 320, 3), 200, np.uint8)], names=["wall.png"])
    assert isinstance(out, Failure)
    assert "wall.png" in str(out.error) and "sha256 mismatch" in str(out.error)
    assert isinstance(out.error, (ModelError, AnalysisError))


def test_a_policy_without_names_loads_no_name_model(monkeypatch):
    from redactor import Policy

    monkeypatch.setitem(TEXT_ENGINES, "fake-names", _text_with(["Rachel Ostrowski 9123 4567"]))
    monkeypatch.setitem(FACE_DETECTORS, "fake", lambda **kw: FakeFaces([]))
    r = Redactor(Policy.from_toml("protect = ['phone']\n"), ocr="fake-names", faces="fake")
    r.redact(np.full((120, 240, 3), 200, np.uint8))
    assert r._names is None
    assert r._classifier._names._nlp is None and r._classifier._names._pos is None


def test_jiebas_tables_are_what_jieba_builds_from_its_dictionary():
    ner.load_jieba()  # jieba.posseg imported our way: given the tags, not reading them
    import jieba.posseg

    tables = ner._build_jieba_tables()
    with models.model_path("jieba-dict").open("rb") as f:
        freq, total = jieba.Tokenizer.gen_pfdict(f)
    assert tables["freq"] == freq and tables["total"] == total
    holder = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
    jieba.posseg.POSTokenizer.load_word_tag(holder, models.model_path("jieba-dict").open("rb"))
    assert tables["tags"] == holder.word_tag_tab
    assert jieba.posseg.dt.word_tag_tab == holder.word_tag_tab
    assert freq == jieba.dt.FREQ


def _derived(calls, value=None):
    value = value if value is not None else {"freq": {"王": 3}, "total": 3, "tags": {"王": "nr"}}

    def build():
        calls.append(1)
        return value

    return models.derived("test-table", "jieba-dict", build, lambda v: isinstance(v, dict))


def test_a_derived_table_is_built_once_then_read_from_the_users_cache_folder(cache_home):
    calls = []
    first = _derived(calls)
    (path,) = cache_home.glob("test-table-*.bin")
    assert models.manifest()["jieba-dict"].sha256[:16] in path.name
    assert path.stat().st_mode & 0o777 == 0o600 and cache_home.stat().st_mode & 0o077 == 0
    assert _derived(calls) == first and calls == [1], "read back, not built again"


@pytest.mark.parametrize("spoil", ["altered", "truncated", "writable by others", "a link", "folder writable"])
def test_a_cache_file_that_fails_its_check_is_never_read(cache_home, tmp_path, spoil):
    calls = []
    _derived(calls)
    (path,) = cache_home.glob("test-table-*.bin")
    data = path.read_bytes()
    if spoil == "altered":  # the same length, one byte of the table changed
        path.write_bytes(data[:-3] + bytes([data[-3] ^ 1]) + data[-2:])
    elif spoil == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif spoil == "writable by others":
        path.chmod(0o666)
    elif spoil == "a link":
        (tmp_path / "elsewhere.bin").write_bytes(data)
        path.unlink()
        path.symlink_to(tmp_path / "elsewhere.bin")
    else:
        cache_home.chmod(0o777)
    assert _derived(calls, {"freq": {"李": 1}, "total": 1, "tags": {}}) == {"freq": {"李": 1}, "total": 1, "tags": {}}
    assert calls == [1, 1], "built again"


def test_a_cache_folder_that_cannot_be_written_costs_only_the_build(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no folder can be made under it
    calls = []
    assert _derived(calls)["total"] == 3 and _derived(calls)["total"] == 3
    assert calls == [1, 1]


def test_without_a_home_folder_the_table_is_built_every_time(monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(models.Path, "home", staticmethod(no_home))
    calls = []
    assert _derived(calls)["total"] == 3 and calls == [1]


def test_the_cache_of_an_altered_model_is_not_used(cache_home, monkeypatch):
    """The model is verified before its table: a cached table never stands in for a bad file."""
    calls = []
    _derived(calls)

    def refuse(name):
        raise ModelError(f"{name}: altered")

    monkeypatch.setattr(models, "model_path", refuse)
    with pytest.raises(ModelError, match="altered"):
        _derived(calls)
    assert calls == [1]


def test_the_cache_file_is_written_whole_or_not_at_all(cache_home, monkeypatch):
    real = os.replace

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    _derived([])
    monkeypatch.setattr(os, "replace", real)
    assert not list(cache_home.iterdir()), "no temporary file or partial cache left"


def test_the_name_models_tokenizer_is_the_one_the_model_saved():
    """The pipeline does not read the model's tokenizer file (ner.py): spaCy's English tokenizer
    must serialise to the same bytes, or tokens, and so names, could differ."""
    spacy = ner.import_spacy()
    saved = spacy.load(models.model_path("spacy-en-ner").parent.parent, exclude=ner._SPACY_EXCLUDE)
    # the rules, not the vocabulary (which grows with every text read)
    assert ner.load_spacy().tokenizer.to_bytes(exclude=["vocab"]) == saved.tokenizer.to_bytes(exclude=["vocab"])
    assert ner.load_spacy().pipe_names == ["ner"]


def test_a_small_batch_runs_in_this_process_unless_workers_are_asked_for(monkeypatch, tmp_path, fake_engines):
    """Starting workers (a fork server that loads every library and model, then each worker's
    detectors) costs more than one or two images gain from them."""
    from conftest import draw_wall

    from redactor import Policy, batch, pool

    (tmp_path / "in").mkdir()
    for i in range(3):
        draw_wall(tmp_path / "in" / f"w{i}.png", seed=i)
    pools = []

    def no_pool(chunks, opts, processes):
        pools.append(processes)
        return []
        yield

    monkeypatch.setattr(pool, "_in_pool", no_pool)
    opts = batch.Options(policy=Policy.default(), ocr="fake", force=True)
    two = batch.plan(sorted((tmp_path / "in").iterdir())[:2], tmp_path / "out")
    outcomes = batch.run(two, opts, jobs_n=2, small_in_process=True)
    assert [o.status for o in outcomes] == ["redacted", "redacted"] and pools == []
    batch.run(two, opts, jobs_n=2)  # --jobs 2 asked for: workers, however few the images
    assert pools == [2]
    batch.run(batch.plan([tmp_path / "in"], tmp_path / "out"), opts, jobs_n=2, small_in_process=True)
    assert pools == [2, 2], "three images are worth two workers"


def test_compiled_models_are_cached_in_a_private_folder_and_an_altered_file_is_compiled_again(cache_home):
    """OpenVINO's cache of compiled models (the dynamic-shape ones) is ours alone; a file
    OpenVINO cannot import (truncated, altered) is compiled afresh, giving the same readings."""
    from redactor.detect.text import RapidOCREngine

    crop = np.full((48, 200, 3), 255, np.uint8)
    crop[14:34, 20:180] = 0
    first = RapidOCREngine().read([crop])
    blobs = sorted((cache_home / "openvino").glob("*.blob"))
    assert len(blobs) == 2  # recognition and the line classifier; detection (per shape) is not cached
    assert (cache_home / "openvino").stat().st_mode & 0o777 == 0o700
    for blob in blobs:
        blob.chmod(0o600)
        blob.write_bytes(blob.read_bytes()[: blob.stat().st_size // 3])
    assert RapidOCREngine().read([crop]) == first


def test_a_cache_folder_others_can_write_is_not_used_for_compiled_models(cache_home):
    cache_home.mkdir(parents=True)
    cache_home.chmod(0o777)
    assert models.compile_cache() == {}
    cache_home.chmod(0o700)
    assert models.compile_cache() == {"CACHE_DIR": str(cache_home / "openvino")}
