"""Segmentation heads that edgevision runs natively instead of XNNPACK.

BlazePose's landmark model ends its mask with narrow layers (its 64x64x8 features upsampled 2x
plus a 128x128x8 skip map, two residual blocks of depthwise 3x3 + ReLU6 -> 1x1 -> add -> ReLU6,
another 2x upsample, two more blocks, a 3x3 convolution to one channel) that XNNPACK runs at
memory speed, one tensor per layer: 5 of the model's 13 ms. :func:`split` cuts such a tail off
a graph: the output then holds the tail's input features (same output name), its skip maps
become extra outputs, and the tail's weights travel inside the edited file as metadata, which
:func:`heads` reads back as :class:`edgevision.kernels.SegmentationHead` objects (the same
layers, streamed a few rows at a time: ~0.8 ms on two threads). Logits agree with the model's
to float32 rounding.

Works on the main graph of a TFLite model unpacked with LiteRT's schema (``ModelT``); a graph
without the pattern is left alone.
"""

from __future__ import annotations

import io
import os
from typing import Any, Optional

import numpy as np

from ..convert.flatbuffer import builtin_code, float_constant, schema, schema_ints, schema_text

METADATA_PREFIX = "edgevision.segmentation_head:"  # + the output's name
CHANNELS = 8
MAX_BLOCKS = 4
MAX_LEVELS = 2
_RELU6, _NONE, _SAME = 3, 0, 0  # TFLite's ActivationFunctionType and Padding values


def split(model: Any, output: str) -> Optional[list[str]]:
    """Cut the segmentation tail that writes graph output ``output`` off ``model`` (in place):
    the output becomes the tail's input features, the skip maps its levels add become outputs
    of their own (``<output>/skip0``, ...: their names are returned), and the tail's weights are
    stored in the model's metadata. None (the model unchanged) when the output is not such a tail."""
    s = schema()
    graph = model.subgraphs[0]
    outputs = list(schema_ints(graph.outputs))
    index = next((t for t in outputs if schema_text(graph.tensors[t].name) == output), None)
    if index is None:
        return None
    producers = {int(t): op for op in graph.operators for t in schema_ints(op.outputs, keep_missing=False)}
    tail = _match(model, graph, index, producers, s)
    if tail is None:
        return None
    features, skips, weights = tail
    graph.tensors[index].name = (output + "/native_head").encode()
    graph.tensors[features].name = output.encode()
    skip_names = [f"{output}/skip{k}" for k in range(len(skips))]
    for tensor, name in zip(skips, skip_names):
        graph.tensors[tensor].name = name.encode()
    graph.outputs = np.array([features if t == index else t for t in outputs] + list(skips), np.int32)
    data = io.BytesIO()
    np.savez(data, skip_outputs=np.array(skip_names, dtype=str), **weights)
    _add_metadata(model, METADATA_PREFIX + output, data.getvalue(), s)
    return skip_names


def heads(path: os.PathLike | str) -> dict[str, tuple[Any, list[str]]]:
    """The native heads stored in a TFLite file by :func:`split`: output name -> (its
    :class:`edgevision.kernels.SegmentationHead`, the names of the outputs holding its skip
    maps, in level order). Reads the metadata table only."""
    from ..kernels import SegmentationHead

    s = schema()
    with open(path, "rb") as f:
        data = f.read()
    root = s.Model.GetRootAs(data, 0)
    found = {}
    for k in range(root.MetadataLength()):
        entry = root.Metadata(k)
        name = schema_text(entry.Name())
        if not name.startswith(METADATA_PREFIX):
            continue
        raw = root.Buffers(entry.Buffer()).DataAsNumpy()
        with np.load(io.BytesIO(raw.tobytes())) as w:
            before = {key: w[key] for key in w.files if key.startswith("input_")}
            earlier = [{key: w[f"level{level}_{key}"] for key in _BLOCK_KEYS} | {"skip": bool(w[f"level{level}_skip"])}
                       for level in range(int(w["earlier_levels"]))]
            kernel = SegmentationHead(
                w["depthwise"], w["depthwise_bias"], w["pointwise"], w["pointwise_bias"], w["head"], w["head_bias"],
                skip=bool(w["skip"]), earlier_levels=earlier, **before)  # the input_* arrays: 0 blocks or more
            found[name[len(METADATA_PREFIX):]] = (kernel, [str(n) for n in w["skip_outputs"]])
    return found


_BLOCK_KEYS = ("depthwise", "depthwise_bias", "pointwise", "pointwise_bias")


