"""Training loop for the bundled model: CPU, bf16 autocast, channels_last, resumable.

Every epoch writes ``last.pt`` (everything needed to resume), appends a row to
``log.csv`` and, when PublicTest accuracy improves, ``best.pt``. Selection uses
PublicTest only; PrivateTest is never looked at here. ``init`` starts from an
exported checkpoint's weights (a second cycle); ``teachers`` mixes their averaged
probabilities on each augmented batch into the targets (see ``distill.py``).

>>> cfg = TrainConfig(fer2013="fer2013.csv.gz", ferplus="fer2013new.csv", out="runs/x", epochs=2)  # doctest: +SKIP
>>> train(cfg)                                                                                     # doctest: +SKIP
"""

from __future__ import annotations

import copy
import csv
import json
import logging
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import DataError, SettingsError
from ..labels import CANONICAL
from .augment import AugmentConfig, augment, room, to_model_input
from .model_def import ArchConfig, build_model, export_checkpoint, grey_state_from_checkpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    fer2013: str
    ferplus: str | None
    out: str
    epochs: int = 40
    batch_size: int = 128
    lr: float = 0.1
    weight_decay: float = 5e-4
    warmup_epochs: float = 1.0
    targets: str = "soft"          # "soft" = FER+ vote distribution, "majority" = one-hot majority
    label_smoothing: float = 0.0
    ema_decay: float = 0.998
    seed: int = 0
    threads: int = 0               # 0 = torch default
    bf16: bool = True
    limit: int = 0                 # use only the first N training rows (tests, smoke runs)
    eval_limit: int = 0
    cache_dir: str | None = None
    storage: str = "float32"       # dtype of the exported weights; "float16" halves the file (loads as fp32)
    teachers: tuple[str, ...] = ()  # checkpoints to distil from (their mean probabilities on each augmented batch)
    distill: float = 0.5           # weight of the teachers' probabilities in the target (the votes get the rest)
    init: str | None = None        # start from this exported checkpoint's weights instead of random ones
    # Weight of the room robustness (mean of 45 and 32 px, PublicTest) in choosing the best epoch; 0: accuracy only
    room_select: float = 0.0
    arch: ArchConfig = field(default_factory=ArchConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self):
        if self.targets not in ("soft", "majority"):
            raise SettingsError(f"targets must be 'soft' or 'majority', got {self.targets!r}")
        if self.storage not in STORAGE:
            raise SettingsError(f"storage must be one of {', '.join(STORAGE)}, got {self.storage!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise SettingsError("epochs and batch size must be at least 1")
        if not 0.0 <= self.distill <= 1.0:
            raise SettingsError(f"distill weight must be between 0 and 1, got {self.distill}")
        object.__setattr__(self, "teachers", tuple(str(t) for t in self.teachers))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["arch"] = self.arch.to_dict()
        d["teachers"] = list(self.teachers)
        d["augment"] = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.augment).items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        d["arch"] = ArchConfig.from_dict(d["arch"])
        d["augment"] = AugmentConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d["augment"].items()})
        return cls(**d)


STORAGE = ("float32", "float16")


@dataclass(frozen=True)
class EpochLog:
    epoch: int
    train_loss: float
    train_acc: float
    val_acc: float
    val_acc_ema: float
    lr: float
    seconds: float
    images_per_s: float
    val_room45: float = float("nan")   # PublicTest faces whose top emotion survives the room at 45 px
    val_room32: float = float("nan")   # ... and at 32 px (of the weights chosen this epoch)


def _predict(model, images_u8, side: int, bf16: bool, batch: int = 256) -> np.ndarray:
    import torch

    model.eval()
    outs = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for i in range(0, len(images_u8), batch):
            x = to_model_input(torch.from_numpy(images_u8[i:i + batch]), side).contiguous(
                memory_format=torch.channels_last)
            outs.append(model(pixel_values=x).logits.float())
    return torch.cat(outs).softmax(1).numpy()


def _load_weights_only(path: Path) -> dict:
    """A checkpoint of tensors and plain values; anything else (pickled code) is refused, never run."""
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise DataError(f"{path} holds more than weights and settings, so it is not loaded (unpickling it could "
                        f"run code); delete it and start without --resume ({str(exc).splitlines()[0][:120]})") from None


