"""letterbox: the OpenCV resize + pad chain and MediaPipe's whole-frame sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assertions import assert_max_diff, assert_near_opencv
from edgevision.kernels import letterbox
from images import random_image, strided_view
from reference import (
    as_layout,
    coordinate_tolerance,
    cv2_letterbox_pixels,
    exact_letterbox_pixels,
    from_layout,
    mediapipe_letterbox_roi,
    mediapipe_normalized_matrix,
    opencv_letterbox_geometry,
    opencv_letterbox_matrix,
    roi_matrix,
    sample_tensor,
    tensor_rgb,
    to_value_range,
)

FRAMES = ["astronaut", "camera3", "astronaut_720p", "astronaut_crop", "noise_37x53"]
SIZES = [(256, 256), (320, 192), (192, 320), (301, 300)]


@pytest.fixture(params=FRAMES)
def frame(request, astronaut, camera3, astronaut_720p, rng):
    if request.param == "astronaut_crop":
        # A strided, offset view (300 x 493): must be read in place.
        return astronaut[40:340, 7:500]
    if request.param == "noise_37x53":
        return random_image(rng, 53, 37)
    return {"astronaut": astronaut, "camera3": camera3, "astronaut_720p": astronaut_720p}[
        request.param
    ]


def frame_size(image):
    return image.shape[1], image.shape[0]


def level_tolerance(value_range, levels=1.0):
    # cv2.resize on uint8 uses 11-bit fixed-point weights and rounds to uint8: on x86 up to
    # ~0.8 of a level from the exact bilinear value the kernel computes in float (aarch64
    # builds up to ~1.2: there the exact float64 chain decides).
    lo, hi = value_range
    return abs(hi - lo) / 255.0 * levels + 1e-6


# The kernel's own error: 14-bit horizontal weights (at most 255 / 2**15 of a level) and float32.
EXACT_LEVELS = 0.02


def check_against_cv2(image, size, **kwargs):
    keep_aspect = kwargs.get("keep_aspect", True)
    value_range = kwargs.get("value_range", (0.0, 1.0))
    layout = kwargs.get("layout", "nhwc")
    border = kwargs.get("border", "zero")
    channel_order = kwargs.get("channel_order", "rgb")
    tensor, _ = letterbox(image, size, **kwargs)
    expected = cv2_letterbox_pixels(image, size, keep_aspect, border, channel_order)
    exact = exact_letterbox_pixels(image, size, keep_aspect, border, channel_order)
    assert tensor.dtype == np.float32
    assert tensor.shape == as_layout(expected, layout).shape
    assert_near_opencv(
        from_layout(tensor, layout),
        to_value_range(expected, value_range),
        to_value_range(exact, value_range),
        level_tolerance(value_range),
        level_tolerance(value_range, EXACT_LEVELS),
        f"letterbox{frame_size(image)}->{size} {kwargs}",
    )
    return tensor


# ----------------------------------------------------------------------- opencv


@pytest.mark.parametrize("size", SIZES)
def test_opencv_matches_cv2_chain(frame, size):
    check_against_cv2(frame, size)


@pytest.mark.parametrize("border", ["zero", "replicate"])
@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
@pytest.mark.parametrize("value_range", [(0.0, 1.0), (-1.0, 1.0), (0.0, 255.0)])
@pytest.mark.parametrize("channel_order", ["rgb", "bgr"])
def test_opencv_options(astronaut, border, layout, value_range, channel_order):
    crop = astronaut[40:340, 7:500]
    check_against_cv2(
        crop,
        (256, 224),
        border=border,
        layout=layout,
        value_range=value_range,
        channel_order=channel_order,
    )


@pytest.mark.parametrize("size", SIZES + [(1, 1), (1, 64), (64, 1)])
@pytest.mark.parametrize("border", ["zero", "replicate"])
def test_opencv_stretch_without_keep_aspect(astronaut, size, border):
    tensor = check_against_cv2(astronaut[:300], size, keep_aspect=False, border=border)
    assert tensor.shape == (1, size[1], size[0], 3)


@pytest.mark.parametrize("border", ["zero", "replicate"])
@pytest.mark.parametrize("size", [(256, 256), (320, 192)])
def test_opencv_uint8_output(frame, size, border):
    tensor, _ = letterbox(frame, size, dtype="uint8", border=border)
    expected = cv2_letterbox_pixels(frame, size, border=border)
    assert tensor.dtype == np.uint8
    # Both round to nearest; OpenCV's fixed-point weights can tip a value over.
    assert_max_diff(tensor[0], expected, 1, f"uint8 letterbox -> {size}")


@pytest.mark.parametrize("value_range", [(0.0, 1.0), (-1.0, 1.0), (-3.5, 7.25)])
def test_opencv_zero_padding_is_exactly_low_end(astronaut, value_range):
    tensor, _ = letterbox(astronaut[:200], (256, 256), value_range=value_range)
    _, new_h, _, y0 = opencv_letterbox_geometry((512, 200), (256, 256))
    y1 = y0 + new_h
    lo = np.float32(value_range[0])
    assert np.all(tensor[0, :y0] == lo)
    assert np.all(tensor[0, y1:] == lo)


@pytest.mark.parametrize("size", SIZES + [(7, 300), (300, 7)])
@pytest.mark.parametrize("keep_aspect", [True, False])
def test_opencv_transform(frame, size, keep_aspect):
    _, tf = letterbox(frame, size, keep_aspect=keep_aspect)
    W, H = frame_size(frame)
    new_w, new_h, left, top = opencv_letterbox_geometry((W, H), size, keep_aspect)
    np.testing.assert_allclose(
        tf.matrix, opencv_letterbox_matrix((W, H), size, keep_aspect), rtol=1e-12, atol=1e-12
    )
    assert tf.matrix.dtype == np.float64
    assert tuple(tf.src_size) == tuple(size)
    assert tuple(tf.dst_size) == (W, H)
    assert tuple(tf.content) == (left, top, left + new_w, top + new_h)


def test_four_channels_drop_alpha(astronaut, rng):
    alpha = rng.integers(0, 256, astronaut.shape[:2] + (1,), dtype=np.uint8)
    rgba = np.concatenate([astronaut, alpha], axis=2)
    for sampling in ("opencv", "mediapipe"):
        got, _ = letterbox(rgba, (224, 160), sampling=sampling)
        want, _ = letterbox(astronaut, (224, 160), sampling=sampling)
        assert_max_diff(got, want, 1e-6, f"rgba vs rgb, {sampling}")
    check_against_cv2(rgba, (224, 160))


def test_bgr_input_gives_rgb_tensor(astronaut):
    bgr = np.ascontiguousarray(astronaut[..., ::-1])
    for sampling in ("opencv", "mediapipe"):
        got, _ = letterbox(bgr, (200, 256), channel_order="bgr", sampling=sampling)
        want, _ = letterbox(astronaut, (200, 256), sampling=sampling)
        assert_max_diff(got, want, 1e-6, f"bgr vs rgb, {sampling}")


@pytest.mark.parametrize("sampling", ["opencv", "mediapipe"])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_nchw_is_transposed_nhwc(astronaut, sampling, dtype):
    nhwc, _ = letterbox(astronaut, (160, 96), sampling=sampling, dtype=dtype)
    nchw, _ = letterbox(astronaut, (160, 96), sampling=sampling, dtype=dtype, layout="nchw")
    assert nchw.shape == (1, 3, 96, 160)
    assert nchw.flags.c_contiguous
    np.testing.assert_array_equal(nchw, nhwc.transpose(0, 3, 1, 2))


@pytest.mark.parametrize("sampling", ["opencv", "mediapipe"])
def test_strided_view_equals_contiguous_copy(rng, sampling):
    view = strided_view(rng, 45, 61, 4)
    got, _ = letterbox(view, (50, 50), sampling=sampling)
    want, _ = letterbox(np.ascontiguousarray(view), (50, 50), sampling=sampling)
    np.testing.assert_array_equal(got, want)


def test_read_only_image_is_accepted(astronaut):
    frozen = astronaut.copy()
    frozen.setflags(write=False)
    got, _ = letterbox(frozen, (128, 128))
    want, _ = letterbox(astronaut, (128, 128))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_out_is_filled_and_reusable(astronaut, camera3, layout, dtype):
    shape = (1, 96, 128, 3) if layout == "nhwc" else (1, 3, 96, 128)
    out = np.full(shape, 77, dtype=dtype)
    for img in (astronaut, camera3):  # reuse across frames: no stale pixels
        result, _ = letterbox(img, (128, 96), layout=layout, dtype=dtype, out=out)
        want, _ = letterbox(img, (128, 96), layout=layout, dtype=dtype)
        assert np.shares_memory(result, out)
        np.testing.assert_array_equal(out, want)


# -------------------------------------------------------------------- mediapipe


def mediapipe_expected(image, size, keep_aspect, border, channel_order="rgb"):
    W, H = frame_size(image)
    cx, cy, roi_w, roi_h = mediapipe_letterbox_roi((W, H), size, keep_aspect)
    matrix = roi_matrix(cx, cy, roi_w, roi_h, 0.0, size)
    pixels = sample_tensor(tensor_rgb(image, channel_order), matrix, size, border)
    return pixels, matrix, max(roi_w, roi_h)


@pytest.mark.parametrize("keep_aspect", [True, False])
@pytest.mark.parametrize("border", ["zero", "replicate"])
@pytest.mark.parametrize("size", [(256, 256), (320, 192), (192, 320)])
def test_mediapipe_matches_numpy(frame, size, border, keep_aspect):
    tensor, _ = letterbox(frame, size, sampling="mediapipe", border=border, keep_aspect=keep_aspect)
    pixels, _, extent = mediapipe_expected(frame, size, keep_aspect, border)
    assert tensor.dtype == np.float32 and tensor.shape == (1, size[1], size[0], 3)
    assert_max_diff(
        tensor[0],
        to_value_range(pixels),
        coordinate_tolerance(extent),
        f"mediapipe letterbox {frame_size(frame)}->{size} {border} keep_aspect={keep_aspect}",
    )


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
@pytest.mark.parametrize("value_range", [(-1.0, 1.0), (0.0, 255.0)])
@pytest.mark.parametrize("channel_order", ["rgb", "bgr"])
def test_mediapipe_options(astronaut, layout, value_range, channel_order):
    crop = astronaut[40:340, 7:500]
    tensor, _ = letterbox(
        crop,
        (224, 224),
        sampling="mediapipe",
        layout=layout,
        value_range=value_range,
        channel_order=channel_order,
    )
    pixels, _, extent = mediapipe_expected(crop, (224, 224), True, "zero", channel_order)
    lo, hi = value_range
    assert_max_diff(
        from_layout(tensor, layout),
        to_value_range(pixels, value_range),
        coordinate_tolerance(extent) * abs(hi - lo),
        f"mediapipe {layout} {value_range} {channel_order}",
    )


@pytest.mark.parametrize("border", ["zero", "replicate"])
def test_mediapipe_uint8_output(frame, border):
    tensor, _ = letterbox(frame, (256, 192), sampling="mediapipe", dtype="uint8", border=border)
    pixels, _, _ = mediapipe_expected(frame, (256, 192), True, border)
    assert tensor.dtype == np.uint8
    # Rounded to nearest. Away from .5 ties (where float32 error or the tie rule may
    # pick either side) the rounding must agree exactly.
    assert_max_diff(tensor[0], pixels, 0.5 + 1e-3 * 255, "uint8 mediapipe letterbox")
    clear = np.abs(pixels - np.floor(pixels) - 0.5) > 0.05
    np.testing.assert_array_equal(tensor[0][clear], np.floor(pixels + 0.5)[clear])


@pytest.mark.parametrize("keep_aspect", [True, False])
@pytest.mark.parametrize("size", [(256, 256), (320, 192), (192, 320), (7, 300)])
def test_mediapipe_transform(frame, size, keep_aspect):
    _, tf = letterbox(frame, size, sampling="mediapipe", keep_aspect=keep_aspect)
    W, H = frame_size(frame)
    cx, cy, roi_w, roi_h = mediapipe_letterbox_roi((W, H), size, keep_aspect)
    np.testing.assert_allclose(
        tf.matrix, roi_matrix(cx, cy, roi_w, roi_h, 0.0, size), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(
        tf.normalized_matrix,
        mediapipe_normalized_matrix(cx, cy, roi_w, roi_h, 0.0, (W, H)),
        rtol=1e-9,
        atol=1e-9,
    )
    assert tuple(tf.src_size) == tuple(size)
    assert tuple(tf.dst_size) == (W, H)


@pytest.mark.parametrize("keep_aspect", [True, False])
@pytest.mark.parametrize("size", [(128, 128), (256, 144), (7, 300)])
def test_opencv_normalized_coordinates_are_continuous(frame, size, keep_aspect, rng):
    """A cv2.resize letterbox maps continuous positions: a model's normalised output u (0 at the
    tensor's left edge, 1 at its right) lands at (u * tw - pad) / scale in the image, and the
    content's edges land on the image's edges (AI Hub's denormalize_coordinates)."""
    _, tf = letterbox(frame, size, keep_aspect=keep_aspect)
    W, H = frame_size(frame)
    tw, th = size
    if keep_aspect:
        s = min(tw / W, th / H)
        new_w, new_h = max(1, min(tw, math.floor(W * s + 0.5))), max(1, min(th, math.floor(H * s + 0.5)))
    else:
        new_w, new_h = tw, th
    left, top = (tw - new_w) // 2, (th - new_h) // 2
    u = rng.random((20, 2))
    want = np.stack([(u[:, 0] * tw - left) / new_w, (u[:, 1] * th - top) / new_h], axis=1)
    np.testing.assert_allclose(tf.apply_normalized(u), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tf.inverse().apply_normalized(want), u, rtol=1e-10, atol=1e-12)
