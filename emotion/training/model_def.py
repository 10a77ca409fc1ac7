"""The bundled model's architecture and its export to a plain Hugging Face checkpoint.

A transformers ``ResNetForImageClassification`` (built-in, no custom code) sized
for small greyscale faces. It is trained on one grey channel; on export the first
convolution is spread over RGB with luminance weights (0.299, 0.587, 0.114), which
is exactly "convert to grey, then run" because the normalisation is the same on
every channel. The saved checkpoint therefore takes ordinary RGB images and
loads with ``transformers.pipeline("image-classification", model=DIR)``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..labels import CANONICAL

LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class ArchConfig:
    side: int = 80                                   # input side; 48 px faces are upsampled to it
    widths: tuple[int, ...] = (64, 128, 256, 384)
    depths: tuple[int, ...] = (2, 2, 2, 2)
    labels: tuple[str, ...] = field(default=CANONICAL)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "ArchConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def build_model(arch: ArchConfig, num_channels: int = 1):
    from transformers import ResNetConfig, ResNetForImageClassification

    cfg = ResNetConfig(
        num_channels=num_channels, embedding_size=arch.widths[0], hidden_sizes=list(arch.widths),
        depths=list(arch.depths), layer_type="basic", hidden_act="relu", downsample_in_first_stage=False,
        num_labels=len(arch.labels), id2label=dict(enumerate(arch.labels)),
        label2id={l: i for i, l in enumerate(arch.labels)},
    )
    return ResNetForImageClassification(cfg)


def export_checkpoint(model, arch: ArchConfig, out_dir: str | Path, extra: dict | None = None,
                      storage: str = "float32") -> Path:
    """Save a grey-trained model as an RGB Hugging Face checkpoint with its preprocessor config.

    ``storage="float16"`` writes the weights as float16 (half the file) while config.json
    keeps ``dtype: float32``, so transformers, whose default is to load in the stored
    dtype, loads them as float32 like any other checkpoint.
    """
    import torch

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rgb = build_model(arch, num_channels=3)
    state = {k: v.detach().float().clone() for k, v in model.state_dict().items()}
    key = "resnet.embedder.embedder.convolution.weight"
    w = state[key]
    if w.shape[1] == 1:
        state[key] = torch.cat([w * c for c in LUMA], dim=1)
    rgb.load_state_dict(state)
    rgb.eval()
    if storage == "float16":
        rgb.half()
    rgb.save_pretrained(out, safe_serialization=True)
    if storage != "float32":
        config = json.loads((out / "config.json").read_text())
        config["dtype"] = "float32"
        (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    pre = {
        "image_processor_type": "ViTImageProcessor",
        "do_resize": True, "size": {"height": arch.side, "width": arch.side}, "resample": 2,
        "do_rescale": True, "rescale_factor": 1 / 255,
        "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
    }
    (out / "preprocessor_config.json").write_text(json.dumps(pre, indent=2) + "\n")
    if extra:
        (out / "training_summary.json").write_text(json.dumps(extra, indent=2) + "\n")
    return out


def grey_state_from_checkpoint(path: str | Path, arch: ArchConfig, option: str = "--init") -> dict:
    """The weights of an exported checkpoint as a state dict for the grey model ``build_model(arch, 1)``.

    Inverse of :func:`export_checkpoint`: the RGB first convolution is summed back over its
    channels (the luminance weights add up to 1). Raises ModelLoadError when the checkpoint
    is not one of this architecture, saying which shapes differ; ``option`` names where the
    path came from in that message.
    """
    import torch
    from safetensors.torch import load_file

    from ..errors import ModelLoadError

    f = Path(path) / "model.safetensors"
    if not f.exists():
        raise ModelLoadError(f"{option} {path}: no model.safetensors there; pass a directory written by "
                             f"`python -m emotion train` (its checkpoint/ folder) or emotion/models/<name>")
    state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(f).items()}
    key = "resnet.embedder.embedder.convolution.weight"
    if key in state and state[key].shape[1] == 3:
        state[key] = state[key].sum(dim=1, keepdim=True)
    want = build_model(arch, num_channels=1).state_dict()
    bad = [f"{k}: checkpoint {tuple(state[k].shape) if k in state else 'missing'}, model {tuple(v.shape)}"
           for k, v in want.items() if k not in state or state[k].shape != v.shape]
    if bad:
        raise ModelLoadError(f"{option} {path} does not fit widths {list(arch.widths)}, depths {list(arch.depths)}: "
                             + "; ".join(bad[:3]) + (f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""))
    return {k: state[k].to(want[k].dtype) for k in want}