def _room_kept(model, images_u8, clean: np.ndarray, cfg: TrainConfig) -> dict[int, float]:
    """Share of faces whose top emotion survives the room degradation at 45 and 32 px (PublicTest, for choosing)."""
    from .robustness import room_degrade

    kept = {}
    for size in (45, 32):
        small = room_degrade(images_u8, size, seed=size)
        kept[size] = float((_predict(model, small, cfg.arch.side, cfg.bf16).argmax(1) == clean.argmax(1)).mean())
    return kept


def train(cfg: TrainConfig, resume: bool = False, progress: Callable[[EpochLog], None] | None = None,
          resume_epochs: int | None = None, resume_storage: str | None = None) -> Path:
    """Train, checkpointing every epoch; return the exported Hugging Face checkpoint directory.

    With ``resume`` the run in ``cfg.out`` continues with its saved settings; ``resume_epochs``
    (if given) changes its length, and the cosine schedule is re-stretched from the current step;
    ``resume_storage`` changes the exported weights' dtype. Resuming a finished run (no more
    epochs) only exports its best weights again.
    """
    import torch
    import torch.nn.functional as F

    from .data import load_faceset

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    last = out / "last.pt"
    state = None
    if resume:
        if not last.exists():
            raise DataError(f"--resume: no checkpoint at {last}; start without --resume")
        state = _load_weights_only(last)
        saved = TrainConfig.from_dict(state["config"])
        # Everything comes from the saved run except the length and the thread count: a run can be
        # lengthened or shortened (the cosine schedule is re-stretched from the current step).
        epochs = resume_epochs or saved.epochs
        if epochs < state["epoch"]:
            raise SettingsError(f"--resume: the run already has {state['epoch']} epochs; ask for more than that "
                                f"(or as many, to export its checkpoint again)")
        cfg = replace(saved, epochs=epochs, threads=cfg.threads or saved.threads,
                      storage=resume_storage or saved.storage)
        log.info("resuming from epoch %d of %d", state["epoch"], cfg.epochs)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)

    ds = load_faceset(cfg.fer2013, cfg.ferplus, cache_dir=cfg.cache_dir)
    tr, va = ds.split("Training"), ds.split("PublicTest")
    n_train = len(tr) if not cfg.limit else min(cfg.limit, len(tr))
    n_val = len(va) if not cfg.eval_limit else min(cfg.eval_limit, len(va))
    if n_train == 0 or n_val == 0:
        raise DataError("no Training or PublicTest rows after filtering; check the csv files")
    tr_img = torch.from_numpy(tr.images[:n_train])
    if cfg.targets == "soft":
        tr_y = torch.from_numpy(tr.soft[:n_train])
    else:
        tr_y = F.one_hot(torch.from_numpy(tr.majority[:n_train]), len(cfg.arch.labels)).float()
    va_img, va_y = va.images[:n_val], va.majority[:n_val]

    teacher = None
    if cfg.teachers and (state is None or state["epoch"] < cfg.epochs):  # a finished run only exports
        from .distill import Teacher

        teacher = Teacher.load(cfg.teachers, cfg.arch.labels)
        log.info("distilling from %d teacher(s), weight %.2f", len(cfg.teachers), cfg.distill)

    model = build_model(cfg.arch, num_channels=1)
    if cfg.init and state is None:
        model.load_state_dict(grey_state_from_checkpoint(cfg.init, cfg.arch))
        log.info("starting from the weights of %s", cfg.init)
    model = model.to(memory_format=torch.channels_last)
    ema = copy.deepcopy(model)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": cfg.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = max(1, n_train // cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    warm = int(cfg.warmup_epochs * steps_per_epoch)

    def lr_at(step: int) -> float:
        if step < warm:
            return cfg.lr * (step + 1) / warm
        return 0.5 * cfg.lr * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    start_epoch, best = 0, {"val_acc": -1.0, "epoch": -1, "which": "model"}
    gen = torch.Generator().manual_seed(cfg.seed)
    if state is not None:
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        start_epoch, best = state["epoch"], state["best"]
        gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])

    logf = out / "log.csv"
    if not logf.exists() or state is None:
        with open(logf, "w", newline="") as fh:
            csv.writer(fh).writerow(EpochLog.__dataclass_fields__.keys())

    for epoch in range(start_epoch, cfg.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n_train, generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        for i in range(steps_per_epoch):
            step = epoch * steps_per_epoch + i
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            idx = perm[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            x = augment(tr_img[idx], cfg.arch.side, cfg.augment, gen).contiguous(memory_format=torch.channels_last)
            y = tr_y[idx]
            if cfg.label_smoothing:
                y = y * (1 - cfg.label_smoothing) + cfg.label_smoothing / y.shape[1]
            if teacher is not None:   # the teacher reads the clean view, the student may get the room's
                y = (1 - cfg.distill) * y + cfg.distill * teacher(x)
            if cfg.augment.room_p > 0:
                x = room(x, cfg.augment, gen).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
                logits = model(pixel_values=x).logits
            loss = -(y * F.log_softmax(logits.float(), 1)).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                d = min(cfg.ema_decay, (1 + step) / (10 + step))
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.lerp_(pm, 1 - d)
                for be, bm in zip(ema.buffers(), model.buffers()):
                    be.copy_(bm)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == tr_y[idx].argmax(1)).sum().item()  # vs the votes, not the teachers
            seen += len(idx)
        train_s = time.time() - t0
        p_model = _predict(model, va_img, cfg.arch.side, cfg.bf16)
        p_ema = _predict(ema, va_img, cfg.arch.side, cfg.bf16)
        acc = float((p_model.argmax(1) == va_y).mean())
        acc_ema = float((p_ema.argmax(1) == va_y).mean())
        which, score = ("ema", acc_ema) if acc_ema >= acc else ("model", acc)
        chosen = ema if which == "ema" else model
        kept = _room_kept(chosen, va_img, p_ema if which == "ema" else p_model, cfg)
        score += cfg.room_select * (kept[45] + kept[32]) / 2
        row = EpochLog(epoch + 1, loss_sum / seen, correct / seen, acc, acc_ema, lr_at(step),
                       time.time() - t0, seen / train_s, kept[45], kept[32])
        with open(logf, "a", newline="") as fh:
            csv.writer(fh).writerow([f"{v:.5g}" if isinstance(v, float) else v for v in asdict(row).values()])
        if score > best["val_acc"]:      # val_acc: the selection score (accuracy + room_select x robustness)
            best = {"val_acc": score, "epoch": epoch + 1, "which": which, "accuracy": max(acc, acc_ema),
                    "room45": kept[45], "room32": kept[32]}
            torch.save({"model": chosen.state_dict(), "best": best}, out / "best.pt")
        if cfg.augment.room_p > 0:     # a fine-tune keeps each epoch's weights, to choose on more than one number
            torch.save({"model": chosen.state_dict(), "best": {"epoch": epoch + 1, "which": which}},
                       out / f"epoch{epoch + 1:02d}.pt")
        torch.save({"config": cfg.to_dict(), "epoch": epoch + 1, "model": model.state_dict(),
                    "ema": ema.state_dict(), "opt": opt.state_dict(), "best": best, "gen": gen.get_state(),
                    "torch_rng": torch.get_rng_state()}, out / "last.tmp")
        (out / "last.tmp").replace(last)
        log.info("epoch %d/%d loss %.4f val %.4f ema %.4f room %.3f/%.3f (%.0f s)", epoch + 1, cfg.epochs,
                 row.train_loss, acc, acc_ema, kept[45], kept[32], row.seconds)
        if progress:
            progress(row)

    best_state = _load_weights_only(out / "best.pt")
    final = build_model(cfg.arch, num_channels=1)
    final.load_state_dict(best_state["model"])
    summary = {"best_public_test_acc": best.get("accuracy", best["val_acc"]), "best_epoch": best["epoch"],
               "weights": best["which"], "config": cfg.to_dict()}
    if cfg.room_select:
        summary.update(selection_score=best["val_acc"], public_test_room_kept={"45": best.get("room45"),
                                                                               "32": best.get("room32")})
    ckpt = export_checkpoint(final, cfg.arch, out / "checkpoint", extra=summary, storage=cfg.storage)
    from .evaluate import choose_mirror

    recipe = choose_mirror(ckpt, list(va_img), [CANONICAL[i] for i in va_y], f"{n_val} FER+ PublicTest faces")
    log.info("mirror averaging on PublicTest: %.4f vs %.4f plain -> %s", recipe["accuracy_mirror"],
             recipe["accuracy_plain"], "on" if recipe["mirror"] else "off")
    return ckpt
