"""Measuring the inference backends of :mod:`emotion.runtime` on this machine.

For each model (the bundled emotion model, and a ViT-base shaped like the seed
project's hub model) and each backend that can run here, at batch 1 and at a
large batch: throughput, p50/p95 latency of one call, size of the model file
the backend loads, and agreement with fp32 eager on the same images.

Backends take turns call by call ("rounds"), so a burst of load from other
processes on the machine slows all of them alike instead of whichever happened
to be running. Throughput is faces per second, ``batch / p50 latency`` (the
median is less disturbed by such bursts than the mean); a checkpoint that
averages each face with its mirror image runs two network passes per face, and
is timed so, as the product runs it. The markdown table also shows the
process CPU time of a call: on a shared machine it moves less than the wall
time (threads waiting for a core cost wall time, not CPU time).

>>> report = run_benchmark([vit_base_spec()], quick=True)        # doctest: +SKIP
>>> print(markdown(report))                                      # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import BackendUnavailable

log = logging.getLogger(__name__)

#: (minimum timed calls, seconds after which no more rounds start) per batch size
QUICK = (2, 1.0)
FULL = (5, 5.0)
#: JSON keys of one result row, in order
ROW_KEYS = ("model", "backend", "batch", "throughput", "p50_ms", "p95_ms", "size_mb", "agreement")


@dataclass(frozen=True)
class ModelSpec:
    """A model to benchmark: how to build it, its input shape and its large batch size."""

    key: str                                  # "bundled", "vit-base", or a checkpoint name
    description: str                          # what it really is (say "random weights" when so)
    build: Callable[[], object]               # -> a transformers image classifier in eval mode
    input_shape: tuple[int, int, int]         # C, H, W
    batch: int                                # the large batch (1 is always measured too)
    weights: Path | None = None               # the checkpoint's weights file, when there is one
    calibration: object = None                # its int8 activation ranges (runtime_onnx.Calibration), if any
    passes: int = 1                           # network passes per face: 2 with mirror averaging, as the product runs it


@dataclass(frozen=True)
class Row:
    """One (model, backend, batch) measurement."""

    model: str
    backend: str
    batch: int
    throughput: float      # faces per second, batch / p50 (a mirror-averaging model runs 2 images per face)
    p50_ms: float
    p95_ms: float
    size_mb: float
    agreement: float       # strict top-1 agreement with fp32 on the large batch
    accepted: bool = True  # whether the runtime's agreement guard would accept this backend
    calls: int = 0         # timed calls behind p50/p95
    cpu_ms: float = 0.0    # median process CPU time of one call (all threads); steadier than wall time under load

    def to_json(self) -> dict:
        d = asdict(self)
        return {k: d[k] for k in ROW_KEYS}


@dataclass
class BenchReport:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    environment: dict = field(default_factory=dict)


# ---------------------------------------------------------------- the models


#: The bundled model's shape, for a stand-in with random weights while the trained checkpoint is missing.
#: It mirrors ``emotion.training.model_def.ArchConfig()``'s defaults (a test keeps the two equal); inference
#: code never imports the training package.
STANDIN_SIDE = 80
STANDIN_WIDTHS = (64, 128, 256, 384)
STANDIN_DEPTHS = (2, 2, 2, 2)


def standin_resnet():
    """The bundled model's architecture with random weights (while the trained checkpoint is missing)."""
    import torch
    from transformers import ResNetConfig, ResNetForImageClassification

    from ..labels import CANONICAL

    torch.manual_seed(0)
    config = ResNetConfig(num_channels=3, embedding_size=STANDIN_WIDTHS[0], hidden_sizes=list(STANDIN_WIDTHS),
                          depths=list(STANDIN_DEPTHS), layer_type="basic", hidden_act="relu",
                          downsample_in_first_stage=False, num_labels=len(CANONICAL),
                          id2label=dict(enumerate(CANONICAL)), label2id={n: i for i, n in enumerate(CANONICAL)})
    return ResNetForImageClassification(config).eval()


