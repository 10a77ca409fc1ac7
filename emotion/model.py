"""Loading an emotion classifier and running it on face crops.

A model is named by ``"bundled"`` (the project's checkpoint under
``emotion/models/``), a local checkpoint directory, or a Hugging Face hub id.
Any checkpoint that transformers' ``AutoModelForImageClassification`` loads
without custom code works, provided its classes are emotions
(:func:`emotion.labels.canonical_labels` maps their names).

Preprocessing follows the checkpoint's ``preprocessor_config.json`` but runs
on a whole batch of crops with numpy (resizing with Pillow, as transformers'
own processor does, so the pixels match it). Logits come from
:func:`emotion.runtime.build_runner`; the softmax is done in numpy.

>>> m = load_model("path/to/checkpoint")          # doctest: +SKIP
>>> m.predict([face_crop]).top()                  # doctest: +SKIP
[('happy', 0.93)]
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .errors import ModelLoadError
from .labels import CANONICAL, canonical_labels
from .types import Emotions

log = logging.getLogger(__name__)

BUNDLED_NAME = "ferplus-resnet"
#: The bundled checkpoint (config.json, model.safetensors, preprocessor_config.json).
BUNDLED_DIR = Path(__file__).resolve().parent / "models" / BUNDLED_NAME
HUB_UNREACHABLE = "the Hugging Face hub is unreachable; pass a local directory or use the bundled model"
#: Crops per forward pass; bounds memory for frames with many faces.
BATCH = 64

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
#: Optional: each backend's agreement with fp32 measured on real validation faces (see runtime).
AGREEMENT_FILE = "backend_agreement.json"
#: Optional: activation ranges measured on real faces for the onnx-int8 backend (see runtime_onnx).
CALIBRATION_FILE = "int8_calibration.json"
#: Optional: how the checkpoint is meant to be run, chosen on its selection split, e.g.
#: ``{"mirror": true, "temperature": 0.55}`` (average each face with its mirror image; divide the
#: logits by a temperature fitted on that split before the softmax; see :class:`EmotionModel`).
INFERENCE_FILE = "inference.json"
#: The temperatures ``inference.json`` may hold: outside this range a fit went wrong.
TEMPERATURE_RANGE = (0.05, 20.0)


def bundled_missing_message(path: Path) -> str:
    return (f"the bundled emotion model is not installed (no config.json in {path}); it is trained by "
            "`python -m emotion train` and shipped with the project. Meanwhile pass a local checkpoint "
            "directory or a Hugging Face hub id as the model")


# ---------------------------------------------------------------- preprocessing


@dataclass(frozen=True)
class Preprocessing:
    """A checkpoint's image preprocessing, applied to a batch of RGB uint8 crops.

    ``size`` is (height, width) for an exact resize, or ``shortest_edge`` an
    int for an aspect-keeping resize followed by a centre crop to ``crop``.
    ``channels`` is 1 for greyscale models (luma, ITU-R BT.601), else 3.
    """

    size: tuple[int, int] | None
    shortest_edge: int | None
    crop: tuple[int, int] | None
    resample: int
    rescale: float | None
    mean: tuple[float, ...] | None
    std: tuple[float, ...] | None
    channels: int

    @property
    def output_size(self) -> tuple[int, int]:
        if self.crop:
            return self.crop
        if self.size:
            return self.size
        raise ModelLoadError("preprocessing without a fixed output size cannot be batched")

    @classmethod
    def from_config(cls, cfg: dict, num_channels: int = 3, source: str = "model") -> Preprocessing:
        """Read a ``preprocessor_config.json`` dict (ViT/ResNet/DeiT-style processors)."""
        if num_channels not in (1, 3):
            raise ModelLoadError(f"{source}: num_channels must be 1 or 3, got {num_channels}")
        if "crop_pct" in cfg and cfg.get("crop_pct") is not None:
            raise ModelLoadError(f"{source}: preprocessing with crop_pct (ConvNeXt-style) is not supported; "
                                 "use a checkpoint with a fixed height/width resize")

        def hw(value, what):
            if isinstance(value, int):
                return value, value
            if isinstance(value, dict) and "height" in value and "width" in value:
                return int(value["height"]), int(value["width"])
            raise ModelLoadError(f"{source}: unsupported {what} {value!r} in preprocessor_config.json; "
                                 "expected {'height': H, 'width': W} or {'shortest_edge': S}")

        size = shortest = crop = None
        raw = cfg.get("size", {"height": 224, "width": 224})
        if cfg.get("do_resize", True):
            if isinstance(raw, dict) and set(raw) == {"shortest_edge"}:
                shortest = int(raw["shortest_edge"])
            else:
                size = hw(raw, "size")
        if cfg.get("do_center_crop", False):
            crop = hw(cfg.get("crop_size", {"height": 224, "width": 224}), "crop_size")
            if shortest is not None and shortest < max(crop):
                raise ModelLoadError(f"{source}: shortest_edge {shortest} is smaller than crop_size {crop}")
        if size is None and crop is None:
            raise ModelLoadError(f"{source}: preprocessing must resize or crop to a fixed size; got {raw!r}")

        def per_channel(value):
            v = [float(x) for x in (value if isinstance(value, (list, tuple)) else [value])]
            if num_channels == 1:
                return (float(np.mean(v)),)
            return tuple(v * 3) if len(v) == 1 else tuple(v)

        normalize = cfg.get("do_normalize", True)
        mean = per_channel(cfg.get("image_mean", [0.5, 0.5, 0.5])) if normalize else None
        std = per_channel(cfg.get("image_std", [0.5, 0.5, 0.5])) if normalize else None
        if mean is not None and (len(mean) != num_channels or len(std) != num_channels):
            raise ModelLoadError(f"{source}: image_mean/image_std have {len(mean)}/{len(std)} values "
                                 f"for a {num_channels}-channel model")
        rescale = float(cfg.get("rescale_factor", 1 / 255)) if cfg.get("do_rescale", True) else None
        return cls(size, shortest, crop, int(cfg.get("resample", 2)), rescale, mean, std, num_channels)

    def _resize(self, img: np.ndarray) -> np.ndarray:
        from PIL import Image

        h, w = img.shape[:2]
        if self.size is not None:
            th, tw = self.size
        elif self.shortest_edge is not None:
            short, long_ = (h, w) if h <= w else (w, h)
            new_long = int(self.shortest_edge * long_ / short)
            th, tw = (self.shortest_edge, new_long) if h <= w else (new_long, self.shortest_edge)
        else:
            return img
        if (th, tw) == (h, w):
            return img
        return np.asarray(Image.fromarray(img).resize((tw, th), resample=Image.Resampling(self.resample)))

    def __call__(self, crops: list[np.ndarray]) -> np.ndarray:
        """Float32 NCHW batch for ``crops`` (RGB uint8 arrays of any size)."""
        import cv2

        oh, ow = self.output_size
        batch = np.empty((len(crops), oh, ow, self.channels), np.uint8)
        for i, crop in enumerate(crops):
            if not isinstance(crop, np.ndarray) or crop.dtype != np.uint8 or crop.ndim != 3 \
                    or crop.shape[2] != 3 or crop.shape[0] == 0 or crop.shape[1] == 0:
                got = f"{crop.dtype} {crop.shape}" if isinstance(crop, np.ndarray) else type(crop).__name__
                raise ValueError(f"crop {i}: expected an RGB uint8 array (H, W, 3), got {got}")
            img = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if self.channels == 1 else crop
            img = self._resize(img)
            if self.crop is not None:
                ch, cw = self.crop
                top, left = (img.shape[0] - ch) // 2, (img.shape[1] - cw) // 2
                img = img[top:top + ch, left:left + cw]
            batch[i] = img.reshape(oh, ow, self.channels)
        x = batch.astype(np.float32)
        if self.rescale is not None:
            x = (batch.astype(np.float64) * self.rescale).astype(np.float32)
        if self.mean is not None:
            x = (x - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


# ---------------------------------------------------------------- finding checkpoints


def _hub_probe(timeout: float = 3.0) -> bool:
    """Quick TCP check of the hub endpoint, so an offline machine fails in seconds, not minutes."""
    if any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # a proxy decides; let the real request find out
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _hub_snapshot(repo_id: str) -> Path:
    """Local directory of a hub checkpoint: from the HF cache, else downloaded (configs + weights only)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    patterns = ["*.json", "*.safetensors"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=True))
    except (OSError, ValueError):
        pass
    if _offline():
        raise ModelLoadError(f"{repo_id}: {HUB_UNREACHABLE} (HF_HUB_OFFLINE is set and it is not in the cache)")
    if not _hub_probe():
        raise ModelLoadError(f"{repo_id}: {HUB_UNREACHABLE}")
    try:
        path = Path(snapshot_download(repo_id, allow_patterns=patterns))
        if not any((path / w).is_file() for w in _WEIGHTS):
            path = Path(snapshot_download(repo_id, allow_patterns=patterns + ["pytorch_model.bin"]))
        return path
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise ModelLoadError(f"{repo_id}: no such public model on the Hugging Face hub ({type(exc).__name__}); "
                             "check the id, or use the bundled model") from exc
    except (OSError, ValueError, HfHubHTTPError) as exc:
        raise ModelLoadError(f"{repo_id}: {HUB_UNREACHABLE} ({exc})") from exc


