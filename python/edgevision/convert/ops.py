"""The translation table: one function per TFLite operator, writing ONNX (opset 17) nodes.

Semantics follow the TFLite kernels: SAME padding puts the odd pixel at the end, average pools
divide by the number of real (unpadded) inputs, DEPTHWISE_CONV_2D's output channel is
``input_channel * multiplier + m``, transposed convolutions crop ``total_padding // 2`` at the
start, RESIZE_BILINEAR's ``half_pixel_centers`` / ``align_corners`` are ONNX's ``half_pixel`` /
``align_corners`` (``asymmetric`` with neither), DEPTH_TO_SPACE is ONNX's DCR order. Weights are
constants, permuted here (OHWI -> OIHW); fp16 weights behind DEQUANTIZE and sparse weights behind
DENSIFY become float32 initializers.
"""

from __future__ import annotations

import struct
from typing import Callable, Optional, Sequence

import numpy as np

from .errors import UnsupportedOperatorError
from .flatbuffer import Operator
from .layout import NATIVE, NCHW, TO_NCHW, Values, axis_in

Translator = Callable[[Values, Operator], None]

# ActivationFunctionType
_NONE, _RELU, _RELU_N1_TO_1, _RELU6, _TANH = 0, 1, 2, 3, 4
# Padding (builtin options), and TfLitePadding (the custom op's C struct) mapped onto it
_SAME, _VALID = 0, 1
_C_PADDING = {1: _SAME, 2: _VALID}


# ------------------------------------------------------------------------------------ helpers


def _fail(op: Operator, detail: str) -> UnsupportedOperatorError:
    return UnsupportedOperatorError(op.index, op.name, detail)


def _emit(ctx: Values, op: Operator, op_type: str, inputs: list[str], layout: str, activation: int = _NONE,
          output: Optional[int] = None, **attributes) -> None:
    """One node writing the op's output in ``layout``, then its fused activation, if any."""
    out = op.outputs[0] if output is None else output
    name = ctx.tensor_name(out)
    if activation == _NONE:
        ctx.onnx.node(op_type, inputs, [ctx.define(out, layout)], name=name, **attributes)
        return
    (pre,) = ctx.onnx.node(op_type, inputs, name=f"{name}/pre_activation", **attributes)
    _activation(ctx, op, activation, pre, ctx.define(out, layout), name)


def _activation(ctx: Values, op: Operator, kind: int, source: str, target: str, name: str) -> None:
    if kind == _RELU:
        ctx.onnx.node("Relu", [source], [target], name=name)
    elif kind in (_RELU6, _RELU_N1_TO_1):
        ctx.onnx.node("Clip", [source, *_bounds(ctx, name, *((0.0, 6.0) if kind == _RELU6 else (-1.0, 1.0)))],
                      [target], name=name)
    else:  # TANH, SIGN_BIT: TFLite's float kernels clamp to no range for them, i.e. ignore them
        raise _fail(op, f"fused activation {kind} ({'TANH' if kind == _TANH else 'SIGN_BIT'}) is not supported: "
                        "TFLite's kernels only apply RELU, RELU_N1_TO_1 and RELU6")


def _bounds(ctx: Values, name: str, lo: float, hi: float) -> list[str]:
    """Clip's min and max inputs (float32 scalars)."""
    return [ctx.onnx.initializer(np.array(v, np.float32), f"{name}/{label}") for v, label in ((lo, "min"), (hi, "max"))]


def _fused(op: Operator) -> int:
    return int(getattr(op.options, "fusedActivationFunction", _NONE) or _NONE)


def _layout_of(ctx: Values, index: int) -> str:
    """NCHW if the tensor is 4-D and already there, else native."""
    return NCHW if ctx.rank(index) == 4 and NCHW in ctx.layouts(index) else NATIVE


def _constant(ctx: Values, op: Operator, position: int, what: str) -> np.ndarray:
    index = op.inputs[position]
    if index < 0 or not ctx.is_constant(index):
        raise _fail(op, f"its {what} (input {position}) must be a constant")
    return ctx.constant(index)


def _float_constant(ctx: Values, op: Operator, position: int, what: str) -> np.ndarray:
    array = _constant(ctx, op, position, what)
    if array.dtype != np.float32:
        raise _fail(op, f"its {what} has type {array.dtype}; expected float32 (fp16 weights come through DEQUANTIZE)")
    return array


