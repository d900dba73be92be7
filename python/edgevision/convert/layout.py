"""Where each TFLite tensor lives in the ONNX graph, and in which layout: NHWC as in TFLite
(``NATIVE``) or channels-first (``NCHW``, 4-D tensors only).

TFLite graphs are NHWC; ONNX convolutions, pools and resizes are NCHW. Rather than wrapping
every such op in a pair of transposes, each tensor is kept in the layout its producer wrote and
converted on first demand, once (the converted copy is reused by every later consumer). So a
chain of NCHW ops runs with no transposes between them, a transpose appears only where the model
itself needs NHWC order (its RESHAPEs to detection heads, the graph interface), and one that moves
only size-1 dimensions is a Reshape. Constants never get a Transpose node: they are stored
already permuted (folded at conversion).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .flatbuffer import TFLiteGraph
from .graph import OnnxGraph

NATIVE = "native"
NCHW = "nchw"
TO_NCHW = (0, 3, 1, 2)
TO_NHWC = (0, 2, 3, 1)


def permute_shape(shape: Sequence[int], layout: str) -> tuple[int, ...]:
    """``shape`` (TFLite, NHWC) as stored in ``layout``."""
    return tuple(shape[p] for p in TO_NCHW) if layout == NCHW else tuple(shape)


def axis_in(axis: int, rank: int, layout: str) -> int:
    """TFLite axis ``axis`` of a rank-``rank`` tensor, in ``layout``'s axis numbering."""
    axis = axis + rank if axis < 0 else axis
    return TO_NCHW.index(axis) if layout == NCHW else axis


def only_unit_dims_move(shape: Sequence[int], perm: Sequence[int]) -> bool:
    """True if transposing ``shape`` by ``perm`` keeps the order of its non-1 dimensions, so the
    data does not move and a Reshape does the job."""
    moved = [p for p in perm if shape[p] != 1]
    return moved == sorted(moved)


class Values:
    """TFLite tensor index -> ONNX value name per layout, with lazy, cached conversion."""

    def __init__(self, tflite: TFLiteGraph, onnx: OnnxGraph, io_layout: str):
        self.tflite = tflite
        self.onnx = onnx
        self.io_layout = io_layout
        self.constants: dict[int, np.ndarray] = {t.index: t.data for t in tflite.tensors if t.data is not None}
        self._stored: dict[int, dict[str, str]] = {}
        self._io_names: dict[tuple[int, str], str] = {}
        for index in (*tflite.inputs, *tflite.outputs):
            self._io_names[(index, self.interface_layout(index))] = tflite.tensors[index].name

    # ------------------------------------------------------------------ the graph interface

    def interface_layout(self, index: int) -> str:
        """Layout of a graph input/output: the requested one for images (rank 4), else native."""
        return self.io_layout if self.rank(index) == 4 else NATIVE

    def shape(self, index: int) -> tuple[int, ...]:
        return self.tflite.tensors[index].shape

    def rank(self, index: int) -> int:
        return len(self.shape(index))

    def tensor_name(self, index: int) -> str:
        return self.tflite.tensors[index].name

    # --------------------------------------------------------------------------- constants

    def is_constant(self, index: int) -> bool:
        return index in self.constants

    def constant(self, index: int) -> np.ndarray:
        return self.constants[index]

    def set_constant(self, index: int, array: np.ndarray) -> None:
        """Record ``index`` as a constant computed at conversion (DEQUANTIZE, DENSIFY)."""
        self.constants[index] = array

    # ------------------------------------------------------------------------------ values

    def layouts(self, index: int) -> tuple[str, ...]:
        """Layouts ``index`` is already available in (constants: any)."""
        if self.is_constant(index):
            return (NATIVE, NCHW) if self.rank(index) <= 4 else (NATIVE,)
        return tuple(self._stored.get(index, {}))

    def define(self, index: int, layout: str) -> str:
        """The name an op writes tensor ``index`` to, stored in ``layout``."""
        name = self._name(index, layout)
        self._stored.setdefault(index, {})[layout] = name
        return name

    def get(self, index: int, layout: str) -> str:
        """The ONNX value holding tensor ``index`` in ``layout``, converting (once) if needed."""
        stored = self._stored.get(index, {})
        if layout in stored:
            return stored[layout]
        if self.is_constant(index):
            array = self.constant(index)
            if layout == NCHW:
                array = np.transpose(array.reshape((1,) * (4 - array.ndim) + array.shape), TO_NCHW)
            name = self.onnx.initializer(array, self._name(index, layout, constant=True))
            self._stored.setdefault(index, {})[layout] = name
            return name
        if not stored:
            raise KeyError(f"tensor {index} ({self.tensor_name(index)!r}) is used before any operator writes it")
        source_layout, source = next(iter(stored.items()))
        shape = self.shape(index)
        target = self.define(index, layout)
        if layout == NCHW and len(shape) < 4:  # a lower-rank operand broadcast against NCHW tensors
            padded = (1,) * (4 - len(shape)) + tuple(shape)
            if not only_unit_dims_move(padded, TO_NCHW):
                shape_name = self.onnx.initializer(np.array(padded, np.int64), f"{target}/rank4")
                source = self.onnx.node("Reshape", [source, shape_name], name=f"{target}/rank4")[0]
            self._convert(source, target, padded, TO_NCHW)
        elif layout == NCHW:
            self._convert(source, target, shape, TO_NCHW)
        else:
            self._convert(source, target, permute_shape(shape, NCHW), TO_NHWC)
        return target

    def _convert(self, source: str, target: str, source_shape: Sequence[int], perm: Sequence[int]) -> None:
        if only_unit_dims_move(source_shape, perm):
            shape = np.array([source_shape[p] for p in perm], np.int64)
            self.onnx.node("Reshape", [source, self.onnx.initializer(shape, f"{target}/shape")], [target],
                           name=target)
        else:
            self.onnx.node("Transpose", [source], [target], name=target, perm=list(perm))

    def preferred_layout(self, indices: Sequence[int], output: int) -> str:
        """NCHW if the output is 4-D and some non-constant 4-D input already is NCHW, else native."""
        if self.rank(output) != 4:
            return NATIVE
        for index in indices:
            if index >= 0 and not self.is_constant(index) and self.rank(index) == 4 and NCHW in self.layouts(index):
                return NCHW
        return NATIVE

    def _name(self, index: int, layout: str, constant: bool = False) -> str:
        io_name = self._io_names.get((index, layout))
        if io_name is not None and not constant:
            return io_name
        base = self.tensor_name(index) + ("" if layout == NATIVE else "__nchw")
        return self.onnx.unique(base)

    def stored_name(self, index: int, layout: str) -> Optional[str]:
        return self._stored.get(index, {}).get(layout)
