"""Landmark-model post-processing: regions of interest, landmark decoding and projection,
heatmap refinement.

Semantics are MediaPipe's AlignmentPointsRects / DetectionsToRects + RectTransformation,
LandmarksToDetection, TensorsToLandmarks, RefineLandmarksFromHeatmap, LandmarkProjection and
WorldLandmarkProjection calculators. Points are normalised to the image (``x / W``,
``y / H``); a :class:`Rect` is in pixels (normalised times ``(W, H)``) and radians, which
is what :func:`~edgevision.kernels.warp_roi` crops.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np

from . import _native
from ._native import Rect

__all__ = [
    "rect_from_keypoints",
    "rect_from_box",
    "transform_rect",
    "landmarks_box",
    "decode_landmarks",
    "project_landmarks",
    "project_world_landmarks",
    "refine_from_heatmap",
]

Point = Sequence[float]
Size = tuple[int, int]
Activation = Literal["sigmoid", "none"]


def rect_from_keypoints(
    center: Point,
    scale_point: Point,
    image_size: Size,
    *,
    target_angle: float,
    scale: float | tuple[float, float] = 1.25,
    square_long: bool = True,
    shift: tuple[float, float] = (0.0, 0.0),
) -> Rect:
    """ROI from two keypoints (MediaPipe's alignment-points rect, then RectTransformation).

    With ``p0 = center * (W, H)`` and ``p1 = scale_point * (W, H)`` in pixels: a square of
    side ``2 * |p1 - p0|`` centred on ``p0``, rotated by
    ``normalize(target_angle - atan2(-(y1 - y0), x1 - x0))`` into ``[-pi, pi)``, then
    transformed as :func:`transform_rect` does (``shift``; ``square_long``, a no-op here;
    ``scale``).

    MediaPipe pose: detection keypoints 0 -> 1 (or landmarks 33 -> 34),
    ``target_angle=pi/2``, ``scale=1.25``. AI Hub's BlazePose app: keypoints 2 -> 3,
    ``target_angle=pi/2``, ``scale=1.5`` (its ``atan2(c - e) - pi/2`` is the same angle).
    """
    return _native.rect_from_keypoints(center, scale_point, image_size, target_angle, scale, square_long, shift)


def rect_from_box(
    box: Sequence[float],
    image_size: Size,
    *,
    rotation_points: tuple[Point, Point] | None = None,
    target_angle: float = 0.0,
    scale: float | tuple[float, float] = 1.5,
    square_long: bool = True,
    shift: tuple[float, float] = (0.0, 0.0),
) -> Rect:
    """ROI from a box ``(xmin, ymin, xmax, ymax)`` (DetectionsToRects, then RectTransformation).

    Centre and size are the box's (in pixels); the rotation is
    ``normalize(target_angle - atan2(-(y1 - y0), x1 - x0))`` of ``rotation_points = (p0,
    p1)`` in pixels, or 0 without them. Then transformed as :func:`transform_rect` does
    (``shift``, ``square_long``, ``scale``).

    MediaPipe face: a detection's box with its eyes (keypoints 0, 1), or
    ``landmarks_box(landmarks)`` with landmarks 33 and 263; ``target_angle=0``,
    ``scale=1.5``.
    """
    return _native.rect_from_box(box, image_size, rotation_points, target_angle, scale, square_long, shift)


def transform_rect(
    rect: Rect,
    *,
    scale: float | tuple[float, float] = 1.0,
    square_long: bool = False,
    shift: tuple[float, float] = (0.0, 0.0),
) -> Rect:
    """MediaPipe's RectTransformation on a rect in pixels; the rotation is kept.

    1. Shift, in the rect's own rotated frame and relative to its size before scaling:
       ``cx += w*sx*cos(r) - h*sy*sin(r)``, ``cy += w*sx*sin(r) + h*sy*cos(r)`` with
       ``shift = (sx, sy)``.
    2. ``square_long``: both sides become the longer one.
    3. ``w *= scale_x``, ``h *= scale_y`` (``scale`` one number or ``(scale_x, scale_y)``).

    (MediaPipe palm-to-hand, for instance: ``shift=(0, -0.5)``, ``scale=2.6``.)
    """
    return _native.transform_rect(rect, scale, square_long, shift)


def landmarks_box(landmarks: np.ndarray) -> np.ndarray:
    """float32 ``(xmin, ymin, xmax, ymax)`` of ``[n, d >= 2]`` landmarks, as MediaPipe's
    LandmarksToDetection computes it: the maxima start at ``FLT_MIN`` (``1.17e-38``), so
    when every coordinate is negative the maximum is that tiny positive number.
    """
    return _native.landmarks_box(landmarks)


def decode_landmarks(
    raw: np.ndarray,
    num_landmarks: int,
    *,
    input_size: Size | None,
    normalize_z: float = 1.0,
    visibility_activation: Activation = "sigmoid",
    presence_activation: Activation = "sigmoid",
) -> np.ndarray:
    """A landmark tensor (any shape, C-contiguous float32, ``num_landmarks * d`` values) to
    float32 ``[num_landmarks, min(d, 5)]`` rows of ``(x, y, z, visibility, presence)``.

    With ``input_size = (w, h)``: ``x / w``, ``y / h``, ``z / w / normalize_z`` (normalised to
    the model input); ``None`` keeps x, y, z as they are (world landmarks).
    Visibility and presence go through their activation (``sigmoid``: ``1 / (1 + exp(-v))``).
    """
    return _native.decode_landmarks(
        raw, num_landmarks, input_size, normalize_z, visibility_activation, presence_activation
    )


def project_landmarks(
    landmarks: np.ndarray, rect: Rect, image_size: Size, *, out: np.ndarray | None = None
) -> np.ndarray:
    """ROI-normalised landmarks ``[n, d >= 2]`` to image-normalised ones (LandmarkProjection).

    With ``theta = rect.rotation``, ``(w, h) = rect size / (W, H)``, ``(cx, cy) = rect
    centre / (W, H)``::

        x' = (cos(theta)*(x - .5) - sin(theta)*(y - .5)) * w + cx
        y' = (sin(theta)*(x - .5) + cos(theta)*(y - .5)) * h + cy
        z' = z * w

    Other columns are copied. ``out`` (C-contiguous float32, same shape; may be
    ``landmarks`` itself) receives the result.
    """
    return _native.project_landmarks(landmarks, rect, image_size, out)


def project_world_landmarks(
    landmarks: np.ndarray, rect: Rect | float, *, out: np.ndarray | None = None
) -> np.ndarray:
    """World landmarks ``[n, d >= 2]`` rotated by ``rect.rotation`` (or an angle in radians)
    in x, y; z and other columns copied (WorldLandmarkProjection)."""
    return _native.project_world_landmarks(landmarks, rect, out)


def refine_from_heatmap(
    landmarks: np.ndarray,
    heatmap: np.ndarray,
    *,
    kernel_size: int = 7,
    min_confidence: float = 0.5,
    refine_presence: bool = False,
    refine_visibility: bool = False,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """MediaPipe's RefineLandmarksFromHeatmap on ROI-normalised landmarks ``[n, d >= 2]``.

    ``heatmap`` is ``[1, h, w, n]`` or ``[h, w, n]`` float32 logits, one channel per
    landmark. For landmark ``k``: ``col = int(x * w)``, ``row = int(y * h)`` (truncation);
    skipped when ``col`` is outside ``[0, w)`` or ``row < 0``. In the ``kernel_size``
    window around it (clipped to the map), ``c = sigmoid(heatmap)``; when ``max(c) >=
    min_confidence``, ``x = sum(c * col) / w / sum(c)`` and ``y = sum(c * row) / h /
    sum(c)`` (no half-cell offset). Other columns are copied, except that
    ``refine_presence`` / ``refine_visibility`` lower presence (column 4) / visibility
    (column 3) to ``min(value, max(c))`` whenever the window is not empty (whatever
    ``min_confidence``): a landmark the heatmap does not see is probably not there.

    MediaPipe quirk kept: its range check compares the column with the height instead of
    the row, so a landmark just below the map (``h <= row < h + kernel_size // 2``) is
    refined from the clipped window's last rows.
    """
    return _native.refine_from_heatmap(
        landmarks, heatmap, kernel_size, min_confidence, refine_presence, refine_visibility, out
    )

