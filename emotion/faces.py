"""Face detectors behind one small interface: YuNet (OpenCV Zoo) and Haar.

A detector has a ``name`` and ``detect(rgb) -> Faces``; boxes are in the
pixels of the frame passed in. Large frames are downscaled for detection and
the boxes mapped back. Both detectors guard their OpenCV object with a lock,
so one instance can be shared by several threads (Streamlit sessions).

YuNet's ONNX file is found, in this order, at ``face_model``, at
``$EMOTION_FACE_MODEL``, or in the user cache directory, where it is
downloaded from the OpenCV Zoo on first use and checked against its sha256.
``auto`` falls back to Haar when that fails, logs why once, and keeps the
reason in ``detector.fallback_reason`` for the UI.

>>> import numpy as np
>>> len(make_face_detector("haar").detect(np.zeros((64, 64, 3), np.uint8)))
0
"""

from __future__ import annotations

import http.client
import logging
import os
import threading
import time
import urllib.request
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelLoadError, SettingsError, UnreadableMedia
from .io import file_digest
from .paths import cache_dir
from .settings import check_number
from .types import Faces

log = logging.getLogger(__name__)

YUNET_FILENAME = "face_detection_yunet_2026may.onnx"
YUNET_SHA256 = "ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0"
YUNET_SIZE = 229_738
YUNET_URL = ("https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/"
             + YUNET_FILENAME)
HAAR_FILENAME = "haarcascade_frontalface_default.xml"

#: After a failed download, ``auto`` uses Haar without retrying for this long.
RETRY_AFTER_S = 600.0


class FaceDetector(Protocol):
    """What every face detector offers."""

    name: str
    fallback_reason: str | None

    def detect(self, rgb: np.ndarray) -> Faces:
        """Faces in an RGB uint8 (H, W, 3) frame."""


def check_frame(rgb: np.ndarray) -> None:
    """Raise :class:`UnreadableMedia` unless ``rgb`` is a non-empty uint8 (H, W, 3) array."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 \
            or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise UnreadableMedia(f"expected an RGB uint8 frame of shape (H, W, 3), got {got}; "
                              "use emotion.media.load_image to read files")


def _downscale(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The frame shrunk so its long side is at most ``max_side``, and the factor used."""
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return rgb, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), scale


def _finish(boxes: np.ndarray, scores: np.ndarray, scale: float, shape, min_face: int,
            landmarks: np.ndarray | None = None) -> Faces:
    """Map boxes (and landmarks) from the detection frame back to the input frame, clip, and drop small ones."""
    if len(boxes) == 0:
        return Faces.empty()
    boxes = boxes.astype(np.float32) / np.float32(scale)
    h, w = shape[:2]
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
    sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    keep = sides >= min_face
    order = np.argsort(-scores[keep], kind="stable")
    if landmarks is not None:
        landmarks = (landmarks.astype(np.float32) / np.float32(scale))[keep][order]
    return Faces(boxes[keep][order], scores[keep][order].astype(np.float32), landmarks=landmarks)


def _check_params(min_face: int, threshold: float, max_side: int) -> None:
    """The detector's settings, held to the same limits as :class:`~emotion.settings.Settings`."""
    check_number("min_face", min_face)
    check_number("threshold", threshold)
    check_number("max_side", max_side)


class _Resizable:
    """What both real detectors share: a twin with another minimum face size."""

    min_face: int
    threshold: float
    max_side: int

    def with_min_face(self, min_face: int):
        """The same detector, sharing its loaded network and lock, with another minimum face size.

        Used when frames are shrunk before detection (films), so the user's minimum face size
        still means pixels of the original frame.
        """
        import copy

        _check_params(min_face, self.threshold, self.max_side)
        twin = copy.copy(self)
        twin.min_face = int(min_face)
        return twin


