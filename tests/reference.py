"""Independent NumPy/OpenCV references for the edgevision kernels.

Nothing here calls edgevision: every expected value in the suite comes from these
float64 formulas or from OpenCV.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

F32_EPS = float(np.finfo(np.float32).eps)


# --------------------------------------------------------------------------- pixels


def tensor_rgb(image: np.ndarray, channel_order: str = "rgb") -> np.ndarray:
    """The three colour channels of ``image`` in RGB order, as a contiguous copy."""
    rgb = image[..., :3]
    if channel_order == "bgr":
        rgb = rgb[..., ::-1]
    return np.ascontiguousarray(rgb)


def to_value_range(pixels: np.ndarray, value_range=(0.0, 1.0)) -> np.ndarray:
    """Map ``[0, 255]`` linearly onto ``value_range`` (float64)."""
    lo, hi = value_range
    return pixels.astype(np.float64) * ((hi - lo) / 255.0) + lo


def to_levels(tensor_values: np.ndarray, value_range=(0.0, 1.0)) -> np.ndarray:
    """Inverse of :func:`to_value_range`: tensor values back on the 0..255 scale."""
    lo, hi = value_range
    return (tensor_values.astype(np.float64) - lo) * (255.0 / (hi - lo))


def as_layout(hwc: np.ndarray, layout: str) -> np.ndarray:
    """``h x w x 3`` -> ``[1, h, w, 3]`` (nhwc) or ``[1, 3, h, w]`` (nchw)."""
    if layout == "nchw":
        return hwc.transpose(2, 0, 1)[None]
    return hwc[None]


def from_layout(tensor: np.ndarray, layout: str) -> np.ndarray:
    """``[1, h, w, 3]`` or ``[1, 3, h, w]`` -> ``h x w x 3``."""
    if layout == "nchw":
        return tensor[0].transpose(1, 2, 0)
    return tensor[0]


# ------------------------------------------------------------------------ bilinear


def bilinear(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, border: str) -> np.ndarray:
    """Sample ``image`` (``H x W`` or ``H x W x C``) at float positions, in float64.

    Pixel centres are at integers. Each of the four taps is handled on its own:
    ``"replicate"`` clamps the tap index, ``"zero"`` reads 0 for taps outside.
    """
    img = image.astype(np.float64)
    if img.ndim == 2:
        img = img[..., None]
        squeeze = True
    else:
        squeeze = False
    H, W = img.shape[:2]
    xs = np.asarray(xs, np.float64)
    ys = np.asarray(ys, np.float64)
    x0 = np.floor(xs)
    y0 = np.floor(ys)
    fx = (xs - x0)[..., None]
    fy = (ys - y0)[..., None]
    # Clip huge coordinates before the int cast; anything beyond the image is
    # equivalent to "just past the edge" for both borders.
    x0 = np.clip(x0, -2, W + 1).astype(np.int64)
    y0 = np.clip(y0, -2, H + 1).astype(np.int64)

    def tap(yi, xi):
        inside = (xi >= 0) & (xi < W) & (yi >= 0) & (yi < H)
        v = img[np.clip(yi, 0, H - 1), np.clip(xi, 0, W - 1)]
        if border == "zero":
            v = np.where(inside[..., None], v, 0.0)
        return v

    out = (
        tap(y0, x0) * (1 - fx) * (1 - fy)
        + tap(y0, x0 + 1) * fx * (1 - fy)
        + tap(y0 + 1, x0) * (1 - fx) * fy
        + tap(y0 + 1, x0 + 1) * fx * fy
    )
    return out[..., 0] if squeeze else out


def tensor_grid(size):
    """Integer tensor pixel coordinates ``(j, i)`` for ``size = (w, h)``."""
    w, h = size
    return np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))


def apply_matrix(matrix: np.ndarray, xs: np.ndarray, ys: np.ndarray):
    """Projective map of point grids, float64."""
    m = np.asarray(matrix, np.float64)
    X = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    Y = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    Z = m[2, 0] * xs + m[2, 1] * ys + m[2, 2]
    return X / Z, Y / Z


def sample_tensor(image: np.ndarray, matrix: np.ndarray, size, border: str) -> np.ndarray:
    """``h x w x C`` float64: tensor pixel ``(j, i)`` reads ``image`` at ``matrix @ (j, i)``."""
    js, is_ = tensor_grid(size)
    xs, ys = apply_matrix(matrix, js, is_)
    return bilinear(image, xs, ys, border)


def coordinate_tolerance(max_coord: float, base: float = 1e-4) -> float:
    """Tolerance, in units of the full value range, for a float32-coordinate kernel.

    The kernel computes sample positions in float32, off by an ulp or two of the
    largest coordinate involved (``eps * x`` is between 1 and 2 ulps of ``x``).
    Bilinear output changes by at most one full range per pixel of position error
    (a 0 -> 255 edge), so that error adds directly. ``base`` covers float32 weights
    and accumulation. (Simulating the float32 map on the astronaut photo gives
    errors under 3e-5 for 512-pixel coordinates; this bound is 1.6e-4.)
    """
    return base + F32_EPS * max(1.0, abs(max_coord))


# ---------------------------------------------------------------- letterbox (opencv)


def opencv_letterbox_geometry(image_size, size, keep_aspect=True):
    """``(new_w, new_h, left, top)`` of the resized frame inside the tensor."""
    W, H = image_size
    w, h = size
    if keep_aspect:
        s = min(w / W, h / H)
        new_w = max(1, int(math.floor(W * s + 0.5)))
        new_h = max(1, int(math.floor(H * s + 0.5)))
    else:
        new_w, new_h = w, h
    return new_w, new_h, (w - new_w) // 2, (h - new_h) // 2


def opencv_letterbox_matrix(image_size, size, keep_aspect=True) -> np.ndarray:
    """Tensor pixel -> image position used by ``cv2.resize`` + ``copyMakeBorder``."""
    W, H = image_size
    new_w, new_h, left, top = opencv_letterbox_geometry(image_size, size, keep_aspect)
    sx, sy = W / new_w, H / new_h
    return np.array(
        [[sx, 0.0, (0.5 - left) * sx - 0.5], [0.0, sy, (0.5 - top) * sy - 0.5], [0.0, 0.0, 1.0]]
    )


def cv2_letterbox_pixels(image, size, keep_aspect=True, border="zero", channel_order="rgb"):
    """The OpenCV chain: ``h x w x 3`` uint8, RGB."""
    rgb = tensor_rgb(image, channel_order)
    H, W = rgb.shape[:2]
    w, h = size
    new_w, new_h, left, top = opencv_letterbox_geometry((W, H), size, keep_aspect)
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    mode = cv2.BORDER_CONSTANT if border == "zero" else cv2.BORDER_REPLICATE
    padded = cv2.copyMakeBorder(
        resized, top, h - new_h - top, left, w - new_w - left, mode, value=(0, 0, 0)
    )
    return padded.reshape(h, w, 3)


def resize_exact(image: np.ndarray, size) -> np.ndarray:
    """``cv2.resize(image, size, INTER_LINEAR)`` in float64: half-pixel centres, edges clamped."""
    H, W = image.shape[:2]
    w, h = size
    xs = (np.arange(w, dtype=np.float64) + 0.5) * (W / w) - 0.5
    ys = (np.arange(h, dtype=np.float64) + 0.5) * (H / h) - 0.5
    return bilinear(image, *np.meshgrid(xs, ys), "replicate")


def exact_letterbox_pixels(image, size, keep_aspect=True, border="zero", channel_order="rgb"):
    """The OpenCV chain of :func:`cv2_letterbox_pixels` in float64 (no uint8 rounding)."""
    rgb = tensor_rgb(image, channel_order)
    H, W = rgb.shape[:2]
    w, h = size
    new_w, new_h, left, top = opencv_letterbox_geometry((W, H), size, keep_aspect)
    pad = ((top, h - new_h - top), (left, w - new_w - left), (0, 0))
    return np.pad(resize_exact(rgb, (new_w, new_h)), pad, mode="constant" if border == "zero" else "edge")


# ------------------------------------------------------------- mediapipe ROI geometry


def grow_to_aspect(roi_w, roi_h, size, keep_aspect=True):
    """MediaPipe's ROI growth to the tensor's aspect ratio (never shrinks)."""
    if not keep_aspect:
        return roi_w, roi_h
    w, h = size
    tensor_aspect = h / w
    roi_aspect = roi_h / roi_w
    if tensor_aspect > roi_aspect:
        return roi_w, roi_w * tensor_aspect
    return roi_h / tensor_aspect, roi_h


def roi_matrix(cx, cy, roi_w, roi_h, rotation, size) -> np.ndarray:
    """Tensor pixel ``(j, i)`` -> ``C + R @ ((j/w - 0.5) roi_w, (i/h - 0.5) roi_h)``."""
    w, h = size
    c, s = math.cos(rotation), math.sin(rotation)
    return np.array(
        [
            [c * roi_w / w, -s * roi_h / h, cx - 0.5 * c * roi_w + 0.5 * s * roi_h],
            [s * roi_w / w, c * roi_h / h, cy - 0.5 * s * roi_w - 0.5 * c * roi_h],
            [0.0, 0.0, 1.0],
        ]
    )


def mediapipe_normalized_matrix(cx, cy, roi_w, roi_h, rotation, image_size) -> np.ndarray:
    """MediaPipe's GetRotatedSubRectToRectTransformMatrix (no flip), as 3x3."""
    W, H = image_size
    a, b = roi_w, roi_h
    c, d = math.cos(rotation), math.sin(rotation)
    e, f = cx, cy
    g, h = 1.0 / W, 1.0 / H
    return np.array(
        [
            [a * c * g, -b * d * g, (-0.5 * a * c + 0.5 * b * d + e) * g],
            [a * d * h, b * c * h, (-0.5 * b * c - 0.5 * a * d + f) * h],
            [0.0, 0.0, 1.0],
        ]
    )


