"""Annotating frames for the command-line tools: skeletons, points, boxes and mask overlays.

Not on the per-frame hot path of a pipeline (the CLIs call it to write results), so it uses
Pillow's drawing and NumPy; the mask tint goes through the native composite kernel.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np

from . import kernels

# BlazePose topology: face, arms and hands, torso, legs and feet (MediaPipe's POSE_CONNECTIONS).
POSE_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)


def tint(frame: np.ndarray, mask: np.ndarray, colour: Sequence[int], strength: float = 0.45) -> np.ndarray:
    """``frame`` with ``colour`` blended in where ``mask`` (H x W in [0, 1]) is high."""
    weight = 1.0 - strength * np.clip(mask, 0.0, 1.0, dtype=np.float32)
    return kernels.composite(frame, weight, tuple(colour))


def draw_skeleton(frame: np.ndarray, landmarks: np.ndarray, *, connections: Iterable[tuple[int, int]] = POSE_CONNECTIONS,
                  min_visibility: float = 0.5, line_colour=(0, 255, 0), point_colour=(255, 64, 64)) -> np.ndarray:
    """A copy of ``frame`` with ``landmarks`` (``[n, >= 2]`` normalised; column 3, when
    present, the visibility) drawn as points joined by ``connections``."""
    from PIL import Image, ImageDraw

    height, width = frame.shape[:2]
    image = Image.fromarray(np.ascontiguousarray(frame[..., :3]))
    draw = ImageDraw.Draw(image)
    points = landmarks[:, :2] * (width, height)
    shown = landmarks[:, 3] > min_visibility if landmarks.shape[1] > 3 else np.ones(len(landmarks), bool)
    thickness = max(2, round(min(width, height) / 240))
    for a, b in connections:
        if a < len(points) and b < len(points) and shown[a] and shown[b]:
            draw.line([tuple(points[a]), tuple(points[b])], fill=tuple(line_colour), width=thickness)
    radius = thickness + 1
    for (x, y), visible in zip(points, shown):
        if visible:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=tuple(point_colour))
    return np.asarray(image)


def draw_points(frame: np.ndarray, points: np.ndarray, *, colour=(255, 64, 64), radius: Optional[float] = None
                ) -> np.ndarray:
    """A copy of ``frame`` with ``points`` (``[n, >= 2]`` pixels) drawn as dots."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(np.ascontiguousarray(frame[..., :3]))
    draw = ImageDraw.Draw(image)
    r = max(1.0, min(frame.shape[:2]) / 400) if radius is None else radius
    for x, y in points[:, :2]:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(colour))
    return np.asarray(image)


def draw_boxes(frame: np.ndarray, boxes: Iterable[Sequence[float]], *, colour=(0, 255, 0)) -> np.ndarray:
    """A copy of ``frame`` with ``boxes`` (``x0, y0, x1, y1`` pixels) outlined."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(np.ascontiguousarray(frame[..., :3]))
    draw = ImageDraw.Draw(image)
    width = max(2, round(min(frame.shape[:2]) / 240))
    for x0, y0, x1, y1 in boxes:
        draw.rectangle([x0, y0, x1, y1], outline=tuple(colour), width=width)
    return np.asarray(image)
