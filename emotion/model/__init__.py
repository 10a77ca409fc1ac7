"""The emotion model: loading a classifier and running it on face crops.

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

The package: :mod:`.checkpoint` (finding a checkpoint, its hash and its side
files), :mod:`.preprocessing`, :mod:`.emotion_model` (:class:`EmotionModel`),
:mod:`.loading` (:func:`load_model`, :func:`identify`) and :mod:`.resnet` (the
bundled network in plain PyTorch). It sits above :mod:`emotion.runtime`, which
never imports it.
"""

from .checkpoint import (AGREEMENT_FILE, BUNDLED_DIR, BUNDLED_NAME, CALIBRATION_FILE, HUB_UNREACHABLE, INFERENCE_FILE,
                         TEMPERATURE_RANGE, bundled_missing_message, check_temperature, checkpoint_hash,
                         inference_recipe, int8_calibration, resolve_checkpoint)
from .emotion_model import BATCH, EmotionModel, _example_crops, views_to_probabilities
from .loading import ModelIdentity, identify, load_model
from .preprocessing import Preprocessing

__all__ = ["AGREEMENT_FILE", "BATCH", "BUNDLED_DIR", "BUNDLED_NAME", "CALIBRATION_FILE", "EmotionModel",
           "HUB_UNREACHABLE", "INFERENCE_FILE", "ModelIdentity", "Preprocessing", "TEMPERATURE_RANGE",
           "bundled_missing_message", "check_temperature", "checkpoint_hash", "identify", "inference_recipe",
           "int8_calibration", "load_model", "resolve_checkpoint", "views_to_probabilities",
           "_example_crops"]
