"""What the benchmark scripts share: paths, the stand-in checkpoints, and which emotion model to time.

Each script runs from a checkout (``python benchmarks/bench_x.py``), so Python
puts this folder on ``sys.path`` and ``from _common import ...`` works; this
module puts the repository root there too, for ``import emotion``.

The stand-ins are saved as real Hugging Face checkpoints and loaded through
:func:`emotion.model.load_model`, like any model a user names: their weights
are random (probabilities meaningless) but their shapes, and so their speed,
are those of the models they stand for.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"

#: the seed hub model's classes (dima806/facial_emotions_image_detection)
VIT_LABELS = ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy")


def stand_in_checkpoint(out: Path) -> Path:
    """The bundled model's architecture (emotion.training.model_def) with random weights, saved like it."""
    from emotion.cli.runtime_bench import standin_resnet
    from emotion.training.model_def import ArchConfig, export_checkpoint

    return export_checkpoint(standin_resnet(), ArchConfig(), out)


def vit_base_checkpoint(out: Path) -> Path:
    """A random ViT-base image classifier shaped like the seed hub model (224 px, 7 labels), with its config."""
    from emotion.cli.runtime_bench import vit_base

    model = vit_base()
    model.config.id2label = dict(enumerate(VIT_LABELS))
    model.config.label2id = {n: i for i, n in enumerate(VIT_LABELS)}
    model.save_pretrained(out)
    write_preprocessor(out, 224)
    return out


def write_preprocessor(out: Path, side: int) -> None:
    """A ViT-style preprocessor config: resize to ``side`` px square, scale to [-1, 1]."""
    import json

    (out / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "ViTImageProcessor", "do_resize": True, "size": {"height": side, "width": side},
        "resample": 2, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
        "image_mean": [0.5] * 3, "image_std": [0.5] * 3}))


def choose_model(model: str | None, tmp: Path) -> tuple[str, str]:
    """(name for load_model, description for the table): ``model`` if given, else bundled, else a stand-in.

    The stand-in is saved under ``tmp``, which must outlive the timing.
    """
    from emotion.model import BUNDLED_DIR

    if model:
        return model, model
    if (BUNDLED_DIR / "config.json").is_file():
        return "bundled", f"bundled ({BUNDLED_DIR.name})"
    return (str(stand_in_checkpoint(Path(tmp) / "stand-in")),
            "stand-in ResNet 48-320, 80 px, random weights (bundled model not installed)")


def print_table(lines: list[str], out=None) -> int:
    """Print a benchmark's markdown lines, write them to ``out`` (a Path) too when given; the exit code 0."""
    text = "\n".join(lines)
    print(text)
    if out:
        out.write_text(text + "\n")
    return 0
