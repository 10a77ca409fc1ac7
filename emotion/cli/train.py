"""``python -m emotion train``: train the bundled emotion model (see emotion/training/)."""

from __future__ import annotations

import sys


def add_arguments(p):
    p.add_argument("--fer2013", required=True, metavar="CSV", help="FER2013 Kaggle csv (emotion,pixels,Usage), .gz ok")
    p.add_argument("--ferplus", metavar="CSV", help="FER+ votes (fer2013new.csv); without it FER2013 labels are used")
    p.add_argument("--out", required=True, metavar="DIR", help="run directory: checkpoints, log.csv, checkpoint/")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs (default 40; with --resume: the saved run's, or a new length)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--targets", choices=["soft", "majority"], default="soft",
                   help="train on FER+ vote distributions (default) or one-hot majority labels")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--side", type=int, default=80,
                   help="model input side, 48 px faces are upsampled (default 80, the from-scratch cycle's; "
                        "the shipped model was then fine-tuned at 112 with --init, see its model card)")
    p.add_argument("--widths", default="64,128,256,384", help="ResNet stage widths (default: the shipped model)")
    p.add_argument("--depths", default="2,2,2,2", help="ResNet blocks per stage")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = all cores)")
    p.add_argument("--no-bf16", action="store_true", help="train in fp32 (slower; for CPUs without bf16)")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training rows (smoke runs)")
    p.add_argument("--eval-limit", type=int, default=0, help="use only the first N PublicTest rows")
    p.add_argument("--cache-dir", default=None, help="where parsed csv arrays are cached (default: <EMOTION_CACHE_DIR or user cache>/training)")
    p.add_argument("--storage", choices=["float32", "float16"], default=None,
                   help="dtype of the exported weights (default float32); float16 halves the file and still "
                        "loads as float32")
    p.add_argument("--teacher", action="append", default=[], metavar="DIR",
                   help="distil from this checkpoint (repeat for several; their probabilities are averaged)")
    p.add_argument("--distill", type=float, default=0.5,
                   help="weight of the teachers' probabilities in the target; the votes get 1 - this (default 0.5)")
    p.add_argument("--init", metavar="DIR", help="start from this exported checkpoint's weights (same widths/depths) "
                                                  "instead of random ones: a second cosine cycle")
    p.add_argument("--warmup-epochs", type=float, default=1.0, help="linear learning-rate warm-up (default 1)")
    p.add_argument("--room", type=float, default=0.0, metavar="P",
                   help="share of each batch made to look as a dim, noisy screening-room camera sees faces "
                        "(24-48 px, dimmed, noise, blur; see emotion/training/augment.py); default 0")
    p.add_argument("--room-select", type=float, default=None, metavar="W",
                   help="choose the best epoch on PublicTest accuracy + W x the share of faces whose top emotion "
                        "survives the room at 45 and 32 px (default: 1 with --room, else 0)")
    p.add_argument("--resume", action="store_true",
                   help="continue from DIR/last.pt (on a finished run: export its checkpoint again)")


def run(args) -> int:
    from ..training.augment import AugmentConfig
    from ..training.model_def import ArchConfig
    from ..training.train import TrainConfig, train
    from ..training.data import training_cache_dir

    arch = ArchConfig(side=args.side, widths=tuple(int(v) for v in args.widths.split(",")),
                      depths=tuple(int(v) for v in args.depths.split(",")))
    cfg = TrainConfig(fer2013=args.fer2013, ferplus=args.ferplus, out=args.out, epochs=args.epochs or 40,
                      batch_size=args.batch_size, lr=args.lr, targets=args.targets,
                      label_smoothing=args.label_smoothing, seed=args.seed, threads=args.threads,
                      bf16=not args.no_bf16, limit=args.limit, eval_limit=args.eval_limit,
                      cache_dir=args.cache_dir or str(training_cache_dir()), arch=arch,
                      storage=args.storage or "float32", teachers=tuple(args.teacher), distill=args.distill,
                      init=args.init, warmup_epochs=args.warmup_epochs, augment=AugmentConfig(room_p=args.room),
                      room_select=args.room_select if args.room_select is not None else (1.0 if args.room else 0.0))

    def report(row):
        print(f"epoch {row.epoch:3d}  loss {row.train_loss:.4f}  train {row.train_acc:.4f}  "
              f"PublicTest {row.val_acc:.4f} (ema {row.val_acc_ema:.4f})  {row.seconds:.0f} s  "
              f"{row.images_per_s:.0f} img/s  room kept {row.val_room45:.3f} (45 px) {row.val_room32:.3f} (32 px)",
              flush=True)

    out = train(cfg, resume=args.resume, progress=report, resume_epochs=args.epochs, resume_storage=args.storage)
    print(f"checkpoint written to {out}", file=sys.stderr)
    return 0
