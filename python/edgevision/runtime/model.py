"""The interface every runtime backend implements: tensor descriptions and ``Model.run``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from .. import _native
from .binding import Binding

Inputs = Union[Sequence[np.ndarray], Mapping[str, np.ndarray], np.ndarray]

_QUANTIZED_TYPES = (np.dtype(np.uint8), np.dtype(np.int8))


@dataclass(frozen=True)
class TensorInfo:
    """One model input or output.

    ``shape`` has ``None`` for a dimension the model leaves open (ONNX symbolic or LiteRT
    ``-1``). ``scale``/``zero_point`` are set for per-tensor quantised tensors:
    ``real = scale * (q - zero_point)``.
    """

    name: str
    shape: tuple[Optional[int], ...]
    dtype: np.dtype
    scale: Optional[float] = None
    zero_point: Optional[int] = None

    @property
    def quantized(self) -> bool:
        return self.scale is not None and self.dtype in _QUANTIZED_TYPES

    def takes_raw_pixels(self, value_range: tuple[float, float]) -> bool:
        """True if this quantised uint8 input maps pixel value p to exactly the real value the
        model expects for ``value_range``: ``scale * (p - zero_point) == lo + p * (hi - lo) / 255``.
        A pipeline can then write uint8 pixels straight into it (e.g. ``letterbox(dtype="uint8")``)
        and skip the float tensor and the quantise step."""
        if not self.quantized or self.dtype != np.uint8:
            return False
        lo, hi = value_range
        step = (hi - lo) / 255
        return bool(np.isclose(self.scale, step, rtol=1e-6, atol=0) and self.zero_point == round(-lo / step)
                    and abs(self.zero_point * step + lo) <= 1e-6 * max(1.0, abs(lo)))

    def accepts_shape(self, shape: tuple[int, ...]) -> bool:
        return len(shape) == len(self.shape) and all(
            want is None or want == got for want, got in zip(self.shape, shape)
        )

    def __str__(self) -> str:
        dims = ", ".join("?" if d is None else str(d) for d in self.shape)
        text = f"{self.name}: [{dims}] {self.dtype.name}"
        if self.quantized:
            text += f" (scale {self.scale:.6g}, zero point {self.zero_point})"
        return text


def shape_text(shape: Sequence[Any]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


@dataclass
class _InputSlot:
    """Per-input state prepared at load: the checks ``run`` makes and a reusable buffer."""

    info: TensorInfo
    buffer: Optional[np.ndarray] = None  # quantised copy of a float input, reused between calls
    static: bool = field(init=False)

    def __post_init__(self) -> None:
        self.static = None not in self.info.shape


class Model:
    """A loaded model on one runtime and device. Create with :func:`edgevision.runtime.load`.

    ``run`` takes the inputs as a list in input order, a dict by input name, or a single
    array for a one-input model. Arrays must have the model's shape and dtype (no silent
    casts). A quantised (uint8/int8) input also accepts float32, quantised with the tensor's
    own scale and zero point by the native kernel; quantised outputs are returned
    dequantised to float32 unless ``run(..., dequantize=False)``. Outputs are new arrays,
    in output order.

    ``bind(buffers)`` gives a :class:`Binding` for pipelines that want no copies: inputs
    written straight into the runtime's tensors, outputs read where the runtime left them
    (LiteRT; ``zero_copy`` is then True). Other runtimes, or ``zero_copy = False``, run the
    same callbacks through ``run``'s copies.
    """

    runtime: str = ""
    zero_copy: bool = False  # bindings lend the runtime's own tensors (set False to force the copying path)

    def __init__(self, path: os.PathLike | str, device: str, inputs: list[TensorInfo], outputs: list[TensorInfo]):
        self.path = os.fspath(path)
        self.edited_path: Optional[str] = None  # the edited copy the runtime loaded (runtime.edits), if any
        self.device = device
        self.inputs: tuple[TensorInfo, ...] = tuple(inputs)
        self.outputs: tuple[TensorInfo, ...] = tuple(outputs)
        self.card = None  # the zoo card, when loaded by name
        self.native_heads: dict = {}  # output name -> the kernel finishing it (runtime.load(native_heads=))
        self.native_head_skips: dict = {}  # output name -> the outputs holding its skip maps
        self.invoke_ms = 0.0  # the runtime's own compute time in the last run (no copies in or out)
        self._slots = [_InputSlot(info) for info in self.inputs]
        self._index = {info.name: k for k, info in enumerate(self.inputs)}
        for out in self.outputs:
            _check_quantization(out)
        for info in self.inputs:
            _check_quantization(info)

    # -- backends implement these --------------------------------------------------------

    def _invoke(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Run with arrays of exactly the model's dtypes and accepted shapes; outputs in order."""
        raise NotImplementedError

    # Zero-copy backends (see Binding) also implement these four.

    def _lend_inputs(self, shapes: Sequence[tuple[int, ...]]) -> Optional[list[np.ndarray]]:
        """Writable views of the input tensors (resized to ``shapes`` first), or None to copy."""
        return None

    def _invoke_in_place(self) -> None:
        """Run on what the lent input views hold; sets ``invoke_ms``."""
        raise NotImplementedError

    def _lend_outputs(self) -> list[np.ndarray]:
        """The output tensors as views (valid until the views are released), in output order."""
        raise NotImplementedError

    def _lent_released(self) -> bool:
        """False while a view of the runtime's tensors is still referenced."""
        return True

    # -- the common path -------------------------------------------------------------------

    def run(self, inputs: Inputs, *, dequantize: bool = True) -> list[np.ndarray]:
        """Outputs (new arrays, in output order) for ``inputs`` (list in input order, dict by name,
        or one array). Raises TypeError/ValueError naming the input for a wrong type, dtype or shape."""
        arrays = self._prepare(inputs)
        outputs = self._invoke(arrays)
        if dequantize:
            for k, info in enumerate(self.outputs):
                if info.quantized:
                    outputs[k] = _native.dequantize(outputs[k], info.scale, info.zero_point, None)
        return outputs

    __call__ = run

    def bind(self, buffers: Sequence[np.ndarray], *, dequantize: bool = True) -> Binding:
        """A :class:`Binding` for zero-copy runs: ``buffers`` has one array per input, of the shape
        and dtype the caller writes (the model's, or float32 for a quantised input); they are
        used when the runtime cannot lend its own tensors."""
        return Binding(self, buffers, dequantize=dequantize)

    def _prepare(self, inputs: Inputs) -> list[np.ndarray]:
        slots = self._slots
        if isinstance(inputs, np.ndarray):
            if len(slots) != 1:
                raise TypeError(f"inputs: this model has {len(slots)} inputs ({self._describe_inputs()}); "
                                "pass a list in that order or a dict by name")
            given: Sequence[Any] = (inputs,)
        elif isinstance(inputs, Mapping):
            given = self._from_mapping(inputs)
        elif isinstance(inputs, (list, tuple)):
            if len(inputs) != len(slots):
                raise ValueError(f"inputs: expected {len(slots)} arrays ({self._describe_inputs()}), got {len(inputs)}")
            given = inputs
        else:
            raise TypeError("inputs must be a list of numpy arrays in input order, a dict by input name, or one "
                            f"array, got {type(inputs).__name__}")
        return [self._convert(slot, array) for slot, array in zip(slots, given)]

    def _from_mapping(self, inputs: Mapping[str, Any]) -> list[Any]:
        unknown = [name for name in inputs if name not in self._index]
        if unknown:
            raise ValueError(f"inputs: unknown input name(s) {unknown}; the model's inputs are {self._describe_inputs()}")
        missing = [info.name for info in self.inputs if info.name not in inputs]
        if missing:
            raise ValueError(f"inputs: missing {missing}; the model's inputs are {self._describe_inputs()}")
        return [inputs[info.name] for info in self.inputs]

    def _convert(self, slot: _InputSlot, array: Any) -> np.ndarray:
        info = slot.info
        if not isinstance(array, np.ndarray):
            raise TypeError(f"input '{info.name}' must be a numpy.ndarray, got {type(array).__name__}")
        if not (array.shape == info.shape if slot.static else info.accepts_shape(array.shape)):
            raise ValueError(f"input '{info.name}' must have shape {shape_text(info.shape)}, got "
                             f"{shape_text(array.shape)}")
        if array.dtype == info.dtype:
            return array
        if info.quantized and array.dtype == np.float32:
            buffer = slot.buffer
            if buffer is None or buffer.shape != array.shape:
                buffer = slot.buffer = np.empty(array.shape, info.dtype)
            return _native.quantize(array, info.scale, info.zero_point, info.dtype.name, buffer)
        accepted = info.dtype.name + (" or float32 (quantised with the tensor's scale and zero point)"
                                      if info.quantized else "")
        raise TypeError(f"input '{info.name}' must have dtype {accepted}, got {array.dtype.name}")

    def _describe_inputs(self) -> str:
        return ", ".join(repr(info.name) for info in self.inputs)

    def __repr__(self) -> str:
        ins = "; ".join(str(i) for i in self.inputs)
        outs = "; ".join(str(o) for o in self.outputs)
        return (f"<{type(self).__name__} {os.path.basename(self.path)!r} on {self.runtime}/{self.device}: "
                f"inputs {ins} -> outputs {outs}>")


def _check_quantization(info: TensorInfo) -> None:
    if info.scale is not None and not (np.isfinite(info.scale) and info.scale > 0):
        raise ValueError(f"tensor '{info.name}' has an invalid quantisation scale {info.scale}")


def quantization_of(dtype: np.dtype, scale: float, zero_point: int) -> tuple[Optional[float], Optional[int]]:
    """(scale, zero_point) for an 8-bit tensor with a usable per-tensor scale, else (None, None)."""
    if np.dtype(dtype) in _QUANTIZED_TYPES and scale and scale > 0:
        return float(np.float32(scale)), int(zero_point)
    return None, None
