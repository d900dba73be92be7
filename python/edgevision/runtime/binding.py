"""Zero-copy model runs: a pipeline writes its inputs into the runtime's own tensors and reads
the outputs where the runtime left them, with every view scoped to one call.

LiteRT refuses to invoke while any numpy view of its tensors is alive (a later allocation could
move them), so the views never leave :meth:`Binding.run`: ``fill`` gets the input views,
``read`` the output views, and each is released when its callback returns, even when it raises
(the finished frames of the traceback are cleared, so a caught exception cannot keep a view
alive either). Runtimes that cannot lend their memory take the copying path of
:meth:`Model.run` with the binding's own buffers: same callbacks, same numbers.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable, Optional, Sequence, TypeVar

import numpy as np

from .. import _native

__all__ = ["Binding"]

State = TypeVar("State")
Result = TypeVar("Result")


class Binding:
    """``model.bind(buffers)``: one caller's zero-copy access to ``model``. Create once, then per call
    ``result = binding.run(fill, read)``:

    * ``fill(inputs)`` writes every input in place (e.g. ``letterbox(..., out=inputs[0])``) and
      may return a value (e.g. the crop's transform), passed on to ``read``. ``inputs[k]`` has
      ``buffers[k]``'s shape and dtype: the runtime's own tensor when it lends it, else
      ``buffers[k]`` itself. A float32 buffer for a quantised input is quantised into the
      model's tensor after ``fill``.
    * ``read(outputs, state)`` turns the outputs (in output order; quantised ones dequantised
      to float32 unless ``dequantize=False``) into the result. The output arrays are valid only
      during ``read``: whatever it returns must be new arrays or the caller's own buffers.
      A view of them that outlives ``read`` raises RuntimeError at once (LiteRT could not run
      again while it lives).

    ``model.invoke_ms`` is the runtime's own compute time, as with ``Model.run``. Not
    thread-safe, like the model (one per thread).
    """

    def __init__(self, model: Any, buffers: Sequence[np.ndarray], *, dequantize: bool = True):
        if not isinstance(buffers, (list, tuple)) or len(buffers) != len(model.inputs):
            raise ValueError(f"buffers: expected a list of {len(model.inputs)} numpy arrays (one per model input), "
                             f"got {type(buffers).__name__}"
                             + (f" of {len(buffers)}" if isinstance(buffers, (list, tuple)) else ""))
        if not isinstance(dequantize, bool):
            raise TypeError(f"dequantize must be True or False, got {dequantize!r}")
        self.model = model
        self.buffers: tuple[np.ndarray, ...] = tuple(buffers)
        self.dequantize = dequantize
        self._shapes = []
        self._staged: list[Optional[tuple[float, int, str]]] = []  # float buffer -> quantised tensor
        for info, buffer in zip(model.inputs, self.buffers):
            self._staged.append(_check_buffer(info, buffer))
            self._shapes.append(buffer.shape)
        self._dequantized: list[Optional[np.ndarray]] = [None] * len(model.outputs)
        # Per frame only what applies (the common float model skips both loops).
        self._any_staged = any(staged is not None for staged in self._staged)
        self._quantized_outputs = tuple(k for k, info in enumerate(model.outputs) if info.quantized)

    def run(self, fill: Callable[[list[np.ndarray]], State], read: Callable[[list[np.ndarray], State], Result]) -> Result:
        """``read(outputs, fill(inputs))`` around one model run (see the class)."""
        model = self.model
        inputs = model._lend_inputs(self._shapes) if model.zero_copy else None
        if inputs is None:
            return self._run_copying(fill, read)
        if self._any_staged:
            targets = [view if staged is None else buffer
                       for view, buffer, staged in zip(inputs, self.buffers, self._staged)]
        else:
            targets = inputs
        try:
            state = fill(targets)
            if self._any_staged:
                for k, staged in enumerate(self._staged):
                    if staged is not None:
                        _native.quantize(self.buffers[k], *staged, inputs[k])
        except BaseException as error:
            _clear_finished_frames(error)
            raise
        finally:
            del inputs, targets
        if not model._lent_released():
            del state  # the likely culprit: the error must not keep it alive through this frame
            raise RuntimeError("fill() kept a view of the model's input tensors (it returned one, or stored it): "
                               "the runtime cannot run while such a view lives")
        model._invoke_in_place()
        outputs = model._lend_outputs()
        try:
            if self.dequantize and self._quantized_outputs:
                self._dequantize(outputs)
            result = read(outputs, state)
        except BaseException as error:
            _clear_finished_frames(error)
            raise
        finally:
            del outputs
        if not model._lent_released():
            del result, state
            raise RuntimeError("read() kept a view of the model's output tensors (it returned one, or stored it); "
                               "it must copy what it keeps: the runtime cannot run again while such a view lives")
        return result

    def _run_copying(self, fill, read):
        state = fill(list(self.buffers))
        return read(self.model.run(list(self.buffers), dequantize=self.dequantize), state)

    def _dequantize(self, outputs: list[np.ndarray]) -> None:
        for k in self._quantized_outputs:
            info = self.model.outputs[k]
            out = self._dequantized[k]
            if out is None or out.shape != outputs[k].shape:
                out = self._dequantized[k] = np.empty(outputs[k].shape, np.float32)
            outputs[k] = _native.dequantize(outputs[k], info.scale, info.zero_point, out)

    def __repr__(self) -> str:
        inputs = ", ".join(f"{b.dtype.name}{list(b.shape)}" for b in self.buffers)
        return f"<Binding of {self.model!r}: inputs {inputs}, zero_copy={self.model.zero_copy}>"


def _check_buffer(info, buffer: Any) -> Optional[tuple[float, int, str]]:
    """Checks one input buffer; (scale, zero point, dtype) when it is float32 for a quantised input."""
    if not isinstance(buffer, np.ndarray):
        raise TypeError(f"buffers: the buffer for input '{info.name}' must be a numpy.ndarray, got {type(buffer).__name__}")
    if not info.accepts_shape(buffer.shape):
        from .model import shape_text

        raise ValueError(f"buffers: input '{info.name}' has shape {shape_text(info.shape)}, its buffer "
                         f"{shape_text(buffer.shape)}")
    if not (buffer.flags.c_contiguous and buffer.flags.writeable):
        raise ValueError(f"buffers: the buffer for input '{info.name}' must be C-contiguous and writable")
    if buffer.dtype == info.dtype:
        return None
    if info.quantized and buffer.dtype == np.float32:
        return info.scale, info.zero_point, info.dtype.name
    raise TypeError(f"buffers: input '{info.name}' is {info.dtype.name}"
                    + (" (float32 buffers are quantised)" if info.quantized else "")
                    + f", its buffer {buffer.dtype.name}")


def _clear_finished_frames(error: BaseException) -> None:
    # The callbacks' frames (and the kernels' below them) stay referenced by the traceback, and
    # with them any view in their locals: a caller that keeps the exception (pytest.raises,
    # an interactive session) would otherwise block every later run. Running frames are skipped.
    traceback.clear_frames(error.__traceback__)
