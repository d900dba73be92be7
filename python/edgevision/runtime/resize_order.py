"""A 1x1 convolution that reads a bilinear upsample runs before it, at the low resolution, for
XNNPACK.

Bilinear resizing mixes pixels with weights that sum to one, each channel on its own; a 1x1
convolution without activation mixes channels, each pixel on its own. The two commute:
``conv(resize(x)) == resize(conv(x))``, bias included. Run first, the convolution sees a
quarter of the pixels (2x upsampling), and the resize moves the convolution's output
channels, often fewer than its input's. XNNPACK runs both bound by memory: the selfie models'
decoder has three such pairs (resize 16x16x128 -> 32x32 then 128 -> 24 channels, and two
more), and reordered they run 9% faster. Unlike the other edits this one is not bit-identical:
the sums are taken in another order, so results move by float32 rounding (the selfie masks by
at most 7e-6).

Works on the main graph of a TFLite model unpacked with LiteRT's schema (``ModelT``). Only
float32 pairs are reordered, where the resize output feeds that convolution alone, the
resize enlarges, and the convolution does not widen the channels.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..convert.flatbuffer import builtin_code, schema, schema_ints


def has_candidates(builtins: frozenset[int], customs: frozenset[bytes]) -> bool:
    """Whether a file using these operators (:func:`~edgevision.convert.flatbuffer.operator_codes`)
    has both a bilinear resize and a convolution."""
    s = schema()
    return {s.BuiltinOperator.RESIZE_BILINEAR, s.BuiltinOperator.CONV_2D} <= builtins


def rewrite(model: Any) -> int:
    """Reorder every eligible resize -> 1x1 convolution pair of ``model``'s main graph in place;
    returns how many."""
    s = schema()
    graph = model.subgraphs[0]
    readers: dict[int, list[int]] = {}
    for k, op in enumerate(graph.operators):
        for t in set(schema_ints(op.inputs, keep_missing=False)):
            readers.setdefault(int(t), []).append(k)
    graph_outputs = {int(t) for t in schema_ints(graph.outputs, keep_missing=False)}
    moved: dict[int, int] = {}  # convolution index -> the resize that now runs right after it
    for k, op in enumerate(graph.operators):
        conv = _eligible_convolution(model, graph, k, op, readers, graph_outputs, s)
        if conv is not None:
            _swap(graph, op, graph.operators[conv])
            moved[conv] = k
    if not moved:
        return 0
    resized = set(moved.values())
    order: list[Any] = []
    for k, op in enumerate(graph.operators):
        if k in resized:
            continue
        order.append(op)
        if k in moved:
            order.append(graph.operators[moved[k]])
    graph.operators = order
    return len(moved)


def _eligible_convolution(model, graph, index: int, op, readers, graph_outputs, s) -> Optional[int]:
    """The index of the 1x1 convolution that alone reads resize ``op``'s output, if the pair
    may be reordered; else None."""
    if builtin_code(model.operatorCodes[op.opcodeIndex]) != s.BuiltinOperator.RESIZE_BILINEAR:
        return None
    inputs, outputs = schema_ints(op.inputs), schema_ints(op.outputs, keep_missing=False)
    if len(inputs) < 1 or inputs[0] < 0 or len(outputs) != 1:
        return None
    source, resized = int(inputs[0]), int(outputs[0])
    consumers = readers.get(resized, [])
    if resized in graph_outputs or len(consumers) != 1 or consumers[0] <= index:
        return None
    conv_index = consumers[0]
    conv = graph.operators[conv_index]
    if builtin_code(model.operatorCodes[conv.opcodeIndex]) != s.BuiltinOperator.CONV_2D:
        return None
    conv_inputs, conv_outputs = schema_ints(conv.inputs), schema_ints(conv.outputs, keep_missing=False)
    options = conv.builtinOptions
    if (len(conv_inputs) < 2 or conv_inputs[0] != resized or resized in conv_inputs[1:] or len(conv_outputs) != 1
            or options is None or int(options.fusedActivationFunction or 0) != s.ActivationFunctionType.NONE
            or int(options.strideW) != 1 or int(options.strideH) != 1):
        return None
    weights = graph.tensors[int(conv_inputs[1])] if conv_inputs[1] >= 0 else None
    source_t, resized_t, out_t = graph.tensors[source], graph.tensors[resized], graph.tensors[int(conv_outputs[0])]
    shapes = [_static_shape(t) for t in (source_t, resized_t, out_t)]
    kernel = _static_shape(weights) if weights is not None else None
    if any(shape is None or len(shape) != 4 for shape in shapes) or kernel is None or len(kernel) != 4:
        return None
    (_, h, w, c_in), (_, big_h, big_w, c_mid), (_, out_h, out_w, c_out) = shapes
    if not (kernel[1] == kernel[2] == 1 and kernel[0] == c_out and kernel[3] == c_in == c_mid
            and (out_h, out_w) == (big_h, big_w) and big_h * big_w > h * w and c_out <= c_in):
        return None
    floats = s.TensorType.FLOAT32
    if any(t.type != floats or _quantized(t) for t in (source_t, resized_t, out_t)):
        return None
    return conv_index


def _swap(graph, resize, conv) -> None:
    """conv(resize(x)) -> resize(conv(x)); the resize's output tensor, now the convolution's
    output at the low resolution, is reshaped to it."""
    source, resized = int(resize.inputs[0]), int(resize.outputs[0])
    result = int(conv.outputs[0])
    shape = _static_shape(graph.tensors[source])
    mid = graph.tensors[resized]
    mid.shape = np.array(shape[:3] + [_static_shape(graph.tensors[result])[3]], np.int32)
    mid.shapeSignature = None
    conv.inputs = np.array([source] + [int(t) for t in conv.inputs[1:]], np.int32)
    conv.outputs = np.array([resized], np.int32)
    resize.inputs = np.array([resized] + [int(t) for t in resize.inputs[1:]], np.int32)
    resize.outputs = np.array([result], np.int32)


def _static_shape(tensor) -> Optional[list[int]]:
    if tensor is None or tensor.shape is None:
        return None
    shape = [int(v) for v in tensor.shape]
    signature = tensor.shapeSignature
    if signature is not None and len(signature) and any(int(v) < 0 for v in signature):
        return None  # a dynamic dimension: left alone
    return shape if all(v > 0 for v in shape) else None


def _quantized(tensor) -> bool:
    q = tensor.quantization
    return q is not None and q.scale is not None and len(q.scale) > 0