def vit_base():
    """ViT-base with the seed model's config (dima806/facial_emotions_image_detection), random weights."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification

    torch.manual_seed(0)
    config = ViTConfig(image_size=224, patch_size=16, num_channels=3, hidden_size=768, num_hidden_layers=12,
                       num_attention_heads=12, intermediate_size=3072, num_labels=7)
    return ViTForImageClassification(config).eval()


def vit_base_spec() -> ModelSpec:
    return ModelSpec("vit-base", "ViT-base/16, 224 px, 7 labels, the seed model's config; random weights "
                     "(the Hugging Face hub is unreachable here)", vit_base, (3, 224, 224), 16)


def bundled_spec(name: str = "bundled", mirror: bool | None = None) -> ModelSpec:
    """The bundled checkpoint (or ``name``, a local checkpoint); a random stand-in while it is missing.

    ``mirror`` (default: what the checkpoint's inference.json asks) makes every face two
    network passes, the face and its mirror image, so faces/s is what the product gets.
    """
    from ..model import Preprocessing, checkpoint, inference_recipe, int8_calibration, resolve_checkpoint

    BUNDLED_DIR = checkpoint.BUNDLED_DIR
    if name == "bundled" and not (BUNDLED_DIR / "config.json").is_file():
        from ..labels import CANONICAL

        return ModelSpec("bundled", f"stand-in for the bundled model ({BUNDLED_DIR.name} is not trained yet): "
                         f"the same ResNet (widths {'-'.join(map(str, STANDIN_WIDTHS))}, basic blocks), "
                         f"{STANDIN_SIDE} px RGB, {len(CANONICAL)} labels, random weights",
                         standin_resnet, (3, STANDIN_SIDE, STANDIN_SIDE), 64, passes=2 if mirror else 1)
    path = resolve_checkpoint(name)
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    pre = json.loads((path / "preprocessor_config.json").read_text(encoding="utf-8"))
    channels = int(config.get("num_channels", 3))
    h, w = Preprocessing.from_config(pre, channels, source=name).output_size

    def build():
        from transformers import AutoModelForImageClassification

        return AutoModelForImageClassification.from_pretrained(str(path), local_files_only=True).eval()

    if mirror is None:
        mirror = inference_recipe(path, name).get("mirror", False)
    weights = path / "model.safetensors"
    description = f"checkpoint {path}" + (", mirror averaging: 2 network passes per face" if mirror else "")
    return ModelSpec(name if name != str(path) else path.name, description, build, (channels, h, w),
                     64, weights if weights.is_file() else None, int8_calibration(path, name), 2 if mirror else 1)


# ---------------------------------------------------------------- measuring


def _weights_file(spec: ModelSpec, model, tmp: Path) -> tuple[Path, str]:
    """The fp32 weights file (the checkpoint's, else the state dict saved to ``tmp``) and its hash."""
    path = spec.weights
    if path is None:
        from safetensors.torch import save_file

        path = tmp / f"{spec.key}.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return path, f"bench-{spec.key}-{digest.hexdigest()[:16]}"


def _rounds(runners: dict, x: np.ndarray, min_calls: int, budget_s: float, max_calls: int = 50) -> dict:
    """Per-runner (wall, process CPU) seconds of each call, the runners taking turns; all are warm already."""
    times = {name: [] for name in runners}
    start = time.perf_counter()
    for i in range(max_calls):
        for name, runner in runners.items():
            t0, c0 = time.perf_counter(), time.process_time()
            runner(x)
            times[name].append((time.perf_counter() - t0, time.process_time() - c0))
        if i + 1 >= min_calls and time.perf_counter() - start > budget_s:
            break
    return times


def environment(threads: int) -> dict:
    """Machine and software facts printed with the table."""
    import torch

    from ..runtime import cpu_flags

    model_name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model_name = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    wanted = ("avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8")
    env = {"cpu": model_name, "cores": os.cpu_count(), "threads": threads,
           "isa": " ".join(f for f in wanted if f in cpu_flags()) or "n/a",
           "torch": torch.__version__, "python": platform.python_version()}
    try:
        import onnxruntime

        env["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        env["onnxruntime"] = "not installed"
    return env


def run_benchmark(specs: list[ModelSpec], backends: list[str] | None = None, quick: bool = False,
                  threads: int = 2, progress: Callable[[str], None] | None = None) -> BenchReport:
    """Measure ``backends`` (default: every available one) on each model of ``specs``.

    PyTorch's thread count is set to ``threads`` for the run and restored after.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _measure(specs, backends, quick, threads, progress)
    finally:
        torch.set_num_threads(previous)


def _measure(specs, backends, quick, threads, progress) -> BenchReport:
    from ..runtime import available_backends, build_runner, compare

    report = BenchReport(environment=environment(threads))
    report.environment["load_before"] = " ".join(f"{v:.1f}" for v in os.getloadavg())
    available = available_backends()
    wanted = backends or [b for b in ("eager", "bf16", "ipex", "onnx-int8")]
    for name in wanted:
        if not available[name][0]:
            report.notes.append(f"{name}: not measured, {available[name][1]}")
    wanted = ["eager"] + [b for b in wanted if b != "eager" and available[b][0]]
    say = progress or (lambda message: None)
    min_calls, budget = QUICK if quick else FULL
    for spec in specs:
        say(f"{spec.key}: building ({spec.description})")
        model = spec.build()
        report.notes.append(f"{spec.key}: {spec.description}")
        rng = np.random.default_rng(0)
        big = rng.standard_normal((spec.batch * spec.passes, *spec.input_shape)).astype(np.float32)
        with tempfile.TemporaryDirectory(prefix="emotion-bench-") as tmp:
            weights, key = _weights_file(spec, model, Path(tmp))
            fp32_mb = weights.stat().st_size / 1e6
        runners, agreements, sizes = {}, {}, {}
        for backend in wanted:
            say(f"{spec.key}: preparing {backend}")
            started = time.perf_counter()
            try:
                runner = build_runner(model, big, backend, cache_key=key, check=False, calibration=spec.calibration)
            except BackendUnavailable as exc:
                report.notes.append(f"{spec.key}: {backend} could not be built: {exc}")
                continue
            runners[backend] = runner
            got = runner(big)  # the agreement check doubles as the warm-up at the large batch
            if backend == "eager":
                reference = got
            agreements[backend] = compare(reference, got)
            sizes[backend] = getattr(runner, "size_bytes", None)
            sizes[backend] = sizes[backend] / 1e6 if sizes[backend] else fp32_mb
            if getattr(runner, "fp32_bytes", None):
                report.notes.append(f"{spec.key}: ONNX fp32 file {runner.fp32_bytes / 1e6:.1f} MB, int8 "
                                    f"{runner.size_bytes / 1e6:.1f} MB = {runner.size_bytes / runner.fp32_bytes:.0%} "
                                    f"({runner.quantization} quantisation); prepared in "
                                    f"{time.perf_counter() - started:.1f} s")
        for batch in (1, spec.batch):  # faces; with mirror averaging each call runs twice as many images
            x = big[:batch * spec.passes]
            if batch == 1:
                for runner in runners.values():  # warm-up at this shape, twice: the bf16 backend's
                    runner(x)                    # fused graph is compiled on the second call
                    runner(x)
            say(f"{spec.key}: timing batch {batch} ({', '.join(runners)})")
            times = _rounds(runners, x, min_calls, budget)
            for backend, calls in times.items():
                ms = np.asarray([wall for wall, _ in calls]) * 1e3
                cpu_ms = float(np.median([cpu for _, cpu in calls])) * 1e3
                p50 = float(np.percentile(ms, 50))
                a = agreements[backend]
                report.rows.append(Row(spec.key, backend, batch, round(batch / (p50 / 1e3), 2), round(p50, 2),
                                       round(float(np.percentile(ms, 95)), 2), round(sizes[backend], 2),
                                       round(a.top1, 4), a.ok, len(calls), round(cpu_ms, 2)))
        del runners, model
    report.environment["load_after"] = " ".join(f"{v:.1f}" for v in os.getloadavg())
    return report


# ---------------------------------------------------------------- showing


def speedups(report: BenchReport) -> list[tuple[str, int, str, float, bool]]:
    """(model, batch, best backend, its throughput / eager's, whether the guard accepts it) per batch.

    When the fastest backend is one the guard rejects, the fastest accepted one follows it.
    """
    out = []
    for model in dict.fromkeys(r.model for r in report.rows):
        for batch in dict.fromkeys(r.batch for r in report.rows if r.model == model):
            rows = [r for r in report.rows if r.model == model and r.batch == batch]
            eager = next((r for r in rows if r.backend == "eager"), None)
            if eager is None:
                continue
            best = max(rows, key=lambda r: r.throughput)
            accepted = max((r for r in rows if r.accepted), key=lambda r: r.throughput)
            out.append((model, batch, best.backend, best.throughput / eager.throughput, best.accepted))
            if accepted is not best:
                out.append((model, batch, accepted.backend, accepted.throughput / eager.throughput, True))
    return out


def _cpu_ratio(report: BenchReport, model: str, batch: int, backend: str) -> float | None:
    rows = {r.backend: r for r in report.rows if r.model == model and r.batch == batch}
    eager, best = rows.get("eager"), rows.get(backend)
    return eager.cpu_ms / best.cpu_ms if eager and best and best.cpu_ms > 0 else None


def markdown(report: BenchReport) -> str:
    """The report as a markdown table with the machine, the load and the notes."""
    env = report.environment
    lines = [
        (f"CPU: {env.get('cpu')} ({env.get('cores')} cores; {env.get('isa')}), {env.get('threads')} threads; "
         f"torch {env.get('torch')}, onnxruntime {env.get('onnxruntime')}, Python {env.get('python')}. "
         f"Load average before/after (1, 5, 15 min): {env.get('load_before')} / {env.get('load_after')}."),
        "",
        ("| model | backend | batch | faces/s | p50 ms | p95 ms | CPU ms | calls | file MB | top-1 agreement "
         "| guard | x eager |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in report.rows:
        eager = next((e for e in report.rows if e.model == r.model and e.batch == r.batch and e.backend == "eager"),
                     None)
        ratio = f"{r.throughput / eager.throughput:.2f}" if eager else ""
        guard = "fp32" if r.backend == "eager" else ("pass" if r.accepted else "reject")
        lines.append(f"| {r.model} | {r.backend} | {r.batch} | {r.throughput:.1f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} "
                     f"| {r.cpu_ms:.1f} | {r.calls} | {r.size_mb:.1f} | {r.agreement:.1%} | {guard} | {ratio} |")
    if report.rows:
        lines.append("")
        for model, batch, backend, ratio, accepted in speedups(report):
            if batch > 1:
                cpu = _cpu_ratio(report, model, batch, backend)
                lines.append(f"- {model}, batch {batch}: best is {backend} at {ratio:.2f}x fp32 eager throughput"
                             + (f" ({cpu:.2f}x by CPU time per call)" if cpu else "")
                             + ("" if accepted else " (rejected by the agreement guard)"))
    lines.extend(f"- {note}" for note in report.notes)
    return "\n".join(lines)


def json_lines(report: BenchReport) -> list[str]:
    """One JSON object per (model, backend, batch) with the keys of :data:`ROW_KEYS`."""
    return [json.dumps(r.to_json()) for r in report.rows]
