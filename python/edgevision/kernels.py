"""Native image kernels: model-input tensors from frames, masks back to frames, compositing.

Conventions shared by every kernel:

* Images are ``H x W x 3`` or ``H x W x 4`` ``uint8`` arrays, RGB unless
  ``channel_order="bgr"``. Strided views (crops, ``[:, ::2]``) are read in place;
  negative strides and a non-contiguous channel axis are rejected.
* Every size is ``(width, height)``, like OpenCV's ``dsize``.
* Pixel coordinates put the centre of pixel ``i`` at ``i`` (OpenCV's convention).
  A :class:`Transform` maps tensor pixel coordinates to image pixel coordinates;
  it is exactly the sampling map the kernel used.
* Tensors are RGB; a fourth (alpha) input channel is dropped.
* Kernels release the GIL and keep no state between calls: they are thread-safe.
"""

from __future__ import annotations

from typing import Literal, Sequence, Union

import numpy as np

from . import _native
from ._native import BlurredBackground, Rect, SegmentationHead, Transform

from .detections import DetectionDecoder, Detections, decode_detections, nms, ssd_anchors
from .face_3dmm import FaceMap3DMMBasis, facemap_3dmm_decode
from .filters import LandmarksSmoother, LowPassFilter, OneEuroFilter, VisibilitySmoother, segmentation_smoothing
from .landmarks import (
    decode_landmarks,
    landmarks_box,
    project_landmarks,
    project_world_landmarks,
    rect_from_box,
    rect_from_keypoints,
    refine_from_heatmap,
    transform_rect,
)
from .sam2_ops import Sam2Mask, sam2_dense_positional_encoding, sam2_image_tensor, sam2_postprocess, sam2_prompt_encode

__all__ = ["Rect", "Transform", "letterbox", "warp_roi", "resize_mask", "composite", "blurred_background",
           "BlurredBackground", "expect_parallel_work", "quantize", "dequantize", "SegmentationHead"]
# Detector and landmark post-processing, temporal filters (see their modules for details).
__all__ += [
    "Detections",
    "DetectionDecoder",
    "ssd_anchors",
    "decode_detections",
    "nms",
    "rect_from_keypoints",
    "rect_from_box",
    "transform_rect",
    "landmarks_box",
    "decode_landmarks",
    "project_landmarks",
    "project_world_landmarks",
    "refine_from_heatmap",
    "OneEuroFilter",
    "LowPassFilter",
    "LandmarksSmoother",
    "VisibilitySmoother",
    "segmentation_smoothing",
    "FaceMap3DMMBasis",
    "facemap_3dmm_decode",
]
# SAM 2: image tensor, prompt encoding, mask choice and upsampling (see sam2_ops).
__all__ += ["Sam2Mask", "sam2_image_tensor", "sam2_prompt_encode", "sam2_dense_positional_encoding", "sam2_postprocess"]

Size = tuple[int, int]
ValueRange = tuple[float, float]
Color = Sequence[int]


def letterbox(
    image: np.ndarray,
    size: Size,
    *,
    keep_aspect: bool = True,
    value_range: ValueRange = (0.0, 1.0),
    layout: Literal["nhwc", "nchw"] = "nhwc",
    border: Literal["zero", "replicate"] = "zero",
    sampling: Literal["opencv", "mediapipe"] = "opencv",
    dtype: Literal["float32", "uint8"] = "float32",
    channel_order: Literal["rgb", "bgr"] = "rgb",
    out: np.ndarray | None = None,
    threads: int = 1,
) -> tuple[np.ndarray, Transform]:
    """Resize a whole frame into a model input tensor of ``size = (width, height)``.

    Returns ``(tensor, transform)``: ``tensor`` is ``[1, h, w, 3]`` (``"nhwc"``) or
    ``[1, 3, h, w]`` (``"nchw"``), float32 with pixel values mapped linearly from
    ``[0, 255]`` onto ``value_range`` (``(-1, 1)`` gives ``p / 127.5 - 1``), or uint8
    holding the resampled pixels rounded to nearest (``value_range`` is then ignored).

    ``sampling="opencv"`` (default) equals ``cv2.resize(INTER_LINEAR)`` of the image to
    ``(round(W*s), round(H*s))`` with ``s = min(w/W, h/H)``, centred with padding of
    ``(w - new_w) // 2`` on the left and ``(h - new_h) // 2`` on top, as
    ``cv2.copyMakeBorder`` would (``border="zero"``: pixel value 0;
    ``"replicate"``: edge pixels). With ``keep_aspect=False`` the frame is stretched.

    ``sampling="mediapipe"`` reproduces MediaPipe's ImageToTensor: the image (padded to
    the tensor's aspect ratio when ``keep_aspect``) is sampled at integer positions,
    tensor pixel ``(j, i)`` reading image position
    ``(cx + (j/w - 0.5)*roi_w, cy + (i/h - 0.5)*roi_h)``; taps outside the image read 0
    (``border="zero"``) or the nearest edge pixel (``"replicate"``).

    ``out``: a C-contiguous, writeable array of the result's shape and dtype to fill
    (reuse it across frames to avoid allocating).

    ``threads``: share a large tensor's rows (from about 150x150 pixels per thread) among up
    to this many threads, the caller and shared helper threads (at most 4 and the cores); the
    result is identical.
    """
    return _native.letterbox(
        image, size, keep_aspect, value_range, layout, border, sampling, dtype, channel_order, out, threads
    )


