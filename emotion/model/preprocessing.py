"""Preprocessing as the checkpoint's processor describes it, batched in numpy (Pillow resizing, as transformers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ModelLoadError



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


