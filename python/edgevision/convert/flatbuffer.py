"""Read a ``.tflite`` flatbuffer into plain dataclasses: tensors (with constant data) and operators.

The schema bindings are LiteRT's own (``ai_edge_litert.schema_py_generated``, shipped with the
``ai-edge-litert`` core dependency), so no TensorFlow is needed. Constant buffers are decoded to
numpy arrays here, sparse ones (TFLite's ``SparsityParameters``, read by DENSIFY) densified by
:mod:`.sparsity`; the operators keep the schema's option objects (``Conv2DOptionsT`` ...), which
the translation table reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .sparsity import densify

_FILE_IDENTIFIER = b"TFL3"

# TensorType -> numpy dtype, for the types a vision model carries.
_DTYPES = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64, "INT32": np.int32, "INT64": np.int64,
    "UINT8": np.uint8, "INT8": np.int8, "INT16": np.int16, "UINT16": np.uint16, "UINT32": np.uint32,
    "UINT64": np.uint64, "BOOL": np.bool_,
}


def schema() -> Any:
    """LiteRT's generated flatbuffer schema module."""
    from ..runtime.errors import RuntimeNotInstalledError

    try:
        from ai_edge_litert import schema_py_generated
    except ImportError as e:
        raise RuntimeNotInstalledError("LiteRT (for its TFLite schema)", "litert", "ai-edge-litert") from e
    return schema_py_generated


@dataclass(frozen=True, eq=False)
class Tensor:
    """One tensor of the graph. ``data`` is the constant value (dense, stored dtype) or None."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    data: Optional[np.ndarray] = None
    scale: Optional[np.ndarray] = None  # quantisation: real = scale * (q - zero_point)
    zero_point: Optional[np.ndarray] = None
    quantized_dimension: int = 0
    sparse: bool = False  # stored sparse (densified into ``data``)

    @property
    def constant(self) -> bool:
        return self.data is not None


@dataclass(frozen=True, eq=False)
class Operator:
    """One operator: ``name`` is the builtin's name (``"CONV_2D"``) or the custom code."""

    index: int
    name: str
    custom: bool
    inputs: tuple[int, ...]  # -1 marks an omitted optional input
    outputs: tuple[int, ...]
    options: Any  # the schema's options object (e.g. Conv2DOptionsT), or None
    custom_options: bytes = b""

    def describe(self) -> str:
        return f"operator {self.index} ({'custom ' if self.custom else ''}{self.name})"


@dataclass(frozen=True, eq=False)
class TFLiteGraph:
    """The main subgraph of a ``.tflite`` file."""

    path: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


def read_tflite(path: os.PathLike | str) -> TFLiteGraph:
    """Parse ``path``. ValueError if it is not a TFLite flatbuffer or has several subgraphs."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"tflite_path: no such file {str(path)!r}")
    data = path.read_bytes()
    if len(data) < 8 or data[4:8] != _FILE_IDENTIFIER:
        raise ValueError(f"tflite_path: {str(path)!r} is not a TFLite flatbuffer (no 'TFL3' identifier)")
    s = schema()
    try:
        model = s.ModelT.InitFromPackedBuf(data, 0)
    except Exception as e:  # a truncated or corrupt flatbuffer fails anywhere inside the bindings
        raise ValueError(f"tflite_path: cannot parse {str(path)!r}: {type(e).__name__}: {e}") from None
    if not model.subgraphs:
        raise ValueError(f"tflite_path: {str(path)!r} has no subgraph")
    if len(model.subgraphs) > 1:
        raise ValueError(f"tflite_path: {str(path)!r} has {len(model.subgraphs)} subgraphs; the converter handles "
                         "single-graph models (no control flow)")
    graph = model.subgraphs[0]
    type_names = {v: k for k, v in vars(s.TensorType).items() if not k.startswith("_")}
    builtin_names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    tensors = tuple(_tensor(k, t, model, data, type_names) for k, t in enumerate(graph.tensors or []))
    operators = tuple(_operator(k, op, model, builtin_names) for k, op in enumerate(graph.operators or []))
    return TFLiteGraph(str(path), tensors, operators, schema_ints(graph.inputs), schema_ints(graph.outputs))


def schema_ints(values: Any, keep_missing: bool = True) -> tuple[int, ...]:
    """A schema object's index list as ints (None: empty); ``keep_missing=False`` drops the -1
    that marks an omitted optional input."""
    if values is None:
        return ()
    return tuple(int(v) for v in values if keep_missing or int(v) >= 0)


def schema_text(raw: Any) -> str:
    """A schema object's string field (bytes) as str."""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")