def warp_roi(
    image: np.ndarray,
    rect: Rect,
    size: Size,
    *,
    keep_aspect: bool = True,
    value_range: ValueRange = (0.0, 1.0),
    layout: Literal["nhwc", "nchw"] = "nhwc",
    border: Literal["replicate", "zero"] = "replicate",
    dtype: Literal["float32", "uint8"] = "float32",
    channel_order: Literal["rgb", "bgr"] = "rgb",
    out: np.ndarray | None = None,
    threads: int = 1,
) -> tuple[np.ndarray, Transform]:
    """Crop the rotated rectangle ``rect`` (pixels, radians) into a tensor of ``size``.

    Matches MediaPipe's ImageToTensor with a region of interest: with
    ``keep_aspect`` the rect is first grown to the tensor's aspect ratio; tensor pixel
    ``(j, i)`` then samples image position
    ``C + R(rotation) @ ((j/w - 0.5) * rect_w, (i/h - 0.5) * rect_h)`` with
    ``R(a) = [[cos a, -sin a], [sin a, cos a]]`` (image y axis points down, so a
    positive rotation turns the crop clockwise on screen). Bilinear; taps outside
    the image read the nearest edge pixel (``"replicate"``) or 0 (``"zero"``).
    Returns ``(tensor, transform)`` as :func:`letterbox` does; ``out`` and ``threads`` as there.
    """
    return _native.warp_roi(
        image, rect, size, keep_aspect, value_range, layout, border, dtype, channel_order, out, threads
    )


def resize_mask(
    mask: np.ndarray,
    size: Size,
    *,
    transform: Transform | None = None,
    threshold: float | None = None,
    border: Literal["replicate", "zero"] = "replicate",
    out: np.ndarray | None = None,
    threads: int = 1,
) -> np.ndarray:
    """Bilinear upsample of a float32 mask to ``size = (width, height)``.

    ``mask`` is ``h x w`` float32; a model output shaped ``[1, h, w, 1]``,
    ``[1, 1, h, w]``, ``[1, h, w]`` or ``[h, w, 1]`` is accepted as is.

    Without ``transform`` it equals ``cv2.resize(mask, size, INTER_LINEAR)``.
    With the ``transform`` returned by :func:`letterbox` or :func:`warp_roi` (``size`` is
    then the frame's size) it undoes the letterbox or the rotated crop: frame pixel
    ``X`` reads the mask at ``transform.inverse().apply(X)`` (rescaled when the mask's
    resolution differs from the tensor's). Frame pixels outside the transform's content
    area (more than half a pixel) become 0. Inside, taps beyond the content edge read
    the edge (``border="replicate"``, so a letterbox undo equals cropping the padding
    and ``cv2.resize``) or 0 (``border="zero"``, MediaPipe's pose-mask warp, which has
    no half-pixel cut).

    ``threshold``: return a uint8 0/1 mask, ``1`` where the value is ``> threshold``,
    computed in the same pass.

    ``threads``: share a large output's rows (from about 0.25 megapixels per thread) among
    up to this many threads, the caller and shared helper threads (at most 4 and the cores);
    the result is identical.
    """
    return _native.resize_mask(mask, size, transform, threshold, border, out, threads)


