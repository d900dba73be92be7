"""Property tests: random sizes, strides, rects and options against the references."""

from __future__ import annotations

import math

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from assertions import assert_max_diff
from edgevision import Rect
from edgevision.kernels import composite, letterbox, resize_mask, segmentation_smoothing, warp_roi
from reference import (
    coordinate_tolerance,
    composite_reference,
    cv2_letterbox_pixels,
    from_layout,
    mediapipe_letterbox_roi,
    opencv_letterbox_geometry,
    opencv_letterbox_matrix,
    rect_corners,
    roi_matrix,
    sample_tensor,
    tensor_rgb,
    to_value_range,
    undo_map,
    bilinear,
    warp_roi_geometry,
)

side = st.integers(1, 70)
extreme_size = st.sampled_from([(1, 60), (60, 1), (1, 1), (70, 2), (2, 70)])
sizes = st.one_of(st.tuples(side, side), extreme_size)
value_ranges = st.sampled_from([(0.0, 1.0), (-1.0, 1.0), (0.0, 255.0), (-0.5, 0.25)])


@st.composite
def images(draw, max_side=70):
    """uint8 frames: contiguous, offset crops or odd-stride views; 3 or 4 channels."""
    width, height = draw(st.one_of(st.tuples(st.integers(1, max_side), st.integers(1, max_side)), extreme_size))
    channels = draw(st.sampled_from([3, 4]))
    view = draw(st.sampled_from(["contiguous", "crop", "strided"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    smooth = draw(st.booleans())
    big = rng.integers(0, 256, (height + 3, 2 * width + 1, channels), dtype=np.uint8)
    if smooth:  # also exercise ordinary photos, not only noise
        big = cv2.GaussianBlur(big, (0, 0), 2.0).reshape(big.shape)
    if view == "contiguous":
        return np.ascontiguousarray(big[:height, :width])
    if view == "crop":
        return big[3:, 1 : 1 + width]
    return big[3:, 1::2]


def frame_size(image):
    return image.shape[1], image.shape[0]


def check_range(tensor, value_range):
    lo, hi = value_range
    slack = 1e-5 * abs(hi - lo)
    assert np.all(np.isfinite(tensor))
    assert tensor.min() >= min(lo, hi) - slack and tensor.max() <= max(lo, hi) + slack


@given(
    image=images(),
    size=sizes,
    keep_aspect=st.booleans(),
    border=st.sampled_from(["zero", "replicate"]),
    value_range=value_ranges,
    layout=st.sampled_from(["nhwc", "nchw"]),
    channel_order=st.sampled_from(["rgb", "bgr"]),
)
def test_letterbox_opencv(image, size, keep_aspect, border, value_range, layout, channel_order):
    tensor, tf = letterbox(
        image,
        size,
        keep_aspect=keep_aspect,
        border=border,
        value_range=value_range,
        layout=layout,
        channel_order=channel_order,
    )
    w, h = size
    assert tensor.shape == ((1, h, w, 3) if layout == "nhwc" else (1, 3, h, w))
    assert tensor.dtype == np.float32
    check_range(tensor, value_range)
    expected = cv2_letterbox_pixels(image, size, keep_aspect, border, channel_order)
    lo, hi = value_range
    assert_max_diff(
        from_layout(tensor, layout), to_value_range(expected, value_range), abs(hi - lo) / 255 + 1e-6
    )
    W, H = frame_size(image)
    np.testing.assert_allclose(
        tf.matrix, opencv_letterbox_matrix((W, H), size, keep_aspect), rtol=1e-12, atol=1e-12
    )
    new_w, new_h, left, top = opencv_letterbox_geometry((W, H), size, keep_aspect)
    assert tuple(tf.content) == (left, top, left + new_w, top + new_h)


@given(image=images(), size=sizes, border=st.sampled_from(["zero", "replicate"]))
def test_letterbox_opencv_uint8(image, size, border):
    tensor, _ = letterbox(image, size, dtype="uint8", border=border)
    assert tensor.dtype == np.uint8 and tensor.shape == (1, size[1], size[0], 3)
    assert_max_diff(tensor[0], cv2_letterbox_pixels(image, size, border=border), 1)


@given(
    image=images(),
    size=sizes,
    keep_aspect=st.booleans(),
    border=st.sampled_from(["zero", "replicate"]),
    value_range=value_ranges,
    channel_order=st.sampled_from(["rgb", "bgr"]),
)
def test_letterbox_mediapipe(image, size, keep_aspect, border, value_range, channel_order):
    tensor, tf = letterbox(
        image,
        size,
        sampling="mediapipe",
        keep_aspect=keep_aspect,
        border=border,
        value_range=value_range,
        channel_order=channel_order,
    )
    assert tensor.shape == (1, size[1], size[0], 3)
    check_range(tensor, value_range)
    cx, cy, roi_w, roi_h = mediapipe_letterbox_roi(frame_size(image), size, keep_aspect)
    matrix = roi_matrix(cx, cy, roi_w, roi_h, 0.0, size)
    pixels = sample_tensor(tensor_rgb(image, channel_order), matrix, size, border)
    lo, hi = value_range
    assert_max_diff(
        tensor[0], to_value_range(pixels, value_range), coordinate_tolerance(max(roi_w, roi_h)) * abs(hi - lo)
    )
    np.testing.assert_allclose(tf.matrix, matrix, rtol=1e-9, atol=1e-9)


@st.composite
def rects(draw, image_size, min_side=1e-3):
    """Rotated rects inside, across, or far outside the frame; tiny to huge."""
    W, H = image_size
    cx = draw(st.floats(-2.0 * W - 5, 3.0 * W + 5))
    cy = draw(st.floats(-2.0 * H - 5, 3.0 * H + 5))
    tiny = st.floats(min_side, max(2.0, min_side))
    rw = draw(st.one_of(tiny, st.floats(0.5, 3.0 * W + 3), st.floats(100.0, 1e4)))
    rh = draw(st.one_of(tiny, st.floats(0.5, 3.0 * H + 3), st.floats(100.0, 1e4)))
    rotation = draw(st.floats(-2 * math.pi, 2 * math.pi))
    return (cx, cy, rw, rh, rotation)


@given(
    data=st.data(),
    image=images(),
    size=sizes,
    keep_aspect=st.booleans(),
    border=st.sampled_from(["zero", "replicate"]),
    value_range=value_ranges,
    layout=st.sampled_from(["nhwc", "nchw"]),
)
def test_warp_roi(data, image, size, keep_aspect, border, value_range, layout):
    params = data.draw(rects(frame_size(image)))
    tensor, tf = warp_roi(
        image, Rect(*params), size, keep_aspect=keep_aspect, border=border, value_range=value_range, layout=layout
    )
    w, h = size
    assert tensor.shape == ((1, h, w, 3) if layout == "nhwc" else (1, 3, h, w))
    check_range(tensor, value_range)
    geometry = warp_roi_geometry(params, size, keep_aspect)
    matrix = roi_matrix(*geometry, size)
    pixels = sample_tensor(tensor_rgb(image), matrix, size, border)
    extent = max(np.abs(rect_corners(*geometry)).max(), *image.shape[:2])
    lo, hi = value_range
    # float32 sample positions in the kernel: see reference.coordinate_tolerance.
    assert_max_diff(
        from_layout(tensor, layout), to_value_range(pixels, value_range), coordinate_tolerance(extent) * abs(hi - lo)
    )
    scale = max(1.0, extent)
    np.testing.assert_allclose(tf.matrix, matrix, rtol=1e-9, atol=1e-9 * scale)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    np.testing.assert_allclose(tf.inverse().apply(tf.apply(corners)), corners, atol=1e-6 * scale)


@given(
    mask_size=sizes,
    size=sizes,
    threshold=st.one_of(st.none(), st.floats(0.05, 0.95)),
    seed=st.integers(0, 2**32 - 1),
    strided=st.booleans(),
)
def test_resize_mask_plain(mask_size, size, threshold, seed, strided):
    rng = np.random.default_rng(seed)
    mw, mh = mask_size
    mask = rng.random((mh, 2 * mw + 1), np.float32)[:, 1::2] if strided else rng.random((mh, mw), np.float32)
    got = resize_mask(mask, size, threshold=threshold)
    expected = cv2.resize(np.ascontiguousarray(mask), size, interpolation=cv2.INTER_LINEAR).reshape(size[1], size[0])
    assert got.shape == (size[1], size[0])
    if threshold is None:
        assert got.dtype == np.float32
        # Bilinear is a convex combination: never outside the mask's own range.
        assert got.min() >= mask.min() - 1e-6 and got.max() <= mask.max() + 1e-6
        assert_max_diff(got, expected, 1e-5)
    else:
        assert got.dtype == np.uint8
        clear = np.abs(expected - threshold) >= 1e-5
        np.testing.assert_array_equal(got[clear], (expected > threshold)[clear].astype(np.uint8))


@given(data=st.data(), image=images(max_side=60), tensor_size=sizes, mask_scale=st.sampled_from([1, 2]))
def test_resize_mask_rotated_undo_zero_border(data, image, tensor_size, mask_scale):
    # Rects of at least a pixel: a tinier one magnifies float32 position error
    # beyond anything a [0, 1] mask comparison could detect.
    params = data.draw(rects(frame_size(image), min_side=1.0))
    _, tf = warp_roi(image, Rect(*params), tensor_size)
    tw, th = tensor_size
    if tw % mask_scale or th % mask_scale:
        mask_scale = 1
    mask_w, mask_h = tw // mask_scale, th // mask_scale
    mask = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).random((mask_h, mask_w), np.float32)
    W, H = frame_size(image)
    got = resize_mask(mask, (W, H), transform=tf, border="zero")
    assert got.shape == (H, W) and got.dtype == np.float32
    assert got.min() >= min(0.0, mask.min()) - 1e-6 and got.max() <= mask.max() + 1e-6
    geometry = warp_roi_geometry(params, tensor_size)
    matrix = roi_matrix(*geometry, tensor_size)
    px, py = undo_map(matrix, tensor_size, (mask_w, mask_h), (W, H))
    expected = bilinear(mask, px, py, "zero")
    # The kernel's float32 inverse map sums terms of size (tensor px per frame px)
    # x (frame coordinate); its ulps bound the position error (mask slope <= 1/px).
    cx, cy, roi_w, roi_h, _ = geometry
    gain = max(1.0, tensor_size[0] / roi_w, tensor_size[1] / roi_h)
    magnitude = gain * (max(W, H) + abs(cx) + abs(cy) + max(roi_w, roi_h))
    assert_max_diff(got, expected, coordinate_tolerance(magnitude))


@given(
    image=images(),
    seed=st.integers(0, 2**32 - 1),
    mask_kind=st.sampled_from(["float", "uint8", "out_of_range"]),
    background_kind=st.sampled_from(["colour", "image3", "image4"]),
)
def test_composite(image, seed, mask_kind, background_kind):
    rng = np.random.default_rng(seed)
    H, W = image.shape[:2]
    if mask_kind == "uint8":
        mask = rng.integers(0, 3, (H, W), dtype=np.uint8)
    elif mask_kind == "float":
        mask = rng.random((H, W), np.float32)
    else:
        mask = (rng.random((H, W), np.float32) * 2 - 0.5).astype(np.float32)
    if background_kind == "colour":
        background = tuple(int(v) for v in rng.integers(0, 256, 3))
    else:
        background = rng.integers(0, 256, (H, W, 3 if background_kind == "image3" else 4), dtype=np.uint8)
    got = composite(image, mask, background)
    assert got.shape == image.shape and got.dtype == np.uint8
    assert_max_diff(got, composite_reference(image, mask, background), 1)
    if image.shape[2] == 4:
        np.testing.assert_array_equal(got[..., 3], image[..., 3])


def mask_transform(rng, image, mask_size, mapping):
    """The transform a model mask of mask_size came through: none (plain resize), a letterbox
    of the image, or a random rotated crop partly outside it."""
    H, W = image.shape[:2]
    if mapping == "letterbox":
        return letterbox(image, mask_size)[1]
    if mapping == "rotated":
        rect = Rect(W * rng.random(), H * rng.random(), W * (0.2 + rng.random()), H * (0.2 + rng.random()),
                    float(rng.uniform(-3, 3)))
        return warp_roi(image, rect, mask_size)[1]
    return None


# A model mask of any size, resized onto a frame plainly or through a mask_transform.
LOW_RES_MASK_CASES = dict(
    image=images(),
    mask_w=st.integers(1, 40),
    mask_h=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    mapping=st.sampled_from(["resize", "letterbox", "rotated"]),
    border=st.sampled_from(["replicate", "zero"]),
)


@settings(max_examples=40)
@given(**LOW_RES_MASK_CASES, threshold=st.one_of(st.none(), st.floats(-0.5, 1.5)),
       background_kind=st.sampled_from(["colour", "blur"]))
def test_composite_of_a_low_res_mask_equals_resize_mask_first(image, mask_w, mask_h, seed, threshold, background_kind,
                                                              mapping, border):
    # Any mask size, any frame size, plain or through a letterbox / rotated crop: the fused
    # upsample is resize_mask's, value for value.
    rng = np.random.default_rng(seed)
    mask = (rng.random((mask_h, mask_w), np.float32) * 1.4 - 0.2).astype(np.float32)
    H, W = image.shape[:2]
    transform = mask_transform(rng, image, (mask_w, mask_h), mapping)
    background = (1, 2, 3) if background_kind == "colour" else "blur"
    got = composite(image, mask, background, transform=transform, threshold=threshold, border=border)
    full = resize_mask(mask, (W, H), transform=transform, threshold=threshold, border=border)
    np.testing.assert_array_equal(got, composite(image, full, background))


@settings(max_examples=40)
@given(**LOW_RES_MASK_CASES, ratio=st.floats(0.0, 1.0))
def test_smoothing_of_a_low_res_mask_equals_resize_mask_first(image, mask_w, mask_h, seed, ratio, mapping, border):
    # Any sizes and mappings: the fused resize + smoothing is the two calls, value for value.
    rng = np.random.default_rng(seed)
    mask = (rng.random((mask_h, mask_w), np.float32) * 1.4 - 0.2).astype(np.float32)
    H, W = image.shape[:2]
    previous = rng.random((H, W), np.float32)
    transform = mask_transform(rng, image, (mask_w, mask_h), mapping)
    got = segmentation_smoothing(previous, mask, ratio, size=(W, H), transform=transform, border=border)
    full = resize_mask(mask, (W, H), transform=transform, border=border)
    np.testing.assert_array_equal(got, segmentation_smoothing(previous, full, ratio))


@settings(max_examples=25)
@given(image=images(), sigma=st.floats(0.5, 20.0))
def test_composite_blur_is_finite_and_shaped(image, sigma):
    # Tiny frames and huge sigmas must not crash; a blur stays within the frame's
    # per-channel value range (a Gaussian is a weighted mean).
    got = composite(image, np.zeros(image.shape[:2], np.float32), "blur", blur_sigma=sigma)
    assert got.shape == image.shape and got.dtype == np.uint8
    colour = image[..., :3].reshape(-1, 3)
    flat = got[..., :3].reshape(-1, 3)
    assert np.all(flat.min(axis=0) >= colour.min(axis=0).astype(int) - 1)
    assert np.all(flat.max(axis=0) <= colour.max(axis=0).astype(int) + 1)
