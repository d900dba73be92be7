"""LiteRT on XNNPACK: a 1x1 convolution that reads a bilinear upsample runs before it
(edgevision.runtime.resize_order).

Small graphs are checked against the unedited graph evaluated in NumPy float64
(tflite_reference) and against the same file loaded unedited; the selfie models against
themselves unedited. The reordered sums round differently, so the comparisons allow float32
rounding, not bit equality.
"""

from __future__ import annotations

import numpy as np
import pytest
from edgevision import runtime
from hypothesis import given, settings
from hypothesis import strategies as st
from tflite_builders import Op, T, options, write
from tflite_reference import evaluate

RELU = 1  # TFLite's ActivationFunctionType


def resize_conv_model(path, rng, *, size=(4, 5), resized_size=None, channels=(8, 3), kernel=1, activation=0,
                      align_corners=False, half_pixel=True, float16_weights=False,
                      resize_is_output=False, second_reader=False):
    """input [1, h, w, I] -> RESIZE_BILINEAR (to ``resized_size`` = (height, width), default twice
    ``size``) -> CONV_2D (weights [O, k, k, I]) -> output."""
    h, w = size
    big = tuple(resized_size) if resized_size is not None else (2 * h, 2 * w)
    c_in, c_out = channels
    weights = rng.normal(size=(c_out, kernel, kernel, c_in)).astype(np.float32)
    bias = rng.normal(size=c_out).astype(np.float32)
    tensors = [T("input", [1, h, w, c_in]), T("size", [2], np.int32, np.array(big, np.int32)),
               T("resized", [1, *big, c_in]), T("output", [1, *big, c_out])]
    ops = []
    if float16_weights:
        tensors += [T("weights_f16", weights.shape, np.float16, weights.astype(np.float16)), T("weights", weights.shape)]
        ops.append(Op("DEQUANTIZE", [4], [5]))
    else:
        tensors.append(T("weights", weights.shape, data=weights))
    weights_index = len(tensors) - 1
    conv_inputs = [2, weights_index]
    tensors.append(T("bias", [c_out], data=bias))  # LiteRT's CONV_2D requires one
    conv_inputs.append(len(tensors) - 1)
    outputs = [3]
    ops.insert(0, Op("RESIZE_BILINEAR", [0, 1], [2],
                     options("ResizeBilinear", alignCorners=align_corners, halfPixelCenters=half_pixel)))
    ops.append(Op("CONV_2D", conv_inputs, [3],
                  options("Conv2D", padding=0, strideW=1, strideH=1, dilationWFactor=1, dilationHFactor=1,
                          fusedActivationFunction=activation)))
    if second_reader:
        tensors.append(T("doubled", [1, *big, c_in]))
        ops.append(Op("ADD", [2, 2], [len(tensors) - 1], options("Add")))
        outputs.append(len(tensors) - 1)
    if resize_is_output:
        outputs.append(2)
    return write(path, tensors, ops, [0], outputs)


@pytest.fixture
def scratch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEVISION_HOME", str(tmp_path / "home"))


def op_names(model) -> list[str]:
    return [op["op_name"] for op in model._interpreter._get_ops_details()]


@pytest.mark.parametrize("align_corners, half_pixel, float16_weights",
                         [(False, True, False), (True, False, True), (False, False, False), (False, True, True)])
def test_convolution_runs_before_the_upsample_with_the_same_result(scratch_home, tmp_path, rng, align_corners,
                                                                    half_pixel, float16_weights):
    path = resize_conv_model(tmp_path / "pair.tflite", rng, align_corners=align_corners, half_pixel=half_pixel,
                             float16_weights=float16_weights)
    edited = runtime.load(path)
    plain = runtime.load(path, options={"xnnpack_rewrites": False})
    assert edited.edited_path is not None and plain.edited_path is None
    ops = [name for name in op_names(edited) if name in ("CONV_2D", "RESIZE_BILINEAR")]
    assert ops == ["CONV_2D", "RESIZE_BILINEAR"]
    assert [name for name in op_names(plain) if name in ("CONV_2D", "RESIZE_BILINEAR")] == ["RESIZE_BILINEAR", "CONV_2D"]
    x = rng.normal(size=edited.inputs[0].shape).astype(np.float32)
    expected = evaluate(path, [x])[0]
    np.testing.assert_allclose(edited.run([x])[0], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(plain.run([x])[0], expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 6), width=st.integers(1, 6), scale_h=st.integers(1, 3), scale_w=st.integers(2, 3),
       c_in=st.integers(1, 8), c_out=st.integers(1, 8), align_corners=st.booleans(), seed=st.integers(0, 2**16))
