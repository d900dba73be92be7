"""Small TFLite flatbuffers written with LiteRT's own schema: one or a few operators, constants
given as numpy arrays (optionally stored sparse, for DENSIFY). LiteRT runs them as the reference
for the converter's ONNX output."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

_TYPES = {np.dtype(np.float32): "FLOAT32", np.dtype(np.float16): "FLOAT16", np.dtype(np.int32): "INT32",
          np.dtype(np.int8): "INT8", np.dtype(np.uint8): "UINT8", np.dtype(np.int64): "INT64"}


def schema():
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


@dataclass
class T:
    """A tensor: ``data`` makes it a constant; ``sparsity`` (a SparsityParametersT) stores it sparse,
    ``values`` then being the stored (non-zero) values."""

    name: str
    shape: Sequence[int]
    dtype: Any = np.float32
    data: Optional[np.ndarray] = None
    sparsity: Any = None
    quant: Optional[tuple] = None  # (scales, zero_points, axis)


@dataclass
class Op:
    name: str  # builtin name, or "custom:<code>"
    inputs: Sequence[int]
    outputs: Sequence[int]
    options: Any = None  # a *OptionsT object
    custom_options: bytes = b""
    extra: dict = field(default_factory=dict)


def options(kind: str, **values) -> Any:
    """``options("Conv2D", padding=0, strideW=2, ...)`` -> a Conv2DOptionsT with those fields."""
    obj = getattr(schema(), f"{kind}OptionsT")()
    for key, value in values.items():
        assert hasattr(obj, key), f"{kind}Options has no field {key}"
        setattr(obj, key, value)
    return obj


def write(path: Path, tensors: Sequence[T], ops: Sequence[Op], inputs: Sequence[int], outputs: Sequence[int]) -> Path:
    import flatbuffers

    s = schema()
    model = s.ModelT()
    model.version = 3
    model.buffers = [s.BufferT()]
    codes: list[tuple] = []
    graph = s.SubGraphT()
    graph.name = "main"
    graph.tensors = []
    for t in tensors:
        tensor = s.TensorT()
        tensor.name = t.name
        tensor.shape = list(t.shape)
        tensor.type = getattr(s.TensorType, _TYPES[np.dtype(t.dtype)])
        tensor.buffer = 0
        if t.data is not None:
            buffer = s.BufferT()
            buffer.data = np.frombuffer(np.ascontiguousarray(t.data, dtype=t.dtype).tobytes(), np.uint8)
            model.buffers.append(buffer)
            tensor.buffer = len(model.buffers) - 1
        tensor.sparsity = t.sparsity
        if t.quant is not None:
            tensor.quantization = s.QuantizationParametersT()
            scales, zeros, axis = t.quant
            tensor.quantization.scale, tensor.quantization.zeroPoint = list(scales), list(zeros)
            tensor.quantization.quantizedDimension = axis
        graph.tensors.append(tensor)
    graph.operators = []
    for op in ops:
        key = (op.name,)
        if key not in codes:
            codes.append(key)
        operator = s.OperatorT()
        operator.opcodeIndex = codes.index(key)
        operator.inputs, operator.outputs = list(op.inputs), list(op.outputs)
        if op.options is not None:
            kind = type(op.options).__name__[:-len("OptionsT")] + "Options"
            operator.builtinOptionsType = getattr(s.BuiltinOptions, kind)
            operator.builtinOptions = op.options
        if op.custom_options:
            operator.customOptions = list(op.custom_options)
        graph.operators.append(operator)
    model.operatorCodes = []
    for (name,) in codes:
        code = s.OperatorCodeT()
        if name.startswith("custom:"):
            code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.CUSTOM
            code.customCode = name[len("custom:"):]
        else:
            builtin = getattr(s.BuiltinOperator, name)
            code.builtinCode, code.deprecatedBuiltinCode = builtin, min(builtin, 127)
        code.version = 1
        model.operatorCodes.append(code)
    graph.inputs, graph.outputs = list(inputs), list(outputs)
    model.subgraphs = [graph]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    Path(path).write_bytes(builder.Output())
    return Path(path)


def single_op(path: Path, name: str, input_shape, output_shape, constants: Sequence[Optional[np.ndarray]] = (),
              options=None, custom_options: bytes = b"", input_first: bool = True) -> Path:
    """``input -> name(input, *constants) -> output``; a None constant is an omitted optional input."""
    tensors = [T("input", input_shape)]
    op_inputs = [0]
    for k, value in enumerate(constants):
        if value is None:
            op_inputs.append(-1)
            continue
        tensors.append(T(f"const_{k}", value.shape, value.dtype, value))
        op_inputs.append(len(tensors) - 1)
    if not input_first:
        op_inputs = op_inputs[1:] + op_inputs[:1]
    tensors.append(T("output", output_shape))
    return write(path, tensors, [Op(name, op_inputs, [len(tensors) - 1], options, custom_options)], [0],
                 [len(tensors) - 1])


def sparse_filter(dense: np.ndarray, block: int = 1):
    """SparsityParameters storing a 1x1 conv filter ``[O, 1, 1, I]`` as TFLite's converter does:
    dense over O, 1, 1 and CSR over I, in blocks of ``block`` input channels (a fifth, dense level
    with block_map [3]) when ``block > 1``. Returns (sparsity, stored values)."""
    s = schema()

    def dense_level(size):
        m = s.DimensionMetadataT()
        m.format, m.denseSize = s.DimensionType.DENSE, size
        return m

    out_channels, _, _, in_channels = dense.shape
    grid = dense.reshape(out_channels, in_channels // block, block)
    keep = np.abs(grid).sum(axis=2) != 0
    segments, indices, values = [0], [], []
    for o in range(out_channels):
        for i in np.flatnonzero(keep[o]):
            indices.append(int(i))
            values.append(grid[o, i])
        segments.append(len(indices))
    csr = s.DimensionMetadataT()
    csr.format = s.DimensionType.SPARSE_CSR
    csr.arraySegmentsType, csr.arrayIndicesType = s.SparseIndexVector.Int32Vector, s.SparseIndexVector.Uint8Vector
    csr.arraySegments, csr.arrayIndices = s.Int32VectorT(), s.Uint8VectorT()
    csr.arraySegments.values, csr.arrayIndices.values = segments, indices
    sparsity = s.SparsityParametersT()
    sparsity.dimMetadata = [dense_level(out_channels), dense_level(1), dense_level(1), csr]
    sparsity.traversalOrder = [0, 1, 2, 3]
    if block > 1:
        sparsity.traversalOrder, sparsity.blockMap = [0, 1, 2, 3, 4], [3]
        sparsity.dimMetadata.append(dense_level(block))
    stored = np.concatenate(values) if values else np.zeros(0, dense.dtype)
    return sparsity, stored.astype(dense.dtype)
