"""A TFLite graph evaluated in plain NumPy float64: the exact result that float32 runtimes
(LiteRT/XNNPACK, ONNX Runtime) approximate, to tell which of two disagreeing ones is off.

Covers the operators of the six MediaPipe zoo models, written from the TFLite kernel definitions
(NHWC; SAME padding puts the odd pixel at the end; a transposed convolution writes
``out[y * stride - pad + k] += in[y] * w``; RESIZE_BILINEAR's half-pixel source coordinate is
clamped at 0). The file is parsed with edgevision's flatbuffer reader (LiteRT's own schema);
nothing else of the converter is used.
"""

from __future__ import annotations

import functools
import os
import struct
from typing import Optional, Sequence

import numpy as np

from edgevision.convert import read_tflite

SAME = 0  # Padding.SAME in the builtin options; MediaPipe's custom op uses TfLitePadding (1 = SAME)


def _same_pads(in_size: int, out_size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    total = max((out_size - 1) * stride + (kernel - 1) * dilation + 1 - in_size, 0)
    return total // 2, total - total // 2


def _activation(x: np.ndarray, kind: Optional[int]) -> np.ndarray:
    if not kind:
        return x
    bounds = {1: (0.0, np.inf), 2: (-1.0, 1.0), 3: (0.0, 6.0)}  # RELU, RELU_N1_TO_1, RELU6
    return np.clip(x, *bounds[kind])


def _pad_hw(x: np.ndarray, padding: int, out_hw, kernel, strides, dilations=(1, 1), value=0.0) -> np.ndarray:
    if padding != SAME:
        return x
    pads = [_same_pads(x.shape[1 + a], out_hw[a], kernel[a], strides[a], dilations[a]) for a in range(2)]
    return np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=value)