class YuNetDetector(_Resizable):
    """The YuNet CNN detector (OpenCV Zoo): accurate on turned and small faces.

    Its network runs on ONNX Runtime (:mod:`emotion.yunet_onnx`: the same faces, about a third of
    the time of OpenCV's DNN), else, or with ``EMOTION_YUNET_ENGINE=opencv``, on OpenCV's
    ``FaceDetectorYN``; :attr:`engine` says which.
    """

    name = "yunet"
    fallback_reason: str | None = None

    def __init__(self, model_path: str | os.PathLike, min_face: int = 20, threshold: float = 0.6,
                 max_side: int = 1280, nms: float = 0.3):
        import cv2

        _check_params(min_face, threshold, max_side)
        self.model_path = Path(model_path)
        self.min_face, self.threshold, self.max_side = int(min_face), float(threshold), int(max_side)
        self._onnx = None
        self._net = None
        if os.environ.get("EMOTION_YUNET_ENGINE", "onnxruntime").strip().lower() != "opencv":
            try:
                from .yunet_onnx import YuNetOnnx

                self._onnx = YuNetOnnx(self.model_path, self.threshold, float(nms))
            except Exception as exc:  # noqa: BLE001 - any failure: OpenCV's engine below says what is wrong
                log.info("YuNet on onnxruntime unavailable (%s); using OpenCV's DNN", exc)
        #: which engine runs the network: "onnxruntime" (faster, the same faces) or "opencv"
        self.engine = "onnxruntime" if self._onnx is not None else "opencv"
        if self._onnx is not None:
            self._lock = threading.Lock()
            return
        try:
            self._net = cv2.FaceDetectorYN.create(str(self.model_path), "", (320, 320),
                                                  self.threshold, float(nms), 5000)
        except cv2.error as exc:
            raise ModelLoadError(f"{self.model_path}: OpenCV cannot load this file as a YuNet face model "
                                 f"({str(exc).strip().splitlines()[-1]}); use the OpenCV Zoo's "
                                 f"{YUNET_FILENAME} or the Haar detector") from exc
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> Faces:
        import cv2

        check_frame(rgb)
        small, scale = _downscale(rgb, self.max_side)
        bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        if self._onnx is not None:
            out = self._onnx.detect(bgr)
        else:
            with self._lock:
                self._net.setInputSize((bgr.shape[1], bgr.shape[0]))
                _, out = self._net.detect(bgr)
        if out is None or len(out) == 0:
            return Faces.empty()
        # On frames far below YuNet's input grid (a few pixels) some rows come back NaN/inf.
        out = out[np.isfinite(out).all(axis=1)]
        if len(out) == 0:
            return Faces.empty()
        xywh = out[:, :4]
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:4]], axis=1)
        # Columns 4-13: right eye, left eye, nose tip, right and left mouth corner (x, y each).
        marks = out[:, 4:14].reshape(-1, 5, 2) if out.shape[1] >= 15 else None
        return _finish(boxes, out[:, -1], scale, rgb.shape, self.min_face, marks)


class HaarDetector(_Resizable):
    """OpenCV's Haar cascade (shipped with opencv-python): always available, frontal faces only.

    It gives no calibrated score, so every face scores 1.0 and ``threshold`` is not used.
    """

    name = "haar"

    def __init__(self, min_face: int = 20, threshold: float = 0.6, max_side: int = 1280,
                 fallback_reason: str | None = None):
        import cv2

        _check_params(min_face, threshold, max_side)
        self.min_face, self.threshold, self.max_side = int(min_face), float(threshold), int(max_side)
        self.fallback_reason = fallback_reason
        path = Path(cv2.data.haarcascades) / HAAR_FILENAME
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise ModelLoadError(f"the Haar cascade {path} is missing; install opencv-python>=4.10,<5 "
                                 "(OpenCV 5 no longer ships it)")
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> Faces:
        import cv2

        check_frame(rgb)
        small, scale = _downscale(rgb, self.max_side)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        side = max(1, round(self.min_face * scale))
        with self._lock:
            found = self._cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
        if len(found) == 0:
            return Faces.empty()
        xywh = np.asarray(found, np.float32)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:4]], axis=1)
        return _finish(boxes, np.ones(len(boxes), np.float32), scale, rgb.shape, self.min_face)