def resolve_checkpoint(name: str) -> Path:
    """The local directory behind a model name (``bundled``, a directory, or a hub id)."""
    if name == "bundled":
        path = BUNDLED_DIR
        if not (path / "config.json").is_file():
            raise ModelLoadError(bundled_missing_message(path))
        return path
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"{name}: is a file; pass the checkpoint directory that holds config.json")
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{name}: no config.json in this directory; pass a checkpoint saved "
                                 "with save_pretrained (config.json, model.safetensors, preprocessor_config.json)")
        return path
    if _HUB_ID.match(name) and not name.startswith((".", "~")):
        return _hub_snapshot(name)
    raise ModelLoadError(f"{name}: no such directory, and not a Hugging Face hub id (owner/name); "
                         "use 'bundled', a checkpoint directory or a hub id")


_hash_memo: dict[tuple, str] = {}
_hash_lock = threading.Lock()


def checkpoint_hash(path: Path) -> str:
    """sha256 (16 hex digits) over the checkpoint's configs and weights; memoised by size and mtime."""
    files = sorted(p for p in path.iterdir() if p.is_file() and (p.suffix == ".json" or p.name in _WEIGHTS))
    stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    key = (str(path.resolve()), stamp)
    with _hash_lock:
        if key in _hash_memo:
            return _hash_memo[key]
    h = hashlib.sha256()
    for p in files:
        h.update(p.name.encode() + b"\0")
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    digest = h.hexdigest()[:16]
    with _hash_lock:
        _hash_memo[key] = digest
    return digest


