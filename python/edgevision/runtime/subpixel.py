"""Transposed convolutions whose kernel equals their stride, rewritten as a 1x1 convolution and
DEPTH_TO_SPACE, for XNNPACK.

Such a layer (MediaPipe's Convolution2DTransposeBias, TFLite's TRANSPOSE_CONV) writes each
output pixel from exactly one input pixel: output[s*y + dy, s*x + dx, o] =
bias[o] + sum_i input[y, x, i] * W[o, dy, dx, i]. A 1x1 convolution with s*s*O output
channels computes all of them per input pixel, and DEPTH_TO_SPACE puts channel
(dy*s + dx)*O + o at (s*y + dy, s*x + dx, o). XNNPACK is slow on the transposed form with
few output channels: the selfie models' last layer (16 channels -> a 256x256 mask) took 2.3
of their 6.2 ms; rewritten, 0.2-0.4 ms (the convolution and the shuffle about 0.1 ms each on
their own), with bit-identical masks (the same products summed in the same order).

Works on the main graph of a TFLite model unpacked with LiteRT's schema (``ModelT``). Only
float32 layers with constant float32 or float16 (dequantized) weights are rewritten.
"""

from __future__ import annotations

import struct
from typing import Any, Optional

import numpy as np

from ..convert.flatbuffer import builtin_code, float_constant, schema, schema_ints, schema_text

_CUSTOM_NAME = b"Convolution2DTransposeBias"


def has_candidates(builtins: frozenset[int], customs: frozenset[bytes]) -> bool:
    """Whether a file using these operators (:func:`~edgevision.convert.flatbuffer.operator_codes`)
    has a transposed convolution."""
    return schema().BuiltinOperator.TRANSPOSE_CONV in builtins or _CUSTOM_NAME in customs


def rewrite(model: Any) -> int:
    """Rewrite every eligible transposed convolution of ``model``'s main graph in place;
    returns how many. The weights they no longer read stay (pruning drops their producers)."""
    s = schema()
    graph = model.subgraphs[0]
    producers = {int(t): op for op in graph.operators for t in schema_ints(op.outputs, keep_missing=False)}
    rewritten: list[Any] = []
    count = 0
    for op in graph.operators:
        layer = _layer(model, graph, op, producers, s)
        if layer is None:
            rewritten.append(op)
            continue
        rewritten.extend(_subpixel_ops(model, graph, layer, s))
        count += 1
    graph.operators = rewritten
    return count


def _layer(model, graph, op, producers, s) -> Optional[dict]:
    """The pieces of an eligible transposed convolution, or None."""
    code = model.operatorCodes[op.opcodeIndex]
    builtin = builtin_code(code)
    inputs = schema_ints(op.inputs)
    if code.customCode == _CUSTOM_NAME:
        if op.customOptions is None or len(op.customOptions) < 12 or len(inputs) < 3:
            return None
        _, stride_w, stride_h = struct.unpack_from("<iii", bytes(bytearray(op.customOptions)))
        source, weights, bias, activation = inputs[0], inputs[1], inputs[2], s.ActivationFunctionType.NONE
    elif builtin == s.BuiltinOperator.TRANSPOSE_CONV and op.builtinOptions is not None and len(inputs) >= 3:
        options = op.builtinOptions
        stride_w, stride_h = int(options.strideW), int(options.strideH)
        source, weights = inputs[2], inputs[1]
        bias = inputs[3] if len(inputs) > 3 else -1
        activation = int(getattr(options, "fusedActivationFunction", 0) or 0)
    else:
        return None
    outputs = schema_ints(op.outputs, keep_missing=False)
    if len(outputs) != 1 or source < 0 or weights < 0:
        return None
    kernel = float_constant(model, graph, weights, producers)
    if kernel is None or kernel.ndim != 4:
        return None
    channels_out, kernel_h, kernel_w, channels_in = kernel.shape
    in_shape, out_shape = list(graph.tensors[source].shape), list(graph.tensors[outputs[0]].shape)
    if not (kernel_h == kernel_w == stride_h == stride_w >= 1 and len(in_shape) == 4 and len(out_shape) == 4
            and in_shape[3] == channels_in and out_shape[3] == channels_out
            and out_shape[1:3] == [in_shape[1] * stride_h, in_shape[2] * stride_w]
            and graph.tensors[source].type == s.TensorType.FLOAT32
            and graph.tensors[outputs[0]].type == s.TensorType.FLOAT32):
        return None
    bias_values = np.zeros(channels_out, np.float32)
    if bias >= 0:
        found = float_constant(model, graph, bias, producers)
        if found is None or found.size != channels_out:
            return None
        bias_values = found.reshape(-1)
    return {"source": source, "output": outputs[0], "kernel": kernel, "bias": bias_values, "activation": activation,
            "in_shape": in_shape}


