"""LiteRT (``ai-edge-litert``; ``tflite_runtime`` as a fallback) behind :class:`Model`."""

from __future__ import annotations

import os
import time
from typing import Any, Mapping, Optional

import numpy as np

from .errors import RuntimeNotInstalledError
from .model import Model, TensorInfo, quantization_of

# Options this backend reads from ``load(..., options=...)``.
OPTION_KEYS = ("xnnpack", "xnnpack_rewrites", "delegate_options")

# The QNN TFLite delegate picks its backend with this option.
_QNN_BACKEND_TYPES = {"qnn-htp": "htp", "qnn-gpu": "gpu", "qnn-dsp": "dsp"}


def interpreter_module() -> Any:
    """``ai_edge_litert.interpreter``, else ``tflite_runtime.interpreter``."""
    try:
        from ai_edge_litert import interpreter

        return interpreter
    except ImportError as litert_error:
        try:
            # tflite-runtime 2.14 (its last release) cannot even import under numpy 2.
            from tflite_runtime import interpreter  # type: ignore[import-not-found]

            return interpreter
        except Exception:
            raise RuntimeNotInstalledError("LiteRT", "litert", "ai-edge-litert") from litert_error


class LiteRTModel(Model):
    runtime = "litert"

    def __init__(
        self,
        path: os.PathLike | str,
        *,
        device: str = "cpu",
        threads: Optional[int] = None,
        delegate: Any = None,
        options: Optional[Mapping[str, Any]] = None,
    ):
        options = dict(options or {})
        unknown = sorted(set(options) - set(OPTION_KEYS))
        if unknown:
            raise ValueError(f"options: unknown LiteRT option(s) {unknown}; expected keys from {list(OPTION_KEYS)}")
        module = interpreter_module()
        delegates = self._delegates(module, device, delegate, options)
        resolver = module.OpResolverType.AUTO
        if not options.get("xnnpack", True):
            resolver = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        try:
            interpreter = module.Interpreter(
                model_path=os.fspath(path),
                num_threads=threads,
                experimental_delegates=delegates or None,
                experimental_op_resolver_type=resolver,
            )
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ValueError(f"model: LiteRT cannot load {os.fspath(path)!r} as a TFLite model: {e}") from None
        self._interpreter = interpreter
        self._delegate_objects = delegates  # the interpreter needs them alive
        details_in = interpreter.get_input_details()
        self._in_index = [d["index"] for d in details_in]
        self._out_index = [d["index"] for d in interpreter.get_output_details()]
        super().__init__(path, device, [_info(d) for d in details_in],
                         [_info(d) for d in interpreter.get_output_details()])
        self._resizable = [any(s < 0 for s in d["shape_signature"]) for d in details_in]
        self._current_shapes = [tuple(int(s) for s in d["shape"]) for d in details_in]
        self.threads = threads
        self.xnnpack = bool(options.get("xnnpack", True)) and not delegates
        # Zero-copy access (Binding): functions returning a fresh view of each tensor. Holding
        # them is safe; holding their views blocks invoke() (see _lent_released).
        self._input_tensors = [interpreter.tensor(index) for index in self._in_index]
        self._output_tensors = [interpreter.tensor(index) for index in self._out_index]
        self.zero_copy = True

    @staticmethod
    def _delegates(module: Any, device: str, delegate: Any, options: Mapping[str, Any]) -> list:
        if delegate is None:
            if device != "cpu":
                raise ValueError(
                    f"device: LiteRT runs '{device}' through an external delegate; pass "
                    "delegate='/path/to/libQnnTFLiteDelegate.so' (or another delegate library), or use "
                    "runtime='onnxruntime' for the QNN execution provider")
            return []
        if isinstance(delegate, (str, os.PathLike)):
            delegate_options = {str(k): str(v) for k, v in dict(options.get("delegate_options") or {}).items()}
            if device in _QNN_BACKEND_TYPES:
                delegate_options.setdefault("backend_type", _QNN_BACKEND_TYPES[device])
            if os.sep in os.fspath(delegate) and not os.path.isfile(delegate):
                raise ValueError(f"delegate: cannot load the LiteRT delegate {os.fspath(delegate)!r}: no such file")
            try:
                return [module.load_delegate(os.fspath(delegate), delegate_options)]
            except (ValueError, OSError) as e:
                raise ValueError(f"delegate: cannot load the LiteRT delegate {os.fspath(delegate)!r}: {e}") from None
        if isinstance(delegate, (list, tuple)):
            return list(delegate)
        return [delegate]  # an already loaded Delegate object

    def _invoke(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        interpreter = self._interpreter
        for k, array in enumerate(arrays):
            if self._resizable[k] and array.shape != self._current_shapes[k]:
                self._resize(k, array.shape)
            interpreter.set_tensor(self._in_index[k], array)
        start = time.perf_counter()
        interpreter.invoke()
        self.invoke_ms = (time.perf_counter() - start) * 1e3
        return [interpreter.get_tensor(index) for index in self._out_index]

    def _lend_inputs(self, shapes):
        if not self._lent_released():
            raise RuntimeError("LiteRT: a numpy view of this model's tensors (interpreter.tensor()) is still "
                               "referenced; the interpreter cannot run until it is released")
        for k, shape in enumerate(shapes):
            if self._resizable[k] and shape != self._current_shapes[k]:
                self._resize(k, shape)
        try:
            views = [tensor() for tensor in self._input_tensors]
        except ValueError:  # no CPU buffer behind a tensor (a delegate owns it): copy from now on
            self.zero_copy = False
            return None
        if any(view.shape != shape for view, shape in zip(views, shapes)):
            return None
        return views

    def _invoke_in_place(self) -> None:
        start = time.perf_counter()
        self._interpreter.invoke()
        self.invoke_ms = (time.perf_counter() - start) * 1e3

    def _lend_outputs(self):
        try:
            return [tensor() for tensor in self._output_tensors]
        except ValueError:
            self.zero_copy = False
            return [self._interpreter.get_tensor(index) for index in self._out_index]

    def _lent_released(self) -> bool:
        # LiteRT's own test before invoke/allocate: its views keep a reference to its wrapper.
        # Were it gone from some LiteRT version, invoke() would still refuse, less clearly.
        safe = getattr(self._interpreter, "_safe_to_run", None)
        return safe() if safe is not None else True

    def _resize(self, k: int, shape: tuple[int, ...]) -> None:
        self._interpreter.resize_tensor_input(self._in_index[k], list(shape), strict=True)
        self._interpreter.allocate_tensors()
        self._current_shapes[k] = tuple(shape)


def _info(detail: Mapping[str, Any]) -> TensorInfo:
    dtype = np.dtype(detail["dtype"])
    signature = detail.get("shape_signature", detail["shape"])
    shape = tuple(None if int(s) < 0 else int(s) for s in signature)
    params = detail.get("quantization_parameters") or {}
    scales = np.asarray(params.get("scales", []))
    zero_points = np.asarray(params.get("zero_points", []))
    scale, zero_point = None, None
    if scales.size == 1:  # per-axis I/O quantisation is left to the caller
        scale, zero_point = quantization_of(dtype, float(scales[0]), int(zero_points[0]) if zero_points.size else 0)
    elif scales.size == 0 and detail.get("quantization"):
        scale, zero_point = quantization_of(dtype, *detail["quantization"])
    return TensorInfo(str(detail["name"]), shape, dtype, scale, zero_point)
