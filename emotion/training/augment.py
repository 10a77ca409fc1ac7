"""Batched augmentation for 48 px greyscale faces, done on whole tensors (fast on CPU).

One affine warp per image (rotation, scale, shift, horizontal flip) also resizes
to the model's input side, then brightness/contrast jitter and random erasing.

:func:`room` then makes a share of the batch look as a screening-room camera sees
faces (issue: a face at the back of a dark room should read as a close-up does):
shrunk to 24-48 px and scaled back up, dimmed with a gamma, sensor noise added at
the small size and stored as 8-bit, sometimes blurred as a compressed stream is.
The training loop can give the room view to the student while a teacher reads
the clean view, so the student learns to answer the same in both.
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
    # Room conditions (see room()); room_p = 0 turns them off (the shipped model's first training had none).
    room_p: float = 0.0
    room_px: tuple[float, float] = (24.0, 48.0)       # face size in the camera's pixels
    room_dim: tuple[float, float] = (0.35, 1.0)       # light kept
    room_gamma: tuple[float, float] = (0.7, 1.5)
    room_noise: tuple[float, float] = (0.0, 10.0)     # sensor noise sigma, in grey levels
    room_blur_p: float = 0.3


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


#: Face sizes room() shrinks to, in buckets (one resize per bucket instead of one per image).
ROOM_BUCKETS = (24, 28, 32, 36, 40, 44, 48)


def room(x, cfg: AugmentConfig, generator=None):
    """A share ``cfg.room_p`` of a normalised batch (B,1,S,S) -> as a dim, noisy room camera sees it.

    Returns the batch with those images replaced (the others are the same tensor values).
    """
    import torch
    import torch.nn.functional as F

    g = generator
    b, side = x.shape[0], x.shape[-1]
    pick = torch.rand(b, generator=g) < cfg.room_p
    if not pick.any():
        return x
    out = x.clone()
    idx = torch.nonzero(pick).flatten()
    x01 = x[idx] * 0.5 + 0.5

    def u(lo, hi, n=len(idx)):
        return torch.rand(n, generator=g) * (hi - lo) + lo

    dim = u(*cfg.room_dim).view(-1, 1, 1, 1)
    gamma = u(*cfg.room_gamma).view(-1, 1, 1, 1)
    noise = (u(*cfg.room_noise) / 255.0).view(-1, 1, 1, 1)
    blur = torch.rand(len(idx), generator=g) < cfg.room_blur_p
    px = u(*cfg.room_px)
    buckets = torch.tensor(ROOM_BUCKETS, dtype=torch.float32)
    size_of = buckets[(px.view(-1, 1) - buckets.view(1, -1)).abs().argmin(1)].long()
    result = torch.empty_like(x01)
    for size in size_of.unique().tolist():
        sel = torch.nonzero(size_of == size).flatten()
        small = F.interpolate(x01[sel], size=(size, size), mode="area") if size < side else x01[sel]
        small = (small.clamp(1e-4, 1) ** gamma[sel]) * dim[sel]
        small = small + torch.randn(small.shape, generator=g) * noise[sel]
        soft = blur[sel]
        if soft.any():   # a stream's compression softens edges: a 3x3 blur at the camera's size
            kernel = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]).div(16).view(1, 1, 3, 3)
            blurred = F.conv2d(F.pad(small, (1, 1, 1, 1), mode="replicate"), kernel)
            small = torch.where(soft.view(-1, 1, 1, 1), blurred, small)
        small = small.clamp(0, 1).mul(255).round().div(255)        # stored as 8-bit pixels
        if size != side:
            small = F.interpolate(small, size=(side, side), mode="bilinear", align_corners=False)
        result[sel] = small
    out[idx] = (result - 0.5) / 0.5
    return out