def _subpixel_ops(model, graph, layer, s) -> list[Any]:
    kernel = layer["kernel"]
    channels_out, block, _, channels_in = kernel.shape
    # Conv channel (dy*block + dx)*O + o holds W[o, dy, dx, :]: DEPTH_TO_SPACE's order.
    weights = kernel.transpose(1, 2, 0, 3).reshape(block * block * channels_out, 1, 1, channels_in)
    bias = np.tile(layer["bias"], block * block).astype(np.float32)
    name = schema_text(graph.tensors[layer["output"]].name)
    w = _add_tensor(model, graph, f"{name}/subpixel_weights", weights.shape, weights, s)
    b = _add_tensor(model, graph, f"{name}/subpixel_bias", bias.shape, bias, s)
    # A 1x1 kernel with stride 1 is already a 1x1 convolution: no shuffle.
    mid = layer["output"] if block == 1 else \
        _add_tensor(model, graph, f"{name}/subpixel", layer["in_shape"][:3] + [block * block * channels_out], None, s)

    conv = s.OperatorT()
    conv.opcodeIndex = _opcode(model, s.BuiltinOperator.CONV_2D, s)
    conv.inputs, conv.outputs = np.array([layer["source"], w, b], np.int32), np.array([mid], np.int32)
    options = s.Conv2DOptionsT()
    options.padding, options.strideW, options.strideH = s.Padding.VALID, 1, 1
    options.dilationWFactor = options.dilationHFactor = 1
    options.fusedActivationFunction = layer["activation"]  # elementwise: commutes with the shuffle
    conv.builtinOptionsType, conv.builtinOptions = s.BuiltinOptions.Conv2DOptions, options
    if block == 1:
        return [conv]

    shuffle = s.OperatorT()
    shuffle.opcodeIndex = _opcode(model, s.BuiltinOperator.DEPTH_TO_SPACE, s)
    shuffle.inputs, shuffle.outputs = np.array([mid], np.int32), np.array([layer["output"]], np.int32)
    options = s.DepthToSpaceOptionsT()
    options.blockSize = block
    shuffle.builtinOptionsType, shuffle.builtinOptions = s.BuiltinOptions.DepthToSpaceOptions, options
    return [conv, shuffle]


def _add_tensor(model, graph, name: str, shape, data: Optional[np.ndarray], s) -> int:
    tensor = s.TensorT()
    tensor.name = name
    tensor.shape = np.array(shape, np.int32)
    tensor.type = s.TensorType.FLOAT32
    if data is None:
        tensor.buffer = _empty_buffer(model, s)
    else:
        buffer = s.BufferT()
        buffer.data = np.frombuffer(data.astype("<f4").tobytes(), np.uint8)
        model.buffers.append(buffer)
        tensor.buffer = len(model.buffers) - 1
    graph.tensors.append(tensor)
    return len(graph.tensors) - 1


def _empty_buffer(model, s) -> int:
    """Buffer 0 is empty by convention; a file without one gets an empty buffer appended."""
    first = model.buffers[0] if model.buffers else None
    if first is not None and first.data is None and not first.offset:
        return 0
    model.buffers = list(model.buffers or []) + [s.BufferT()]
    return len(model.buffers) - 1


def _opcode(model, builtin: int, s) -> int:
    for k, code in enumerate(model.operatorCodes):
        if builtin_code(code) == builtin and not code.customCode:
            return k
    code = s.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1
