"""Test-input makers: noise images, strided views, smooth masks."""

from __future__ import annotations

import cv2
import numpy as np


def random_image(rng, height, width, channels=3) -> np.ndarray:
    """Uniform noise: the worst case for interpolation error (sharp edges everywhere)."""
    return rng.integers(0, 256, (height, width, channels), dtype=np.uint8)


def strided_view(rng, height, width, channels=3) -> np.ndarray:
    """``height x width`` view with an odd row stride, odd column stride and an offset."""
    big = random_image(rng, height + 3, 2 * width + 1, channels)
    view = big[3:, 1::2]
    assert view.shape == (height, width, channels) and not view.flags.c_contiguous
    return view


def smooth_mask(rng, height, width) -> np.ndarray:
    """float32 mask in [0, 1] with soft edges, like a segmentation model's output."""
    noise = rng.random((height, width)).astype(np.float32)
    sigma = max(1.0, min(height, width) / 16)
    blurred = cv2.GaussianBlur(noise, (0, 0), sigma)
    lo, hi = float(blurred.min()), float(blurred.max())
    return ((blurred - lo) / max(hi - lo, 1e-6)).astype(np.float32)


def soft_circle(height, width, radius_frac=0.3, softness=8.0) -> np.ndarray:
    """float32 foreground weight: a blurred disc in the middle of the frame."""
    mask = np.zeros((height, width), np.float32)
    radius = int(min(height, width) * radius_frac)
    cv2.circle(mask, (width // 2, height // 2), radius, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), softness)


def write_clip(path, frames, fps: float = 10) -> None:
    """Write RGB ``frames`` as an MJPG ``.avi`` (what the CLIs read through OpenCV)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for f in frames:
        writer.write(np.ascontiguousarray(f[..., ::-1]))
    writer.release()


def count_frames(path) -> int:
    capture = cv2.VideoCapture(str(path))
    n = 0
    while capture.read()[0]:
        n += 1
    return n