def mediapipe_letterbox_roi(image_size, size, keep_aspect=True):
    """``(cx, cy, roi_w, roi_h)`` of the whole-frame ROI used by ``sampling="mediapipe"``."""
    W, H = image_size
    roi_w, roi_h = grow_to_aspect(float(W), float(H), size, keep_aspect)
    return W / 2.0, H / 2.0, roi_w, roi_h


def warp_roi_geometry(rect_params, size, keep_aspect=True):
    """``(cx, cy, roi_w, roi_h, rotation)`` after the aspect growth."""
    cx, cy, rw, rh, rot = rect_params
    roi_w, roi_h = grow_to_aspect(rw, rh, size, keep_aspect)
    return cx, cy, roi_w, roi_h, rot


def rect_corners(cx, cy, roi_w, roi_h, rotation) -> np.ndarray:
    """Corners of the rotated rect in the order of tensor corners (0,0),(w,0),(w,h),(0,h)."""
    c, s = math.cos(rotation), math.sin(rotation)
    local = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]]) * [roi_w, roi_h]
    rot = np.array([[c, -s], [s, c]])
    return local @ rot.T + [cx, cy]


# ------------------------------------------------------------------------ mask undo


def undo_map(matrix, tensor_size, mask_size, frame_size):
    """Frame pixel grid -> mask coordinates (float64), with the half-pixel rescale."""
    W, H = frame_size
    w_t, h_t = tensor_size
    w_m, h_m = mask_size
    Xs, Ys = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    px, py = apply_matrix(np.linalg.inv(np.asarray(matrix, np.float64)), Xs, Ys)
    kx, ky = w_m / w_t, h_m / h_t
    return (px + 0.5) * kx - 0.5, (py + 0.5) * ky - 0.5


# ------------------------------------------------------------------------- composite


def composite_reference(image, mask, background) -> np.ndarray:
    """``round(bg + (image - bg) * clip(m, 0, 1))`` per colour channel; alpha copied."""
    img = image.astype(np.float64)
    m = mask.astype(np.float64)
    if mask.dtype == np.uint8:
        m = (m != 0).astype(np.float64)
    m = np.clip(m, 0.0, 1.0)[..., None]
    if isinstance(background, np.ndarray):
        bg = background[..., :3].astype(np.float64)
    else:
        bg = np.broadcast_to(np.asarray(background, np.float64), img[..., :3].shape)
    out = image.copy()
    out[..., :3] = np.clip(np.round(bg + (img[..., :3] - bg) * m), 0, 255).astype(np.uint8)
    return out
