"""The backend benchmark: `python -m emotion bench` and benchmarks/bench_runtime.py, on tiny models."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from emotion.cli import runtime_bench as benchmark
from emotion.cli import main
from emotion.cli import bench as bench_command
from emotion.runtime import available_backends
from emotion.training.model_def import ArchConfig

ROOT = Path(__file__).resolve().parents[2]
REAL_SPECS_FOR = bench_command.specs_for


def tiny_resnet():
    torch.manual_seed(0)
    config = transformers.ResNetConfig(num_channels=3, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1],
                                       layer_type="basic", num_labels=8)
    return transformers.ResNetForImageClassification(config).eval()


def tiny_vit():
    torch.manual_seed(0)
    config = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1,
                                    num_attention_heads=2, intermediate_size=64, num_labels=7)
    return transformers.ViTForImageClassification(config).eval()


TINY = [benchmark.ModelSpec("bundled", "tiny ResNet, random weights", tiny_resnet, (3, 32, 32), 4),
        benchmark.ModelSpec("vit-base", "tiny ViT, random weights", tiny_vit, (3, 32, 32), 3)]


@pytest.fixture(autouse=True)
def tiny(monkeypatch, tmp_path):
    """Tiny models instead of the real ones, a private cache dir, and one quick round per batch.

    The commands run with --threads 1: on a busy 2-core machine a 2-thread
    OpenMP team waits for its descheduled partner at every op.
    """
    monkeypatch.setenv("EMOTION_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(benchmark, "QUICK", (2, 0.0))
    monkeypatch.setattr(bench_command, "specs_for", lambda args: [s for s in TINY if s.key in args.models])


def test_json_rows(capsys):
    assert main(["bench", "--quick", "--json", "--threads", "1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all(tuple(r) == benchmark.ROW_KEYS for r in rows)
    assert {r["model"] for r in rows} == {"bundled", "vit-base"}
    assert {(r["model"], r["batch"]) for r in rows} == {("bundled", 1), ("bundled", 4), ("vit-base", 1),
                                                         ("vit-base", 3)}
    available = {name for name, (ok, _) in available_backends().items() if ok}
    assert {r["backend"] for r in rows} == available
    for r in rows:
        assert r["throughput"] > 0 and 0 < r["p50_ms"] <= r["p95_ms"] and r["size_mb"] > 0
        assert 0.0 <= r["agreement"] <= 1.0
        if r["backend"] == "eager":
            assert r["agreement"] == 1.0


def test_one_backend_against_eager_as_markdown(tmp_path, capsys):
    out = tmp_path / "table.md"
    assert main(["bench", "--quick", "--backend", "eager", "--models", "bundled", "--threads", "1",
                 "--markdown", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.read_text(encoding="utf-8").strip() == printed.strip()
    assert "| model | backend | batch | faces/s | p50 ms | p95 ms |" in printed
    assert printed.count("| bundled | eager |") == 2
    assert "tiny ResNet, random weights" in printed and "Load average" in printed


@pytest.mark.parametrize("models", ["resnet", ",", "bundled,vit"])
def test_bad_models_list(monkeypatch, capsys, models):
    monkeypatch.setattr(bench_command, "specs_for", REAL_SPECS_FOR)
    assert main(["bench", "--quick", "--models", models]) == 1
    assert "error: --models takes a comma-separated list of bundled, vit-base" in capsys.readouterr().err


def test_bench_runtime_script(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_runtime", ROOT / "benchmarks" / "bench_runtime.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "runtime.md"
    assert script.main(["--quick", "--json", "--models", "vit-base", "--backend", "eager", "--threads", "1",
                        "--markdown", str(out)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["model"], r["backend"], r["batch"]) for r in rows] == [("vit-base", "eager", 1), ("vit-base", "eager", 3)]
    assert "| vit-base | eager | 3 |" in out.read_text(encoding="utf-8")


def _row(model, backend, batch, throughput, accepted=True):
    return benchmark.Row(model, backend, batch, throughput, 1.0, 1.0, 1.0, 1.0 if accepted else 0.5, accepted)


@pytest.mark.parametrize("rows, expected", [
    ([_row("m", "eager", 8, 10), _row("m", "bf16", 8, 40)], [("m", 8, "bf16", 4.0, True)]),
    ([_row("m", "eager", 8, 10), _row("m", "bf16", 8, 40, accepted=False), _row("m", "onnx-int8", 8, 20)],
     [("m", 8, "bf16", 4.0, False), ("m", 8, "onnx-int8", 2.0, True)]),
    ([_row("m", "eager", 8, 10), _row("m", "bf16", 8, 5)], [("m", 8, "eager", 1.0, True)]),
])
def test_speedups(rows, expected):
    assert benchmark.speedups(benchmark.BenchReport(rows=rows)) == expected


def test_bundled_spec_uses_the_checkpoint_or_says_it_is_a_stand_in(tmp_path, monkeypatch):
    from emotion.model import checkpoint as model_module

    monkeypatch.setattr(model_module, "BUNDLED_DIR", tmp_path / "missing")
    spec = benchmark.bundled_spec()
    side = ArchConfig().side
    assert spec.key == "bundled" and "random weights" in spec.description and spec.input_shape == (3, side, side)
    assert "-".join(map(str, ArchConfig().widths)) in spec.description
    ckpt = tmp_path / "ckpt"
    tiny_resnet().save_pretrained(ckpt)
    (ckpt / "preprocessor_config.json").write_text(json.dumps({"size": {"height": 40, "width": 40}}))
    spec = benchmark.bundled_spec(str(ckpt))
    assert spec.key == "ckpt" and spec.input_shape == (3, 40, 40) and spec.weights == ckpt / "model.safetensors"
    assert spec.build().config.num_labels == 8


def test_a_mirror_averaging_model_is_timed_with_two_network_passes_per_face():
    seen = []

    def build():
        model = tiny_resnet()
        model.register_forward_hook(lambda module, args, kwargs, out: seen.append(len(kwargs["pixel_values"])),
                                    with_kwargs=True)
        return model

    spec = benchmark.ModelSpec("bundled", "tiny ResNet, mirror", build, (3, 32, 32), 4, passes=2)
    report = benchmark.run_benchmark([spec], ["eager"], quick=True, threads=1)
    assert [r.batch for r in report.rows] == [1, 4]  # rows count faces
    assert set(seen) == {2, 8}  # each call ran the faces and their mirror images
    for r in report.rows:  # faces/s is faces per call over the call's median time
        assert r.throughput == pytest.approx(r.batch / (r.p50_ms / 1e3), rel=0.02)


def test_bundled_spec_follows_the_checkpoints_mirror_recipe(tmp_path):
    ckpt = tmp_path / "ckpt"
    tiny_resnet().save_pretrained(ckpt)
    (ckpt / "preprocessor_config.json").write_text(json.dumps({"size": {"height": 40, "width": 40}}))
    assert benchmark.bundled_spec(str(ckpt)).passes == 1
    (ckpt / "inference.json").write_text(json.dumps({"mirror": True}))
    spec = benchmark.bundled_spec(str(ckpt))
    assert spec.passes == 2 and "mirror" in spec.description
    assert benchmark.bundled_spec(str(ckpt), mirror=False).passes == 1  # --no-mirror
    (ckpt / "inference.json").write_text(json.dumps({"mirror": "yes"}))
    with pytest.raises(Exception, match="inference.json"):
        benchmark.bundled_spec(str(ckpt))


def test_the_benchmark_stand_in_has_the_training_pipelines_default_shape():
    # bench.py may not import emotion.training (inference never does); this keeps its copy of the shape honest.
    from emotion.cli import runtime_bench as bench
    from emotion.training.model_def import ArchConfig

    arch = ArchConfig()
    assert (bench.STANDIN_SIDE, bench.STANDIN_WIDTHS, bench.STANDIN_DEPTHS) == (arch.side, arch.widths, arch.depths)
    model = bench.standin_resnet()
    assert model.config.num_labels == len(arch.labels)
