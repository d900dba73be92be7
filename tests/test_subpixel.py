"""LiteRT on XNNPACK: transposed convolutions whose kernel equals their stride run as a 1x1
convolution + DEPTH_TO_SPACE (edgevision.runtime.subpixel).

Small graphs are checked against the transposed convolution written out in NumPy; the selfie
models (MediaPipe's Convolution2DTransposeBias) against themselves loaded unedited, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from edgevision import runtime
from hypothesis import given, settings
from hypothesis import strategies as st
from tflite_builders import Op, T, options, write


RELU, RELU6 = 1, 3  # TFLite's ActivationFunctionType


def transposed_conv(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """NHWC transposed convolution, weights [O, kh, kw, I], padding VALID, in float64."""
    n, h, w, _ = x.shape
    o, kh, kw, _ = weights.shape
    out = np.zeros((n, (h - 1) * stride + kh, (w - 1) * stride + kw, o))
    for y in range(h):
        for x_ in range(w):
            # every input pixel adds its kernel-sized patch at (stride*y, stride*x)
            out[:, stride * y:stride * y + kh, stride * x_:stride * x_ + kw, :] += np.einsum(
                "ni,oyxi->nyxo", x[:, y, x_, :].astype(np.float64), weights.astype(np.float64))
    return out + bias


def transpose_conv_model(path, rng, *, kernel: int, stride: int, activation: int = 0, size=(5, 7), channels=(4, 3),
                         with_bias: bool = True):
    """input [1, h, w, I] -> TRANSPOSE_CONV (weights [O, k, k, I], bias [O]) -> [1, H, W, O]."""
    h, w = size
    c_in, c_out = channels
    out_h, out_w = (h - 1) * stride + kernel, (w - 1) * stride + kernel
    weights = rng.normal(size=(c_out, kernel, kernel, c_in)).astype(np.float32)
    bias = rng.normal(size=c_out).astype(np.float32) if with_bias else np.zeros(c_out, np.float32)
    tensors = [T("shape", [4], np.int32, np.array([1, out_h, out_w, c_out], np.int32)),
               T("weights", weights.shape, data=weights), T("input", [1, h, w, c_in]),
               T("output", [1, out_h, out_w, c_out])]
    inputs = [0, 1, 2]
    if with_bias:
        tensors.append(T("bias", [c_out], data=bias))
        inputs.append(4)
    op = Op("TRANSPOSE_CONV", inputs, [3],
            options("TransposeConv", padding=1, strideW=stride, strideH=stride, fusedActivationFunction=activation))
    return write(path, tensors, [op], [2], [3]), weights, bias


@pytest.fixture
def scratch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEVISION_HOME", str(tmp_path / "home"))


def op_names(model) -> list[str]:
    return [op["op_name"] for op in model._interpreter._get_ops_details()]


@pytest.mark.parametrize("stride, activation, channels", [(2, 0, (4, 3)), (2, RELU, (16, 1)), (3, 0, (2, 5)),
                                                          (1, RELU, (3, 2))])
def test_stride_sized_transpose_conv_is_rewritten_and_computes_the_same(scratch_home, tmp_path, rng, stride,
                                                                          activation, channels):
    path, weights, bias = transpose_conv_model(tmp_path / "deconv.tflite", rng, kernel=stride, stride=stride,
                                               activation=activation, channels=channels)
    edited = runtime.load(path)
    plain = runtime.load(path, options={"xnnpack_rewrites": False})
    assert edited.edited_path is not None and plain.edited_path is None
    assert op_names(edited) == (["CONV_2D", "DELEGATE"] if stride == 1 else ["CONV_2D", "DEPTH_TO_SPACE", "DELEGATE"])
    assert "TRANSPOSE_CONV" in op_names(plain)
    x = rng.normal(size=edited.inputs[0].shape).astype(np.float32)
    expected = transposed_conv(x, weights, bias, stride)
    if activation == RELU:
        expected = np.maximum(expected, 0)
    np.testing.assert_allclose(edited.run([x])[0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(plain.run([x])[0], expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(stride=st.integers(1, 3), height=st.integers(1, 6), width=st.integers(1, 6), c_in=st.integers(1, 6),
       c_out=st.integers(1, 4), activation=st.sampled_from([0, RELU, RELU6]), with_bias=st.booleans(),
       seed=st.integers(0, 2**16))
def test_rewrite_matches_numpy_for_any_shape(tmp_path_factory, stride, height, width, c_in, c_out, activation,
                                            with_bias, seed):
    rng = np.random.default_rng(seed)
    folder = tmp_path_factory.mktemp("deconv")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EDGEVISION_HOME", str(folder / "home"))
        path, weights, bias = transpose_conv_model(folder / "deconv.tflite", rng, kernel=stride, stride=stride,
                                                   activation=activation, size=(height, width),
                                                   channels=(c_in, c_out), with_bias=with_bias)
        model = runtime.load(path)
    assert model.edited_path is not None
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    expected = transposed_conv(x, weights, bias, stride)
    expected = {0: expected, RELU: np.maximum(expected, 0), RELU6: np.clip(expected, 0, 6)}[activation]
    np.testing.assert_allclose(model.run([x])[0], expected, rtol=1e-5, atol=1e-5)


def test_corrupt_file_with_outputs_is_a_value_error(scratch_home, tmp_path):
    path = tmp_path / "broken.tflite"
    path.write_bytes(b"\x18\x00\x00\x00TFL3" + b"\xff" * 40)
    with pytest.raises(ValueError, match="model"):
        runtime.load(path, outputs=["y"])


def test_overlapping_transpose_conv_is_left_alone(scratch_home, tmp_path, rng):
    path, weights, bias = transpose_conv_model(tmp_path / "overlap.tflite", rng, kernel=3, stride=2)
    model = runtime.load(path)
    assert model.edited_path is None
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    np.testing.assert_allclose(model.run([x])[0], transposed_conv(x, weights, bias, 2), rtol=1e-5, atol=1e-5)


def test_no_rewrite_without_xnnpack(scratch_home, tmp_path, rng):
    path, _, _ = transpose_conv_model(tmp_path / "deconv.tflite", rng, kernel=2, stride=2)
    assert runtime.load(path, options={"xnnpack": False}).edited_path is None


@pytest.mark.parametrize("name", ["selfie_segmentation", "selfie_segmentation_landscape"])
def test_selfie_models_run_rewritten_with_identical_masks(name, astronaut):
    from edgevision.kernels import letterbox

    edited = runtime.load(name, threads=1, options={"xnnpack_rewrites": ["subpixel"]})  # the bit-identical one
    plain = runtime.load(name, threads=1, options={"xnnpack_rewrites": False})
    assert "Convolution2DTransposeBias" in op_names(plain)
    assert "Convolution2DTransposeBias" not in op_names(edited) and "DEPTH_TO_SPACE" in op_names(edited)
    width, height = edited.inputs[0].shape[2], edited.inputs[0].shape[1]
    photo, _ = letterbox(astronaut, (width, height), keep_aspect=False)
    noise = np.random.default_rng(7).random(photo.shape, dtype=np.float32)
    for x in (photo, noise):
        np.testing.assert_array_equal(edited.run([x])[0], plain.run([x])[0])