def _tensor(index: int, t: Any, model: Any, file_bytes: bytes, type_names: dict[int, str]) -> Tensor:
    name = schema_text(t.name) or f"tensor_{index}"
    type_name = type_names.get(t.type, str(t.type))
    if type_name not in _DTYPES:
        raise ValueError(f"tensor {index} ({name!r}) has type {type_name}, which the converter does not handle")
    dtype = np.dtype(_DTYPES[type_name])
    shape = schema_ints(t.shape)
    raw = _buffer_bytes(model.buffers[t.buffer], file_bytes) if model.buffers and t.buffer < len(model.buffers) else b""
    data = None
    if raw:
        values = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)
        if t.sparsity is not None:
            data = densify(values, shape, t.sparsity)
        else:
            if values.size != int(np.prod(shape, dtype=np.int64)):
                raise ValueError(f"tensor {index} ({name!r}): buffer holds {values.size} values, shape {list(shape)} "
                                 f"needs {int(np.prod(shape))}")
            data = values.reshape(shape)
    scale = zero_point = None
    axis = 0
    q = t.quantization
    if q is not None and q.scale is not None and len(q.scale):
        scale = np.asarray(q.scale, np.float32)
        zero_point = np.asarray(q.zeroPoint if q.zeroPoint is not None else np.zeros(len(scale)), np.int64)
        axis = int(q.quantizedDimension)
    return Tensor(index, name, shape, dtype, data, scale, zero_point, axis, t.sparsity is not None)


def _buffer_bytes(buffer: Any, file_bytes: bytes) -> bytes:
    # Models over 2 GB keep buffers after the flatbuffer (offset/size); small ones inline.
    if buffer.offset and buffer.offset > 1:
        return file_bytes[buffer.offset:buffer.offset + buffer.size]
    return b"" if buffer.data is None else np.asarray(buffer.data, np.uint8).tobytes()


def operator_codes(data: bytes) -> tuple[frozenset[int], frozenset[bytes]]:
    """The builtin operators and custom operator names a TFLite file uses, read from its
    operator-code table without unpacking the graph; both empty if ``data`` is not a model
    LiteRT's schema can read (LiteRT itself will then say why)."""
    s = schema()
    try:
        model = s.Model.GetRootAs(data, 0)
        codes = [model.OperatorCodes(k) for k in range(model.OperatorCodesLength())]
        builtins = frozenset(max(c.BuiltinCode(), c.DeprecatedBuiltinCode()) for c in codes)
        customs = frozenset(c.CustomCode() for c in codes if c.CustomCode())
    except Exception:  # a corrupt flatbuffer fails anywhere inside the bindings
        return frozenset(), frozenset()
    return builtins, customs


def float_constant(model: Any, graph: Any, index: int, producers: dict) -> Optional[np.ndarray]:
    """The float32 value of a constant tensor of an unpacked graph (``ModelT``), or of a
    DEQUANTIZE of a float16 constant; None for anything else. ``producers``: tensor index ->
    the operator writing it."""
    s = schema()
    tensor = graph.tensors[index]
    op = producers.get(index)
    if op is not None:
        if builtin_code(model.operatorCodes[op.opcodeIndex]) != s.BuiltinOperator.DEQUANTIZE:
            return None
        stored = graph.tensors[int(op.inputs[0])]
        if stored.type != s.TensorType.FLOAT16 or producers.get(int(op.inputs[0])) is not None:
            return None
        raw = _constant_bytes(model, stored)
        return None if raw is None else np.frombuffer(raw, "<f2").astype(np.float32).reshape(tuple(stored.shape))
    if tensor.type != s.TensorType.FLOAT32:
        return None
    raw = _constant_bytes(model, tensor)
    return None if raw is None else np.frombuffer(raw, "<f4").astype(np.float32).reshape(tuple(tensor.shape))


def _constant_bytes(model: Any, tensor: Any) -> Optional[bytes]:
    buffer = model.buffers[tensor.buffer] if model.buffers and tensor.buffer < len(model.buffers) else None
    if buffer is None or buffer.data is None or (buffer.offset and buffer.offset > 1):
        return None  # no data, or stored past the flatbuffer (models over 2 GB): left alone
    return np.asarray(buffer.data, np.uint8).tobytes()


def builtin_code(code: Any) -> int:
    """The builtin operator of a schema ``OperatorCodeT``: builtins past 127 fill only
    ``builtinCode``, old files only ``deprecatedBuiltinCode``."""
    return max(int(code.builtinCode), int(code.deprecatedBuiltinCode))


def _operator(index: int, op: Any, model: Any, builtin_names: dict[int, str]) -> Operator:
    code = model.operatorCodes[op.opcodeIndex]
    builtin = builtin_code(code)
    name = builtin_names.get(builtin, f"BUILTIN_{builtin}")
    custom = name == "CUSTOM"
    if custom:
        name = schema_text(code.customCode) or "(unnamed custom op)"
    custom_options = b"" if op.customOptions is None else np.asarray(op.customOptions, np.uint8).tobytes()
    return Operator(index, name, custom, schema_ints(op.inputs), schema_ints(op.outputs), op.builtinOptions,
                    custom_options)
