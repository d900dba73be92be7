"""The crop a landmark model gets, as its card's ``[roi]`` / ``[tracking_roi]`` table says.

Two MediaPipe rules: ``alignment`` (a square of side ``box_scale * |p1 - p0|`` centred on
``p0``, rotated so ``p0 -> p1`` points at ``target_angle``: pose) and ``bounding_box`` (the
box of the detection or of the landmarks, rotated by two of its points: face); then
RectTransformation (shift in the rotated frame, ``square_long``, scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .._native import Rect
from ..landmarks import landmarks_box, rect_from_box, rect_from_keypoints

__all__ = ["RoiRule", "rect_iou"]


@dataclass(frozen=True)
class RoiRule:
    mode: str  # "alignment" or "bounding_box"
    start: int
    end: int
    target_angle: float  # radians
    scale: tuple[float, float]
    square_long: bool
    shift: tuple[float, float]

    @classmethod
    def from_card(cls, table: Mapping[str, Any], *, start_key: str, end_key: str) -> "RoiRule":
        mode = table.get("mode", "alignment")
        if mode not in ("alignment", "bounding_box"):
            raise ValueError(f"ROI mode must be 'alignment' or 'bounding_box', got {mode!r}")
        degrees = table.get("target_angle_degrees", table.get("rotation_offset_degrees", 0.0))
        scale = [float(s) for s in table.get("scale", (1.0, 1.0))]
        # rect_from_keypoints builds a box of 2 |p1 - p0|: another box_scale scales on top.
        box_scale = float(table.get("box_scale", 2.0)) / 2.0 if mode == "alignment" else 1.0
        return cls(mode, int(table[start_key]), int(table[end_key]), math.radians(float(degrees)),
                   (scale[0] * box_scale, scale[1] * box_scale), bool(table.get("square_long", True)),
                   tuple(float(s) for s in table.get("shift", (0.0, 0.0))))

    def from_points(self, points: np.ndarray, box, image_size: tuple[int, int]) -> Rect:
        """The ROI from normalised ``points`` ``[n, >= 2]`` (keypoints or landmarks) and, for
        ``bounding_box``, their ``box`` (``xmin, ymin, xmax, ymax``; None: the points' box)."""
        p0, p1 = points[self.start, :2], points[self.end, :2]
        if self.mode == "alignment":
            return rect_from_keypoints(p0, p1, image_size, target_angle=self.target_angle, scale=self.scale,
                                       square_long=self.square_long, shift=self.shift)
        if box is None:
            box = landmarks_box(points)
        return rect_from_box(box, image_size, rotation_points=(p0, p1), target_angle=self.target_angle,
                             scale=self.scale, square_long=self.square_long, shift=self.shift)


def rect_iou(a: Rect, b: Rect) -> float:
    """IoU of two rects' axis-aligned boxes, rotation ignored (MediaPipe's AssociationNormRect)."""
    ax0, ax1 = a.x_center - a.width / 2, a.x_center + a.width / 2
    ay0, ay1 = a.y_center - a.height / 2, a.y_center + a.height / 2
    bx0, bx1 = b.x_center - b.width / 2, b.x_center + b.width / 2
    by0, by1 = b.y_center - b.height / 2, b.y_center + b.height / 2
    iw, ih = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0
