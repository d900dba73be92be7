"""``tflite_to_onnx``: a TFLite flatbuffer in, an ONNX model (opset 17) out."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from ..models.cache_files import file_sha256
from .flatbuffer import TFLiteGraph, read_tflite
from .layout import NATIVE, NCHW, Values, permute_shape
from .ops import CHANNELS_FIRST, translator

OPSET = 17
IR_VERSION = 8  # the IR of opset 17: loadable by any ONNX Runtime that runs opset 17
# Bump when the ONNX written for the same .tflite changes: cached conversions are redone.
CONVERTER_VERSION = "2"
LAYOUTS = ("nhwc", "nchw")

# metadata_props keys written into every converted model
META_CONVERTER = "edgevision.converter"
META_SOURCE = "edgevision.source"
META_SOURCE_SHA256 = "edgevision.source_sha256"
META_LAYOUT = "edgevision.layout"

_ONNX_TYPES = {"float32": 1, "uint8": 2, "int8": 3, "uint16": 4, "int16": 5, "int32": 6, "int64": 7, "bool": 9,
               "float16": 10, "float64": 11, "uint32": 12, "uint64": 13}


def tflite_to_onnx(tflite_path: os.PathLike | str, onnx_path: Optional[os.PathLike | str] = None, *,
                   layout: str = "nhwc") -> Any:
    """Convert a ``.tflite`` model to ONNX; returns the ``onnx.ModelProto`` (and saves it to
    ``onnx_path`` if given).

    ``layout="nhwc"`` keeps TFLite's image interface (same tensor names and shapes, so the
    model card still describes it); ``"nchw"`` makes 4-D inputs and outputs channels-first
    (AI Hub style). Inside, the graph is NCHW with no layout ping-pong (see :mod:`.layout`).
    Raises :class:`UnsupportedOperatorError` naming the first operator (and its index) without
    a translation; nothing falls back.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")
    onnx_module()
    graph = read_tflite(tflite_path)
    for op in graph.operators:  # every op checked before any work: the error names the first gap
        translator(op)
    model = _build(graph, NCHW if layout == "nchw" else NATIVE)
    import onnx

    model.metadata_props.extend([
        onnx.StringStringEntryProto(key=META_CONVERTER, value=CONVERTER_VERSION),
        onnx.StringStringEntryProto(key=META_SOURCE, value=Path(tflite_path).name),
        onnx.StringStringEntryProto(key=META_SOURCE_SHA256, value=file_sha256(tflite_path)),
        onnx.StringStringEntryProto(key=META_LAYOUT, value=layout),
    ])
    onnx.checker.check_model(model)
    if onnx_path is not None:
        Path(onnx_path).parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, os.fspath(onnx_path))
    return model


def _build(graph: TFLiteGraph, io_layout: str) -> Any:
    from onnx import helper

    from .graph import OnnxGraph

    io_names = [graph.tensors[i].name for i in (*graph.inputs, *graph.outputs)]
    if len(set(io_names)) != len(io_names):
        raise ValueError(f"the model's inputs and outputs must have distinct names, got {io_names}")
    onnx_graph = OnnxGraph(reserved=io_names)
    values = Values(graph, onnx_graph, io_layout)

    def value_info(index: int) -> Any:
        tensor = graph.tensors[index]
        if tensor.dtype.name not in _ONNX_TYPES:
            raise ValueError(f"graph input/output {tensor.name!r} has type {tensor.dtype}, not expressible in ONNX")
        shape = permute_shape(tensor.shape, values.interface_layout(index))
        return helper.make_tensor_value_info(tensor.name, _ONNX_TYPES[tensor.dtype.name], list(shape))

    channels_first = any(op.name in CHANNELS_FIRST for op in graph.operators)
    for index in graph.inputs:
        values.define(index, values.interface_layout(index))
        if channels_first and values.rank(index) == 4:
            values.get(index, NCHW)  # transpose an NHWC image once, at the door (ops before the first conv follow)
    for op in graph.operators:
        translator(op)(values, op)
    for index in graph.outputs:
        name = values.get(index, values.interface_layout(index))
        if name != graph.tensors[index].name:
            raise ValueError(f"output {graph.tensors[index].name!r} is also a graph input or a constant, which the "
                             "converter does not handle")
    onnx_graph.merge_reshape_chains(keep=set(io_names))
    onnx = helper.make_graph(onnx_graph.nodes, Path(graph.path).stem,
                             [value_info(i) for i in graph.inputs], [value_info(i) for i in graph.outputs],
                             onnx_graph.initializers)
    from .. import __version__

    model = helper.make_model(onnx, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="edgevision",
                              producer_version=__version__)
    model.ir_version = IR_VERSION
    return model


def onnx_module() -> Any:
    try:
        import onnx
    except ImportError as e:
        from ..runtime.errors import RuntimeNotInstalledError

        raise RuntimeNotInstalledError("The onnx package (the converter writes ONNX with it)", "onnx", "onnx") from e
    return onnx


def metadata(model_or_path: Any) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX model (a path or a ModelProto) as a dict."""
    import onnx

    model = model_or_path
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(os.fspath(model_or_path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}
