"""Temporal filters with MediaPipe's semantics: landmark smoothing (one-euro, with
object-scale value scaling and reset when the subject is lost), visibility low-pass, and
segmentation-mask smoothing.

The filter classes are native objects holding per-landmark state; calls on one object are
serialised by the GIL. Timestamps are integer microseconds, like MediaPipe's (its Python
solutions stamp frame ``k`` at ``k * 33333``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from . import _native
from ._native import LandmarksSmoother, LowPassFilter, OneEuroFilter, Transform, VisibilitySmoother

__all__ = ["OneEuroFilter", "LowPassFilter", "LandmarksSmoother", "VisibilitySmoother", "segmentation_smoothing"]


def segmentation_smoothing(
    previous: np.ndarray | None,
    current: np.ndarray,
    ratio: float = 0.7,
    *,
    size: tuple[int, int] | None = None,
    transform: Transform | None = None,
    border: Literal["replicate", "zero"] = "replicate",
    out: np.ndarray | None = None,
    threads: int = 1,
) -> np.ndarray:
    """MediaPipe's SegmentationSmoothingCalculator (CPU): blend the previous mask into the
    current one where the current one is uncertain.

    Per pixel, with ``p`` the current value::

        x = (p - 0.5)**2
        u = 1 - min(1, x*(c1 + x*(c2 + x*(c3 + x*(c4 + x*c5)))))
        out = p + (previous - p) * (u * ratio)

    with ``c1..c5 = 5.68842, -0.748699, -57.8051, 291.309, -624.717`` (float32). Masks are
    ``h x w`` float32 (model-output shapes such as ``[1, h, w, 1]`` are accepted);
    ``previous=None`` (first frame) returns a copy of ``current``. MediaPipe's pose graph
    uses ``ratio=0.7`` and feeds back the last smoothed mask.

    ``size`` (``(width, height)``): ``current`` is the model-resolution mask, resized as
    ``resize_mask(current, size, transform=transform, border=border)`` resizes it and smoothed
    in the same pass, without writing the frame-size intermediate (the result is exactly the
    two calls'). ``previous`` and the result are then ``size``; ``threads`` shares the rows
    as :func:`edgevision.kernels.resize_mask` does.
    """
    return _native.segmentation_smoothing(previous, current, ratio, out, size, transform, border, threads)