def _windows(x: np.ndarray, out_hw, kernel, strides, dilations=(1, 1)):
    """(ky, kx, the input pixels that kernel tap reads for every output pixel)."""
    (oh, ow), (sh, sw), (dh, dw) = out_hw, strides, dilations
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield i, j, x[:, i * dh:i * dh + (oh - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw, :]


def _conv(x, w, bias, o, out_shape):
    """CONV_2D: w is [O, kh, kw, I/groups]; one matrix product per group over all kernel taps."""
    strides, dilations, out_hw = (o.strideH, o.strideW), (o.dilationHFactor, o.dilationWFactor), out_shape[1:3]
    x = _pad_hw(x, o.padding, out_hw, w.shape[1:3], strides, dilations)
    taps = np.stack([patch for _, _, patch in _windows(x, out_hw, w.shape[1:3], strides, dilations)], axis=3)
    groups, per_group_in = x.shape[3] // w.shape[3], w.shape[3]
    per_group_out = w.shape[0] // groups
    out = np.empty(out_shape)
    for g in range(groups):  # taps [N, H, W, kh*kw, C] (tap order = w's kh, kw order)
        columns = taps[..., g * per_group_in:(g + 1) * per_group_in].reshape(-1, taps.shape[3] * per_group_in)
        weights = w[g * per_group_out:(g + 1) * per_group_out].reshape(per_group_out, -1)
        out[..., g * per_group_out:(g + 1) * per_group_out] = (columns @ weights.T).reshape(*out_shape[:3], -1)
    return out + (0.0 if bias is None else bias)


def _depthwise(x, w, bias, o, out_shape):
    """DEPTHWISE_CONV_2D: w is [1, kh, kw, C * multiplier]; output channel c * m + k reads input c."""
    strides, dilations, out_hw = (o.strideH, o.strideW), (o.dilationHFactor, o.dilationWFactor), out_shape[1:3]
    x = _pad_hw(x, o.padding, out_hw, w.shape[1:3], strides, dilations)
    x = np.repeat(x, w.shape[3] // x.shape[3], axis=3)
    out = np.zeros(out_shape)
    for i, j, patch in _windows(x, out_hw, w.shape[1:3], strides, dilations):
        out += patch * w[0, i, j, :]
    return out + (0.0 if bias is None else bias)


def _transposed_conv(x, w, bias, same: bool, strides, out_shape):
    """out[y * s - pad + k] += in[y] * w[k], pad = the forward (SAME) convolution's leading pad."""
    (n, in_h, in_w, _), (kh, kw), (sh, sw) = x.shape, w.shape[1:3], strides
    out_h, out_w = out_shape[1:3]
    pad_h = _same_pads(out_h, in_h, kh, sh)[0] if same else 0
    pad_w = _same_pads(out_w, in_w, kw, sw)[0] if same else 0
    full = np.zeros((n, max((in_h - 1) * sh + kh, out_h + pad_h), max((in_w - 1) * sw + kw, out_w + pad_w), w.shape[0]))
    for i in range(kh):
        for j in range(kw):
            full[:, i:i + (in_h - 1) * sh + 1:sh, j:j + (in_w - 1) * sw + 1:sw, :] += x @ w[:, i, j, :].T
    return full[:, pad_h:pad_h + out_h, pad_w:pad_w + out_w, :] + (0.0 if bias is None else bias)


def _pool(x, o, out_shape, kind: str):
    """MAX/AVERAGE_POOL_2D; the average divides by the number of real (unpadded) inputs."""
    kernel, strides, out_hw = (o.filterHeight, o.filterWidth), (o.strideH, o.strideW), out_shape[1:3]
    if kind == "max":
        padded = _pad_hw(x, o.padding, out_hw, kernel, strides, value=-np.inf)
        out = np.full(out_shape, -np.inf)
        for _, _, patch in _windows(padded, out_hw, kernel, strides):
            out = np.maximum(out, patch)
        return _activation(out, o.fusedActivationFunction)
    padded = _pad_hw(x, o.padding, out_hw, kernel, strides)
    counted = _pad_hw(np.ones(x.shape[:3] + (1,)), o.padding, out_hw, kernel, strides)
    total, count = np.zeros(out_shape), np.zeros(out_shape[:3] + (1,))
    for (_, _, patch), (_, _, ones) in zip(_windows(padded, out_hw, kernel, strides),
                                           _windows(counted, out_hw, kernel, strides)):
        total += patch
        count += ones
    return _activation(total / count, o.fusedActivationFunction)


def _resize_bilinear(x, out_shape, align_corners: bool, half_pixel: bool):
    def taps(in_size: int, out_size: int):
        o = np.arange(out_size, dtype=np.float64)
        if align_corners and out_size > 1:
            source = o * (in_size - 1) / (out_size - 1)
        elif half_pixel:
            source = np.maximum((o + 0.5) * in_size / out_size - 0.5, 0.0)
        else:
            source = o * in_size / out_size
        low = np.floor(source)
        return low.astype(int), np.minimum(low + 1, in_size - 1).astype(int), source - low

    y0, y1, fy = taps(x.shape[1], out_shape[1])
    x0, x1, fx = taps(x.shape[2], out_shape[2])
    fx, fy = fx[None, None, :, None], fy[None, :, None, None]
    top = x[:, y0][:, :, x0] * (1 - fx) + x[:, y0][:, :, x1] * fx
    bottom = x[:, y1][:, :, x0] * (1 - fx) + x[:, y1][:, :, x1] * fx
    return top * (1 - fy) + bottom * fy


def _depth_to_space(x, block: int):
    n, h, w, c = x.shape
    return x.reshape(n, h, w, block, block, c // block ** 2).transpose(0, 1, 3, 2, 4, 5).reshape(
        n, h * block, w * block, c // block ** 2)


@functools.lru_cache(maxsize=8)
def _parsed(path: str):
    """The graph and its constants (float ones as float64), parsed once per file."""
    graph = read_tflite(path)
    return graph, {t.index: (t.data.astype(np.float64) if t.data.dtype.kind == "f" else t.data)
                   for t in graph.tensors if t.data is not None}


def evaluate(tflite_path, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The graph's outputs for ``inputs``, every operator computed in float64."""
    graph, constants = _parsed(os.fspath(tflite_path))
    values = dict(constants)
    values.update({index: np.asarray(x, np.float64) for index, x in zip(graph.inputs, inputs)})
    for op in graph.operators:
        args = [values[i] if i >= 0 else None for i in op.inputs]
        bias = args[2] if len(args) > 2 else None
        shape = graph.tensors[op.outputs[0]].shape
        o, name = op.options, op.name
        fused = getattr(o, "fusedActivationFunction", 0)
        if name in ("DEQUANTIZE", "DENSIFY"):  # fp16 / sparse weights: the reader gives them dense
            result = args[0].astype(np.float64)
        elif name == "CONV_2D":
            result = _activation(_conv(args[0], args[1], bias, o, shape), fused)
        elif name == "DEPTHWISE_CONV_2D":
            result = _activation(_depthwise(args[0], args[1], bias, o, shape), fused)
        elif name == "Convolution2DTransposeBias":
            padding, stride_w, stride_h = struct.unpack_from("<iii", op.custom_options)
            result = _transposed_conv(args[0], args[1], bias, padding == 1, (stride_h, stride_w), shape)
        elif name in ("ADD", "SUB", "MUL"):
            result = _activation({"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply}[name](args[0], args[1]), fused)
        elif name == "RELU":
            result = np.maximum(args[0], 0.0)
        elif name == "HARD_SWISH":
            result = args[0] * np.clip(args[0] + 3.0, 0.0, 6.0) / 6.0
        elif name == "PRELU":
            result = np.where(args[0] >= 0, args[0], args[0] * args[1])
        elif name == "LOGISTIC":
            result = 0.5 * (1.0 + np.tanh(0.5 * args[0]))  # = 1 / (1 + exp(-x)), without overflow
        elif name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
            result = _pool(args[0], o, shape, "max" if name == "MAX_POOL_2D" else "average")
        elif name == "MEAN":
            result = args[0].mean(axis=tuple(int(a) for a in args[1].reshape(-1)), keepdims=bool(o.keepDims))
        elif name == "PAD":
            result = np.pad(args[0], args[1].astype(int))
        elif name == "RESHAPE":
            result = args[0].reshape(shape)
        elif name == "CONCATENATION":
            result = np.concatenate(args, axis=o.axis)
        elif name == "RESIZE_BILINEAR":
            result = _resize_bilinear(args[0], shape, o.alignCorners, o.halfPixelCenters)
        elif name == "DEPTH_TO_SPACE":
            result = _depth_to_space(args[0], o.blockSize)
        else:
            raise NotImplementedError(f"the float64 reference has no {name} (operator {op.index})")
        assert result.shape == tuple(shape), f"operator {op.index} ({name}): {result.shape} != {shape}"
        values[op.outputs[0]] = result
    return [values[i] for i in graph.outputs]
