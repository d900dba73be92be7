"""Per-call overhead of ``Model.run`` over the bare runtime call, and the native (de)quantiser.

Run::

    python -m pytest bench/test_runtime.py --benchmark-only

The overhead groups compare ``Model.run`` with the calls a user would make on the runtime
directly (LiteRT: ``set_tensor``, ``invoke``, ``get_tensor`` per output; ONNX Runtime:
``session.run``) on the same interpreter/session. In the "invoke stubbed" group LiteRT's
``invoke`` is replaced by a no-op on both sides, so the difference of the medians is the
wrapper's own cost (input checks, list building), not inference noise; the target is < 20 µs
per call on pose_landmark_full (1 input, 5 outputs). The end-to-end group shows the same
comparison with real inference.
"""

from __future__ import annotations

import numpy as np
import pytest

OVERHEAD_BUDGET_US = 20.0


def bench(group: str, max_time: float = 0.5):
    return pytest.mark.benchmark(group=group, max_time=max_time, min_rounds=20, warmup=True, warmup_iterations=20)


@pytest.fixture(scope="module")
def pose_landmark():
    from edgevision import runtime

    try:
        model = runtime.load("pose_landmark_full", threads=1)
    except Exception as e:  # no cache and no network
        pytest.skip(f"pose_landmark_full unavailable: {e}")
    x = np.random.default_rng(0).random((1, 256, 256, 3), np.float32)
    return model, x


def _raw_litert(interpreter, x):
    in_index = interpreter.get_input_details()[0]["index"]
    out_indices = [d["index"] for d in interpreter.get_output_details()]

    def call():
        interpreter.set_tensor(in_index, x)
        interpreter.invoke()
        return [interpreter.get_tensor(i) for i in out_indices]

    return call


@pytest.fixture
def stubbed_invoke(pose_landmark):
    model, _ = pose_landmark
    interpreter = model._interpreter
    interpreter.invoke = lambda: None  # an instance attribute: both sides call it
    yield
    del interpreter.invoke


@bench("Model.run overhead: pose_landmark_full, invoke stubbed")
def test_litert_overhead_edgevision(benchmark, pose_landmark, stubbed_invoke):
    model, x = pose_landmark
    benchmark.extra_info.update(role="edgevision", overhead_budget_us=OVERHEAD_BUDGET_US)
    outputs = benchmark(model.run, [x])
    assert len(outputs) == 5


@bench("Model.run overhead: pose_landmark_full, invoke stubbed")
def test_litert_overhead_bare(benchmark, pose_landmark, stubbed_invoke):
    model, x = pose_landmark
    benchmark.extra_info.update(role="peer", chain="set_tensor + invoke + get_tensor x5")
    outputs = benchmark(_raw_litert(model._interpreter, x))
    assert len(outputs) == 5


@bench("pose_landmark_full end to end (1 thread)", max_time=2.0)
def test_litert_end_to_end_edgevision(benchmark, pose_landmark):
    model, x = pose_landmark
    benchmark.extra_info.update(role="edgevision")
    benchmark(model.run, [x])


@bench("pose_landmark_full end to end (1 thread)", max_time=2.0)
def test_litert_end_to_end_bare(benchmark, pose_landmark):
    model, x = pose_landmark
    benchmark.extra_info.update(role="peer", chain="ai_edge_litert Interpreter")
    benchmark(_raw_litert(model._interpreter, x))


@pytest.fixture(scope="module")
def onnx_conv(tmp_path_factory):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from edgevision import runtime
    from model_builders import conv_relu_add

    spec = conv_relu_add(tmp_path_factory.mktemp("onnx") / "conv.onnx", np.random.default_rng(0))
    model = runtime.load(spec["path"], threads=1)
    return model, np.random.default_rng(1).random(spec["shape"], np.float32)


@bench("Model.run overhead: ONNX Runtime CPU, 16x16 conv")
def test_onnx_overhead_edgevision(benchmark, onnx_conv):
    model, x = onnx_conv
    benchmark.extra_info.update(role="edgevision", overhead_budget_us=OVERHEAD_BUDGET_US)
    benchmark(model.run, [x])


@bench("Model.run overhead: ONNX Runtime CPU, 16x16 conv")
def test_onnx_overhead_bare(benchmark, onnx_conv):
    model, x = onnx_conv
    benchmark.extra_info.update(role="peer", chain="session.run")
    session = model._session
    benchmark(session.run, None, {"x": x})


@pytest.fixture(scope="module")
def tensor():
    return np.random.default_rng(2).normal(0, 1, (1, 256, 256, 3)).astype(np.float32)


@bench("quantize 256x256x3 f32 -> uint8")
def test_quantize_edgevision(benchmark, tensor):
    from edgevision.kernels import quantize

    benchmark.extra_info.update(role="edgevision", target=2.0)
    out = np.empty(tensor.shape, np.uint8)
    benchmark(quantize, tensor, 0.02, 128, "uint8", out=out)


@bench("quantize 256x256x3 f32 -> uint8")
def test_quantize_numpy(benchmark, tensor):
    benchmark.extra_info.update(role="peer", chain="np.clip(np.rint(x / s) + zp).astype")
    benchmark(lambda: np.clip(np.rint(tensor / np.float32(0.02)) + 128, 0, 255).astype(np.uint8))


@bench("dequantize 64x64x39 uint8 -> f32")
def test_dequantize_edgevision(benchmark):
    from edgevision.kernels import dequantize

    q = np.random.default_rng(3).integers(0, 256, (1, 64, 64, 39), dtype=np.uint8)
    benchmark.extra_info.update(role="edgevision", target=2.0)
    benchmark(dequantize, q, 0.02, 128)


@bench("dequantize 64x64x39 uint8 -> f32")
def test_dequantize_numpy(benchmark):
    q = np.random.default_rng(3).integers(0, 256, (1, 64, 64, 39), dtype=np.uint8)
    benchmark.extra_info.update(role="peer", chain="(q.astype(int32) - zp).astype(f32) * s")
    benchmark(lambda: (q.astype(np.int32) - 128).astype(np.float32) * np.float32(0.02))
