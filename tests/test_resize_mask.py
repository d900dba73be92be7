"""resize_mask: plain upsampling, thresholding, letterbox undo and rotated-crop undo."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from assertions import assert_max_diff, assert_near_opencv
from edgevision import Rect
from edgevision.kernels import letterbox, resize_mask, warp_roi
from images import random_image, smooth_mask
from reference import (
    bilinear,
    coordinate_tolerance,
    opencv_letterbox_geometry,
    resize_exact,
    roi_matrix,
    undo_map,
    warp_roi_geometry,
)

PLAIN_CASES = [
    ((64, 64), (640, 480)),
    ((256, 144), (1280, 720)),
    ((17, 5), (3, 40)),  # shrink one axis, grow the other
    ((1, 1), (10, 7)),
    ((33, 47), (33, 47)),  # identity
    ((256, 256), (100, 90)),
]

# The contract and the brief: equal to cv2.resize within 1e-5. OpenCV computes each
# column's/row's sample position in double and keeps only the fraction in float32: it
# is within 1e-7 of a float64 bilinear reference even on noise masks, so 1e-5 leaves
# room for float32 weights but not for float32 positions of large coordinates (a
# 2.7e-5 error on a 256x144 noise mask upsampled to 1280x720). The positions of a
# resize and a letterbox undo are separable, so they can be computed once per column
# and per row at full precision.
CV2_TOLERANCE = 1e-5


# The kernel's own error against the float64 reference (float32 weights and sums).
EXACT_TOLERANCE = 2e-6


def cv2_resize(mask, size):
    return cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR).reshape(size[1], size[0])


def assert_resize_of(got, mask, size, context):
    """``got`` is ``mask`` resized to ``size``: as cv2.resize, or as the exact float64 resize where
    this OpenCV build lands further from it (aarch64)."""
    assert_near_opencv(got, cv2_resize(mask, size), resize_exact(mask, size), CV2_TOLERANCE, EXACT_TOLERANCE,
                       context)


@pytest.mark.parametrize("mask_size,size", PLAIN_CASES)
@pytest.mark.parametrize("kind", ["smooth", "noise"])
def test_plain_resize_equals_cv2(rng, mask_size, size, kind):
    w, h = mask_size
    mask = smooth_mask(rng, h, w) if kind == "smooth" else rng.random((h, w), np.float32)
    got = resize_mask(mask, size)
    assert got.dtype == np.float32 and got.shape == (size[1], size[0])
    assert_resize_of(got, mask, size, f"resize_mask {mask_size}->{size}")


@pytest.mark.parametrize("shape", ["1hw1", "11hw", "1hw", "hw1"])
def test_model_output_shapes(rng, shape):
    mask = smooth_mask(rng, 40, 30)
    shaped = {
        "1hw1": mask[None, :, :, None],
        "11hw": mask[None, None],
        "1hw": mask[None],
        "hw1": mask[:, :, None],
    }[shape]
    got = resize_mask(np.ascontiguousarray(shaped), (90, 120))
    assert got.shape == (120, 90)
    assert_resize_of(got, mask, (90, 120), f"mask shaped {shape}")


def test_strided_mask_view(rng):
    big = rng.random((50, 81), np.float32)
    view = big[3:, 1::2]
    got = resize_mask(view, (100, 120))
    assert_resize_of(got, np.ascontiguousarray(view), (100, 120), "strided mask")


@pytest.mark.parametrize("threshold", [0.5, 0.25, 0.0, 0.999])
def test_threshold(rng, threshold):
    mask = smooth_mask(rng, 64, 48)
    got = resize_mask(mask, (333, 177), threshold=threshold)
    values = cv2_resize(mask, (333, 177))
    assert got.dtype == np.uint8 and got.shape == (177, 333)
    assert set(np.unique(got)) <= {0, 1}
    # Values within CV2_TOLERANCE of the threshold may fall either way (float rounding).
    clear = np.abs(values - threshold) >= CV2_TOLERANCE
    np.testing.assert_array_equal(got[clear], (values > threshold)[clear].astype(np.uint8))


def test_out_parameter(rng):
    mask = smooth_mask(rng, 64, 64)
    out = np.full((48, 40), 9.0, np.float32)
    result = resize_mask(mask, (40, 48), out=out)
    assert np.shares_memory(result, out)
    assert_resize_of(out, mask, (40, 48), "out float32")
    out8 = np.full((48, 40), 9, np.uint8)
    result = resize_mask(mask, (40, 48), threshold=0.5, out=out8)
    assert np.shares_memory(result, out8)
    np.testing.assert_array_equal(out8, resize_mask(mask, (40, 48), threshold=0.5))


# ------------------------------------------------------------------ letterbox undo

FRAME_SIZES = [(640, 480), (480, 640), (1280, 720), (300, 301), (512, 512), (97, 13)]


@pytest.mark.parametrize("frame_size", FRAME_SIZES)
@pytest.mark.parametrize("kind", ["smooth", "noise"])
def test_letterbox_undo_equals_crop_and_cv2_resize(rng, frame_size, kind):
    W, H = frame_size
    _, tf = letterbox(random_image(rng, H, W), (256, 256))
    new_w, new_h, left, top = opencv_letterbox_geometry(frame_size, (256, 256))
    mask = smooth_mask(rng, 256, 256) if kind == "smooth" else rng.random((256, 256), np.float32)
    got = resize_mask(mask, frame_size, transform=tf)
    content = np.ascontiguousarray(mask[top : top + new_h, left : left + new_w])
    assert got.shape == (H, W)
    assert_resize_of(got, content, frame_size, f"letterbox undo {frame_size}")
    thresholded = resize_mask(mask, frame_size, transform=tf, threshold=0.5)
    expected = resize_exact(content, frame_size)
    clear = np.abs(expected - 0.5) >= CV2_TOLERANCE
    np.testing.assert_array_equal(thresholded[clear], (expected > 0.5)[clear].astype(np.uint8))


@pytest.mark.parametrize("frame_size", [(640, 480), (480, 640), (1280, 720)])
@pytest.mark.parametrize("mask_side", [64, 128])
def test_letterbox_undo_of_low_resolution_mask(rng, frame_size, mask_side):
    # Frames chosen so the content edges fall on mask pixel boundaries; then the
    # half-pixel rescale p_mask = (p + 0.5) * k - 0.5 makes the undo equal to a crop
    # of the small mask followed by cv2.resize.
    W, H = frame_size
    _, tf = letterbox(random_image(rng, H, W), (256, 256))
    new_w, new_h, left, top = opencv_letterbox_geometry(frame_size, (256, 256))
    k = mask_side / 256
    x0, y0, x1, y1 = (int(v * k) for v in (left, top, left + new_w, top + new_h))
    assert (x0, y0, x1, y1) == (left * k, top * k, (left + new_w) * k, (top + new_h) * k)
    mask = smooth_mask(rng, mask_side, mask_side)
    got = resize_mask(mask, frame_size, transform=tf)
    assert_resize_of(got, np.ascontiguousarray(mask[y0:y1, x0:x1]), frame_size,
                     f"low-res letterbox undo {frame_size} mask {mask_side}")


# ---------------------------------------------------------------- rotated undo

ROI_CASES = [
    ((256.0, 240.0, 200.0, 260.0, 0.6), (256, 256), 256),
    ((256.0, 240.0, 200.0, 260.0, 0.6), (256, 256), 64),
    ((300.5, 200.25, 150.0, 100.0, -2.2), (192, 128), 96),
    ((40.0, 470.0, 180.0, 180.0, math.pi / 2), (128, 128), 128),
]


def rotated_setup(rng, params, tensor_size, mask_side):
    image = random_image(rng, 512, 512)
    _, tf = warp_roi(image, Rect(*params), tensor_size)
    mask_w = mask_side
    mask_h = mask_side * tensor_size[1] // tensor_size[0]
    mask = smooth_mask(rng, mask_h, mask_w)
    matrix = roi_matrix(*warp_roi_geometry(params, tensor_size), tensor_size)
    px, py = undo_map(matrix, tensor_size, (mask_w, mask_h), (512, 512))
    return tf, mask, px, py


@pytest.mark.parametrize("params,tensor_size,mask_side", ROI_CASES)
def test_rotated_undo_zero_border(rng, params, tensor_size, mask_side):
    tf, mask, px, py = rotated_setup(rng, params, tensor_size, mask_side)
    got = resize_mask(mask, (512, 512), transform=tf, border="zero")
    expected = bilinear(mask, px, py, "zero")
    # Mask values are in [0, 1]; float32 positions as in warp_roi.
    assert_max_diff(got, expected, coordinate_tolerance(512), f"zero-border undo {params}")


@pytest.mark.parametrize("params,tensor_size,mask_side", ROI_CASES)
def test_rotated_undo_replicate_border(rng, params, tensor_size, mask_side):
    tf, mask, px, py = rotated_setup(rng, params, tensor_size, mask_side)
    got = resize_mask(mask, (512, 512), transform=tf, border="replicate")
    h_m, w_m = mask.shape
    eps = 1e-3
    outside = (px < -0.5 - eps) | (px > w_m - 0.5 + eps) | (py < -0.5 - eps) | (py > h_m - 0.5 + eps)
    inside = (px > -0.5 + eps) & (px < w_m - 0.5 - eps) & (py > -0.5 + eps) & (py < h_m - 0.5 - eps)
    assert outside.any() and inside.any()
    assert np.all(got[outside] == 0), "frame pixels beyond half a mask pixel must be 0"
    expected = bilinear(mask, px, py, "replicate")
    assert_max_diff(got[inside], expected[inside], coordinate_tolerance(512), f"replicate undo {params}")


def test_rotated_undo_threshold(rng):
    params, tensor_size, mask_side = ROI_CASES[2]
    tf, mask, px, py = rotated_setup(rng, params, tensor_size, mask_side)
    got = resize_mask(mask, (512, 512), transform=tf, border="zero", threshold=0.3)
    expected = bilinear(mask, px, py, "zero")
    clear = np.abs(expected - 0.3) > 1e-3
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got[clear], (expected > 0.3)[clear].astype(np.uint8))


def test_geometry_changes_between_calls_rebuild_the_tables(rng):
    """Each thread keeps its last tap tables while the geometry repeats (video frames): a call
    whose geometry differs in any part (sizes, letterbox, border, a strided view of the mask)
    must give what a thread with no tables gives."""
    import threading

    mask = smooth_mask(rng, 256, 256)
    transposed = np.ascontiguousarray(mask.T).T  # same shape and values, column step 256
    _, wide = letterbox(np.zeros((720, 1280, 3), np.uint8), (256, 256))
    _, tall = letterbox(np.zeros((1280, 720, 3), np.uint8), (256, 256))
    calls = [
        (mask, (1280, 720), dict(transform=wide)),
        (mask, (720, 1280), dict(transform=tall)),
        (mask, (1280, 720), dict(transform=wide)),
        (transposed, (1280, 720), dict(transform=wide)),
        (mask, (1280, 720), dict(transform=wide, border="zero")),
        (mask, (1280, 720), dict()),
        (mask, (1280, 720), dict(transform=wide, threshold=0.5)),
        (mask, (1280, 720), dict(transform=wide)),
    ]
    in_sequence = [resize_mask(m, size, **kw) for m, size, kw in calls]
    for k, (m, size, kw) in enumerate(calls):
        fresh = []
        worker = threading.Thread(target=lambda: fresh.append(resize_mask(m, size, **kw)))
        worker.start()
        worker.join()
        np.testing.assert_array_equal(in_sequence[k], fresh[0], err_msg=f"call {k}: {kw}")
    assert not np.array_equal(in_sequence[0], in_sequence[4]), "the borders should differ at the padding edge"
