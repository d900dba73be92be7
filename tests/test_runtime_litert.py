"""LiteRT through edgevision.runtime: quantised I/O, options, and clear errors for bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from edgevision import runtime
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from model_builders import quantized_tflite


def numpy_quantize(x, scale, zero_point, lo, hi, dtype):
    return np.clip(np.rint(x / np.float32(scale)) + zero_point, lo, hi).astype(dtype)


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    return quantized_tflite(tmp_path_factory.mktemp("tflite") / "quantized.tflite")


def test_quantized_io_is_described_and_converted(quantized, rng):
    model = runtime.load(quantized["path"])
    (inp,), (out,) = model.inputs, model.outputs
    assert (inp.name, inp.dtype, inp.shape) == ("image", np.dtype(np.uint8), (1, 4, 4, 3))
    assert (out.name, out.dtype) == ("scores", np.dtype(np.int8))
    assert inp.quantized and out.quantized
    assert inp.scale == pytest.approx(quantized["in"][0]) and inp.zero_point == quantized["in"][1]
    assert out.scale == pytest.approx(quantized["out"][0]) and out.zero_point == quantized["out"][1]

    x = rng.uniform(-1, 5, quantized["shape"]).astype(np.float32)
    # The model's own arithmetic, in NumPy: quantise with the input's parameters, dequantise,
    # double, quantise with the output's, dequantise.
    s_in, z_in = np.float32(inp.scale), inp.zero_point
    s_out, z_out = np.float32(out.scale), out.zero_point
    q_in = numpy_quantize(x, s_in, z_in, 0, 255, np.uint8)
    doubled = 2 * ((q_in.astype(np.int32) - z_in).astype(np.float32) * s_in)
    q_out = numpy_quantize(doubled, s_out, z_out, -128, 127, np.int8)
    expected = (q_out.astype(np.int32) - z_out).astype(np.float32) * s_out

    (got,) = model.run([x])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    (raw,) = model.run({"image": q_in}, dequantize=False)  # already quantised: passed through
    np.testing.assert_array_equal(raw, q_out)
    np.testing.assert_array_equal(model.run(x)[0], expected)  # one array for a one-input model


def test_quantized_input_buffer_is_reused_and_strided_float_input_accepted(quantized, rng):
    model = runtime.load(quantized["path"])
    big = rng.uniform(0, 3, (1, 8, 4, 6)).astype(np.float32)
    view = big[:, ::2, :, ::2]
    first = model.run([view])[0]
    buffer = model._slots[0].buffer
    second = model.run([np.ascontiguousarray(view)])[0]
    assert model._slots[0].buffer is buffer
    np.testing.assert_array_equal(first, second)


def test_xnnpack_off_and_threads_give_the_same_numbers(rng):
    from edgevision import models

    path = models.fetch("face_detection_short_range")
    x = rng.uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    default = runtime.load(path, threads=2)
    plain = runtime.load(path, options={"xnnpack": False})
    assert default.threads == 2 and default.xnnpack and not plain.xnnpack
    for a, b in zip(default.run([x]), plain.run([x])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_missing_litert_names_the_extra(monkeypatch, quantized):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime", None)
    with pytest.raises(runtime.RuntimeNotInstalledError, match=r"pip install 'edgevision\[litert\]'"):
        runtime.load(quantized["path"])


BAD_RUNS = {
    "wrong shape": (lambda: [np.zeros((1, 4, 4, 4), np.float32)], ValueError, r"'image' must have shape \[1, 4, 4, 3\]"),
    "wrong rank": (lambda: [np.zeros((4, 4, 3), np.uint8)], ValueError, "must have shape"),
    "float64": (lambda: [np.zeros((1, 4, 4, 3))], TypeError, "uint8 or float32"),
    "int16": (lambda: [np.zeros((1, 4, 4, 3), np.int16)], TypeError, "must have dtype"),
    "list of lists": (lambda: [[[0]]], TypeError, "numpy.ndarray"),
    "too many": (lambda: [np.zeros((1, 4, 4, 3), np.uint8)] * 2, ValueError, "expected 1 arrays"),
    "unknown name": (lambda: {"img": np.zeros((1, 4, 4, 3), np.uint8)}, ValueError, "unknown input name"),
    "not a container": (lambda: 3.0, TypeError, "inputs must be"),
}


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_inputs_raise_clear_errors(quantized, case):
    model = runtime.load(quantized["path"])
    make, error, words = BAD_RUNS[case]
    with pytest.raises(error, match=words):
        model.run(make())


def test_float_model_rejects_other_dtypes_without_casting(rng):
    from edgevision import models

    model = runtime.load(models.fetch("face_landmark"))
    with pytest.raises(TypeError, match="must have dtype float32, got float64"):
        model.run([np.zeros((1, 192, 192, 3))])
    with pytest.raises(TypeError, match="must have dtype float32, got uint8"):
        model.run([np.zeros((1, 192, 192, 3), np.uint8)])


def test_devices_without_a_delegate_are_refused(quantized):
    with pytest.raises(ValueError, match="delegate"):
        runtime.load(quantized["path"], device="qnn-htp")
    with pytest.raises(ValueError, match="cannot load the LiteRT delegate"):
        runtime.load(quantized["path"], device="qnn-htp", delegate="/nonexistent/libQnnTFLiteDelegate.so")
    with pytest.raises(ValueError, match="unknown LiteRT option"):
        runtime.load(quantized["path"], options={"num_threads": 2})


@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5),
    dtype=st.sampled_from([np.uint8, np.int8, np.float32, np.float64, np.int32, np.bool_]),
)
def test_any_array_runs_or_raises_a_clear_error(quantized_model, shape, dtype):
    x = np.zeros(shape, dtype)
    ok = shape == (1, 4, 4, 3) and dtype in (np.uint8, np.float32)
    if ok:
        assert quantized_model.run([x])[0].shape == (1, 4, 4, 3)
    else:
        with pytest.raises((ValueError, TypeError), match="input 'image' must have"):
            quantized_model.run([x])


@pytest.fixture(scope="module")
def quantized_model(quantized):
    return runtime.load(quantized["path"])


def test_dynamic_batch_is_resized_on_demand(tmp_path, rng):
    spec = quantized_tflite(tmp_path / "dynamic.tflite", dynamic_batch=True)
    model = runtime.load(spec["path"])
    assert model.inputs[0].shape == (None, 4, 4, 3)
    (inp,), (out,) = model.inputs, model.outputs
    for batch in (1, 3, 2):
        q = rng.integers(0, 256, (batch, 4, 4, 3), dtype=np.uint8)
        (got,) = model.run([q], dequantize=False)
        real = 2 * ((q.astype(np.int32) - inp.zero_point).astype(np.float32) * np.float32(inp.scale))
        assert got.shape == (batch, 4, 4, 3)
        np.testing.assert_array_equal(got, numpy_quantize(real, out.scale, out.zero_point, -128, 127, np.int8))
    with pytest.raises(ValueError, match=r"must have shape \[\?, 4, 4, 3\]"):
        model.run([np.zeros((2, 4, 4, 2), np.uint8)])


def test_raw_pixel_inputs_are_recognised(tmp_path, astronaut):
    from edgevision.kernels import letterbox

    spec = quantized_tflite(tmp_path / "pixels.tflite", in_q=(1 / 255, 0), shape=(1, 8, 8, 3))
    model = runtime.load(spec["path"])
    info = model.inputs[0]
    assert info.takes_raw_pixels((0.0, 1.0)) and not info.takes_raw_pixels((-1.0, 1.0))
    assert not runtime.load(quantized_tflite(tmp_path / "other.tflite")["path"]).inputs[0].takes_raw_pixels((0, 1))
    # The uint8 letterbox and the float letterbox quantised by Model.run feed the same numbers.
    pixels, _ = letterbox(astronaut, (8, 8), dtype="uint8")
    floats, _ = letterbox(astronaut, (8, 8))
    np.testing.assert_array_equal(model.run([pixels])[0], model.run([floats])[0])