def test_reordered_pair_matches_numpy_for_any_shape(tmp_path_factory, height, width, scale_h, scale_w, c_in, c_out,
                                                    align_corners, seed):
    rng = np.random.default_rng(seed)
    folder = tmp_path_factory.mktemp("pair")
    big = (height * scale_h, width * scale_w)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EDGEVISION_HOME", str(folder / "home"))
        path = resize_conv_model(folder / "pair.tflite", rng, size=(height, width), resized_size=big,
                                 channels=(c_in, c_out), align_corners=align_corners, half_pixel=not align_corners)
        model = runtime.load(path)
    # Reordered exactly when the convolution does not widen the channels.
    assert (model.edited_path is not None) == (c_out <= c_in)
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    np.testing.assert_allclose(model.run([x])[0], evaluate(path, [x])[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", [{"activation": RELU}, {"kernel": 3}, {"resize_is_output": True},
                                  {"second_reader": True}, {"channels": (3, 8)}, {"size": (8, 8), "resized_size": (4, 4)}])
def test_pairs_that_do_not_commute_or_would_not_gain_are_left_alone(scratch_home, tmp_path, rng, case):
    path = resize_conv_model(tmp_path / "pair.tflite", rng, **case)
    model = runtime.load(path)
    assert model.edited_path is None
    assert op_names(model).index("RESIZE_BILINEAR") < op_names(model).index("CONV_2D")
    x = rng.normal(size=model.inputs[0].shape).astype(np.float32)
    np.testing.assert_allclose(model.run([x])[0], evaluate(path, [x])[0], rtol=1e-5, atol=1e-5)


def test_rewrites_can_be_chosen_by_name(scratch_home, tmp_path, rng):
    path = resize_conv_model(tmp_path / "pair.tflite", rng)
    assert runtime.load(path, options={"xnnpack_rewrites": ["subpixel"]}).edited_path is None
    assert runtime.load(path, options={"xnnpack_rewrites": ["resize_order"]}).edited_path is not None
    assert runtime.load(path, options={"xnnpack": False}).edited_path is None
    for bad in ("resize_order", ["nope"], 1):
        with pytest.raises(ValueError, match="xnnpack_rewrites"):
            runtime.load(path, options={"xnnpack_rewrites": bad})


@pytest.mark.parametrize("name", ["selfie_segmentation", "selfie_segmentation_landscape"])
def test_selfie_models_run_reordered_within_float_rounding(name, astronaut):
    from edgevision.kernels import letterbox

    edited = runtime.load(name, threads=1)
    plain = runtime.load(name, threads=1, options={"xnnpack_rewrites": False})
    layers = [n for n in op_names(edited) if n in ("CONV_2D", "RESIZE_BILINEAR")]
    pairs = sum(1 for a, b in zip(layers, layers[1:]) if (a, b) == ("CONV_2D", "RESIZE_BILINEAR"))
    assert pairs == 3 and op_names(plain).count("RESIZE_BILINEAR") == 3
    width, height = edited.inputs[0].shape[2], edited.inputs[0].shape[1]
    photo, _ = letterbox(astronaut, (width, height), keep_aspect=False)
    noise = np.random.default_rng(7).random(photo.shape, dtype=np.float32)
    for x in (photo, noise):
        got, want = edited.run([x])[0], plain.run([x])[0]
        np.testing.assert_allclose(got, want, rtol=0, atol=5e-5)
