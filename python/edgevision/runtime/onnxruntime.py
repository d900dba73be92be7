"""ONNX Runtime behind :class:`Model`: the CPU provider, or QNN through :mod:`.qnn`."""

from __future__ import annotations

import os
import time
from typing import Any, Mapping, Optional

import numpy as np

from . import qnn
from .errors import RuntimeNotInstalledError
from .model import Model, TensorInfo, quantization_of

OPTION_KEYS = ("provider_options", "session_config", "context_cache", "graph_optimization_level")
DEVICES = ("cpu", *qnn.BACKENDS)

_ONNX_TYPES = {
    "tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8, "tensor(int8)": np.int8, "tensor(uint16)": np.uint16, "tensor(int16)": np.int16,
    "tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(bool)": np.bool_,
}
# ORT's own errors for a file that is not a usable ONNX model (other failures are runtime errors).
_BAD_MODEL_ERRORS = ("InvalidProtobuf", "InvalidArgument", "NoSuchFile", "InvalidGraph", "NotImplemented")


def ort_module() -> Any:
    try:
        import onnxruntime

        return onnxruntime
    except ImportError as e:
        raise RuntimeNotInstalledError("ONNX Runtime", "onnx", "onnxruntime") from e


class OnnxRuntimeModel(Model):
    """An ``onnxruntime.InferenceSession``. ``placement`` lists the nodes each execution provider
    runs (``{"QNNExecutionProvider": [(name, op_type), ...], ...}``) when ORT can report it."""

    runtime = "onnxruntime"

    def __init__(
        self,
        path: os.PathLike | str,
        *,
        device: str = "cpu",
        threads: Optional[int] = None,
        options: Optional[Mapping[str, Any]] = None,
        strict: bool = False,
    ):
        options = dict(options or {})
        unknown = sorted(set(options) - set(OPTION_KEYS))
        if unknown:
            raise ValueError(f"options: unknown ONNX Runtime option(s) {unknown}; expected keys from "
                             f"{list(OPTION_KEYS)}")
        if device not in DEVICES:
            raise ValueError(f"device must be one of {list(DEVICES)} for ONNX Runtime, got {device!r}")
        for key in ("context_cache", "provider_options"):
            if options.get(key) and device == "cpu":
                raise ValueError(f"options: {key!r} applies to the QNN devices only")
        ort = ort_module()
        path = os.fspath(path)
        provider_options = (qnn.provider_options(device, dict(options.get("provider_options") or {}), strict)
                            if device != "cpu" else {})

        def make_session(model_path: str, extra_config: Mapping[str, str]) -> Any:
            session_options = ort.SessionOptions()
            session_options.log_severity_level = 3
            if threads is not None:
                session_options.intra_op_num_threads = threads
            if "graph_optimization_level" in options:
                session_options.graph_optimization_level = _optimization_level(ort, options["graph_optimization_level"])
            for key, value in {**dict(options.get("session_config") or {}), **extra_config}.items():
                session_options.add_session_config_entry(str(key), str(value))
            providers: Optional[list] = ["CPUExecutionProvider"]
            if device != "cpu":
                qnn.record_placement(session_options)
                providers = qnn.add_provider(ort, session_options, device, provider_options)
            return _create_session(ort, model_path, session_options, providers)

        cache = options.get("context_cache")
        self.context_path: Optional[str] = None  # the compiled QNN context, with options["context_cache"]
        if cache:
            context = qnn.context_cache_path(path, device, provider_options, cache)
            self.context_path = str(context)
            session = qnn.cached_session(make_session, path, context)
        else:
            session = make_session(path, {})
        self.placement = qnn.placement(session) if device != "cpu" else None
        if device != "cpu":
            qnn.check_placement(self.placement, path, device, strict)
        self._session = session
        self._input_names = [node.name for node in session.get_inputs()]
        quant = _io_quantization(path, session) if _has_8bit_io(session) else {}
        super().__init__(path, device, [_info(node, quant) for node in session.get_inputs()],
                         [_info(node, quant) for node in session.get_outputs()])
        self.threads = threads

    def _invoke(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        feeds = dict(zip(self._input_names, arrays))
        start = time.perf_counter()
        outputs = self._session.run(None, feeds)
        self.invoke_ms = (time.perf_counter() - start) * 1e3
        return outputs


_OPTIMIZATION_LEVELS = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
                        "all": "ORT_ENABLE_ALL"}


def _optimization_level(ort: Any, level: Any) -> Any:
    if isinstance(level, ort.GraphOptimizationLevel):
        return level
    if level not in _OPTIMIZATION_LEVELS:
        raise ValueError(f"options: graph_optimization_level must be one of {list(_OPTIMIZATION_LEVELS)} or an "
                         f"onnxruntime.GraphOptimizationLevel, got {level!r}")
    return getattr(ort.GraphOptimizationLevel, _OPTIMIZATION_LEVELS[level])


def _create_session(ort: Any, path: str, session_options: Any, providers: Optional[list]) -> Any:
    try:
        if providers is None:
            return ort.InferenceSession(path, sess_options=session_options)
        return ort.InferenceSession(path, sess_options=session_options, providers=providers)
    except Exception as e:
        if type(e).__name__ in _BAD_MODEL_ERRORS:
            raise ValueError(f"model: ONNX Runtime cannot load {path!r} as an ONNX model: {e}") from None
        raise RuntimeError(f"ONNX Runtime failed to create a session for {path!r}: {e}") from None


def _has_8bit_io(session: Any) -> bool:
    return any(node.type in ("tensor(uint8)", "tensor(int8)") for node in [*session.get_inputs(), *session.get_outputs()])


def _io_quantization(path: str, session: Any) -> dict[str, tuple[float, int]]:
    """Per-tensor (scale, zero point) of 8-bit graph inputs/outputs, read from the Q/DQ node next
    to each: the DequantizeLinear that consumes an input, the QuantizeLinear that makes an output."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        return {}  # without the onnx package, 8-bit I/O is passed through raw
    model = onnx.load(path, load_external_data=False)
    graph = model.graph
    constants = {init.name: init for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute:
            constants[node.output[0]] = node.attribute[0].t
    io_names = {node.name for node in session.get_inputs()} | {node.name for node in session.get_outputs()}
    result: dict[str, tuple[float, int]] = {}
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0] in io_names:
            name = node.input[0]
        elif node.op_type == "QuantizeLinear" and node.output[0] in io_names:
            name = node.output[0]
        else:
            continue
        scale_tensor = constants.get(node.input[1])
        zero_tensor = constants.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if scale_tensor is None:
            continue
        scale = numpy_helper.to_array(scale_tensor)
        zero = numpy_helper.to_array(zero_tensor) if zero_tensor is not None else np.zeros(1, np.int64)
        if scale.size == 1 and zero.size == 1:  # per-axis I/O quantisation is left to the caller
            result[name] = (float(scale.reshape(-1)[0]), int(zero.reshape(-1)[0]))
    return result


def _info(node: Any, quant: Mapping[str, tuple[float, int]]) -> TensorInfo:
    if node.type not in _ONNX_TYPES:
        raise ValueError(f"tensor '{node.name}' has type {node.type}, which edgevision does not handle")
    dtype = np.dtype(_ONNX_TYPES[node.type])
    shape = tuple(d if isinstance(d, int) and d >= 0 else None for d in node.shape)
    scale, zero_point = quantization_of(dtype, *quant[node.name]) if node.name in quant else (None, None)
    return TensorInfo(node.name, shape, dtype, scale, zero_point)
