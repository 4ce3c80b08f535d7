"""The only module that wires the stages: load -> detect -> classify -> render.

``Redactor`` builds its detectors once and reuses them. ``redact_many`` is the batch path: it
takes images in chunks and sends the text-line crops of a whole chunk through the recogniser
together. An image whose analysis fails yields a :class:`Failure` and never a redacted image,
so nothing unanalysed can be written (fail closed).
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import identity, io, orientation, render
from .classify import TextClassifier
from .classify.ner import NameModels
from .decisions import Decisions, Kind, Region
from .decisions import now as decisions_now
from .detect import FACE_DETECTORS, TEXT_ENGINE_WARNINGS, TEXT_ENGINES
from .detect.plates import CascadePlateDetector, CornerPlateDetector, straightened
from .detect.text import TextOptions
from .errors import AnalysisError, DecisionsError, ImageError, PolicyError, RedactorError, RedactorWarning
from .layout import group_lines, is_plate_row, is_vertical, merge_rows, sideways_views
from .policy import Policy
from .report import mask_text
from .types import TEXT_CATEGORIES, Detection, FaceDecision, Hit, Quad, Result

ImageInput = Any  # str | os.PathLike | bytes | PIL.Image.Image | np.ndarray


@dataclass(frozen=True)
class Failure:
    """An image that could not be redacted; ``error`` says why (and names the file)."""

    name: str
    error: RedactorError


@dataclass(eq=False)  # identity: slots are looked up by object, and fields hold arrays
class _Work:
    """One image moving through a chunk (internal, mutable while the chunk is processed)."""

    name: str
    loaded: io.Loaded
    timings: dict[str, float] = field(default_factory=dict)
    faces: list[Detection] = field(default_factory=list)
    encodings: list[identity.Encoding] | None = None  # per face; None unless a gallery mode is on
    quads: list[tuple[Quad, float]] = field(default_factory=list)
    plate_quads: list[Quad] = field(default_factory=list)
    plate_detectors: list[str] = field(default_factory=list)  # per plate quad: the detector that proposed it
    # Squarish plates the corner detector proposed, read as two rows too: (index into
    # plate_quads, top row, bottom row), crops in BGR.
    plate_rows: list[tuple[int, np.ndarray, np.ndarray]] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)
    # Vertical lines read the other way up too: (index into crops, crop read bottom to top).
    turned: list[tuple[int, np.ndarray]] = field(default_factory=list)
    # Quarter turns anticlockwise that made the photo upright (orientation.py); quads, plate quads
    # and crops are in that upright frame until _finish maps the regions back.
    turn: int = 0


class Redactor:
    """Find and hide protected regions according to a :class:`Policy`.

    >>> r = Redactor()                      # default policy: every face, plate, personal text
    >>> result = r.redact("photo.jpg")      # path, bytes, PIL image or RGB array
    >>> result.image, result.mask, result.findings
    """

    def __init__(self, policy: Policy | None = None, *, ocr: str = "rapidocr", faces: str = "yuface",
                 text_options: TextOptions | None = None, max_pixels: int = 120_000_000) -> None:
        if policy is not None and not isinstance(policy, Policy):
            raise PolicyError(f"Redactor(policy=...) takes a Policy, not {type(policy).__name__}: "
                              "Policy.load(path) reads a policy file, Policy.default() is the shipped one")
        self.policy = policy = policy or Policy.default()
        self.max_pixels = max_pixels
        text_categories = policy.protect & set(TEXT_CATEGORIES)
        if ocr not in TEXT_ENGINES:
            raise RedactorError(f"unknown OCR engine {ocr!r}; use one of {', '.join(TEXT_ENGINES)}")
        self.ocr = ocr
        #: What this configuration cannot do (e.g. read Chinese); also in reports and eval output.
        self.warnings: tuple[str, ...] = (
            (TEXT_ENGINE_WARNINGS[ocr],) if ocr in TEXT_ENGINE_WARNINGS and text_categories else ())
        for message in self.warnings:
            warnings.warn(message, RedactorWarning, stacklevel=2)
        self._faces = FACE_DETECTORS[faces]() if "face" in policy.protect else None
        # Only gallery modes load face recognition (mode "all" never imports it).
        self._encoder = identity.FaceEncoder() if self._faces is not None and policy.faces.mode != "all" else None
        self._text = TEXT_ENGINES[ocr](options=text_options) if text_categories else None
        # Text detection runs beside face detection (_load_and_detect) when the text engine may use
        # every core (threads 0). Batch workers run on one thread each, one per core
        # (batch.split_work): a second thread there would only take turns with the first.
        self._beside_faces = (self._faces is not None and self._text is not None
                              and (text_options or TextOptions()).threads != 1)
        names = NameModels()
        self._classifier = TextClassifier(
            categories=frozenset(text_categories), deny_terms=policy.deny,
            deny_patterns=policy.deny_patterns, allow_terms=policy.allow, names=names,
        )
        # Plate readings (cascade crops, two-row re-reads) need the plate patterns only: no name
        # model runs on them (the same categories and allow list as above, less all but plates).
        self._plate_text = TextClassifier(frozenset(text_categories) & {"plate"}, allow_terms=policy.allow)
        self._plates = (
            CascadePlateDetector()
            if "plate" in policy.protect and self._text is not None else None
        )
        # The name models (≈1.5 CPU-s) load in the background from the first text detection on
        # (_load_and_detect), unless a line needs them earlier.
        self._names = names if "name" in text_categories else None
        # The second proposer, with corners: straightened crops, two-row plates (detect/plates.py).
        self._corner_plates = CornerPlateDetector() if self._plates is not None else None

    # -- public API -------------------------------------------------------------------------

    def redact(self, image: ImageInput, *, name: str | None = None) -> Result:
        """Redact one image. Raises :class:`RedactorError` (never returns unanalysed pixels)."""
        (out,) = self.redact_many([image], names=[name] if name else None)
        if isinstance(out, Failure):
            raise out.error
        return out

    def redact_many(self, images: Iterable[ImageInput], *, names: Iterable[str] | None = None,
                    chunk: int = 4) -> Iterator[Result | Failure]:
        """Redact many images, yielding a Result or a Failure for each, in input order.

        Recognition runs once per chunk of ``chunk`` images, over all their text lines.
        Redacting is analysing then rendering the unedited decisions: the one code path that
        ``analyse`` + ``render`` also take, so both give the same pixels by construction.
        """
        for a in self._analyse_many(images, names, chunk):
            yield a if isinstance(a, Failure) else _render(a.loaded, a.decisions, a.timings)

    def analyse(self, image: ImageInput, *, name: str | None = None) -> Decisions:
        """Every region of one image, hidden or kept, as editable :class:`Decisions` (no pixels changed)."""
        (out,) = self.analyse_many([image], names=[name] if name else None)
        if isinstance(out, Failure):
            raise out.error
        return out

    def analyse_many(self, images: Iterable[ImageInput], *, names: Iterable[str] | None = None,
                     chunk: int = 4) -> Iterator[Decisions | Failure]:
        """``analyse`` for many images, batched like ``redact_many``."""
        for a in self._analyse_many(images, names, chunk):
            yield a if isinstance(a, Failure) else a.decisions

    def render(self, image: ImageInput, decisions: Decisions, *, name: str | None = None) -> Result:
        """Hide exactly the regions ``decisions`` marks hidden; no detector runs.

        Raises DecisionsError when ``image`` is not the image the decisions were made for
        (sha256 or size differ), ImageError when it cannot be read.
        """
        if not isinstance(decisions, Decisions):
            hint = (" (with_box returns the new decisions and the box's id: unpack it)"
                    if isinstance(decisions, tuple) else "")
            raise DecisionsError(f"render() takes the Decisions to apply, not {type(decisions).__name__}{hint}")
        return render_decisions(image, decisions, name=name, max_pixels=self.max_pixels)

    def _analyse_many(self, images: Iterable[ImageInput], names: Iterable[str] | None,
                      chunk: int) -> Iterator[_Analysed | Failure]:
        name_iter = iter(names) if names is not None else None
        batch: list[tuple[str, ImageInput]] = []
        for image in images:
            batch.append((next(name_iter) if name_iter else _name_of(image), image))
            if len(batch) == chunk:
                yield from self._run_chunk(batch)
                batch = []
        if batch:
            yield from self._run_chunk(batch)

    # -- stages -----------------------------------------------------------------------------

    def _run_chunk(self, batch: list[tuple[str, ImageInput]]) -> list[_Analysed | Failure]:
        slots: list[_Work | Failure] = [self._load_and_detect(name, image) for name, image in batch]
        work = [w for w in slots if isinstance(w, _Work)]
        try:
            readings = self._read_all(work)
        except RedactorError:
            # One bad crop must not fail the chunk: retry image by image to isolate it.
            readings = {}
            for w in work:
                try:
                    readings.update(self._read_all([w]))
                except RedactorError as e:
                    slots[slots.index(w)] = Failure(w.name, _named(e, w.name))
        out: list[_Analysed | Failure] = []
        for slot in slots:
            if isinstance(slot, Failure):
                out.append(slot)
                continue
            try:
                out.append(self._finish(slot, readings[id(slot)]))
            except Exception as e:  # fail closed: any failure here means no output for the image
                out.append(Failure(slot.name, _named(e, slot.name)))
        return out

    def _load_and_detect(self, name: str, image: ImageInput) -> _Work | Failure:
        t = time.perf_counter()
        try:
            loaded = io.load(image, max_pixels=self.max_pixels)
        except ImageError as e:
            return Failure(name, e)
        w = _Work(name=name, loaded=loaded, timings={"decode": time.perf_counter() - t})
        try:
            rgb = loaded.rgb
            if self._beside_faces:
                # Text and plates on a second thread while faces run on this one: libfacedetection
                # runs on one core (holding the GIL for each call), OpenVINO's inference releases
                # the GIL, so a process that has the machine to itself used one core of two for
                # most of a photo's faces stage (bench/README.md, issue 27).
                with ThreadPoolExecutor(1, thread_name_prefix="redactor-text") as pool:
                    text = pool.submit(self._detect_text, w, rgb)
                    try:
                        self._detect_faces(w, rgb)
                    finally:
                        text.result()  # waits for the thread, and raises its error (fail closed)
            else:
                self._detect_faces(w, rgb)
                self._detect_text(w, rgb)
        except Exception as e:  # fail closed: a detector error is this image's failure
            return Failure(name, _named(e, name))
        return w

    def _detect_faces(self, w: _Work, rgb: np.ndarray) -> None:
        if self._faces is not None:
            t = time.perf_counter()
            w.faces = self._faces(rgb)
            w.timings["faces"] = time.perf_counter() - t
        if self._encoder is not None:
            t = time.perf_counter()
            w.encodings = identity.encode(self._encoder, rgb, w.faces, self.policy)
            w.timings["face_encode"] = time.perf_counter() - t

    def _detect_text(self, w: _Work, rgb: np.ndarray) -> None:
        """Text lines and their crops, then plate candidates and theirs (in that order: the crops
        of ``w`` are the lines', then the plates'), in the photo turned upright where its lines
        say it was turned (faces are found in the photo as taken)."""
        if self._text is not None:
            self._load_names_in_background()
            t = time.perf_counter()
            w.quads = self._text.detect(rgb)
            rgb = self._turn_upright(w, rgb)  # a photo turned sideways or upside down: the rest sees it upright
            w.crops, w.turned = self._line_crops(rgb, [q for q, _ in w.quads])
            w.timings["text_detect"] = time.perf_counter() - t
        if self._plates is not None:
            t = time.perf_counter()
            self._add_plates(w, rgb)
            if w.turn % 2:
                # After a quarter turn, the photo as taken too: a street of vertical Chinese signs
                # looks to the line classifier like a photo turned clockwise, and the plate
                # detectors find upright plates only.
                self._add_plates(w, w.loaded.rgb, w.turn)
            w.timings["plate_candidates"] = time.perf_counter() - t

    def _load_names_in_background(self) -> None:
        """Start loading the name models (once) as text detection starts: OpenVINO's inference
        releases the GIL, so the loading thread's Python runs beside it. Not from the start of
        ``Redactor()``: there they took the cores the detectors' compiles need (the card 4.0-5.2
        -> 4.7-5.6 s, bench/README.md)."""
        if self._names is not None:
            self._names.load_in_background()

    def _turn_upright(self, w: _Work, rgb: np.ndarray) -> np.ndarray:
        """The photo turned upright when its text lines say it was turned (orientation.decide),
        with ``w.quads`` carried into that frame (``w.turn`` records the turn); else ``rgb``."""
        text = self._text
        assert text is not None
        scores = getattr(text, "turned_scores", None)  # engines without a line classifier: as taken
        if scores is None or not w.quads:
            return rgb
        w.turn = orientation.decide([q for q, _ in w.quads], lambda q: text.crop(rgb, q), scores)
        if not w.turn:
            return rgb
        size = (rgb.shape[1], rgb.shape[0])
        w.quads = [(orientation.to_upright(q, w.turn, size), s) for q, s in w.quads]
        return orientation.upright(rgb, w.turn)

    def _add_plates(self, w: _Work, rgb: np.ndarray, turn: int = 0) -> None:
        """Both proposers' plates in ``rgb``, with their crops; ``turn``: quarter turns that carry
        ``rgb``'s quads into the frame of ``w`` (orientation.py)."""
        assert self._plates is not None
        size = (rgb.shape[1], rgb.shape[0])
        for quad in self._plates.candidates(rgb):
            w.plate_quads.append(orientation.to_upright(quad, turn, size) if turn else quad)
            w.plate_detectors.append(CascadePlateDetector.name)
            w.crops.append(self._plates.crop(rgb, quad))
        if self._corner_plates is not None:
            self._add_corner_plates(w, rgb, turn)

    def _add_corner_plates(self, w: _Work, rgb: np.ndarray, turn: int = 0) -> None:
        """The corner detector's plates, straightened; a squarish one (two-row plates: Hong Kong
        vans, lorries and motorcycles, mainland yellow plates; at most ``_TWO_ROWS_ASPECT`` wide
        for its height) is read as its two rows as well (see :meth:`_read_plate_rows`). ``turn``:
        quarter turns that carry ``rgb``'s quads into the frame of ``w`` (orientation.py)."""
        assert self._corner_plates is not None
        for quad, _ in self._corner_plates.detect(rgb):
            crop = straightened(rgb, quad)
            w.plate_quads.append(orientation.to_upright(quad, turn, (rgb.shape[1], rgb.shape[0])) if turn else quad)
            w.plate_detectors.append(CornerPlateDetector.name)
            w.crops.append(crop)
            h, wd = crop.shape[:2]
            if wd <= _TWO_ROWS_ASPECT * h:
                # Rows cut at 48% and 45% of the crop: a mainland yellow plate's top row (its upper
                # 40%) and a Hong Kong plate's (its upper half) both end above 48% with the margins.
                w.plate_rows.append((len(w.plate_quads) - 1, crop[:h * 12 // 25], crop[h * 9 // 20:]))

    def _line_crops(self, rgb: np.ndarray, quads: list[Quad]) -> tuple[list[np.ndarray], list[tuple[int, np.ndarray]]]:
        """One strip per line, and for each vertical line a second strip the other way up.

        The recogniser reads left-to-right strips. A vertical line is a column of upright
        characters (vertical Chinese) or a line turned a quarter either way, and its quad cannot
        say which: read top to bottom it is right for the first two, bottom to top for a line
        turned anticlockwise (a note stuck sideways read as garbage before, e.g. "Cch ho" for
        "Chan Ka-ho"). Both are read and the more confident reading is kept (:meth:`_read_all`).
        Only vertical lines pay the second reading."""
        assert self._text is not None
        crops, turned = [], []
        for i, q in enumerate(quads):
            if is_vertical(q):
                down, up = sideways_views(q)
                crops.append(self._text.crop(rgb, down))
                turned.append((i, self._text.crop(rgb, up)))
            else:
                crops.append(self._text.crop(rgb, q))
        return crops, turned

    def _read_all(self, work: list[_Work]) -> dict[int, list[tuple[str, float]]]:
        """Recognise the crops of every image in batched calls; returns id(work) -> readings."""
        if self._text is None:
            return {id(w): [] for w in work}
        t = time.perf_counter()
        crops = [c for w in work for c in w.crops]
        turned = [c for w in work for _, c in w.turned]
        # The corner detector's crops and rows are read in a call of their own: the recogniser pads
        # each batch to its widest crop, so crops added to the lines' call would change how the
        # lines themselves read ("Plate:FA 1587" read "Plat:FA 1587" beside a new plate crop).
        proposers = [d for w in work for d in [""] * len(w.quads) + w.plate_detectors]  # per crop
        corner = [i for i, d in enumerate(proposers) if d == CornerPlateDetector.name]
        is_corner = set(corner)
        rows = [c for w in work for _, top, bottom in w.plate_rows for c in (top, bottom)]
        lines = [c for i, c in enumerate(crops) if i not in is_corner]
        read = self._read_checked(lines + turned)
        alone = [crops[i] for i in corner] + rows
        apart = iter(self._read_checked(alone) if alone else [])
        together = iter(read[:len(lines)])
        texts = [next(apart) if i in is_corner else next(together) for i in range(len(crops))]
        other_way, row_readings = iter(read[len(lines):]), apart
        offset = 0
        for w in work:
            for i, _ in w.turned:
                reading = next(other_way)
                if reading[1] > texts[offset + i][1]:
                    texts[offset + i] = reading
            for i, _, _ in w.plate_rows:
                texts[offset + len(w.quads) + i] = self._read_plate_rows(texts[offset + len(w.quads) + i],
                                                                         next(row_readings), next(row_readings))
            offset += len(w.crops)
        texts = self._reread_two_rows(crops, texts)
        n_read = len(crops) + len(turned) + len(rows)
        share = (time.perf_counter() - t) / max(1, n_read)
        out, i = {}, 0
        for w in work:
            out[id(w)] = texts[i:i + len(w.crops)]
            i += len(w.crops)
            w.timings["text_read"] = share * (len(w.crops) + len(w.turned) + 2 * len(w.plate_rows))
        return out

    def _read_checked(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """The engine's readings, one per crop: an engine that lost lines would let text through unread."""
        assert self._text is not None
        texts = self._text.read(crops)
        if len(texts) != len(crops):
            raise AnalysisError(f"text recognition returned {len(texts)} results for {len(crops)} lines")
        return texts

    def _read_plate_rows(self, whole: tuple[str, float], top: tuple[str, float],
                         bottom: tuple[str, float]) -> tuple[str, float]:
        """A squarish plate's reading: its two rows joined ("VE" over "2758" is "VE 2758"; "粤A"
        over "12345" is "粤A 12345") when they make a plate and the crop read whole does not (the
        recogniser reads one row of a two-row crop, or a mix of both; a plate pattern read in the
        rows wins over a plate's bare shape read whole), or when each row is a plate
        of its own (a cross-border van's Hong Kong plate above its mainland one, seen as one).
        Rows read with little confidence are a guess, as in :meth:`_reread_two_rows`."""
        joined = f"{top[0].strip()} {bottom[0].strip()}"
        if min(top[1], bottom[1]) < _PLATE_ROWS_CONFIDENCE:
            return whole
        # A plate's grammar read in the rows beats the bare shape read whole ("12345" alone).
        if ((self._is_plate(joined) and not self._is_plate(whole[0]))
                or (self._is_plate(top[0]) and self._is_plate(bottom[0]))
                or (self._is_plate(joined, seen=True) and not self._is_plate(whole[0], seen=True))):
            return joined, min(top[1], bottom[1])
        return whole

    def _reread_two_rows(self, crops: list[np.ndarray], texts: list[tuple[str, float]]) -> list[tuple[str, float]]:
        """Two-row plates ("VE" above "2758", common on Hong Kong cars) are often one squarish
        box to the detector, and the recogniser, reading one row, returns "2758". A squarish
        crop read as a plate's letters or digits alone is read again as two halves; the rows
        joined replace the reading when they make a plate."""
        assert self._text is not None
        redo = [i for i, (c, (txt, _)) in enumerate(zip(crops, texts, strict=True))
                if 0.5 <= c.shape[0] / max(1, c.shape[1]) < 1.5 and is_plate_row(txt)]
        if not redo:
            return texts
        halves = []
        for i in redo:
            h = crops[i].shape[0]
            halves += [crops[i][:h * 11 // 20], crops[i][h * 9 // 20:]]  # halves overlap by a tenth
        read = self._read_checked(halves)
        out = list(texts)
        for k, i in enumerate(redo):
            (top, s0), (bottom, s1) = read[2 * k], read[2 * k + 1]
            joined = f"{top.strip()} {bottom.strip()}"
            # Rows read with little confidence are a guess: a round logo read "0" became "S 2"
            # (rows at 0.25); a real two-row plate's rows were read at 0.63 and 0.99.
            if min(s0, s1) >= _PLATE_ROWS_CONFIDENCE and self._is_plate(joined):
                out[i] = (joined, min(s0, s1))
        return out

    def _finish(self, w: _Work, readings: list[tuple[str, float]]) -> _Analysed:
        """Every region, hidden or kept, in render order: faces, plates, text lines."""
        t = time.perf_counter()
        policy = self.policy
        n = len(w.quads)
        lines = merge_rows([
            Detection(kind="text", quad=q, score=s, detector=self.ocr, text=txt)
            for (q, _), (txt, s) in zip(w.quads, readings[:n], strict=True) if txt.strip()
        ])
        regions: list[Region] = []
        faces = identity.decide(w.faces, w.encodings, policy, name=w.name)
        for i, (face, decision) in enumerate(zip(w.faces, faces, strict=True), 1):
            regions.append(replace(
                _region(f"face-{i}", "face", "face", face, face.score, _face_rule(decision), policy,
                        pad=policy.padding["face"], hidden=decision.hidden),
                rule=decision.rule, gallery=decision.gallery, person=decision.name, distance=decision.distance,
                detected=face.quad,
            ))
        all_hits = self._classify(lines)
        found = [max((h for h in hits if h.score >= policy.text_threshold), key=lambda h: h.score, default=None)
                 for hits in all_hits]
        # A candidate on a line the text path read as a phone number is that number (a business's
        # phone on a van): hidden as the phone it is, not listed as a plate.
        phones = [line.quad.bbox() for line, best in zip(lines, found, strict=True)
                  if best is not None and best.category == "phone"]
        n_plates = 0
        for q, detector, (txt, s) in zip(w.plate_quads, w.plate_detectors, readings[n:], strict=True):
            if any(_inside(q.bbox(), line) for line in phones):
                continue
            if _PHONE_SHAPE.fullmatch(txt.strip()):
                # Digits grouped as a phone number's, which the phone recognizer did not take (no
                # area code): the line inside that reads them is hidden as the phone it is.
                digits = re.sub(r"\D", "", txt)
                inner = [i for i, line in enumerate(lines) if found[i] is None
                         and re.sub(r"\D", "", line.text) == digits and _inside(line.quad.bbox(), q.bbox())]
                for i in inner:
                    found[i] = Hit("phone", 0, len(lines[i].text), _PHONE_SHAPE_SCORE, "phone-shape")
                if inner:
                    continue
                phone = Detection(kind="text", quad=q, score=s, detector=detector, text=txt)
                n_plates += 1
                regions.append(_region(f"plate-{n_plates}", "text", "phone", phone, _PHONE_SHAPE_SCORE, "phone-shape",
                                       policy, pad=policy.padding["text"], hidden="phone" in policy.protect))
                continue
            plate = Detection(kind="plate", quad=q, score=s, detector=detector, text=txt)
            # A cascade candidate the OCR did not read as a plate is kept, listed for the editor; the
            # corner detector's are dropped (it fires on text: a wall's slogans would be listed). As
            # it fires on text, its plates need a plate pattern, or the shape with letters and
            # digits both ("LOVE HK" and "2019.6.12" on a wall have a plate's shape).
            seen = self._is_plate(txt, seen=True) and (
                detector != CornerPlateDetector.name or self._is_plate(txt) or bool(_LETTER_AND_DIGIT.match(txt)))
            if not seen and detector == CornerPlateDetector.name:
                continue
            n_plates += 1
            regions.append(_region(f"plate-{n_plates}", "plate", "plate", plate, s, "plate-pattern" if seen else "",
                                   policy, pad=policy.padding["plate"], hidden=seen))
        personal = any(found)
        for i, line in enumerate(lines):
            if found[i] is None and _unreadable(line, policy, personal=personal):
                found[i] = Hit("unreadable", 0, len(line.text), 1 - line.score, "unreadable")
        for i, (line, hits, best) in enumerate(zip(lines, all_hits, found, strict=True), 1):
            # A kept line carries its likeliest category (for an editor who hides it), else "custom".
            shown = best or max(hits, key=lambda h: h.score, default=None)
            # A line that is nothing but a plate is a plate on a car: cover its border too.
            pad = policy.padding["plate" if shown is not None and shown.recognizer in _WHOLE_PLATE else "text"]
            regions.append(_region(
                f"text-{i}", "text", shown.category if shown else "custom", line,
                best.score if best else line.score, best.recognizer if best else "", policy, pad=pad,
                hidden=best is not None,
            ))
        if w.turn:  # back from the upright frame to the photo's (faces were found in the photo's)
            size = (w.loaded.rgb.shape[1], w.loaded.rgb.shape[0])
            regions = [r if r.kind == "face" else replace(r, quad=orientation.to_photo(r.quad, w.turn, size))
                       for r in regions]
        w.timings["classify"] = time.perf_counter() - t
        src = w.loaded.source
        decisions = Decisions(
            name=w.name, sha256=src.sha256, size=src.size, format=src.format, width=src.width, height=src.height,
            fill_color=policy.fill_color, regions=tuple(regions), policy_source=policy.source,
            policy_fingerprint=policy.fingerprint(), ocr=self.ocr, analysed=decisions_now(),
        )
        return _Analysed(w.loaded, decisions, w.timings)

    def _classify(self, lines: list[Detection]) -> list[tuple[Hit, ...]]:
        """Classify each line with the other lines of its note, and the image's notes, as context."""
        hits: list[tuple[Hit, ...]] = [()] * len(lines)
        groups = group_lines([d.quad for d in lines])
        notes = self._classifier.classify_notes([[lines[i].text for i in group] for group in groups])
        for group, group_hits in zip(groups, notes, strict=True):
            for i, line_hits in zip(group, group_hits, strict=True):
                hits[i] = line_hits
        return hits

    def _is_plate(self, text: str, *, seen: bool = False) -> bool:
        """A plate pattern; for a crop a plate detector proposed (``seen``), the shape of a
        plate is enough: 5-8 capitals and digits (vanity and foreign plates follow no pattern
        we know, and the detector has already seen a plate there), unless it is grouped as a
        phone number is (a business's number on a van: "2345 6789", "555-0123")."""
        if seen and _PLATE_SHAPE.match(text) and not _PHONE_SHAPE.fullmatch(text.strip()):
            return True
        return any(h.category == "plate" and h.score >= self.policy.text_threshold
                   for h in self._plate_text.classify(text))


def _unreadable(line: Detection, policy: Policy, *, personal: bool) -> bool:
    """Fail closed on text the OCR could not read: a line read with less confidence than
    ``thresholds.readable``, in a photo where personal text was found, is hidden as
    ``unreadable`` (a blurred or tiny line on a wall of personal notes is as likely personal as
    its neighbours, and the classifier cannot clear what it cannot read). Photos without
    personal text keep their unreadable lines (distant signs, textures the detector took for
    text), so pictures with nothing to hide are not covered in boxes.

    Measured on 10 synthetic walls (personal lines hidden, must-spare lines spared): clean
    0.983 -> 0.988, 0.948 -> 0.938; downscale:3 0.611 -> 0.908, 0.886 -> 0.771; phone:2
    0.588 -> 0.699; phone:3 0.443 -> 0.649."""
    return "unreadable" in policy.protect and personal and line.score < policy.readable_threshold


_WHOLE_PLATE = {"hk-plate", "generic-plate", "mainland-plate", "wj-plate", "macau-plate"}
_PLATE_ROWS_CONFIDENCE = 0.5  # the least reading confidence of both rows of a two-row plate
# A corner-detector plate at most this many times as wide as high is read as two rows too:
# single-row plates are 3.1 (mainland) to 4.7 (Hong Kong, EU) times as wide; two-row plates and
# US plates about 2, and the detector's corners often sit inside the frame (a drawn 2:1 yellow
# plate came out 2.86:1).
_TWO_ROWS_ASPECT = 3.0
# What a crop the plate cascade proposed must read as: 5-8 capitals and digits, one symbol or
# space between any two (an emblem read as ":", "=", "+"); vanity plates ("BIMMIAN") may hold no
# digit.
_PLATE_SHAPE = re.compile(r"^\s*(?:[A-Z0-9](?:\s|[^\w\s])?){5,8}\s*$")
# Digits alone, grouped as phone numbers are and plates are not: a last group of four after
# at least three digits ("555-0123", "2345 6789"), or eight digits or more in a row (a Hong Kong
# number; plates of digits alone have at most seven).
_LETTER_AND_DIGIT = re.compile(r"(?=.*[A-Z])(?=.*\d)")
_PHONE_SHAPE_SCORE = 0.6  # a phone by its grouping alone, as the "grouped-digits" pattern scores it
_PHONE_SHAPE = re.compile(r"\+?(?:\d+[\s.-])*\d*(?:\d{3}[\s.-]\d{4}|\d{8})")


def _inside(box: tuple[float, float, float, float], line: tuple[float, float, float, float]) -> bool:
    """Whether at least half of ``box`` lies inside ``line`` (both x0, y0, x1, y1)."""
    w = min(box[2], line[2]) - max(box[0], line[0])
    h = min(box[3], line[3]) - max(box[1], line[1])
    return w > 0 and h > 0 and w * h >= 0.5 * (box[2] - box[0]) * (box[3] - box[1])


def _region(rid: str, kind: Kind, category: Any, det: Detection, score: float, recognizer: str, policy: Policy, *,
            pad: float, hidden: bool) -> Region:
    x0, y0, x1, y1 = det.quad.bbox()
    size = max(x1 - x0, y1 - y0) if category == "face" else det.quad.height
    return Region(
        id=rid, kind=kind, category=category, quad=det.quad.padded(pad * size), hidden=hidden,
        action=policy.actions[category], score=round(score, 4), detector=det.detector, recognizer=recognizer,
        text=det.text, text_masked=mask_text(det.text) if det.text else "",
    )


@dataclass(frozen=True, eq=False)
class _Analysed:
    """An analysed image: its pixels and its decisions, before rendering."""

    loaded: io.Loaded
    decisions: Decisions
    timings: dict[str, float]


def render_decisions(image: ImageInput, decisions: Decisions, *, name: str | None = None,
                     max_pixels: int = 120_000_000) -> Result:
    """Load ``image``, check it is the one ``decisions`` was made for, and render (no detection)."""
    t = time.perf_counter()
    loaded = io.load(image, max_pixels=max_pixels)
    decisions.check_input(loaded.source)
    timings = {"decode": time.perf_counter() - t}
    return _render(loaded, replace(decisions, name=name or decisions.name), timings)


def _render(loaded: io.Loaded, decisions: Decisions, timings: dict[str, float]) -> Result:
    """The one place pixels are replaced: the hidden regions, in order, clipped to the image."""
    t = time.perf_counter()
    rgb = loaded.rgb
    h, wd = rgb.shape[:2]
    regions = [(r.quad.clipped(wd, h), r.action) for r in decisions.regions if r.hidden]
    image, mask = render.apply(rgb, regions, fill_color=decisions.fill_color)
    timings["render"] = time.perf_counter() - t
    return Result(
        name=decisions.name, image=image, mask=mask, findings=decisions.findings(),
        detections=decisions.detections(), timings=timings, alpha=loaded.alpha, source=loaded.source,
        faces=decisions.face_decisions(),
    )


def _face_rule(d: FaceDecision) -> str:
    """A hidden face's recognizer field: "" in mode "all" (as before galleries), else the rule."""
    return "" if d.rule == "all" else f"{d.rule}:{d.name}" if d.name else d.rule


def encode_portraits(paths: list[Path], *, who: str, faces: str = "yuface") -> list[np.ndarray]:
    """One face encoding per portrait, for ``redactor gallery add`` (GalleryError when an image
    has no face or several). Uses the same face detector as redaction."""
    detector = FACE_DETECTORS[faces]()
    encoder = identity.FaceEncoder()
    out = []
    for path in paths:
        rgb = io.load(path).rgb
        out.append(identity.portrait_encoding(rgb, detector(rgb), encoder, source=str(path), who=who))
    return out


def _name_of(image: ImageInput) -> str:
    if isinstance(image, str):
        return image
    if hasattr(image, "__fspath__"):
        return str(image.__fspath__())
    return f"<{type(image).__name__}>"


def _named(e: BaseException, name: str) -> RedactorError:
    """Any failure as a RedactorError that names the image (fail closed, say why)."""
    if isinstance(e, RedactorError):
        return e if name in str(e) else type(e)(f"{name}: {e}")
    return AnalysisError(f"{name}: analysis failed ({type(e).__name__}: {e}); the image was not written")
