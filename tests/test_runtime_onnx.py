"""ONNX Runtime through edgevision.runtime: CPU against NumPy, QNN HTP against CPU, placement, caching."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from edgevision import runtime
from model_builders import conv_relu_add, dynamic_batch, qdq_conv_relu, uint8_io, with_unsupported_op

pytest.importorskip("onnxruntime", reason="install edgevision[onnx]")
pytest.importorskip("onnx", reason="install edgevision[onnx]")


def _qnn_available() -> str:
    try:
        import onnxruntime_qnn
    except ImportError:
        return "onnxruntime-qnn is not installed (wheels: CPython >= 3.11 on Linux and Windows)"
    return ""


needs_qnn = pytest.mark.skipif(bool(_qnn_available()), reason=_qnn_available() or "QNN available")


@pytest.fixture(scope="module")
def onnx_models(tmp_path_factory):
    directory = tmp_path_factory.mktemp("onnx")
    rng = np.random.default_rng(7)
    return {
        "float": conv_relu_add(directory / "conv_relu_add.onnx", rng),
        "qdq": qdq_conv_relu(directory / "qdq_conv_relu.onnx", rng),
        "uint8_io": uint8_io(directory / "uint8_io.onnx"),
        "det": with_unsupported_op(directory / "with_det.onnx"),
        "dynamic": dynamic_batch(directory / "dynamic.onnx"),
    }


def test_cpu_matches_numpy_reference(onnx_models, rng):
    spec = onnx_models["float"]
    model = runtime.load(spec["path"])
    assert (model.runtime, model.device) == ("onnxruntime", "cpu")
    assert [(i.name, i.shape, i.dtype.name) for i in model.inputs] == [("x", (1, 3, 16, 16), "float32")]
    x = rng.random(spec["shape"], np.float32)
    (y,) = model.run({"x": x})
    np.testing.assert_allclose(y, spec["reference"](x), rtol=1e-5, atol=1e-5)
    # A strided view is accepted as it is.
    wide = rng.random((1, 3, 16, 32), np.float32)
    np.testing.assert_allclose(model.run([wide[..., ::2]])[0], spec["reference"](wide[..., ::2]), atol=1e-5)


def test_quantized_graph_io_uses_the_qdq_parameters(onnx_models, rng):
    spec = onnx_models["uint8_io"]
    model = runtime.load(spec["path"])
    (inp,), (out,) = model.inputs, model.outputs
    assert inp.dtype == np.uint8 and out.dtype == np.int8
    assert (inp.scale, inp.zero_point) == (pytest.approx(spec["in"][0]), spec["in"][1])
    assert (out.scale, out.zero_point) == (pytest.approx(spec["out"][0]), spec["out"][1])
    x = rng.uniform(-6, 8, (1, 2, 3, 4)).astype(np.float32)
    s_in, z_in = np.float32(spec["in"][0]), spec["in"][1]
    s_out, z_out = np.float32(spec["out"][0]), spec["out"][1]
    q_in = np.clip(np.rint(x / s_in) + z_in, 0, 255).astype(np.uint8)
    relu = np.maximum((q_in.astype(np.int32) - z_in).astype(np.float32) * s_in, 0)
    q_out = np.clip(np.rint(relu / s_out) + z_out, -128, 127).astype(np.int8)
    np.testing.assert_array_equal(model.run([x], dequantize=False)[0], q_out)
    np.testing.assert_array_equal(model.run([x])[0], (q_out.astype(np.int32) - z_out).astype(np.float32) * s_out)


def test_session_options_reach_onnxruntime(onnx_models, rng):
    spec = onnx_models["float"]
    model = runtime.load(spec["path"], threads=1, options={"graph_optimization_level": "disable",
                                                            "session_config": {"session.use_env_allocators": "0"}})
    session_options = model._session.get_session_options()
    assert session_options.intra_op_num_threads == 1
    assert session_options.graph_optimization_level.name == "ORT_DISABLE_ALL"
    x = rng.random(spec["shape"], np.float32)
    np.testing.assert_allclose(model.run([x])[0], spec["reference"](x), rtol=1e-5, atol=1e-5)


def test_symbolic_dimensions_accept_any_size(onnx_models):
    model = runtime.load(onnx_models["dynamic"]["path"])
    assert model.inputs[0].shape == (None, 4)
    for batch in (1, 5):
        x = np.arange(batch * 4, dtype=np.float32).reshape(batch, 4)
        np.testing.assert_array_equal(model.run([x])[0], 2 * x)
    with pytest.raises(ValueError, match=r"must have shape \[\?, 4\]"):
        model.run([np.zeros((2, 5), np.float32)])


@needs_qnn
def test_qnn_htp_equals_cpu_and_places_every_node(onnx_models, rng):
    spec = onnx_models["float"]
    cpu = runtime.load(spec["path"])
    htp = runtime.load(spec["path"], device="qnn-htp", strict=True)
    assert htp.device == "qnn-htp"
    assert set(htp.placement) == {"QNNExecutionProvider"}
    placed = {name for name, _ in htp.placement["QNNExecutionProvider"]}
    assert {"conv", "relu", "add"} <= {n.split("_token")[0] for n in placed}
    x = rng.random(spec["shape"], np.float32)
    np.testing.assert_allclose(htp.run([x])[0], cpu.run([x])[0], rtol=1e-4, atol=1e-4)


@needs_qnn
def test_qnn_htp_runs_the_qdq_model_like_cpu(onnx_models, rng):
    spec = onnx_models["qdq"]
    cpu = runtime.load(spec["path"])
    htp = runtime.load(spec["path"], device="qnn-htp", strict=True)
    assert set(htp.placement) == {"QNNExecutionProvider"}
    ops = {op for _, op in htp.placement["QNNExecutionProvider"]}
    assert {"Conv", "Relu", "QuantizeLinear", "DequantizeLinear"} <= ops
    x = rng.random(spec["shape"], np.float32)
    y_cpu, y_htp = cpu.run([x])[0], htp.run([x])[0]
    # The HTP requantises conv -> relu in one fixed-point step where the CPU rounds twice: results
    # may differ by one output step, never more, and mostly agree.
    diff = np.abs(y_htp - y_cpu) / spec["step"]
    assert diff.max() <= 1.01
    assert diff.mean() < 0.4 and np.corrcoef(y_htp.ravel(), y_cpu.ravel())[0, 1] > 0.999


@needs_qnn
def test_strict_qnn_fails_clearly_on_cpu_fallback(onnx_models, rng):
    spec = onnx_models["det"]
    with pytest.raises(runtime.PlacementError, match=r"det \(Det\)") as info:
        runtime.load(spec["path"], device="qnn-htp", strict=True)
    assert info.value.fallback_nodes == [("det", "Det")]
    with pytest.warns(runtime.PlacementWarning, match=r"1 node\(s\).*det \(Det\)"):
        model = runtime.load(spec["path"], device="qnn-htp")
    assert model.placement["CPUExecutionProvider"] == [("det", "Det")]
    assert {op for _, op in model.placement["QNNExecutionProvider"]} == {"Relu", "Add"}
    x = rng.normal(size=spec["shape"]).astype(np.float32)
    np.testing.assert_allclose(model.run([x])[0], spec["reference"](x), rtol=1e-4, atol=1e-5)


@needs_qnn
def test_qnn_context_cache_is_written_once_and_reused(onnx_models, rng, tmp_path):
    spec = onnx_models["float"]
    options = {"context_cache": tmp_path}
    first = runtime.load(spec["path"], device="qnn-htp", options=options, strict=True)
    context = tmp_path / first.context_path.split("/")[-1]
    assert context.is_file() and context.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".onnx"] == [context.name]  # no partial left
    mtime = context.stat().st_mtime_ns
    second = runtime.load(spec["path"], device="qnn-htp", options=options, strict=True)
    assert second.context_path == first.context_path and context.stat().st_mtime_ns == mtime
    # The second session runs the compiled context: one EPContext node, on QNN.
    assert [op for _, op in second.placement["QNNExecutionProvider"]] == ["EPContext"]
    x = rng.random(spec["shape"], np.float32)
    np.testing.assert_allclose(second.run([x])[0], first.run([x])[0], rtol=1e-5, atol=1e-5)
    # A corrupt context is compiled again rather than trusted.
    context.write_bytes(b"not a model")
    third = runtime.load(spec["path"], device="qnn-htp", options=options)
    np.testing.assert_allclose(third.run([x])[0], first.run([x])[0], rtol=1e-5, atol=1e-5)


@needs_qnn
def test_qnn_htp_defaults_yield_to_the_caller(onnx_models, monkeypatch):
    from edgevision.runtime import qnn

    key = "htp_graph_finalization_optimization_mode"
    model = runtime.load(onnx_models["float"]["path"], device="qnn-htp", options={"provider_options": {key: 2}})
    assert model.placement is not None and set(model.placement) == {"QNNExecutionProvider"}
    assert qnn.provider_options("qnn-htp", {key: 2}, strict=False)[key] == "2"
    monkeypatch.setattr(qnn.platform, "machine", lambda: "x86_64")  # the simulator: mode 1 unless told
    assert qnn.provider_options("qnn-htp", {}, strict=False)[key] == "1"
    assert key not in qnn.provider_options("qnn-gpu", {}, strict=False)
    monkeypatch.setattr(qnn.platform, "machine", lambda: "aarch64")  # a device: QNN's own default
    assert key not in qnn.provider_options("qnn-htp", {}, strict=False)


@needs_qnn
def test_qnn_gpu_without_a_gpu_is_reported(onnx_models):
    # The x86-64 wheel ships libQnnGpu.so but there is no Adreno: every node lands on the CPU.
    spec = onnx_models["float"]
    with pytest.raises(runtime.PlacementError, match="instead of qnn-gpu"):
        runtime.load(spec["path"], device="qnn-gpu", strict=True)


def test_missing_onnxruntime_names_the_extra(monkeypatch, onnx_models):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(runtime.RuntimeNotInstalledError, match=r"pip install 'edgevision\[onnx\]'"):
        runtime.load(onnx_models["float"]["path"])


def test_missing_qnn_plugin_names_the_extra(onnx_models):
    # A fresh process: once registered, the QNN EP stays in ONNX Runtime for the process's life.
    script = (
        "import sys; sys.modules['onnxruntime_qnn'] = None\n"
        "from edgevision import runtime\n"
        "try:\n"
        f"    runtime.load({str(onnx_models['float']['path'])!r}, device='qnn-htp')\n"
        "except runtime.RuntimeNotInstalledError as e:\n"
        "    print('ERROR', e)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert "ERROR The QNN execution provider is not installed: pip install 'edgevision[qnn]'" in done.stdout, (
        done.stdout + done.stderr)


BAD_LOADS = {
    "unknown runtime": (dict(runtime="tensorrt"), ValueError, "runtime must be one of"),
    "unknown device": (dict(device="tpu"), ValueError, "device must be one of"),
    "litert for onnx": (dict(runtime="litert"), ValueError, "cannot run a .onnx file"),
    "threads zero": (dict(threads=0), ValueError, "threads must be >= 1"),
    "threads float": (dict(threads=1.5), TypeError, "threads must be a positive int"),
    "unknown option": (dict(options={"cache": True}), ValueError, "unknown ONNX Runtime option"),
    "optimization level": (dict(options={"graph_optimization_level": 3}), ValueError, "graph_optimization_level"),
    "cache on cpu": (dict(options={"context_cache": True}), ValueError, "QNN devices only"),
    "delegate": (dict(delegate="libfoo.so"), ValueError, "delegate applies to LiteRT"),
}


@pytest.mark.parametrize("case", list(BAD_LOADS))
def test_bad_load_arguments(onnx_models, case):
    kwargs, error, words = BAD_LOADS[case]
    with pytest.raises(error, match=words):
        runtime.load(onnx_models["float"]["path"], **kwargs)


def test_wrong_shape_and_dtype_on_onnx(onnx_models):
    model = runtime.load(onnx_models["float"]["path"])
    with pytest.raises(ValueError, match=r"'x' must have shape \[1, 3, 16, 16\], got \[1, 16, 16, 3\]"):
        model.run([np.zeros((1, 16, 16, 3), np.float32)])
    with pytest.raises(TypeError, match="must have dtype float32, got float64"):
        model.run([np.zeros((1, 3, 16, 16))])
    with pytest.raises(ValueError, match=r"missing \['x'\]"):
        model.run({})