def fetch_url(url: str, dest: Path, timeout: float = 20.0) -> None:
    """Download ``url`` to ``dest`` (at most 16 MB). Tests replace this function."""
    with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:  # noqa: S310 (https URL)
        out.write(resp.read(16 * 1024 * 1024))


def _sha256(path: Path) -> str:
    return file_digest(path)


_download_lock = threading.Lock()
_last_failure: tuple[float, str] | None = None


def ensure_yunet(face_model: str | os.PathLike | None = None, *, download: bool = True, fetch=None) -> Path:
    """Path of a usable YuNet file: ``face_model``, ``$EMOTION_FACE_MODEL``, the cache, or a download.

    ``fetch(url, dest)`` replaces :func:`fetch_url` (tests inject a fake; they
    never touch the network). Raises :class:`ModelLoadError` saying why.
    """
    global _last_failure
    explicit = face_model or os.environ.get("EMOTION_FACE_MODEL")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            source = "--face-model" if face_model else "$EMOTION_FACE_MODEL"
            raise ModelLoadError(f"YuNet face model {path} ({source}) does not exist; "
                                 f"point it at {YUNET_FILENAME} or use the Haar detector")
        return path
    target = cache_dir() / YUNET_FILENAME
    with _download_lock:
        if target.is_file():
            if target.stat().st_size == YUNET_SIZE and _sha256(target) == YUNET_SHA256:
                return target
            log.warning("removing %s: its sha256 does not match the OpenCV Zoo release", target)
            target.unlink()
        if not download:
            raise ModelLoadError(f"YuNet is not in {target.parent} yet and downloading is off")
        if _last_failure and time.monotonic() - _last_failure[0] < RETRY_AFTER_S:
            raise ModelLoadError(_last_failure[1])
        part = target.with_name(f"{target.name}.{os.getpid()}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            (fetch or fetch_url)(YUNET_URL, part)
            size = part.stat().st_size
            if size != YUNET_SIZE or _sha256(part) != YUNET_SHA256:
                raise ModelLoadError(f"the downloaded file ({size:,} bytes) does not match the published "
                                     f"sha256 {YUNET_SHA256[:12]}...")
            os.replace(part, target)
        except (OSError, http.client.HTTPException, ValueError, ModelLoadError) as exc:
            reason = (f"could not download the YuNet face model from the OpenCV Zoo ({exc}); set "
                      f"EMOTION_FACE_MODEL or --face-model to a local {YUNET_FILENAME}")
            _last_failure = (time.monotonic(), reason)
            raise ModelLoadError(reason) from exc
        finally:
            part.unlink(missing_ok=True)
        _last_failure = None
        log.info("downloaded YuNet to %s", target)
        return target


_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(message: str) -> None:
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    log.warning(message)


def make_face_detector(kind: str = "auto", face_model: str | os.PathLike | None = None, min_face: int = 20,
                       threshold: float = 0.6, max_side: int = 1280, *, fetch=None) -> FaceDetector:
    """Build a face detector: ``auto`` (YuNet, else Haar), ``yunet`` or ``haar``.

    ``auto`` falls back to Haar only when YuNet cannot be obtained from the
    cache or the download; a ``face_model`` the user named that does not load
    is an error, not a silent fallback.

    >>> make_face_detector("haar", min_face=30).name
    'haar'
    """
    if kind == "haar":
        return HaarDetector(min_face, threshold, max_side)
    if kind not in ("auto", "yunet"):
        raise SettingsError(f"detector must be auto, yunet or haar, got {kind!r}")
    explicit = bool(face_model or os.environ.get("EMOTION_FACE_MODEL"))
    try:
        path = ensure_yunet(face_model, fetch=fetch)
    except ModelLoadError as exc:
        if kind == "yunet" or explicit:
            raise
        reason = f"YuNet unavailable, using the Haar detector instead: {exc}"
        _warn_once(reason)
        return HaarDetector(min_face, threshold, max_side, fallback_reason=reason)
    return YuNetDetector(path, min_face, threshold, max_side)