def _match(model, graph, index: int, producers, s) -> Optional[tuple[int, list[int], dict]]:
    """(features tensor, skip map tensors, weights) of the tail writing tensor ``index``, or None."""
    def op_of(tensor: int, builtin: int):
        op = producers.get(tensor)
        if op is None or builtin_code(model.operatorCodes[op.opcodeIndex]) != builtin:
            return None
        return op

    def constant(op, position: int, shape: tuple[int, ...]) -> Optional[np.ndarray]:
        inputs = schema_ints(op.inputs)
        if len(inputs) <= position or inputs[position] < 0:
            return None
        value = float_constant(model, graph, inputs[position], producers)
        return value.reshape(shape) if value is not None and value.size == int(np.prod(shape)) else None

    def plain_3x3(options, activation: int) -> bool:  # SAME, stride 1, no dilation
        return (options is not None and options.padding == _SAME and options.strideW == options.strideH == 1
                and getattr(options, "dilationWFactor", 1) in (0, 1) and getattr(options, "dilationHFactor", 1) in (0, 1)
                and options.fusedActivationFunction == activation)

    def shape(tensor: int) -> list[int]:
        return [int(v) for v in schema_ints(graph.tensors[tensor].shape)]

    B, C = s.BuiltinOperator, CHANNELS

    def blocks_above(x: int) -> tuple[int, list]:
        """The residual blocks ending at tensor x (their input tensor, their weights in order)."""
        blocks = []
        while (add := op_of(x, B.ADD)) is not None and add.builtinOptions is not None \
                and add.builtinOptions.fusedActivationFunction == _RELU6:
            found = None
            for residual, branch in (tuple(schema_ints(add.inputs)), tuple(reversed(schema_ints(add.inputs)))):
                pw = op_of(branch, B.CONV_2D)
                if pw is None or pw.builtinOptions is None or pw.builtinOptions.fusedActivationFunction != _NONE \
                        or pw.builtinOptions.strideW != 1 or pw.builtinOptions.strideH != 1:
                    continue
                dw = op_of(int(pw.inputs[0]), B.DEPTHWISE_CONV_2D)
                if dw is None or int(dw.inputs[0]) != residual or not plain_3x3(dw.builtinOptions, _RELU6) \
                        or dw.builtinOptions.depthMultiplier not in (0, 1):
                    continue
                weights = (constant(dw, 1, (3, 3, C)), constant(dw, 2, (C,)), constant(pw, 1, (C, C)),
                           constant(pw, 2, (C,)))
                if all(w is not None for w in weights):
                    found = (residual, weights)
                    break
            if found is None or len(blocks) == MAX_BLOCKS:
                break
            x = found[0]
            blocks.insert(0, found[1])
        return x, blocks

    def upsample_of(x: int) -> Optional[tuple[Any, Optional[int]]]:
        """(the RESIZE_BILINEAR 2x, the skip map added after it or None) that make tensor x."""
        add = op_of(x, B.ADD)
        if add is not None and add.builtinOptions is not None and add.builtinOptions.fusedActivationFunction == _NONE:
            a, b = schema_ints(add.inputs)
            for upsampled, skip in ((a, b), (b, a)):
                resize = op_of(upsampled, B.RESIZE_BILINEAR)
                if resize is not None and shape(skip) == shape(upsampled) and \
                        graph.tensors[skip].type == s.TensorType.FLOAT32:
                    return resize, skip
            return None
        resize = op_of(x, B.RESIZE_BILINEAR)
        return None if resize is None else (resize, None)

    head = op_of(index, B.CONV_2D)
    if head is None or not plain_3x3(head.builtinOptions, _NONE):
        return None
    head_w, head_b = constant(head, 1, (1, 3, 3, C)), constant(head, 2, (1,))
    if head_w is None or head_b is None:
        return None
    x, blocks = blocks_above(int(head.inputs[0]))
    levels = []  # (skip tensor or None, blocks), first level first
    while len(levels) < MAX_LEVELS and (up := upsample_of(x)) is not None:
        resize, skip = up
        options, low = resize.builtinOptions, shape(int(resize.inputs[0]))
        if options is None or options.alignCorners or not options.halfPixelCenters or len(low) != 4 \
                or low[-1] != C or shape(int(resize.outputs[0])) != [1, 2 * low[1], 2 * low[2], C]:
            return None
        levels.insert(0, (skip, blocks))
        x, blocks = blocks_above(int(resize.inputs[0]))
    features, before = x, blocks
    if not levels or graph.tensors[features].type != s.TensorType.FLOAT32:
        return None
    scale = 1 << len(levels)
    low = shape(features)
    if len(low) != 4 or low[-1] != C or shape(index) != [1, scale * low[1], scale * low[2], 1]:
        return None

    def stack(blocks: list, k: int, empty: tuple[int, ...]) -> np.ndarray:
        return np.stack([b[k] for b in blocks]) if blocks else np.zeros(empty, np.float32)

    def block_arrays(prefix: str, blocks: list) -> dict:
        return {prefix + "depthwise": stack(blocks, 0, (0, 3, 3, C)), prefix + "depthwise_bias": stack(blocks, 1, (0, C)),
                prefix + "pointwise": stack(blocks, 2, (0, C, C)), prefix + "pointwise_bias": stack(blocks, 3, (0, C))}

    last_skip, last_blocks = levels[-1]
    weights = {"head": head_w.reshape(3, 3, C), "head_bias": head_b.reshape(1), "skip": np.array(last_skip is not None),
               "earlier_levels": np.array(len(levels) - 1), **block_arrays("", last_blocks),
               **block_arrays("input_", before)}
    for level, (skip, blocks) in enumerate(levels[:-1]):
        weights.update(block_arrays(f"level{level}_", blocks))
        weights[f"level{level}_skip"] = np.array(skip is not None)
    return features, [skip for skip, _ in levels if skip is not None], weights


def _add_metadata(model, name: str, data: bytes, s) -> None:
    buffer = s.BufferT()
    buffer.data = np.frombuffer(data, np.uint8)
    model.buffers.append(buffer)
    entry = s.MetadataT()
    entry.name = name.encode()
    entry.buffer = len(model.buffers) - 1
    if model.metadata is None:
        model.metadata = []
    model.metadata.append(entry)
