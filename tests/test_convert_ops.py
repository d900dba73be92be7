"""The TFLite -> ONNX translation table, operator by operator, against LiteRT running the same
one-operator models (built here with LiteRT's schema); unsupported operators and bad files."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgevision import convert, runtime
from tflite_builders import Op, T, options, sparse_filter, write

pytest.importorskip("onnx", reason="install edgevision[onnx]")
pytest.importorskip("onnxruntime", reason="install edgevision[onnx]")

IN_SHAPE = (1, 9, 11, 4)
SAME, VALID = 0, 1
NONE, RELU, RELU_N1_TO_1, RELU6, TANH = 0, 1, 2, 3, 4


def _weights(rng, *shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _model(path, rng, name, out_shape, args=("x",), opts=None, custom=b"", in_shape=IN_SHAPE, through_conv=False):
    """input [-> CONV_2D 1x1] -> ``name``(args) -> output. In ``args``, "x" is the data input, an
    array a constant, None an omitted optional input. The 1x1 conv first puts the data in NCHW
    inside the converted graph, so both layouts of every operator are exercised."""
    tensors, ops = [T("input", in_shape)], []
    x = 0
    if through_conv:
        c = in_shape[3]
        tensors += [T("conv_w", (c, 1, 1, c), data=_weights(rng, c, 1, 1, c)), T("conv_b", (c,), data=_weights(rng, c)),
                    T("conv_out", in_shape)]
        ops.append(Op("CONV_2D", [0, 1, 2], [3], options("Conv2D", padding=SAME, strideW=1, strideH=1,
                                                                dilationWFactor=1, dilationHFactor=1)))
        x = 3
    inputs = []
    for k, arg in enumerate(args):
        if isinstance(arg, str):
            inputs.append(x)
        elif arg is None:
            inputs.append(-1)
        else:
            tensors.append(T(f"const_{k}", arg.shape, arg.dtype, arg))
            inputs.append(len(tensors) - 1)
    tensors.append(T("output", out_shape))
    ops.append(Op(name, inputs, [len(tensors) - 1], opts, custom))
    return write(path, tensors, ops, [0], [len(tensors) - 1])


def _check(path, rng, tol=1e-5, layout="nhwc"):
    """Convert ``path``; the ONNX model's output equals LiteRT's (shape too) on random input."""
    lite = runtime.load(path)
    onnx_path = path.with_suffix(f".{layout}.onnx")
    convert.tflite_to_onnx(path, onnx_path, layout=layout)
    ort = runtime.load(onnx_path)
    x = rng.uniform(-2, 2, lite.inputs[0].shape).astype(np.float32)
    expected = lite.run([x])[0]
    if layout == "nchw":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    got = ort.run([x])[0]
    if layout == "nchw" and got.ndim == 4:
        got = got.transpose(0, 2, 3, 1)
    assert got.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol * scale)
    return onnx_path


def _conv_opts(padding, stride, dilation=1, activation=NONE, **extra):
    kind = "DepthwiseConv2D" if "depthMultiplier" in extra else "Conv2D"
    return options(kind, padding=padding, strideW=stride[1], strideH=stride[0], dilationWFactor=dilation,
                   dilationHFactor=dilation, fusedActivationFunction=activation, **extra)


@pytest.mark.parametrize("padding, stride, dilation, kernel, activation", [
    (SAME, (2, 2), 1, (3, 3), RELU6),
    (SAME, (2, 1), 1, (4, 5), NONE),  # even kernel: SAME pads more at the end
    (VALID, (1, 2), 2, (3, 2), RELU),
    (SAME, (1, 1), 2, (3, 3), RELU_N1_TO_1),
])
@pytest.mark.parametrize("through_conv", [False, True])
def test_conv_2d(tmp_path, rng, padding, stride, dilation, kernel, activation, through_conv):
    w, b = _weights(rng, 6, *kernel, IN_SHAPE[3]), _weights(rng, 6)
    h, wd = IN_SHAPE[1:3]
    if padding == SAME:
        out = (-(-h // stride[0]), -(-wd // stride[1]))
    else:
        span = [(k - 1) * dilation + 1 for k in kernel]
        out = ((h - span[0]) // stride[0] + 1, (wd - span[1]) // stride[1] + 1)
    path = _model(tmp_path / "conv.tflite", rng, "CONV_2D", (1, *out, 6), ("x", w, b),
                  _conv_opts(padding, stride, dilation, activation), through_conv=through_conv)
    _check(path, rng)


def test_grouped_conv_2d(tmp_path, rng):
    # A filter with fewer input channels than the input: a grouped convolution (2 groups).
    w, b = _weights(rng, 6, 3, 3, 2), _weights(rng, 6)
    path = _model(tmp_path / "grouped.tflite", rng, "CONV_2D", (1, 9, 11, 6), ("x", w, b), _conv_opts(SAME, (1, 1)))
    _check(path, rng)


@pytest.mark.parametrize("multiplier, stride, activation", [(1, (2, 2), RELU), (2, (1, 2), RELU6), (3, (1, 1), NONE)])
def test_depthwise_conv_2d(tmp_path, rng, multiplier, stride, activation):
    c = IN_SHAPE[3]
    w, b = _weights(rng, 1, 3, 3, c * multiplier), _weights(rng, c * multiplier)
    out = (1, -(-IN_SHAPE[1] // stride[0]), -(-IN_SHAPE[2] // stride[1]), c * multiplier)
    path = _model(tmp_path / "dw.tflite", rng, "DEPTHWISE_CONV_2D", out, ("x", w, b),
                  _conv_opts(SAME, stride, 1, activation, depthMultiplier=multiplier), through_conv=True)
    _check(path, rng)


@pytest.mark.parametrize("padding, kernel, stride, out_hw", [
    (SAME, (3, 3), (2, 2), (18, 22)),  # overlapping taps, total padding 1: crop at the start
    (SAME, (2, 2), (2, 2), (18, 22)),  # the selfie models' case: no overlap, no padding
    (VALID, (3, 2), (2, 1), (19, 12)),
    (SAME, (5, 5), (3, 3), (27, 33)),
])
@pytest.mark.parametrize("bias", [True, False])
def test_transpose_conv(tmp_path, rng, padding, kernel, stride, out_hw, bias):
    w = _weights(rng, 5, *kernel, IN_SHAPE[3])
    out = (1, *out_hw, 5)
    opts = options("TransposeConv", padding=padding, strideW=stride[1], strideH=stride[0])
    path = _model(tmp_path / "tconv.tflite", rng, "TRANSPOSE_CONV", out,
                  (np.array(out, np.int32), w, "x", _weights(rng, 5) if bias else None), opts, through_conv=True)
    _check(path, rng)


@pytest.mark.parametrize("kernel, stride, out_hw", [((2, 2), (2, 2), (18, 22)), ((3, 3), (2, 2), (18, 22)),
                                                    ((4, 3), (2, 3), (18, 33))])
def test_mediapipe_transpose_conv_bias(tmp_path, rng, kernel, stride, out_hw):
    w, b = _weights(rng, 3, *kernel, IN_SHAPE[3]), _weights(rng, 3)
    params = struct.pack("<iii", 1, stride[1], stride[0])  # TfLiteTransposeConvParams: SAME, stride w, h
    path = _model(tmp_path / "tconv_bias.tflite", rng, "custom:Convolution2DTransposeBias", (1, *out_hw, 3),
                  ("x", w, b), custom=params, through_conv=True)
    _check(path, rng)


@pytest.mark.parametrize("name", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("operand_shape", [(4,), (1, 1, 11, 4), (1, 9, 11, 4), (9, 1, 1)])
@pytest.mark.parametrize("activation", [NONE, RELU_N1_TO_1, RELU])
@pytest.mark.parametrize("through_conv", [False, True])
def test_binary_with_broadcast_constant(tmp_path, rng, name, operand_shape, activation, through_conv):
    kind = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul"}[name]
    path = _model(tmp_path / "binary.tflite", rng, name, IN_SHAPE, ("x", _weights(rng, *operand_shape, scale=1.0)),
                  options(kind, fusedActivationFunction=activation), through_conv=through_conv)
    _check(path, rng)


def test_binary_of_two_layouts(tmp_path, rng):
    """ADD(conv(x), x): one operand NCHW, the other native; and the reversed order."""
    c = IN_SHAPE[3]
    for order in ((3, 0), (0, 3)):
        tensors = [T("input", IN_SHAPE), T("w", (c, 1, 1, c), data=_weights(rng, c, 1, 1, c)),
                   T("b", (c,), data=_weights(rng, c)), T("conv", IN_SHAPE), T("output", IN_SHAPE)]
        ops = [Op("CONV_2D", [0, 1, 2], [3], _conv_opts(SAME, (1, 1))), Op("ADD", list(order), [4], options("Add"))]
        _check(write(tmp_path / f"two_{order[0]}.tflite", tensors, ops, [0], [4]), rng)


@pytest.mark.parametrize("name", ["HARD_SWISH", "RELU", "RELU6", "RELU_N1_TO_1", "LOGISTIC", "TANH"])
@pytest.mark.parametrize("through_conv", [False, True])
def test_activations(tmp_path, rng, name, through_conv):
    path = _model(tmp_path / "act.tflite", rng, name, IN_SHAPE, through_conv=through_conv)
    _check(path, rng)


@pytest.mark.parametrize("alpha_shape", [(1, 1, 4), (4,), (9, 11, 4)])
def test_prelu(tmp_path, rng, alpha_shape):
    path = _model(tmp_path / "prelu.tflite", rng, "PRELU", IN_SHAPE, ("x", _weights(rng, *alpha_shape)),
                  through_conv=True)
    _check(path, rng)


@pytest.mark.parametrize("name", ["MAX_POOL_2D", "AVERAGE_POOL_2D"])
@pytest.mark.parametrize("padding, size, stride", [(SAME, (3, 3), (2, 2)), (VALID, (2, 3), (2, 1)),
                                                   (SAME, (9, 11), (9, 11)), (SAME, (2, 2), (2, 2))])
def test_pools(tmp_path, rng, name, padding, size, stride):
    h, w = IN_SHAPE[1:3]
    if padding == SAME:
        out = (-(-h // stride[0]), -(-w // stride[1]))
    else:
        out = ((h - size[0]) // stride[0] + 1, (w - size[1]) // stride[1] + 1)
    opts = options("Pool2D", padding=padding, strideW=stride[1], strideH=stride[0], filterWidth=size[1],
                   filterHeight=size[0], fusedActivationFunction=RELU)
    _check(_model(tmp_path / "pool.tflite", rng, name, (1, *out, 4), opts=opts, through_conv=True), rng)


@pytest.mark.parametrize("axes, keep", [((1, 2), True), ((1, 2), False), ((2,), False), ((3,), True),
                                        ((-1,), False), ((1,), False)])
def test_mean(tmp_path, rng, axes, keep):
    out = [d if k not in [a % 4 for a in axes] else 1 for k, d in enumerate(IN_SHAPE)]
    if not keep:
        out = [d for k, d in enumerate(IN_SHAPE) if k not in [a % 4 for a in axes]]
    path = _model(tmp_path / "mean.tflite", rng, "MEAN", tuple(out), ("x", np.array(axes, np.int32)),
                  options("Reducer", keepDims=keep), through_conv=True)
    _check(path, rng)


@pytest.mark.parametrize("name", ["AVERAGE_POOL_2D", "MEAN"])
def test_global_means_keep_float32_accuracy(tmp_path, rng, name):
    """A mean over a whole 128x128 map (the selfie models' squeeze-excite blocks) within 1e-6 of
    the exact mean (a few float32 roundings): one running sum over 16384 values (ONNX Runtime's
    GlobalAveragePool, ReduceMean over both axes) is 3e-6 to 1e-5 off, which the selfie masks
    amplify past 1e-4. The pool runs channels-first, the lone MEAN on the NHWC input."""
    shape = (1, 128, 128, 16)
    if name == "MEAN":
        args, opts = ("x", np.array([1, 2], np.int32)), options("Reducer", keepDims=True)
    else:
        args, opts = ("x",), options("Pool2D", padding=VALID, strideW=1, strideH=1, filterWidth=128,
                                     filterHeight=128, fusedActivationFunction=NONE)
    path = _model(tmp_path / "mean.tflite", rng, name, (1, 1, 1, 16), args, opts, in_shape=shape)
    convert.tflite_to_onnx(path, tmp_path / "mean.onnx")
    x = rng.uniform(0, 8, shape).astype(np.float32)  # post-ReLU activations: no cancellation
    got = runtime.load(tmp_path / "mean.onnx").run([x])[0]
    exact = x.astype(np.float64).mean(axis=(1, 2), keepdims=True)
    assert np.abs(got - exact).max() <= 1e-6 * np.abs(exact).max()


@pytest.mark.parametrize("paddings", [[[0, 0], [1, 1], [1, 1], [0, 0]], [[0, 0], [0, 2], [3, 0], [0, 0]],
                                      [[0, 0], [0, 0], [0, 0], [0, 4]]])
@pytest.mark.parametrize("value", [None, -0.75])
def test_pad(tmp_path, rng, paddings, value):
    pads = np.array(paddings, np.int32)
    out = tuple(int(d + p.sum()) for d, p in zip(IN_SHAPE, pads))
    args = ("x", pads) if value is None else ("x", pads, np.array([value], np.float32))
    path = _model(tmp_path / "pad.tflite", rng, "PAD" if value is None else "PADV2", out, args, through_conv=True)
    _check(path, rng)


@pytest.mark.parametrize("shape", [(1, 99, 4), (1, 396), (9, 44)])
def test_reshape(tmp_path, rng, shape):
    path = _model(tmp_path / "reshape.tflite", rng, "RESHAPE", shape, ("x", np.array(shape, np.int32)),
                  through_conv=True)
    _check(path, rng)


@pytest.mark.parametrize("axis", [3, -1, 1, 2])
def test_concatenation(tmp_path, rng, axis):
    c = IN_SHAPE[3]
    out = list(IN_SHAPE)
    out[axis % 4] *= 2
    tensors = [T("input", IN_SHAPE), T("w", (c, 1, 1, c), data=_weights(rng, c, 1, 1, c)),
               T("b", (c,), data=_weights(rng, c)), T("conv", IN_SHAPE), T("output", tuple(out))]
    ops = [Op("CONV_2D", [0, 1, 2], [3], _conv_opts(SAME, (1, 1))),
           Op("CONCATENATION", [3, 0], [4], options("Concatenation", axis=axis))]
    _check(write(tmp_path / "concat.tflite", tensors, ops, [0], [4]), rng)
    # TFLite ignores a fused activation on CONCATENATION (LiteRT returns negative values under
    # RELU6): refused rather than translated one way or the other.
    ops[1].options.fusedActivationFunction = RELU6
    path = write(tmp_path / "concat_relu6.tflite", tensors, ops, [0], [4])
    assert runtime.load(path).run([-np.ones(IN_SHAPE, np.float32)])[0].min() < 0
    with pytest.raises(convert.UnsupportedOperatorError, match=r"operator 1 \(CONCATENATION\): fused activation 3"):
        convert.tflite_to_onnx(path)


@pytest.mark.parametrize("align_corners, half_pixel", [(False, True), (True, False), (False, False)])
@pytest.mark.parametrize("size", [(18, 22), (13, 5), (4, 3), (9, 11)])
def test_resize_bilinear(tmp_path, rng, align_corners, half_pixel, size):
    opts = options("ResizeBilinear", alignCorners=align_corners, halfPixelCenters=half_pixel)
    path = _model(tmp_path / "resize.tflite", rng, "RESIZE_BILINEAR", (1, *size, 4),
                  ("x", np.array(size, np.int32)), opts, through_conv=True)
    _check(path, rng)


@pytest.mark.parametrize("block", [2, 3])
def test_depth_to_space(tmp_path, rng, block):
    c = block * block * 2
    in_shape = (1, 4, 5, c)
    path = _model(tmp_path / "d2s.tflite", rng, "DEPTH_TO_SPACE", (1, 4 * block, 5 * block, 2),
                  opts=options("DepthToSpace", blockSize=block), in_shape=in_shape, through_conv=True)
    _check(path, rng)


def _dequantized_conv(path, rng, weight_tensor):
    """weights -> DEQUANTIZE -> CONV_2D (1x1, 4 -> 6 channels)."""
    tensors = [T("input", IN_SHAPE), weight_tensor, T("w_float", (6, 1, 1, 4)), T("b", (6,), data=_weights(rng, 6)),
               T("output", (1, 9, 11, 6))]
    ops = [Op("DEQUANTIZE", [1], [2]), Op("CONV_2D", [0, 2, 3], [4], _conv_opts(SAME, (1, 1)))]
    return write(path, tensors, ops, [0], [4])


def test_dequantize_fp16_and_int8_weights(tmp_path, rng):
    w = _weights(rng, 6, 1, 1, 4)
    path = _dequantized_conv(tmp_path / "fp16.tflite", rng, T("w16", w.shape, np.float16, w.astype(np.float16)))
    _check(path, rng)
    scales = np.abs(w).reshape(6, -1).max(axis=1) / 127
    q = np.clip(np.rint(w / scales[:, None, None, None]), -127, 127).astype(np.int8)
    path = _dequantized_conv(tmp_path / "int8.tflite", rng, T("w8", w.shape, np.int8, q, quant=(scales, [0] * 6, 0)))
    _check(path, rng)


@pytest.mark.parametrize("block", [1, 2])
def test_densify_sparse_weights(tmp_path, rng, block):
    """fp16 sparse filter -> DENSIFY -> DEQUANTIZE -> CONV_2D, the pose detector's pattern."""
    w = _weights(rng, 6, 1, 1, 4)
    w.reshape(6, 4 // block, block)[rng.random((6, 4 // block)) < 0.5] = 0
    sparsity, stored = sparse_filter(w.astype(np.float16), block)
    tensors = [T("input", IN_SHAPE), T("w_sparse", w.shape, np.float16, stored, sparsity),
               T("w16", w.shape, np.float16), T("w_float", w.shape), T("b", (6,), data=_weights(rng, 6)),
               T("output", (1, 9, 11, 6))]
    ops = [Op("DENSIFY", [1], [2]), Op("DEQUANTIZE", [2], [3]), Op("CONV_2D", [0, 3, 4], [5], _conv_opts(SAME, (1, 1)))]
    path = write(tmp_path / "densify.tflite", tensors, ops, [0], [5])
    _check(path, rng)
    graph = convert.read_tflite(path)
    np.testing.assert_array_equal(graph.tensors[1].data, w.astype(np.float16))
    assert graph.tensors[1].sparse


@given(st.integers(1, 6), st.integers(1, 5), st.sampled_from([1, 2, 4]), st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_sparse_filters_densify_to_the_dense_array(out_channels, groups, block, density, seed):
    rng = np.random.default_rng(seed)
    dense = rng.standard_normal((out_channels, 1, 1, groups * block)).astype(np.float32)
    dense.reshape(out_channels, groups, block)[rng.random((out_channels, groups)) >= density] = 0
    sparsity, stored = sparse_filter(dense, block)
    from edgevision.convert.sparsity import densify

    np.testing.assert_array_equal(densify(stored, dense.shape, sparsity), dense)


def test_nchw_layout_transposes_only_at_the_interface(tmp_path, rng):
    w, b = _weights(rng, 6, 3, 3, 4), _weights(rng, 6)
    path = _model(tmp_path / "conv.tflite", rng, "CONV_2D", (1, 9, 11, 6), ("x", w, b), _conv_opts(SAME, (1, 1)))
    onnx_path = _check(path, rng, layout="nchw")
    model = convert.metadata(onnx_path)
    assert model["edgevision.layout"] == "nchw"
    import onnx

    graph = onnx.load(onnx_path).graph
    assert [n.op_type for n in graph.node] == ["Conv"]
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim] == [1, 4, 9, 11]
    nhwc = onnx.load(_check(path, rng, layout="nhwc")).graph
    assert [n.op_type for n in nhwc.node] == ["Transpose", "Conv", "Transpose"]


# ------------------------------------------------------------------------------- errors


def test_unsupported_operator_is_named_with_its_index(tmp_path):
    tensors = [T("input", IN_SHAPE), T("doubled", IN_SHAPE), T("output", IN_SHAPE)]
    ops = [Op("ADD", [0, 0], [1], options("Add")), Op("EXP", [1], [2])]
    path = write(tmp_path / "exp.tflite", tensors, ops, [0], [2])
    assert runtime.load(path).run([np.zeros(IN_SHAPE, np.float32)])[0].shape == IN_SHAPE  # a valid model
    with pytest.raises(convert.UnsupportedOperatorError, match=r"operator 1 \(EXP\).*no ONNX translation") as info:
        convert.tflite_to_onnx(path, tmp_path / "exp.onnx")
    assert (info.value.op_index, info.value.op_name) == (1, "EXP")
    assert isinstance(info.value, ValueError)
    assert not (tmp_path / "exp.onnx").exists()


def test_unknown_custom_operator_is_named(tmp_path):
    tensors = [T("input", IN_SHAPE), T("output", IN_SHAPE)]
    path = write(tmp_path / "custom.tflite", tensors, [Op("custom:MyBlur", [0], [1])], [0], [1])
    with pytest.raises(convert.UnsupportedOperatorError, match=r"operator 0 \(MyBlur\): custom operator 'MyBlur'"):
        convert.tflite_to_onnx(path)


@pytest.mark.parametrize("activation, label", [(TANH, "TANH"), (5, "SIGN_BIT")])
def test_unsupported_option_is_named(tmp_path, rng, activation, label):
    # TFLite's float kernels ignore these fused activations (a TANH-fused ADD is a plain ADD on
    # LiteRT), so there is no faithful translation: refused rather than guessed.
    path = _model(tmp_path / "fused.tflite", rng, "ADD", IN_SHAPE, ("x", _weights(rng, 4)),
                  options("Add", fusedActivationFunction=activation))
    with pytest.raises(convert.UnsupportedOperatorError, match=rf"operator 0 \(ADD\): fused activation {activation} "
                                                               rf"\({label}\) is not supported"):
        convert.tflite_to_onnx(path)


def test_bad_files_and_arguments(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match="no such file"):
        convert.tflite_to_onnx(tmp_path / "missing.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        convert.tflite_to_onnx(junk)
    truncated = tmp_path / "truncated.tflite"
    good = _model(tmp_path / "good.tflite", rng, "RELU", IN_SHAPE)
    truncated.write_bytes(good.read_bytes()[:40])
    with pytest.raises(ValueError, match="cannot parse|buffer holds"):
        convert.tflite_to_onnx(truncated)
    with pytest.raises(ValueError, match=r"layout must be one of \['nhwc', 'nchw'\]"):
        convert.tflite_to_onnx(good, layout="NHWC")


@given(st.sampled_from(["CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "MAX_POOL_2D", "AVERAGE_POOL_2D"]),
       st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(1, 5), st.integers(1, 3),
       st.integers(1, 3), st.sampled_from([SAME, VALID]), st.integers(0, 2**31))
def test_windowed_ops_match_litert_for_any_geometry(tmp_path_factory, name, h, w, kh, kw, sh, sw, padding, seed):
    """SAME/VALID padding, strides and kernel sizes in every combination (odd, even, larger than
    the input, stride above the kernel) against LiteRT."""
    rng = np.random.default_rng(seed)
    c = 3
    if name == "TRANSPOSE_CONV":
        out_hw = (h * sh, w * sw) if padding == SAME else ((h - 1) * sh + kh, (w - 1) * sw + kw)
    elif padding == SAME:
        out_hw = (-(-h // sh), -(-w // sw))
    else:
        out_hw = ((h - kh) // sh + 1, (w - kw) // sw + 1)
        if min(out_hw) < 1:
            return  # no output: not a valid model
    opts = {"padding": padding, "strideW": sw, "strideH": sh}
    if name == "CONV_2D":
        args, out_c = ("x", _weights(rng, 4, kh, kw, c), _weights(rng, 4)), 4
        opts = options("Conv2D", dilationWFactor=1, dilationHFactor=1, **opts)
    elif name == "DEPTHWISE_CONV_2D":
        args, out_c = ("x", _weights(rng, 1, kh, kw, 2 * c), _weights(rng, 2 * c)), 2 * c
        opts = options("DepthwiseConv2D", depthMultiplier=2, dilationWFactor=1, dilationHFactor=1, **opts)
    elif name == "TRANSPOSE_CONV":
        out_c = 2
        args = (np.array((1, *out_hw, out_c), np.int32), _weights(rng, out_c, kh, kw, c), "x", _weights(rng, out_c))
        opts = options("TransposeConv", **opts)
    else:
        args, out_c = ("x",), c
        opts = options("Pool2D", filterWidth=kw, filterHeight=kh, **opts)
    path = _model(tmp_path_factory.mktemp("geometry") / "op.tflite", rng, name, (1, *out_hw, out_c), args, opts,
                  in_shape=(1, h, w, c), through_conv=True)
    _check(path, rng)
