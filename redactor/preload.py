"""Imported once by the batch worker pool's fork server (:func:`redactor.pool.worker_context`):
the libraries every worker needs, so that each worker forks with them in memory instead of
importing them again (a worker's load 2.5 -> 1.3 s on the 2-core machine; bench/README.md), and
the name models, which are plain Python objects (jieba's tables, spaCy's pipeline on numpy):
loaded here once, each worker finds them loaded (≈0.8 CPU-s less per worker).

Each after the files it reads are verified. No detector is built here and no runtime thread is
started, so forking from this process is safe: OpenVINO's, ONNX Runtime's and OpenMP's threads
start in each worker, when its detectors are built. What fails here is left to the worker,
which loads it again and fails with its own message.
"""

from __future__ import annotations

import contextlib
import importlib

from .classify import ner
from .detect import faces, text


def _rapidocr() -> None:
    text.import_openvino()
    for module in ("rapidocr.ch_ppocr_det", "rapidocr.ch_ppocr_rec"):
        importlib.import_module(module)


for _load in (ner.import_spacy, ner.load_spacy, ner.load_jieba, faces.import_yuface, _rapidocr):
    with contextlib.suppress(Exception):
        _load()