def composite(
    image: np.ndarray,
    mask: np.ndarray,
    background: Union[Color, np.ndarray, Literal["blur"], BlurredBackground],
    *,
    blur_sigma: float = 8.0,
    transform: Transform | None = None,
    threshold: float | None = None,
    border: Literal["replicate", "zero"] = "replicate",
    out: np.ndarray | None = None,
    threads: int = 1,
) -> np.ndarray:
    """Blend ``image`` over a background where ``mask`` is the foreground weight.

    ``out = round(bg + (image - bg) * m)`` per channel, uint8, shaped like ``image``
    (an alpha channel is copied from ``image``). Computed in fixed point (15-bit weights):
    within one level of that formula and unbiased; ``m = 1`` returns ``image`` exactly.

    ``mask``: ``H x W`` float32 in ``[0, 1]`` (values outside are clipped) or uint8 where
    non-zero means foreground. A float32 mask of another size (a model output, any of the
    shapes :func:`resize_mask` accepts) is upsampled to the frame inside the blend, exactly
    as ``resize_mask(mask, (W, H), transform=transform, border=border)`` would, without
    writing the frame-size mask: pass the ``transform`` of :func:`letterbox` /
    :func:`warp_roi` to undo it. ``threshold``: a hard cut, foreground where the mask is
    ``> threshold``.

    ``background`` is a colour (one value per colour channel, in the image's channel
    order), an image of the frame's size (3 or 4 channels, alpha ignored), or
    ``"blur"``: the frame blurred with a Gaussian of ``blur_sigma`` pixels, computed at
    reduced resolution and kept within 2/255 mean absolute difference of
    ``cv2.GaussianBlur`` (reflect-101 borders); or a :func:`blurred_background` started
    earlier (``blur_sigma`` is then the one it was started with).

    ``threads``: share a large frame's rows among up to this many threads, as
    :func:`resize_mask` does; the result is identical.
    """
    return _native.composite(image, mask, background, blur_sigma, out, transform, threshold, border, threads)


def blurred_background(
    image: np.ndarray,
    blur_sigma: float = 8.0,
    *,
    threads: int = 4,
    out: BlurredBackground | None = None,
) -> BlurredBackground:
    """Start ``image``'s background blur on a helper thread and return at once.

    Pass the result to :func:`composite` as ``background`` (for ``image`` or any frame of
    its size and channels): the composite then waits for the blur, or computes it itself if
    no helper took it, and gives exactly ``composite(..., "blur", blur_sigma=blur_sigma)``'s
    result. Do other work in between (a model's inference: the selfie segmenter starts the
    blur before its model runs), or there is nothing to gain. Until the composite, the
    helpers belong to this blur (other kernels' rows are not shared meanwhile), and
    ``image`` must not be modified (a reference to it is kept).

    ``threads=1`` (or a single core): no helper, the composite computes the blur. ``out``: a
    previous result to reuse for the next frame (no allocation while the size repeats).
    """
    return _native.blurred_background(image, blur_sigma, threads, out)


def expect_parallel_work(after_ms: float, window_ms: float, *, wake_parked: bool = True) -> bool:
    """Hint, before a wait of known length (a model's inference), that a kernel with
    ``threads > 1`` follows in about ``after_ms``.

    Helper threads idle meanwhile sleep until then and watch for that kernel's work for at most
    ``window_ms``, so it starts with them awake rather than waiting for a wake-up (20-350 us on
    a VM: much of their share of a sub-millisecond kernel); the first such call in the window
    spends the hint. Costs their cores up to ``window_ms`` of spinning; a later call replaces
    the hint. Results never depend on it. The pipelines do this themselves.

    A helper that has parked must be woken to take the hint, which costs the caller a
    cross-core wake-up (~20-30 us on a VM). ``wake_parked=False`` drops the hint instead when
    one has: give it early, while the helpers still watch after a kernel (for ~0.1 ms), and
    again later if it was dropped. Returns whether the hint was taken.
    """
    return _native.expect_parallel_work(after_ms, window_ms, wake_parked)


def quantize(
    x: np.ndarray,
    scale: float,
    zero_point: int,
    dtype: Literal["uint8", "int8"] | np.dtype | type = "uint8",
    *,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Quantise float32 ``x`` to ``dtype`` with the affine map ``x = scale * (q - zero_point)``.

    ``q = clip(rint(x / scale) + zero_point, qmin, qmax)``: the quotient is computed in
    float32 and rounded half to even (``np.rint``), as ONNX QuantizeLinear and ONNX Runtime
    do; values beyond the type's range saturate and NaN becomes ``zero_point``. ``x`` may
    be any strided view (read in place); the result is C-contiguous, shaped like ``x``.
    """
    return _native.quantize(x, scale, zero_point, np.dtype(dtype).name if not isinstance(dtype, str) else dtype, out)


def dequantize(q: np.ndarray, scale: float, zero_point: int, *, out: np.ndarray | None = None) -> np.ndarray:
    """float32 ``(q - zero_point) * scale`` of a uint8 or int8 array (exact, any strides)."""
    return _native.dequantize(q, scale, zero_point, out)
