"""RectTransformation's shift (MediaPipe's TransformNormalizedRect): the centre moves by
(shift_x * width, shift_y * height) along the rect's rotated axes, measured in pixels, with
the size before squaring and scaling; then square_long and scale. Reference written out below
on normalised rects, as MediaPipe computes them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgevision import Rect
from edgevision.kernels import rect_from_box, rect_from_keypoints, transform_rect


def normalize_radians(a):
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def transform_normalized(rect, image_size, scale=(1.0, 1.0), shift=(0.0, 0.0), square_long=False):
    """TransformNormalizedRect on (x_center, y_center, width, height, rotation), normalised."""
    x, y, w, h, rotation = rect
    W, H = image_size
    if rotation == 0.0:
        x, y = x + w * shift[0], y + h * shift[1]
    else:
        x += (W * w * shift[0] * math.cos(rotation) - H * h * shift[1] * math.sin(rotation)) / W
        y += (W * w * shift[0] * math.sin(rotation) + H * h * shift[1] * math.cos(rotation)) / H
    if square_long:
        long_side = max(w * W, h * H)
        w, h = long_side / W, long_side / H
    return (x, y, w * scale[0], h * scale[1], rotation)


def normalised(rect, image_size):
    W, H = image_size
    return (rect.x_center / W, rect.y_center / H, rect.width / W, rect.height / H, rect.rotation)


def assert_close(got, want):
    # pixels vs normalised units: the same values up to double rounding after cancellation
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


@given(
    cx=st.floats(-100, 2000), cy=st.floats(-100, 2000), w=st.floats(0, 900), h=st.floats(0, 900),
    rotation=st.floats(-math.pi, math.pi), sx=st.floats(-1, 1), sy=st.floats(-1, 1), scale=st.floats(0.1, 3),
    square=st.booleans(), W=st.integers(1, 3000), H=st.integers(1, 3000),
)
def test_transform_rect_matches_reference(cx, cy, w, h, rotation, sx, sy, scale, square, W, H):
    rect = Rect(cx, cy, w, h, rotation)
    got = transform_rect(rect, scale=(scale, 2 * scale), shift=(sx, sy), square_long=square)
    want = transform_normalized(normalised(rect, (W, H)), (W, H), (scale, 2 * scale), (sx, sy), square)
    assert_close(normalised(got, (W, H)), want)


def test_shift_follows_the_rotation():
    rect = Rect(100.0, 50.0, 40.0, 20.0, math.pi / 2)  # turned a quarter clockwise on screen
    up = transform_rect(rect, shift=(0.0, -0.5))  # half the height "up" in the rect's frame
    assert up.x_center == pytest.approx(110.0) and up.y_center == pytest.approx(50.0)
    right = transform_rect(rect, shift=(0.25, 0.0))
    assert right.x_center == pytest.approx(100.0) and right.y_center == pytest.approx(60.0)
    assert (right.width, right.height, right.rotation) == (40.0, 20.0, math.pi / 2)


def test_shift_uses_the_size_before_scaling():
    got = transform_rect(Rect(0.0, 0.0, 10.0, 30.0, 0.0), scale=3.0, shift=(1.0, 1.0), square_long=True)
    assert (got.x_center, got.y_center, got.width, got.height) == (10.0, 30.0, 90.0, 90.0)


def test_rect_from_keypoints_with_shift():
    """MediaPipe's palm-to-hand ROI style: alignment rect, then shift (0, -0.5), scale 2.6."""
    W, H = 640, 480
    p0, p1 = (0.4, 0.6), (0.45, 0.4)
    got = rect_from_keypoints(p0, p1, (W, H), target_angle=math.pi / 2, scale=2.6, shift=(0.0, -0.5))
    x0, y0, x1, y1 = p0[0] * W, p0[1] * H, p1[0] * W, p1[1] * H
    side = 2 * math.hypot(x1 - x0, y1 - y0)
    rotation = normalize_radians(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0))
    want = transform_normalized((p0[0], p0[1], side / W, side / H, rotation), (W, H), (2.6, 2.6), (0.0, -0.5), True)
    assert_close(normalised(got, (W, H)), want)
    # without a shift the centre stays on the keypoint
    plain = rect_from_keypoints(p0, p1, (W, H), target_angle=math.pi / 2, scale=2.6)
    assert (plain.x_center, plain.y_center) == (x0, y0)


@pytest.mark.parametrize("points", [None, ((0.3, 0.4), (0.6, 0.35))])
def test_rect_from_box_with_shift(points):
    W, H = 800, 600
    box = (0.2, 0.3, 0.5, 0.45)
    got = rect_from_box(box, (W, H), rotation_points=points, scale=(1.5, 1.2), shift=(0.1, -0.2))
    rotation = 0.0
    if points:
        (ax, ay), (bx, by) = points
        rotation = normalize_radians(-math.atan2(-(by - ay) * H, (bx - ax) * W))
    start = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1], rotation)
    want = transform_normalized(start, (W, H), (1.5, 1.2), (0.1, -0.2), True)
    np.testing.assert_allclose(normalised(got, (W, H)), want, rtol=1e-12, atol=1e-15)


def test_card_roi_rule_shifts_before_scaling():
    """A card's [roi] shift reaches the rect as MediaPipe's RectTransformation applies it."""
    from edgevision.pipelines.roi_rules import RoiRule

    W, H = 640, 480
    keypoints = np.array([[0.4, 0.6], [0.45, 0.4]])
    rule = RoiRule.from_card({"mode": "alignment", "start_keypoint": 0, "end_keypoint": 1,
                              "target_angle_degrees": 90.0, "scale": [2.6, 2.6], "shift": [0.0, -0.5]},
                             start_key="start_keypoint", end_key="end_keypoint")
    got = rule.from_points(keypoints, None, (W, H))
    (ax, ay), (bx, by) = keypoints * (W, H)
    side = 2 * math.hypot(bx - ax, by - ay)
    rotation = normalize_radians(math.pi / 2 - math.atan2(-(by - ay), bx - ax))
    start = (keypoints[0, 0], keypoints[0, 1], side / W, side / H, rotation)
    assert_close(normalised(got, (W, H)), transform_normalized(start, (W, H), (2.6, 2.6), (0.0, -0.5), True))


@pytest.mark.parametrize("call", [
    lambda: transform_rect(Rect(0, 0, 1, 1, 0), shift=(math.nan, 0.0)),
    lambda: transform_rect(Rect(0, 0, 1, 1, 0), shift=0.5),
    lambda: transform_rect(Rect(0, 0, 1, 1, 0), shift=(0.1, 0.2, 0.3)),
    lambda: rect_from_box((0, 0, 1, 1), (10, 10), shift="up"),
    lambda: rect_from_keypoints((0, 0), (1, 1), (10, 10), target_angle=0.0, shift=(math.inf, 0)),
])
def test_bad_shift_is_rejected(call):
    with pytest.raises((TypeError, ValueError), match="shift"):
        call()


def test_bad_rect_and_scale_are_rejected():
    with pytest.raises(TypeError, match="rect"):
        transform_rect((0, 0, 1, 1, 0))
    with pytest.raises(ValueError, match="scale"):
        transform_rect(Rect(0, 0, 1, 1, 0), scale=0.0)
    with pytest.raises(TypeError, match="square_long"):
        transform_rect(Rect(0, 0, 1, 1, 0), square_long="yes")