def _pads(op: Operator, padding: int, in_hw: Sequence[int], out_hw: Sequence[int], kernel_hw: Sequence[int],
          strides: Sequence[int], dilations: Sequence[int] = (1, 1)) -> list[int]:
    """ONNX ``pads`` [top, left, bottom, right] for TFLite SAME/VALID (SAME: the odd one at the end)."""
    if padding == _VALID:
        return [0, 0, 0, 0]
    if padding != _SAME:
        raise _fail(op, f"padding {padding} is not SAME or VALID")
    begin, end = [], []
    for size_in, size_out, k, s, d in zip(in_hw, out_hw, kernel_hw, strides, dilations):
        total = max((size_out - 1) * s + (k - 1) * d + 1 - size_in, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def _hw(shape: Sequence[int]) -> tuple[int, int]:
    return int(shape[1]), int(shape[2])


def _bias(ctx: Values, op: Operator, position: int, channels: int) -> list[str]:
    if len(op.inputs) <= position or op.inputs[position] < 0:
        return []
    bias = _float_constant(ctx, op, position, "bias").reshape(-1)
    if bias.size != channels:
        raise _fail(op, f"bias has {bias.size} values for {channels} output channels")
    return [ctx.onnx.initializer(bias, f"{ctx.tensor_name(op.outputs[0])}/bias")]


# ------------------------------------------------------------------------------ convolutions


def conv_2d(ctx: Values, op: Operator) -> None:
    o = op.options
    x, out = op.inputs[0], op.outputs[0]
    weights = _float_constant(ctx, op, 1, "filter")  # [O, kh, kw, I]
    groups = ctx.shape(x)[3] // weights.shape[3]
    strides, dilations = [o.strideH, o.strideW], [o.dilationHFactor, o.dilationWFactor]
    pads = _pads(op, o.padding, _hw(ctx.shape(x)), _hw(ctx.shape(out)), weights.shape[1:3], strides, dilations)
    w = ctx.onnx.initializer(np.transpose(weights, TO_NCHW), f"{ctx.tensor_name(out)}/weights")
    _emit(ctx, op, "Conv", [ctx.get(x, NCHW), w, *_bias(ctx, op, 2, weights.shape[0])], NCHW, _fused(op),
          strides=strides, dilations=dilations, pads=pads, group=groups, kernel_shape=list(weights.shape[1:3]))


def depthwise_conv_2d(ctx: Values, op: Operator) -> None:
    o = op.options
    x, out = op.inputs[0], op.outputs[0]
    weights = _float_constant(ctx, op, 1, "filter")  # [1, kh, kw, C * multiplier]
    channels = ctx.shape(x)[3]
    strides, dilations = [o.strideH, o.strideW], [o.dilationHFactor, o.dilationWFactor]
    pads = _pads(op, o.padding, _hw(ctx.shape(x)), _hw(ctx.shape(out)), weights.shape[1:3], strides, dilations)
    # [1, kh, kw, C*m] -> [C*m, 1, kh, kw]: group c makes output channels c*m .. c*m+m-1, as TFLite.
    w = ctx.onnx.initializer(np.transpose(weights, (3, 0, 1, 2)), f"{ctx.tensor_name(out)}/weights")
    _emit(ctx, op, "Conv", [ctx.get(x, NCHW), w, *_bias(ctx, op, 2, weights.shape[3])], NCHW, _fused(op),
          strides=strides, dilations=dilations, pads=pads, group=channels, kernel_shape=list(weights.shape[1:3]))


def _transposed_conv(ctx: Values, op: Operator, x: int, weights: np.ndarray, bias_position: int, padding: int,
                     strides: list[int], activation: int) -> None:
    """TFLite's transposed convolution: out[y*s - pad + k] += in[y] * w, pad = SAME's leading pad
    of the forward convolution from the output size back to the input size."""
    out = op.outputs[0]
    (in_h, in_w), (out_h, out_w) = _hw(ctx.shape(x)), _hw(ctx.shape(out))
    kernel = weights.shape[1:3]
    forward = _pads(op, padding, (out_h, out_w), (in_h, in_w), kernel, strides)
    pads, output_padding = list(forward[:2]) + [0, 0], [0, 0]
    for axis, (size_in, size_out) in enumerate(((in_h, out_h), (in_w, out_w))):
        end = (size_in - 1) * strides[axis] + kernel[axis] - size_out - pads[axis]
        pads[2 + axis], output_padding[axis] = max(end, 0), max(-end, 0)
    # [O, kh, kw, I] -> ONNX ConvTranspose [I, O, kh, kw].
    w = ctx.onnx.initializer(np.transpose(weights, (3, 0, 1, 2)), f"{ctx.tensor_name(out)}/weights")
    attributes = dict(strides=strides, pads=pads, kernel_shape=list(kernel))
    if any(output_padding):
        attributes["output_padding"] = output_padding
    _emit(ctx, op, "ConvTranspose", [ctx.get(x, NCHW), w, *_bias(ctx, op, bias_position, weights.shape[0])], NCHW,
          activation, **attributes)


def transpose_conv(ctx: Values, op: Operator) -> None:
    o = op.options
    weights = _float_constant(ctx, op, 1, "filter")
    output_shape = _constant(ctx, op, 0, "output shape")
    if tuple(int(v) for v in output_shape.reshape(-1)) != tuple(ctx.shape(op.outputs[0])):
        raise _fail(op, f"output shape {list(output_shape)} differs from the output tensor's")
    _transposed_conv(ctx, op, op.inputs[2], weights, 3, o.padding, [o.strideH, o.strideW],
                     int(getattr(o, "fusedActivationFunction", _NONE) or _NONE))


def convolution_2d_transpose_bias(ctx: Values, op: Operator) -> None:
    """MediaPipe's custom op: inputs (input, filter [O,kh,kw,I], bias); options are the C struct
    TfLiteTransposeConvParams {padding, stride_width, stride_height} as three int32."""
    if len(op.custom_options) < 12:
        raise _fail(op, f"custom options are {len(op.custom_options)} bytes; expected padding and two strides")
    padding, stride_w, stride_h = struct.unpack_from("<iii", op.custom_options)
    if padding not in _C_PADDING:
        raise _fail(op, f"padding {padding} is not SAME (1) or VALID (2)")
    weights = _float_constant(ctx, op, 1, "filter")
    _transposed_conv(ctx, op, op.inputs[0], weights, 2, _C_PADDING[padding], [stride_h, stride_w], _NONE)


# ------------------------------------------------------------------------------ elementwise


def _binary(onnx_type: str) -> Translator:
    def translate(ctx: Values, op: Operator) -> None:
        layout = ctx.preferred_layout(op.inputs, op.outputs[0])
        _emit(ctx, op, onnx_type, [ctx.get(i, layout) for i in op.inputs[:2]], layout, _fused(op))

    return translate


def _unary(onnx_type: str) -> Translator:
    def translate(ctx: Values, op: Operator) -> None:
        layout = _layout_of(ctx, op.inputs[0])
        _emit(ctx, op, onnx_type, [ctx.get(op.inputs[0], layout)], layout)

    return translate


def _clip(lo: float, hi: float) -> Translator:
    def translate(ctx: Values, op: Operator) -> None:
        layout = _layout_of(ctx, op.inputs[0])
        bounds = _bounds(ctx, ctx.tensor_name(op.outputs[0]), lo, hi)
        _emit(ctx, op, "Clip", [ctx.get(op.inputs[0], layout), *bounds], layout)

    return translate


def prelu(ctx: Values, op: Operator) -> None:
    layout = _layout_of(ctx, op.inputs[0])
    _emit(ctx, op, "PRelu", [ctx.get(op.inputs[0], layout), ctx.get(op.inputs[1], layout)], layout)


# -------------------------------------------------------------------------------------- pools


def _pool(kind: str) -> Translator:
    def translate(ctx: Values, op: Operator) -> None:
        o = op.options
        x, out = op.inputs[0], op.outputs[0]
        kernel, strides = [o.filterHeight, o.filterWidth], [o.strideH, o.strideW]
        in_hw, out_hw = _hw(ctx.shape(x)), _hw(ctx.shape(out))
        pads = _pads(op, o.padding, in_hw, out_hw, kernel, strides)
        whole_map = out_hw == (1, 1) and tuple(kernel) == in_hw and not any(pads)
        if whole_map and kind == "AveragePool":
            _reduce_mean(ctx, op, ctx.get(x, NCHW), [2, 3], True, NCHW, _fused(op))
        elif whole_map:
            _emit(ctx, op, f"Global{kind}", [ctx.get(x, NCHW)], NCHW, _fused(op))
        else:
            _emit(ctx, op, kind, [ctx.get(x, NCHW)], NCHW, _fused(op), kernel_shape=kernel, strides=strides, pads=pads)

    return translate


def _reduce_mean(ctx: Values, op: Operator, source: str, axes: Sequence[int], keep: bool, layout: str,
                 activation: int = _NONE) -> None:
    """Mean over ``axes`` (numbered in ``source``'s layout) as one ReduceMean per axis, the
    innermost first. Over several axes at once ONNX Runtime keeps one float32 running sum per
    output, whose error grows with the count (3e-6 to 1e-5 relative over a 128x128 map, against
    2e-7 axis by axis); the selfie models' squeeze-excite blocks scale whole feature maps by such
    means and carry that error to the mask (5e-4 of its range). Equal-length rows make the mean
    of means the mean."""
    name = ctx.tensor_name(op.outputs[0])
    order = sorted(axes, reverse=True)  # removing later axes first keeps the earlier numbers valid
    for k, axis in enumerate(order[:-1]):
        (source,) = ctx.onnx.node("ReduceMean", [source], name=f"{name}/mean_{k}", axes=[axis], keepdims=int(keep))
    _emit(ctx, op, "ReduceMean", [source], layout, activation, axes=[order[-1]], keepdims=int(keep))


def mean(ctx: Values, op: Operator) -> None:
    x = op.inputs[0]
    rank = ctx.rank(x)
    axes = sorted({int(a) + rank if int(a) < 0 else int(a) for a in _constant(ctx, op, 1, "axes").reshape(-1)})
    keep = bool(op.options.keepDims) if op.options is not None else False
    layout = _layout_of(ctx, x)
    if layout == NCHW and not keep:
        remaining_nchw = [a for a in TO_NCHW if a not in axes]
        if remaining_nchw != [a for a in range(rank) if a not in axes]:
            layout = NATIVE  # the kept axes would come out in another order
    _reduce_mean(ctx, op, ctx.get(x, layout), [axis_in(a, rank, layout) for a in axes], keep,
                 layout if keep else NATIVE)


# ------------------------------------------------------------------------------ data movement


def pad(ctx: Values, op: Operator) -> None:
    x = op.inputs[0]
    rank = ctx.rank(x)
    paddings = _constant(ctx, op, 1, "paddings").reshape(rank, 2).astype(np.int64)
    layout = _layout_of(ctx, x)
    order = TO_NCHW if layout == NCHW else tuple(range(rank))
    pads = np.array([paddings[a, 0] for a in order] + [paddings[a, 1] for a in order], np.int64)
    name = ctx.tensor_name(op.outputs[0])
    inputs = [ctx.get(x, layout), ctx.onnx.initializer(pads, f"{name}/pads")]
    if len(op.inputs) > 2 and op.inputs[2] >= 0:  # PADV2
        value = _constant(ctx, op, 2, "constant value").reshape(-1)[:1].reshape(())
        inputs.append(ctx.onnx.initializer(value.astype(np.float32), f"{name}/value"))
    _emit(ctx, op, "Pad", inputs, layout, mode="constant")


def reshape(ctx: Values, op: Operator) -> None:
    out = op.outputs[0]
    shape = np.array(ctx.shape(out), np.int64)
    target = ctx.onnx.initializer(shape, f"{ctx.tensor_name(out)}/shape")
    _emit(ctx, op, "Reshape", [ctx.get(op.inputs[0], NATIVE), target], NATIVE)


def concatenation(ctx: Values, op: Operator) -> None:
    out = op.outputs[0]
    layout = ctx.preferred_layout(op.inputs, out)
    axis = axis_in(int(op.options.axis), ctx.rank(out), layout)
    if _fused(op) != _NONE:  # the option exists, but TFLite's concatenation kernels never apply it
        raise _fail(op, f"fused activation {_fused(op)} on CONCATENATION is not supported: TFLite ignores it")
    _emit(ctx, op, "Concat", [ctx.get(i, layout) for i in op.inputs], layout, axis=axis)


def resize_bilinear(ctx: Values, op: Operator) -> None:
    o = op.options
    x, out = op.inputs[0], op.outputs[0]
    align, half = bool(o.alignCorners), bool(o.halfPixelCenters)
    if align and half:
        raise _fail(op, "align_corners and half_pixel_centers are both set")
    mode = "align_corners" if align else "half_pixel" if half else "asymmetric"
    n, h, w, c = ctx.shape(out)
    sizes = ctx.onnx.initializer(np.array([n, c, h, w], np.int64), f"{ctx.tensor_name(out)}/sizes")
    _emit(ctx, op, "Resize", [ctx.get(x, NCHW), "", "", sizes], NCHW, mode="linear",
          coordinate_transformation_mode=mode)


def depth_to_space(ctx: Values, op: Operator) -> None:
    # TFLite: out[h*b + i, w*b + j, c] = in[h, w, (i*b + j) * C + c], ONNX's DCR order.
    _emit(ctx, op, "DepthToSpace", [ctx.get(op.inputs[0], NCHW)], NCHW, blocksize=int(op.options.blockSize),
          mode="DCR")


# ------------------------------------------------------------------------------ weights


def dequantize(ctx: Values, op: Operator) -> None:
    x, out = op.inputs[0], op.outputs[0]
    tensor = ctx.tflite.tensors[x]
    if ctx.is_constant(x):
        value = ctx.constant(x)
        if value.dtype == np.float16:
            ctx.set_constant(out, value.astype(np.float32))
        elif value.dtype in (np.int8, np.uint8, np.int16) and tensor.scale is not None:
            shape = [1] * value.ndim
            if tensor.scale.size > 1:
                shape[tensor.quantized_dimension] = tensor.scale.size
            scale, zero = tensor.scale.reshape(shape), tensor.zero_point.reshape(shape)
            ctx.set_constant(out, ((value.astype(np.int64) - zero) * scale).astype(np.float32))
        else:
            raise _fail(op, f"cannot dequantize a {value.dtype} constant without quantisation parameters")
        return
    layout = _layout_of(ctx, x)
    if tensor.dtype == np.float16:
        _emit(ctx, op, "Cast", [ctx.get(x, layout)], layout, to=1)  # TensorProto.FLOAT
        return
    if tensor.scale is None or tensor.scale.size != 1:
        raise _fail(op, "only per-tensor quantised activations can be dequantised")
    name = ctx.tensor_name(out)
    scale = ctx.onnx.initializer(tensor.scale.reshape(()).astype(np.float32), f"{name}/scale")
    zero = ctx.onnx.initializer(tensor.zero_point.reshape(()).astype(tensor.dtype), f"{name}/zero_point")
    _emit(ctx, op, "DequantizeLinear", [ctx.get(x, layout), scale, zero], layout)


def densify(ctx: Values, op: Operator) -> None:
    x = op.inputs[0]
    if not ctx.is_constant(x):
        raise _fail(op, "its input must be a constant sparse tensor")
    ctx.set_constant(op.outputs[0], ctx.constant(x))  # densified when the file was read


# ------------------------------------------------------------------------------------ table

BUILTINS: dict[str, Translator] = {
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "TRANSPOSE_CONV": transpose_conv,
    "ADD": _binary("Add"),
    "SUB": _binary("Sub"),
    "MUL": _binary("Mul"),
    "HARD_SWISH": _unary("HardSwish"),
    "RELU": _unary("Relu"),
    "RELU6": _clip(0.0, 6.0),
    "RELU_N1_TO_1": _clip(-1.0, 1.0),
    "PRELU": prelu,
    "LOGISTIC": _unary("Sigmoid"),
    "TANH": _unary("Tanh"),
    "MAX_POOL_2D": _pool("MaxPool"),
    "AVERAGE_POOL_2D": _pool("AveragePool"),
    "MEAN": mean,
    "PAD": pad,
    "PADV2": pad,
    "RESHAPE": reshape,
    "CONCATENATION": concatenation,
    "RESIZE_BILINEAR": resize_bilinear,
    "DEPTH_TO_SPACE": depth_to_space,
    "DEQUANTIZE": dequantize,
    "DENSIFY": densify,
}

CUSTOM: dict[str, Translator] = {
    "Convolution2DTransposeBias": convolution_2d_transpose_bias,
}


# Operators computed channels-first whatever their neighbours do.
CHANNELS_FIRST = {"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "MAX_POOL_2D", "AVERAGE_POOL_2D", "RESIZE_BILINEAR",
                  "DEPTH_TO_SPACE", "Convolution2DTransposeBias"}


def translator(op: Operator) -> Translator:
    """The function translating ``op``; UnsupportedOperatorError naming it otherwise."""
    table = CUSTOM if op.custom else BUILTINS
    found = table.get(op.name)
    if found is None:
        kind = "custom operator" if op.custom else "operator"
        supported = ", ".join(sorted(BUILTINS)) + "; custom: " + ", ".join(sorted(CUSTOM))
        raise UnsupportedOperatorError(op.index, op.name, f"{kind} {op.name!r} has no ONNX translation "
                                                          f"(supported: {supported})")
    return found
