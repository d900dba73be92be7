"""Deterministic synthetic videos made from a still image, for tests and benchmarks.

A frame is the source image under a similarity transform (scale, rotation, shift) drawn into
a ``(width, height)`` canvas. The camera path is a sum of slow sinusoids over the clip, so
successive frames differ smoothly and the clip loops. There is no randomness: the same image,
frame count and size give the same bytes, whatever the numpy or OpenCV version.

The warp is ``cv2.warpAffine(image, M, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
borderMode=cv2.BORDER_CONSTANT, borderValue=BORDER_RGB)`` as OpenCV 4.x computes it, written
out in integer numpy (:func:`warp_affine_linear`) because OpenCV 5.0 changed that function's
rounding (up to 5 grey levels on ~4% of the pixels) and the MediaPipe reference fixtures record
the sha256 of every frame. It is bit-identical to OpenCV 4.11's ``cv2.warpAffine``:

* the inverse matrix (canvas px -> source px) is computed with ``math`` in float64;
* source positions are fixed point: 1/1024 px per row/column term, rounded half-to-even, then
  quantised to 1/32 px (``INTER_BITS = 5``) with a +1/64 px rounding offset;
* bilinear weights are products of the 1/32 fractions (sum 32768, 15 bits), the result is
  ``(sum + 2**14) >> 15``;
* samples whose 2x2 neighbourhood leaves the image read ``BORDER_RGB`` (mid grey) for the
  missing taps; a flat border adds no mirrored copy of the person (a reflected border would add
  fake faces and bodies);
* pixel centres are at integer coordinates; the source centre ``((w-1)/2, (h-1)/2)`` maps to the
  canvas centre plus the shift.

:func:`reference_input` names the exact inputs of the MediaPipe fixtures (tests/fixtures/mediapipe).

This module imports only numpy and defines no dataclass (those need the module in
``sys.modules``), so it can be loaded by path without the edgevision package or its native
module, e.g. by the reference scripts in ``bench/reference``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

BORDER_RGB = (128, 128, 128)
_INTER_BITS = 5  # 1/32 px sampling positions
_AB_BITS = 10  # 1/1024 px per matrix term

__all__ = [
    "BORDER_RGB",
    "Pose2D",
    "exit_and_reenter_video",
    "inverse_matrix",
    "orbit_path",
    "REFERENCE_INPUTS",
    "REFERENCE_VIDEO_SIZE",
    "reference_input",
    "render",
    "synthetic_video",
    "to_rgb",
    "warp_affine_linear",
]


class Pose2D(NamedTuple):
    """Where the source image sits in the canvas.

    ``scale`` is relative to the largest size at which the whole image fits in the canvas; ``angle_deg`` is counter-clockwise as seen on screen; ``shift`` is in canvas pixels.
    """

    scale: float = 1.0
    angle_deg: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)


def to_rgb(gray: np.ndarray) -> np.ndarray:
    """``HxW`` (or ``HxWx1``) uint8 grayscale -> contiguous ``HxWx3`` RGB with equal channels."""
    gray = np.asarray(gray)
    if gray.ndim == 3 and gray.shape[2] == 1:
        gray = gray[..., 0]
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ValueError(f"gray: expected an HxW uint8 array, got shape {gray.shape} dtype {gray.dtype}")
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def _check_inputs(image: np.ndarray, frames: int, size: tuple[int, int]) -> tuple[int, int]:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape, dtype = getattr(image, "shape", None), getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"image: expected an HxWx3 uint8 RGB array, got shape {shape} dtype {dtype}")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ValueError(f"frames: expected a positive int, got {frames!r}")
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size: expected (width, height), got {size!r}") from None
    if width < 1 or height < 1:
        raise ValueError(f"size: expected positive (width, height), got {size!r}")
    return width, height


def inverse_matrix(image_size: tuple[int, int], size: tuple[int, int], pose: Pose2D) -> np.ndarray:
    """2x3 float64 matrix mapping canvas pixels to source pixels (``WARP_INVERSE_MAP``)."""
    src_w, src_h = image_size
    dst_w, dst_h = size
    s = pose.scale * min(dst_w / src_w, dst_h / src_h)
    a = math.radians(pose.angle_deg)
    cos_a, sin_a = math.cos(a), math.sin(a)
    # Forward: dst = s * R(-a) (src - c_src) + c_dst + shift; R(-a) because image y points down,
    # so a positive angle turns the picture counter-clockwise on screen.
    cx_src, cy_src = (src_w - 1) / 2, (src_h - 1) / 2
    cx_dst, cy_dst = (dst_w - 1) / 2 + pose.shift[0], (dst_h - 1) / 2 + pose.shift[1]
    # Inverse: src = (1/s) R(a) (dst - c_dst) + c_src
    m00, m01 = cos_a / s, -sin_a / s
    m10, m11 = sin_a / s, cos_a / s
    return np.array(
        [
            [m00, m01, cx_src - m00 * cx_dst - m01 * cy_dst],
            [m10, m11, cy_src - m10 * cx_dst - m11 * cy_dst],
        ],
        dtype=np.float64,
    )


def warp_affine_linear(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int], border_rgb=BORDER_RGB) -> np.ndarray:
    """OpenCV 4.x ``warpAffine`` (``INTER_LINEAR | WARP_INVERSE_MAP``, constant border) in numpy.

    ``matrix`` maps canvas pixels to ``image`` pixels; ``size`` is ``(width, height)``.
    """
    width, height = _check_inputs(image, 1, size)
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.shape != (2, 3):
        raise ValueError(f"matrix: expected a 2x3 affine matrix, got shape {matrix.shape}")
    src_h, src_w = image.shape[:2]
    ab_scale = 1 << _AB_BITS
    cols = np.arange(width, dtype=np.float64)
    rows = np.arange(height, dtype=np.float64)
    round_delta = ab_scale >> (_INTER_BITS + 1)
    x_col = np.rint((matrix[0, 0] * cols) * ab_scale).astype(np.int32)
    y_col = np.rint((matrix[1, 0] * cols) * ab_scale).astype(np.int32)
    x_row = np.rint((matrix[0, 1] * rows + matrix[0, 2]) * ab_scale).astype(np.int32) + round_delta
    y_row = np.rint((matrix[1, 1] * rows + matrix[1, 2]) * ab_scale).astype(np.int32) + round_delta
    x_fix = (x_row[:, None] + x_col[None, :]) >> (_AB_BITS - _INTER_BITS)
    y_fix = (y_row[:, None] + y_col[None, :]) >> (_AB_BITS - _INTER_BITS)
    x0, fx = x_fix >> _INTER_BITS, x_fix & ((1 << _INTER_BITS) - 1)
    y0, fy = y_fix >> _INTER_BITS, y_fix & ((1 << _INTER_BITS) - 1)

    # A one-pixel frame of border colour supplies the taps that fall just outside the image.
    padded = np.empty((src_h + 2, src_w + 2, 3), np.int32)
    padded[:] = border_rgb
    padded[1:-1, 1:-1] = image
    pixels = padded.reshape(-1, 3)
    stride = src_w + 2
    inside = ((x0 >= -1) & (x0 < src_w) & (y0 >= -1) & (y0 < src_h)).ravel()
    top_left = ((y0.ravel()[inside] + 1) * stride + x0.ravel()[inside] + 1).astype(np.intp)
    fx, fy = fx.reshape(-1, 1)[inside], fy.reshape(-1, 1)[inside]
    one = 1 << _INTER_BITS
    acc = (
        np.take(pixels, top_left, axis=0) * ((one - fx) * (one - fy))
        + np.take(pixels, top_left + 1, axis=0) * (fx * (one - fy))
        + np.take(pixels, top_left + stride, axis=0) * ((one - fx) * fy)
        + np.take(pixels, top_left + stride + 1, axis=0) * (fx * fy)
    )
    # Weights are in 1/1024 here; OpenCV's are the same products in 1/32768, rounded off at 15 bits.
    out = np.empty((height * width, 3), np.uint8)
    out[:] = border_rgb
    out[inside] = (((acc << (15 - 2 * _INTER_BITS)) + (1 << 14)) >> 15).astype(np.uint8)
    return out.reshape(height, width, 3)


def render(image: np.ndarray, size: tuple[int, int], pose: Pose2D) -> np.ndarray:
    """One ``size`` = ``(width, height)`` RGB frame showing ``image`` at ``pose``."""
    width, height = _check_inputs(image, 1, size)
    matrix = inverse_matrix((image.shape[1], image.shape[0]), (width, height), pose)
    return warp_affine_linear(image, matrix, (width, height))


def orbit_path(frames: int, size: tuple[int, int]) -> list[Pose2D]:
    """The camera path of :func:`synthetic_video`: one loop over ``frames`` frames.

    With ``t = k / frames``: rotation ``15 sin(2 pi t)`` degrees (within +-15), scale
    ``0.95 - 0.15 cos(4 pi t)`` (within 0.8..1.1, starting at 0.8), shift
    ``(0.06 W sin(2 pi t + pi/3), 0.04 H sin(4 pi t))`` pixels.
    """
    width, height = size
    path = []
    for k in range(frames):
        t = k / frames
        path.append(
            Pose2D(
                scale=0.95 - 0.15 * math.cos(4 * math.pi * t),
                angle_deg=15.0 * math.sin(2 * math.pi * t),
                shift=(0.06 * width * math.sin(2 * math.pi * t + math.pi / 3), 0.04 * height * math.sin(4 * math.pi * t)),
            )
        )
    return path


def synthetic_video(image: np.ndarray, *, frames: int = 90, size: tuple[int, int] = (640, 480)) -> Iterator[np.ndarray]:
    """Yield ``frames`` ``HxWx3`` uint8 RGB frames of ``image`` moving along :func:`orbit_path`.

    The image is fitted to the canvas then scaled by 0.8..1.1, turned by up to +-15 degrees and
    shifted by up to 6% / 4% of the canvas, all smoothly; the border is flat grey.
    """
    width, height = _check_inputs(image, frames, size)
    for pose in orbit_path(frames, (width, height)):
        yield render(image, (width, height), pose)


def exit_and_reenter_video(
    image: np.ndarray, *, frames: int = 30, size: tuple[int, int] = (640, 480)
) -> Iterator[np.ndarray]:
    """Yield frames where ``image`` slides out to the right, stays out, then slides back.

    The clip is split in thirds: during the first third the shift goes from 0 to
    ``1.2 * width`` (smoothstep easing; fully out before the end of the third), the middle third
    is empty canvas, the last third mirrors the first. Scale 0.9, no rotation.
    """
    width, height = _check_inputs(image, frames, size)
    third = frames / 3
    for k in range(frames):
        if k < third:
            u = k / third
        elif k < 2 * third:
            u = 1.0
        else:
            u = max(0.0, (frames - 1 - k) / third)
        ease = u * u * (3 - 2 * u)
        yield render(image, (width, height), Pose2D(scale=0.9, shift=(1.2 * width * ease, 0.0)))


# Inputs of the MediaPipe reference fixtures (tests/fixtures/mediapipe, bench/reference).
REFERENCE_INPUTS = ("astronaut", "camera", "blank", "background", "orbit", "exit")
REFERENCE_VIDEO_SIZE = (640, 480)


def reference_input(name: str) -> list[np.ndarray]:
    """The frames (a list; one frame for a still) of a MediaPipe fixture input, by name.

    ``astronaut`` / ``camera``: skimage's 512x512 photos (camera as RGB); ``blank``: a flat
    ``BORDER_RGB`` 640x480 frame (no person); ``background``: the astronaut photo's top-right
    corner ``[0:240, 340:512]`` (backdrop and shuttle model, no person); ``orbit``:
    ``synthetic_video(astronaut, frames=90, size=(640, 480))``; ``exit``:
    ``exit_and_reenter_video(astronaut, frames=30, size=(640, 480))``. Needs scikit-image.
    """
    import skimage.data  # test/bench dependency only

    if name == "astronaut":
        return [skimage.data.astronaut()]
    if name == "camera":
        return [to_rgb(skimage.data.camera())]
    if name == "blank":
        width, height = REFERENCE_VIDEO_SIZE
        return [np.full((height, width, 3), BORDER_RGB, np.uint8)]
    if name == "background":
        return [np.ascontiguousarray(skimage.data.astronaut()[0:240, 340:512])]
    if name == "orbit":
        return list(synthetic_video(skimage.data.astronaut(), frames=90, size=REFERENCE_VIDEO_SIZE))
    if name == "exit":
        return list(exit_and_reenter_video(skimage.data.astronaut(), frames=30, size=REFERENCE_VIDEO_SIZE))
    raise ValueError(f"name: expected one of {REFERENCE_INPUTS}, got {name!r}")
