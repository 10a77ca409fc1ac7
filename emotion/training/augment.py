"""Batched augmentation for 48 px greyscale faces, done on whole tensors (fast on CPU).

One affine warp per image (rotation, scale, shift, horizontal flip) also resizes
to the model's input side, then brightness/contrast jitter and random erasing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class AugmentConfig:
    rotate_deg: float = 15.0
    scale: tuple[float, float] = (0.85, 1.15)
    shift: float = 0.10          # fraction of the side, each direction
    flip: float = 0.5
    brightness: float = 0.15     # added, in [0,1] units
    contrast: tuple[float, float] = (0.7, 1.3)
    erase_p: float = 0.5
    erase_area: tuple[float, float] = (0.02, 0.2)


def to_model_input(images_u8, side: int):
    """uint8 (B,H,W) -> normalised float (B,1,side,side) as at inference (bilinear resize, mean/std 0.5)."""
    import torch
    import torch.nn.functional as F

    x = images_u8.float().div_(255.0).unsqueeze(1)
    if x.shape[-1] != side or x.shape[-2] != side:
        x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
    return (x - 0.5) / 0.5


def augment(images_u8, side: int, cfg: AugmentConfig = AugmentConfig(), generator=None):
    """Random augmentation of a uint8 batch (B,H,W) -> normalised float (B,1,side,side)."""
    import torch
    import torch.nn.functional as F

    g = generator
    b = images_u8.shape[0]
    x = images_u8.float().div_(255.0).unsqueeze(1)

    def u(lo, hi, n=b):
        return torch.rand(n, generator=g) * (hi - lo) + lo

    ang = u(-cfg.rotate_deg, cfg.rotate_deg) * (math.pi / 180)
    sc = u(*cfg.scale)
    flip = torch.where(torch.rand(b, generator=g) < cfg.flip, -1.0, 1.0)
    tx, ty = u(-cfg.shift, cfg.shift) * 2, u(-cfg.shift, cfg.shift) * 2
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, (b, 1, side, side), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    c = u(*cfg.contrast).view(b, 1, 1, 1)
    br = u(-cfg.brightness, cfg.brightness).view(b, 1, 1, 1)
    x = ((x - mean) * c + mean + br).clamp_(0, 1)

    if cfg.erase_p > 0:
        area = u(*cfg.erase_area)
        aspect = torch.exp(u(math.log(0.3), math.log(3.3)))
        h = (torch.sqrt(area * aspect) * side).clamp(1, side - 1)
        w = (torch.sqrt(area / aspect) * side).clamp(1, side - 1)
        y0 = torch.rand(b, generator=g) * (side - h)
        x0 = torch.rand(b, generator=g) * (side - w)
        ys = torch.arange(side).view(1, side, 1)
        xs = torch.arange(side).view(1, 1, side)
        box = ((ys >= y0.view(b, 1, 1)) & (ys < (y0 + h).view(b, 1, 1))
               & (xs >= x0.view(b, 1, 1)) & (xs < (x0 + w).view(b, 1, 1)))
        box &= (torch.rand(b, generator=g) < cfg.erase_p).view(b, 1, 1)
        noise = torch.rand(x.shape, generator=g)
        x = torch.where(box.unsqueeze(1), noise, x)
    return (x - 0.5) / 0.5
