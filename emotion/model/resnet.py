"""transformers' ResNet image classifier, rebuilt in plain PyTorch, so loading it needs no transformers.

Importing transformers' model code pulls in half of its package (losses, SciPy,
torch.distributed) and costs seconds before a single face is scored. The
bundled model is a ``ResNetForImageClassification`` with basic blocks; this
module builds the same network, with the same parameter names, from its
``config.json`` and loads ``model.safetensors`` into it. The arithmetic is
the same (convolution, batch norm, ReLU, max pool, residual adds, average pool,
linear), so its logits equal transformers' (tests compare them).

Only the configurations it knows are accepted (:func:`supports`); anything
else (bottleneck blocks, other activations, other architectures) is loaded
with transformers as before.

>>> supports({"model_type": "resnet", "layer_type": "basic", "hidden_act": "relu",
...           "architectures": ["ResNetForImageClassification"]})
True
>>> supports({"model_type": "vit"})
False
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace


def supports(config: dict) -> bool:
    """Whether :func:`load` can build this checkpoint's network."""
    return (config.get("model_type") == "resnet" and config.get("layer_type", "bottleneck") == "basic"
            and config.get("hidden_act", "relu") == "relu"
            and list(config.get("architectures") or ["ResNetForImageClassification"])
            == ["ResNetForImageClassification"])


@dataclass
class Output:
    """What the network returns: ``logits`` (N, num_labels), as transformers' output object does."""

    logits: object


@functools.cache
def _network_class():
    import torch
    from torch import nn

    def conv_bn(cin: int, cout: int, kernel: int, stride: int) -> nn.Module:
        block = nn.Module()
        block.convolution = nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False)
        block.normalization = nn.BatchNorm2d(cout)
        return block

    class BasicLayer(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int):
            super().__init__()
            self.has_shortcut = cin != cout or stride != 1
            if self.has_shortcut:
                self.shortcut = nn.Module()
                self.shortcut.convolution = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
                self.shortcut.normalization = nn.BatchNorm2d(cout)
            self.layer = nn.Sequential(conv_bn(cin, cout, 3, stride), conv_bn(cout, cout, 3, 1))

        def forward(self, x):
            first, second = self.layer[0], self.layer[1]
            h = torch.relu(first.normalization(first.convolution(x)))
            h = second.normalization(second.convolution(h))
            residual = self.shortcut.normalization(self.shortcut.convolution(x)) if self.has_shortcut else x
            return torch.relu(h + residual)

    class ResNetClassifier(nn.Module):
        """``resnet.embedder``, ``resnet.encoder.stages``, ``classifier.1``: transformers' parameter names."""

        def __init__(self, cfg: dict):
            super().__init__()
            widths, depths = list(cfg["hidden_sizes"]), list(cfg["depths"])
            channels, stem = int(cfg.get("num_channels", 3)), int(cfg["embedding_size"])
            labels = len(cfg["id2label"])
            self.resnet = nn.Module()
            self.resnet.embedder = nn.Module()
            self.resnet.embedder.embedder = conv_bn(channels, stem, 7, 2)
            self.resnet.encoder = nn.Module()
            stages, cin = [], stem
            for i, (cout, depth) in enumerate(zip(widths, depths)):
                stride = (2 if cfg.get("downsample_in_first_stage") else 1) if i == 0 else 2
                stage = nn.Module()
                stage.layers = nn.Sequential(BasicLayer(cin, cout, stride),
                                             *[BasicLayer(cout, cout, 1) for _ in range(int(depth) - 1)])
                stages.append(stage)
                cin = cout
            self.resnet.encoder.stages = nn.ModuleList(stages)
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(cin, labels))
            self.config = SimpleNamespace(num_labels=labels, num_channels=channels, model_type="resnet",
                                          id2label=dict(cfg["id2label"]))

        def forward(self, pixel_values):
            stem = self.resnet.embedder.embedder
            h = torch.relu(stem.normalization(stem.convolution(pixel_values)))
            h = nn.functional.max_pool2d(h, kernel_size=3, stride=2, padding=1)
            for stage in self.resnet.encoder.stages:
                h = stage.layers(h)
            h = nn.functional.adaptive_avg_pool2d(h, (1, 1))
            return Output(logits=self.classifier(h))

    return ResNetClassifier


def load(path: Path, config: dict):
    """The network of the checkpoint at ``path`` with its weights, in eval mode (float32).

    Raises ``ValueError``, ``KeyError`` or ``RuntimeError`` when the weights do not fit the
    config (missing or extra tensors, other shapes); the caller then uses transformers.
    """
    import torch
    from safetensors.torch import load_file

    with torch.device("meta"):  # no random initialisation of weights that are replaced at once
        network = _network_class()(config)
    weights = load_file(str(Path(path) / "model.safetensors"))
    weights = {name: tensor.to(torch.float32) if tensor.is_floating_point() else tensor
               for name, tensor in weights.items()}
    network.load_state_dict(weights, strict=True, assign=True)
    return network.eval()