def _read_json(path: Path, source: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{source}: {path.name} is missing from {path.parent}; a checkpoint needs "
                             "config.json and preprocessor_config.json (save both with save_pretrained)") from None
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{source}: {path.name} is not valid JSON ({exc})") from exc


_EXAMPLE_ROWS = range(8)  # the warm-up batch's rows; its shape keys the remembered backend decision


def _example_crops(n: int = len(_EXAMPLE_ROWS), side: int = 64) -> list[np.ndarray]:
    """Smooth pseudo-random images (fixed seed) for the runtime's warm-up and agreement check."""
    import cv2

    rng = np.random.default_rng(0)
    return [cv2.resize(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), (side, side),
                       interpolation=cv2.INTER_CUBIC) for _ in range(n)]


# ---------------------------------------------------------------- the model


class EmotionModel:
    """A loaded classifier: ``predict(crops) -> Emotions`` over canonical labels in canonical order.

    With ``mirror`` each face is also classified mirrored left to right and the
    two probability vectors are averaged (test-time augmentation: a model
    trained with random flips should see both as the same face, and averaging
    cancels some of its noise, at twice the classifier's cost). A checkpoint
    asks for it in ``inference.json``.

    ``temperature`` divides the logits before the softmax (temperature scaling,
    fitted on a selection split so that a face's top probability matches how
    often that answer is right; see :mod:`emotion.training.calibration`). It never
    changes which class wins. It is applied here, after the runtime backend, so
    every backend gets it; a checkpoint stores it in ``inference.json``.

    Safe to share between threads: it holds no per-call state (the runner
    from :mod:`emotion.runtime` is responsible for its own).
    """

    def __init__(self, name: str, path: Path, model_labels: tuple[str, ...], preprocessing: Preprocessing,
                 runner, checkpoint: str, mirror: bool = False, temperature: float = 1.0):
        self.name = name
        self.path = path
        self.preprocessing = preprocessing
        self.checkpoint = checkpoint
        self.mirror = bool(mirror)
        self.temperature = check_temperature(temperature, name)
        self._runner = runner
        self._model_labels = tuple(model_labels)
        order = sorted(range(len(model_labels)), key=lambda i: CANONICAL.index(model_labels[i]))
        self._order = np.asarray(order)
        self.labels: tuple[str, ...] = tuple(model_labels[i] for i in order)

    @property
    def backend(self) -> str:
        return self._runner.name

    @property
    def backend_reason(self) -> str:
        return self._runner.reason

    @property
    def backend_trials(self) -> tuple:
        """How each backend did when ``auto`` chose (:class:`~emotion.runtime.auto.Trial`); empty otherwise."""
        return tuple(getattr(self._runner, "trials", ()) or ())

    def __repr__(self) -> str:
        return (f"EmotionModel({self.name!r}, labels={self.labels}, backend={self.backend!r}"
                f"{', mirror=True' if self.mirror else ''}"
                f"{f', temperature={self.temperature:g}' if self.temperature != 1.0 else ''})")

    def with_mirror(self, mirror: bool) -> EmotionModel:
        """This model with mirror averaging on or off; a twin sharing the loaded network when it changes."""
        if bool(mirror) == self.mirror:
            return self
        return EmotionModel(self.name, self.path, self._model_labels, self.preprocessing, self._runner,
                            self.checkpoint, mirror=mirror, temperature=self.temperature)

    def with_temperature(self, temperature: float) -> EmotionModel:
        """This model with another temperature (1.0: uncalibrated), sharing the loaded network."""
        if float(temperature) == self.temperature:
            return self
        return EmotionModel(self.name, self.path, self._model_labels, self.preprocessing, self._runner,
                            self.checkpoint, mirror=self.mirror, temperature=temperature)

    def preprocess(self, crops: list[np.ndarray]) -> np.ndarray:
        """Float32 NCHW pixels for ``crops``, as the checkpoint's processor would make them."""
        return self.preprocessing(crops)

    def predict(self, crops: list[np.ndarray]) -> Emotions:
        """Probabilities for each crop (RGB uint8 arrays of any size), at most :data:`BATCH` images a pass."""
        if len(crops) == 0:
            return Emotions.empty(self.labels)
        step = BATCH // 2 if self.mirror else BATCH
        probs = np.concatenate([self.probabilities(self.preprocess(crops[start:start + step]))
                                for start in range(0, len(crops), step)])
        return Emotions(self.labels, probs)

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """Float32 probabilities (N, len(labels)), columns in ``labels`` order, for already preprocessed pixels.

        ``pixels`` is what :meth:`preprocess` returns (N, C, H, W); training uses this to run a
        checkpoint as a distillation teacher on its own augmented batches.
        """
        return views_to_probabilities(self.logits(pixels), self.temperature).astype(np.float32)

    def logits(self, pixels: np.ndarray) -> np.ndarray:
        """Raw logits (views, N, len(labels)) in ``labels`` order: one view, or two with mirror averaging.

        :func:`views_to_probabilities` turns them into what :meth:`probabilities` returns at any
        temperature, so a temperature can be fitted without running the network again.
        """
        x = np.asarray(pixels, np.float32)
        if self.mirror:
            n = len(x)
            z = self._logits(np.concatenate([x, x[..., ::-1]]))
            return np.stack([z[:n], z[n:]])[:, :, self._order]
        return self._logits(x)[None][:, :, self._order]

    def _logits(self, x: np.ndarray) -> np.ndarray:
        logits = np.asarray(self._runner(np.ascontiguousarray(x)), np.float64)
        if logits.ndim != 2 or logits.shape != (len(x), len(self.labels)):
            raise ModelLoadError(f"{self.name}: expected logits of shape ({len(x)}, {len(self.labels)}), "
                                 f"got {logits.shape}")
        return logits


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def views_to_probabilities(views: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Probabilities (N, L) from logits (views, N, L): softmax of logits / temperature, averaged over views.

    >>> views_to_probabilities(np.array([[[0.0, np.log(3.0)]]])).round(2).tolist()
    [[0.25, 0.75]]
    """
    views = np.asarray(views, np.float64)
    return np.mean([_softmax(v / temperature) for v in views], axis=0)


def check_temperature(value, source: str = "model") -> float:
    """``value`` as a float if it is a usable temperature (a number in :data:`TEMPERATURE_RANGE`)."""
    lo, hi = TEMPERATURE_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= float(value) <= hi:
        raise ModelLoadError(f"{source}: temperature must be a number from {lo} to {hi}, got {value!r}; "
                             f"fix {INFERENCE_FILE} or fit it again with `python -m emotion evaluate "
                             "--fit-temperature --split PublicTest`")
    return float(value)


def load_model(name: str = "bundled", backend: str = "auto", mirror: bool | None = None,
               expected_faces: int | None = None) -> EmotionModel:
    """Load an emotion classifier by name and prepare it to run on ``backend``.

    ``expected_faces``: roughly how many faces the caller will score, for a short job (a few
    photos); ``auto`` then skips a backend whose build time would cost more than it saves.

    ``mirror`` (average each face with its mirror image) defaults to what the
    checkpoint's ``inference.json`` asks for, else off.

    Raises :class:`ModelLoadError` (missing bundled model, unreachable hub,
    not an image classifier, unknown class names) or
    :class:`~emotion.errors.BackendUnavailable`.

    >>> load_model("bundled").labels                  # doctest: +SKIP
    ('angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral', 'contempt')
    """
    path = resolve_checkpoint(name)
    config = _read_json(path / "config.json", name)
    pre = _read_json(path / "preprocessor_config.json", name)
    id2label = config.get("id2label") or {}
    try:
        names = [id2label[k] for k in sorted(id2label, key=int)]
    except ValueError:
        raise ModelLoadError(f"{name}: config.json id2label keys must be class indices, got {list(id2label)}") from None
    labels = canonical_labels(names, source=name)
    preprocessing = Preprocessing.from_config(pre, int(config.get("num_channels", 3)), source=name)
    if not any((path / w).is_file() for w in _WEIGHTS):
        raise ModelLoadError(f"{name}: no model.safetensors in {path}; the checkpoint has no weights")

    model = _network(path, config, name)
    if model.config.num_labels != len(labels):
        raise ModelLoadError(f"{name}: config has {len(labels)} labels but the model outputs {model.config.num_labels}")

    from .runtime import build_runner

    key = checkpoint_hash(path)
    validated = None
    if (path / AGREEMENT_FILE).is_file():
        validated = _read_json(path / AGREEMENT_FILE, name)
    recipe = inference_recipe(path, name)
    if mirror is None:
        mirror = recipe.get("mirror", False)
    runner = build_runner(model, preprocessing(_example_crops()), backend, cache_key=key, validated=validated,
                          calibration=int8_calibration(path, name), expected_faces=expected_faces)
    temperature = recipe.get("temperature", 1.0)
    log.info("loaded %s from %s (%s, backend %s: %s%s, temperature %g)", name, path, ", ".join(labels), runner.name,
             runner.reason, ", mirror averaging" if mirror else "", temperature)
    return EmotionModel(name, path, labels, preprocessing, runner, key, mirror=mirror, temperature=temperature)


def _network(path: Path, config: dict, name: str):
    """The checkpoint's torch network in eval mode: plain PyTorch for ResNets it knows, else transformers.

    Importing transformers' model code costs seconds (see :mod:`emotion.resnet`); the bundled
    model does not need it. Anything the plain builder does not fit falls back to transformers,
    which also gives the clearer error for a broken checkpoint.
    """
    from . import resnet

    if resnet.supports(config) and (path / "model.safetensors").is_file():
        try:
            return resnet.load(path, config)
        except (ValueError, KeyError, RuntimeError, TypeError, OSError) as exc:
            log.info("%s: loading with transformers (the plain ResNet does not fit: %s)", name, exc)
    from transformers import AutoModelForImageClassification

    try:
        model = AutoModelForImageClassification.from_pretrained(str(path), local_files_only=True,
                                                                trust_remote_code=False)
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"{name}: transformers cannot load it as an image-classification model "
                             f"({first})") from exc
    return model.eval()


@dataclass(frozen=True)
class ModelIdentity:
    """What :func:`load_model` would give, known without loading it: for cache look-ups.

    ``checkpoint`` is :func:`checkpoint_hash`; ``labels`` in canonical order, as
    :attr:`EmotionModel.labels`; ``backend`` the concrete backend it would run on.
    """

    name: str
    checkpoint: str
    labels: tuple[str, ...]
    backend: str
    mirror: bool


def identify(name: str = "bundled", backend: str = "auto", mirror: bool | None = None) -> ModelIdentity | None:
    """:class:`ModelIdentity` of ``load_model(name, backend, mirror)`` without loading torch, or None.

    None when it cannot be known cheaply: a hub id (resolving it may download), or ``auto`` on a
    machine that has not raced the backends for this checkpoint yet (see :mod:`emotion.runtime.auto`).
    A finished film analysis is found in the cache through it before the model is loaded.
    """
    if name != "bundled" and not Path(name).expanduser().is_dir():
        return None
    try:
        path = resolve_checkpoint(name)
        config = _read_json(path / "config.json", name)
        pre = _read_json(path / "preprocessor_config.json", name)
        id2label = config.get("id2label") or {}
        names = [id2label[k] for k in sorted(id2label, key=int)]
        labels = canonical_labels(names, source=name)
        channels = int(config.get("num_channels", 3))
        h, w = Preprocessing.from_config(pre, channels, source=name).output_size
        recipe_mirror = inference_recipe(path, name).get("mirror", False)
    except (ModelLoadError, ValueError, KeyError, TypeError):
        return None  # load_model will say what is wrong
    key = checkpoint_hash(path)
    if backend == "auto":
        from .runtime.auto import remembered

        backend = remembered(key, (len(_EXAMPLE_ROWS), channels, h, w))
        if backend is None:
            return None
    ordered = tuple(sorted(labels, key=CANONICAL.index))
    return ModelIdentity(name, key, ordered, backend, bool(recipe_mirror if mirror is None else mirror))


def int8_calibration(path: Path, name: str):
    """The checkpoint's :class:`~emotion.runtime.onnx_int8.Calibration` (``int8_calibration.json``), or None."""
    if not (path / CALIBRATION_FILE).is_file():
        return None
    from .runtime.onnx_int8 import Calibration

    try:
        return Calibration.from_json(_read_json(path / CALIBRATION_FILE, name))
    except ValueError as exc:
        raise ModelLoadError(f"{name}: {CALIBRATION_FILE} is not usable ({exc}); delete it or write it again "
                             "with `python -m emotion evaluate --record-agreement`") from exc


def inference_recipe(path: Path, name: str) -> dict:
    """The checkpoint's ``inference.json`` ({} when absent), checked so a typo fails loudly.

    ``mirror`` must be a boolean and ``temperature`` a number in :data:`TEMPERATURE_RANGE`.
    """
    if not (path / INFERENCE_FILE).is_file():
        return {}
    recipe = _read_json(path / INFERENCE_FILE, name)
    if not isinstance(recipe, dict) or not isinstance(recipe.get("mirror", False), bool):
        raise ModelLoadError(f"{name}: {INFERENCE_FILE} must be an object like {{\"mirror\": true}}, got {recipe!r}")
    if "temperature" in recipe:
        check_temperature(recipe["temperature"], f"{name}: {INFERENCE_FILE}")
    return recipe
