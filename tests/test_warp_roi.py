"""warp_roi: rotated-rect crops against a NumPy bilinear reference and cv2.warpAffine."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from assertions import assert_max_diff, assert_mean_diff
from edgevision import Rect
from edgevision.kernels import warp_roi
from images import random_image
from reference import (
    coordinate_tolerance,
    from_layout,
    mediapipe_normalized_matrix,
    rect_corners,
    roi_matrix,
    sample_tensor,
    tensor_rgb,
    to_levels,
    to_value_range,
    warp_roi_geometry,
)

RECTS = {
    "centred": (256.0, 256.0, 200.0, 150.0, 0.0),
    "rotated": (230.3, 270.7, 180.5, 120.25, 0.7),
    "rotated_negative": (300.0, 200.0, 100.0, 260.0, -2.5),
    "quarter_turn": (256.0, 256.0, 128.0, 128.0, math.pi / 2),
    "partly_outside": (20.0, 490.0, 200.0, 160.0, 0.3),
    "wholly_outside": (-300.0, 800.0, 100.0, 100.0, 1.0),
    "tiny": (100.3, 200.7, 0.5, 0.5, 0.2),
    "huge": (256.0, 256.0, 5000.0, 4000.0, -0.4),
}
SIZES = [(128, 128), (96, 160), (224, 200)]


def expected_warp(image, rect_params, size, keep_aspect=True, border="replicate", order="rgb"):
    """``(pixels 0..255 float64, matrix, largest coordinate magnitude)``."""
    geometry = warp_roi_geometry(rect_params, size, keep_aspect)
    matrix = roi_matrix(*geometry, size)
    pixels = sample_tensor(tensor_rgb(image, order), matrix, size, border)
    extent = max(np.abs(rect_corners(*geometry)).max(), *image.shape[:2])
    return pixels, matrix, extent


@pytest.mark.parametrize("keep_aspect", [True, False])
@pytest.mark.parametrize("border", ["replicate", "zero"])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("rect_name", list(RECTS))
def test_matches_numpy_bilinear(astronaut, rect_name, size, border, keep_aspect):
    params = RECTS[rect_name]
    tensor, _ = warp_roi(astronaut, Rect(*params), size, border=border, keep_aspect=keep_aspect)
    pixels, _, extent = expected_warp(astronaut, params, size, keep_aspect, border)
    assert tensor.dtype == np.float32 and tensor.shape == (1, size[1], size[0], 3)
    # The kernel computes sample positions in float32: the tolerance grows with the
    # coordinate magnitude (a few ulps of position times a full-range edge), see
    # reference.coordinate_tolerance. 1e-4 of the range for the base arithmetic.
    assert_max_diff(
        tensor[0],
        to_value_range(pixels),
        coordinate_tolerance(extent),
        f"warp_roi {rect_name} {size} {border} keep_aspect={keep_aspect}",
    )


@pytest.mark.parametrize("border", ["replicate", "zero"])
@pytest.mark.parametrize("rect_name", list(RECTS))
def test_close_to_cv2_warp_affine(astronaut, rect_name, border):
    size = (160, 128)
    tensor, tf = warp_roi(astronaut, Rect(*RECTS[rect_name]), size, border=border)
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    expected = cv2.warpAffine(
        astronaut,
        tf.matrix[:2],
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=mode,
        borderValue=(0, 0, 0),
    )
    got = to_levels(tensor[0])
    # OpenCV quantises sample positions to 1/32 pixel and rounds to uint8, so at a
    # sharp edge it can be a few levels off the exact value; on average it is close.
    assert_mean_diff(got, expected, 0.5, f"vs cv2.warpAffine, {rect_name} {border}")
    assert_max_diff(got, expected, 6.0, f"vs cv2.warpAffine, {rect_name} {border}")


@pytest.mark.parametrize("keep_aspect", [True, False])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("rect_name", list(RECTS))
def test_transform(astronaut, rect_name, size, keep_aspect):
    params = RECTS[rect_name]
    _, tf = warp_roi(astronaut, Rect(*params), size, keep_aspect=keep_aspect)
    geometry = warp_roi_geometry(params, size, keep_aspect)
    scale = max(1.0, np.abs(rect_corners(*geometry)).max())
    np.testing.assert_allclose(tf.matrix, roi_matrix(*geometry, size), rtol=1e-9, atol=1e-9 * scale)
    assert tuple(tf.src_size) == tuple(size)
    assert tuple(tf.dst_size) == (512, 512)
    assert tuple(tf.content) == (0, 0, size[0], size[1])
    w, h = size
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    np.testing.assert_allclose(
        tf.apply(corners), rect_corners(*geometry), rtol=1e-9, atol=1e-9 * scale
    )
    np.testing.assert_allclose(
        tf.normalized_matrix,
        mediapipe_normalized_matrix(*geometry, (512, 512)),
        rtol=1e-9,
        atol=1e-9 * scale,
    )


def test_keep_aspect_grows_the_rect():
    # A 100 x 50 rect into a square tensor must become 100 x 100 (never shrink).
    img = np.zeros((10, 10, 3), np.uint8)
    _, tf = warp_roi(img, Rect(5, 5, 100, 50), (32, 32))
    np.testing.assert_allclose(tf.apply(np.array([[0.0, 0.0], [32.0, 32.0]])), [[-45, -45], [55, 55]])
    _, tf = warp_roi(img, Rect(5, 5, 50, 100), (32, 32))
    np.testing.assert_allclose(tf.apply(np.array([[0.0, 0.0], [32.0, 32.0]])), [[-45, -45], [55, 55]])


def test_axis_aligned_unit_scale_rect_is_a_plain_crop(astronaut):
    tensor, _ = warp_roi(astronaut, Rect(200, 150, 64, 48), (64, 48), dtype="uint8")
    np.testing.assert_array_equal(tensor[0], astronaut[126:174, 168:232])
    tensor, _ = warp_roi(astronaut, Rect(200, 150, 64, 48), (64, 48))
    assert_max_diff(tensor[0], astronaut[126:174, 168:232] / 255.0, 1e-6, "float crop")


def test_quarter_turn_reads_rotated_pixels(astronaut):
    # x = cx - v, y = cy + u: tensor (j, i) reads image (x, y) = (280 - i, 224 + j).
    tensor, _ = warp_roi(astronaut, Rect(256, 256, 64, 48, math.pi / 2), (64, 48), dtype="uint8")
    i, j = np.mgrid[0:48, 0:64]
    np.testing.assert_array_equal(tensor[0], astronaut[224 + j, 280 - i])


@pytest.mark.parametrize("border", ["replicate", "zero"])
def test_uint8_output(astronaut, border):
    params = RECTS["rotated"]
    tensor, _ = warp_roi(astronaut, Rect(*params), (128, 96), dtype="uint8", border=border)
    pixels, _, _ = expected_warp(astronaut, params, (128, 96), border=border)
    assert tensor.dtype == np.uint8
    assert_max_diff(tensor[0], pixels, 0.5 + 0.25, "uint8 warp_roi")
    # Away from .5 ties the rounding to nearest must agree exactly.
    clear = np.abs(pixels - np.floor(pixels) - 0.5) > 0.05
    np.testing.assert_array_equal(tensor[0][clear], np.floor(pixels + 0.5)[clear])


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
@pytest.mark.parametrize("value_range", [(0.0, 1.0), (-1.0, 1.0), (0.0, 255.0)])
@pytest.mark.parametrize("channel_order", ["rgb", "bgr"])
@pytest.mark.parametrize("channels", [3, 4])
def test_options(rng, layout, value_range, channel_order, channels):
    image = random_image(rng, 61, 83, channels)
    params = (40.5, 25.25, 50.0, 30.0, -0.9)
    tensor, _ = warp_roi(
        image,
        Rect(*params),
        (48, 40),
        layout=layout,
        value_range=value_range,
        channel_order=channel_order,
    )
    pixels, _, extent = expected_warp(image, params, (48, 40), order=channel_order)
    lo, hi = value_range
    assert tensor.shape == ((1, 40, 48, 3) if layout == "nhwc" else (1, 3, 40, 48))
    assert_max_diff(
        from_layout(tensor, layout),
        to_value_range(pixels, value_range),
        coordinate_tolerance(extent) * abs(hi - lo),
        f"warp_roi {layout} {value_range} {channel_order} {channels}ch",
    )


def test_out_is_filled(astronaut, camera3):
    out = np.full((1, 3, 64, 80), -5.0, np.float32)
    for img in (astronaut, camera3):
        result, _ = warp_roi(img, Rect(*RECTS["rotated"]), (80, 64), layout="nchw", out=out)
        want, _ = warp_roi(img, Rect(*RECTS["rotated"]), (80, 64), layout="nchw")
        assert np.shares_memory(result, out)
        np.testing.assert_array_equal(out, want)
