"""Loading a checkpoint into an :class:`~emotion.model.emotion_model.EmotionModel` on a runtime backend."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelLoadError
from ..labels import CANONICAL, canonical_labels
from .checkpoint import (AGREEMENT_FILE, _WEIGHTS, _read_json, checkpoint_hash, inference_recipe, int8_calibration,
                         resolve_checkpoint)
from .emotion_model import _EXAMPLE_ROWS, EmotionModel, _example_crops
from .preprocessing import Preprocessing

log = logging.getLogger(__name__)


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

    key = checkpoint_hash(path)
    recipe = inference_recipe(path, name)
    if mirror is None:
        mirror = recipe.get("mirror", False)
    temperature = recipe.get("temperature", 1.0)
    if backend == "auto":      # the remembered int8 file runs without PyTorch: seconds less at every start
        from ..runtime.auto import remembered_int8

        runner = remembered_int8(key, preprocessing(_example_crops()), int8_calibration(path, name), expected_faces)
        if runner is not None:
            log.info("loaded %s from %s (%s, backend %s: %s%s, temperature %g)", name, path, ", ".join(labels),
                     runner.name, runner.reason, ", mirror averaging" if mirror else "", temperature)
            return EmotionModel(name, path, labels, preprocessing, runner, key, mirror=mirror,
                                temperature=temperature)

    model = _network(path, config, name)
    if model.config.num_labels != len(labels):
        raise ModelLoadError(f"{name}: config has {len(labels)} labels but the model outputs {model.config.num_labels}")

    from ..runtime import build_runner

    validated = None
    if (path / AGREEMENT_FILE).is_file():
        validated = _read_json(path / AGREEMENT_FILE, name)
    runner = build_runner(model, preprocessing(_example_crops()), backend, cache_key=key, validated=validated,
                          calibration=int8_calibration(path, name), expected_faces=expected_faces)
    log.info("loaded %s from %s (%s, backend %s: %s%s, temperature %g)", name, path, ", ".join(labels), runner.name,
             runner.reason, ", mirror averaging" if mirror else "", temperature)
    return EmotionModel(name, path, labels, preprocessing, runner, key, mirror=mirror, temperature=temperature)


def product_network(name: str = "bundled"):
    """The torch network ``load_model(name)`` runs, in eval mode, before any backend: what int8 ranges and
    backend agreements must be measured on (its ONNX export names the tensors the product's export names)."""
    path = resolve_checkpoint(name)
    return _network(path, _read_json(path / "config.json", name), name)


def _network(path: Path, config: dict, name: str):
    """The checkpoint's torch network in eval mode: plain PyTorch for ResNets it knows, else transformers.

    Importing transformers' model code costs seconds (see :mod:`emotion.model.resnet`); the bundled
    model does not need it. Anything the plain builder does not fit falls back to transformers,
    which also gives the clearer error for a broken checkpoint.
    """
    from .resnet import load as load_resnet, supports as resnet_fits

    if resnet_fits(config) and (path / "model.safetensors").is_file():
        try:
            return load_resnet(path, config)
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
        from ..runtime.auto import remembered

        backend = remembered(key, (len(_EXAMPLE_ROWS), channels, h, w))
        if backend is None:
            return None
    ordered = tuple(sorted(labels, key=CANONICAL.index))
    return ModelIdentity(name, key, ordered, backend, bool(recipe_mirror if mirror is None else mirror))


