"""Finding a checkpoint and reading what it ships: the bundled model, a local folder or a hub id.

Resolving a name to a folder (:func:`resolve_checkpoint`, downloading from the
Hugging Face hub only when it answers), the checkpoint's hash (the cache key of
everything computed with it), and the optional files beside the weights: how it
is meant to be run (``inference.json``), the int8 activation ranges and each
backend's agreement with fp32 measured on real faces.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

from ..errors import ModelLoadError
from ..io import update_digest

log = logging.getLogger(__name__)

BUNDLED_NAME = "ferplus-resnet"
#: The bundled checkpoint (config.json, model.safetensors, preprocessor_config.json).
BUNDLED_DIR = Path(__file__).resolve().parents[1] / "models" / BUNDLED_NAME
HUB_UNREACHABLE = "the Hugging Face hub is unreachable; pass a local directory or use the bundled model"

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


def weights_hash(path: Path) -> str:
    """sha256 (16 hex digits) over the checkpoint's weight files only: what records measured on those weights
    (``backend_agreement.json``) are tied to, since :func:`checkpoint_hash` also covers the records themselves."""
    h = hashlib.sha256()
    for p in sorted(q for q in path.iterdir() if q.is_file() and q.name in _WEIGHTS):
        h.update(p.name.encode() + b"\0")
        update_digest(h, p)
    return h.hexdigest()[:16]


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
        update_digest(h, p)
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


def check_temperature(value, source: str = "model") -> float:
    """``value`` as a float if it is a usable temperature (a number in :data:`TEMPERATURE_RANGE`)."""
    lo, hi = TEMPERATURE_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= float(value) <= hi:
        raise ModelLoadError(f"{source}: temperature must be a number from {lo} to {hi}, got {value!r}; "
                             f"fix {INFERENCE_FILE} or fit it again with `python -m emotion evaluate "
                             "--fit-temperature --split PublicTest`")
    return float(value)


def int8_calibration(path: Path, name: str):
    """The checkpoint's :class:`~emotion.runtime.int8_recipe.Calibration` (``int8_calibration.json``), or None."""
    if not (path / CALIBRATION_FILE).is_file():
        return None
    from ..runtime.onnx_int8 import Calibration

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
