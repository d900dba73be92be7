"""Checks shared by the pipelines: frames in, stage timings out."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from .. import kernels

__all__ = ["check_frame", "StageTimings", "InputTensor", "ModelPipeline", "HelperWake"]


def check_frame(frame, name: str = "frame") -> tuple[int, int]:
    """``(height, width)`` of an ``H x W x 3`` (or 4) uint8 image, or a clear TypeError/ValueError."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray (H x W x 3 uint8), got {type(frame).__name__}")
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        grey = frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1)
        raise ValueError(f"{name} must be an H x W x 3 colour image, got shape {frame.shape}"
                         + (" (grayscale: stack it to 3 channels)" if grey else ""))
    if frame.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8, got {frame.dtype}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {frame.shape}")
    return frame.shape[0], frame.shape[1]


@dataclass
class StageTimings:
    """Wall-clock milliseconds of the last call.

    ``inference_ms`` is the time spent in the runtime's ``invoke`` (every model run of the
    call), ``total_ms`` the whole call; ``overhead_ms`` is the rest: our pre/post-processing
    plus copying tensors in and out of the runtime.
    """

    total_ms: float = 0.0
    inference_ms: float = 0.0
    detector_runs: int = 0

    @property
    def overhead_ms(self) -> float:
        return self.total_ms - self.inference_ms


@dataclass
class InputTensor:
    """How a model wants its image: layout, value range, element type, and a reused buffer of
    that shape and type. Pipelines bind it (``model.bind([buffer])``): the crop is written
    straight into the model's own input tensor when the runtime lends it, and into ``buffer``
    otherwise (or when it is float32 for a quantised input: the binding quantises it)."""

    layout: str  # "nhwc" or "nchw"
    value_range: tuple[float, float]
    dtype: str  # "float32", or "uint8" for quantised models fed raw pixels
    buffer: np.ndarray

    @classmethod
    def for_model(cls, model, preprocess: dict, size: tuple[int, int]) -> "InputTensor":
        w, h = size
        info = model.inputs[0]
        layout = "nchw" if tuple(info.shape) == (1, 3, h, w) else "nhwc"
        value_range = tuple(preprocess.get("value_range", (0.0, 1.0)))
        raw = info.dtype == np.uint8 and info.takes_raw_pixels(value_range)
        shape = (1, 3, h, w) if layout == "nchw" else (1, h, w, 3)
        if not info.accepts_shape(shape):
            card = getattr(model, "card", None)
            raise ValueError(f"model: input {info.name!r} has shape {list(info.shape)}, but "
                             f"{'card ' + repr(card.name) if card else 'its card'} describes a {w}x{h} image input")
        return cls(layout, value_range, "uint8" if raw else "float32", np.empty(shape, np.uint8 if raw else np.float32))


class HelperWake:
    """Wakes the kernels' helper threads shortly before a model's inference should end.

    A helper parked through an inference takes 20-350 us to wake on a VM: most of its share of
    the sub-millisecond kernel that follows (the mask upsampling, the next frame's crop). The
    helpers are told to sleep until ``lead_ms`` before the earliest expected end of the run (the
    fastest of the last few frames, each timed from :meth:`start`, or :meth:`before` without
    it, to :meth:`after`) and to watch for work from there, until the first kernel call or
    ``window_ms`` after the latest expected end; then they park as before.

    With :meth:`start` the hint is given at the start of the frame if the helpers are still
    watching after the previous frame's last kernel (frames back to back), else at
    :meth:`before`, just before the model runs: waking a parked helper to take it costs the
    caller ~20-30 us on a VM, and a kernel between the two (the input crop) may wake it anyway.
    A pipeline whose first kernel of a frame runs in the window of the previous frame's hint
    (the pose's crop) calls only :meth:`before`: a hint at the start would end that window.

    Only while the model leaves the other cores idle (LiteRT on one thread, or an accelerator):
    a helper spinning beside a multi-threaded inference would slow it down. Nothing changes when
    the pipeline runs on one thread.
    """

    def __init__(self, threads: int, model, *, lead_ms: float = 0.3, window_ms: float = 2.0, history: int = 5,
                 clock: Callable[[], float] = time.perf_counter):
        runtime, device = getattr(model, "runtime", None), getattr(model, "device", "cpu")
        cores_idle = device != "cpu" or (runtime == "litert" and getattr(model, "threads", None) in (None, 1))
        self.enabled = threads != 1 and cores_idle
        self.lead_ms = lead_ms
        self.window_ms = window_ms
        self._clock = clock
        self._started: Optional[float] = None  # this frame's start()
        self._hinted = False  # this frame's hint was taken
        self._recent: deque[float] = deque(maxlen=history)

    def start(self) -> None:
        """Call at the start of a frame, before its input is prepared."""
        if not self.enabled:
            return
        self._started = self._clock()
        self._hinted = bool(self._recent) and self._hint(0.0, wake_parked=False)

    def before(self) -> None:
        """Call just before the model runs."""
        if not self.enabled or self._hinted:
            return
        if self._started is None:
            self._started = self._clock()
        if self._recent:
            self._hinted = self._hint((self._clock() - self._started) * 1e3, wake_parked=True)

    def after(self) -> None:
        """Call once the model run returns."""
        if self._started is not None:
            self._recent.append((self._clock() - self._started) * 1e3)
        self._started = None
        self._hinted = False

    def _hint(self, elapsed_ms: float, *, wake_parked: bool) -> bool:
        fastest, slowest = min(self._recent), max(self._recent)
        return kernels.expect_parallel_work(max(fastest - elapsed_ms - self.lead_ms, 0.0),
                                            self.lead_ms + (slowest - fastest) + self.window_ms,
                                            wake_parked=wake_parked)


class ModelPipeline:
    """A pipeline that owns a loaded ``model``: ``close()`` releases it (later calls raise),
    and ``with pipeline:`` closes it on exit."""

    model = None
    _binding = None  # a pipeline's Binding holds its model too

    def close(self) -> None:
        self.model = None
        self._binding = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
