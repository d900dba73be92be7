"""Frames made by pasting the astronaut's face (resized) onto a plain canvas: several faces,
small faces, faces cut by the frame edge. Anything known about the face in the astronaut
image maps into the new frame by the returned scale and offset."""

from __future__ import annotations

import cv2
import numpy as np

from mediapipe_reference import reference_frames

ASTRONAUT_FACE = (120, 40, 330, 240)  # x0, y0, x1, y1 (exclusive) of a crop around the astronaut's face


def astronaut() -> np.ndarray:
    return reference_frames("astronaut")[0]


def paste_face(canvas: np.ndarray, scale: float, x: int, y: int) -> tuple[float, np.ndarray]:
    """Paste the face crop resized by ``scale`` with its top-left corner at ``(x, y)`` (parts
    outside the canvas are cut). Returns ``(scale, offset)``: an astronaut pixel ``p`` lands
    at ``p * scale + offset``."""
    cx0, cy0, cx1, cy1 = ASTRONAUT_FACE
    crop = cv2.resize(astronaut()[cy0:cy1, cx0:cx1], (round((cx1 - cx0) * scale), round((cy1 - cy0) * scale)),
                      interpolation=cv2.INTER_AREA)
    H, W = canvas.shape[:2]
    bx0, by0, bx1, by1 = max(0, x), max(0, y), min(W, x + crop.shape[1]), min(H, y + crop.shape[0])
    canvas[by0:by1, bx0:bx1] = crop[by0 - y:by1 - y, bx0 - x:bx1 - x]
    return scale, np.array([x - cx0 * scale, y - cy0 * scale])
