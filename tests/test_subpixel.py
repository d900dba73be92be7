"""LiteRT on XNNPACK: transposed convolutions whose kernel equals their stride run as a 1x1
convolution + DEPTH_TO_SPACE (edgevision.runtime.subpixel).

Small graphs are checked against the transposed convolution written out in NumPy; the selfie
models (MediaPipe's Convolution2DTransposeBias) against themselves loaded unedited, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from edgevision import runtime
from tflite_builders import Op, T, options, write

pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is a core dependency")

RELU = 1  # TFLite's ActivationFunctionType.RELU


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


def transpose_conv_model(path, rng, *, kernel: int, stride: int, activation: int = 0, size=(5, 7), channels=(4, 3)):
    """input [1, h, w, I] -> TRANSPOSE_CONV (weights [O, k, k, I], bias [O]) -> [1, H, W, O]."""
    h, w = size
    c_in, c_out = channels
    out_h, out_w = (h - 1) * stride + kernel, (w - 1) * stride + kernel
    weights = rng.normal(size=(c_out, kernel, kernel, c_in)).astype(np.float32)
    bias = rng.normal(size=c_out).astype(np.float32)
    tensors = [T("shape", [4], np.int32, np.array([1, out_h, out_w, c_out], np.int32)),
               T("weights", weights.shape, data=weights), T("input", [1, h, w, c_in]), T("bias", [c_out], data=bias),
               T("output", [1, out_h, out_w, c_out])]
    op = Op("TRANSPOSE_CONV", [0, 1, 2, 3], [4],
            options("TransposeConv", padding=1, strideW=stride, strideH=stride, fusedActivationFunction=activation))
    return write(path, tensors, [op], [2], [4]), weights, bias


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
    assert op_names(edited) == ["CONV_2D", "DEPTH_TO_SPACE", "DELEGATE"]
    assert "TRANSPOSE_CONV" in op_names(plain)
    x = rng.normal(size=edited.inputs[0].shape).astype(np.float32)
    expected = transposed_conv(x, weights, bias, stride)
    if activation == RELU:
        expected = np.maximum(expected, 0)
    np.testing.assert_allclose(edited.run([x])[0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(plain.run([x])[0], expected, rtol=1e-5, atol=1e-5)


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

    edited = runtime.load(name, threads=1)
    plain = runtime.load(name, threads=1, options={"xnnpack_rewrites": False})
    assert "Convolution2DTransposeBias" in op_names(plain)
    assert "Convolution2DTransposeBias" not in op_names(edited) and "DEPTH_TO_SPACE" in op_names(edited)
    width, height = edited.inputs[0].shape[2], edited.inputs[0].shape[1]
    photo, _ = letterbox(astronaut, (width, height), keep_aspect=False)
    noise = np.random.default_rng(7).random(photo.shape, dtype=np.float32)
    for x in (photo, noise):
        np.testing.assert_array_equal(edited.run([x])[0], plain.run([x])[0])
