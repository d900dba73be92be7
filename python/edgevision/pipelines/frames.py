"""What every pipeline shares: the input-frame check, stage timings, closing the model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["StageTimings", "check_frame", "ModelPipeline"]


@dataclass
class StageTimings:
    """Wall-clock milliseconds of the last call: frame to tensor, model, results."""

    preprocess_ms: float = 0.0
    inference_ms: float = 0.0
    postprocess_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.preprocess_ms + self.inference_ms + self.postprocess_ms


def check_frame(frame) -> tuple[int, int]:
    """``(height, width)`` of an ``H x W x 3`` (or 4) uint8 frame; TypeError/ValueError otherwise."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"frame must be a numpy.ndarray (H x W x 3 uint8), got {type(frame).__name__}")
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"frame must be an H x W x 3 colour image, got shape {frame.shape}"
                         + (" (grayscale: stack it to 3 channels)" if frame.ndim == 2 or
                            (frame.ndim == 3 and frame.shape[2] == 1) else ""))
    if frame.dtype != np.uint8:
        raise TypeError(f"frame must have dtype uint8, got {frame.dtype}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"frame is empty: shape {frame.shape}")
    return frame.shape[0], frame.shape[1]


class ModelPipeline:
    """A pipeline that owns a loaded ``model``: ``close()`` releases it (later calls raise),
    and ``with pipeline:`` closes it on exit."""

    model = None

    def close(self) -> None:
        self.model = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
