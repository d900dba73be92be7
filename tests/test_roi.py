"""rect_from_keypoints / rect_from_box / landmarks_box against spec §0.6-0.8, §2, §5.2, and
AI Hub's BlazePose ROI (aihub spec §2a)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import detection_reference as ref
from edgevision import Rect
from edgevision.kernels import landmarks_box, rect_from_box, rect_from_keypoints


def as_tuple(rect):
    return (rect.x_center, rect.y_center, rect.width, rect.height, rect.rotation)


def assert_rect(got, want, tol=1e-9):
    assert isinstance(got, Rect)
    g, w = as_tuple(got), want
    for a, b, name in zip(g, w, ("x_center", "y_center", "width", "height", "rotation")):
        assert abs(a - b) <= tol * max(1.0, abs(b)), f"{name}: {a} != {b}"


points = st.tuples(st.floats(-0.5, 1.5), st.floats(-0.5, 1.5))
image_sizes = st.tuples(st.integers(1, 4000), st.integers(1, 4000))


@given(p0=points, p1=points, size=image_sizes, target=st.floats(-7, 7), scale=st.floats(0.1, 3))
def test_rect_from_keypoints_matches_reference(p0, p1, size, target, scale):
    got = rect_from_keypoints(p0, p1, size, target_angle=target, scale=scale)
    want = ref.alignment_rect(p0, p1, size, target, scale)
    # the rotation is exact up to the boundary where -pi and pi are the same angle
    if abs(abs(want[4]) - math.pi) < 1e-9:
        want = want[:4] + (got.rotation,) if abs(abs(got.rotation) - math.pi) < 1e-9 else want
    assert_rect(got, want)
    assert -math.pi <= got.rotation < math.pi


def test_pose_roi_upright_body_has_no_rotation():
    # mid-hip at (0.5, 0.6), scale point straight above it
    rect = rect_from_keypoints((0.5, 0.6), (0.5, 0.35), (640, 480), target_angle=math.pi / 2)
    assert_rect(rect, (320.0, 288.0, 1.25 * 2 * 120.0, 1.25 * 2 * 120.0, 0.0))


@pytest.mark.parametrize("eps", [1e-6, 0.0, -1e-6])
def test_rotation_wraps_at_pi(eps):
    """Scale point below the centre: target - atan2 = pi/2 - (-pi/2) = pi, normalised to -pi;
    a hair either side lands just under pi or just over -pi."""
    c = (0.5, 0.5)
    p = (0.5 + eps, 0.7)
    rect = rect_from_keypoints(c, p, (100, 100), target_angle=math.pi / 2)
    want = ref.normalize_radians(math.pi / 2 - math.atan2(-20.0, eps * 100))
    assert -math.pi <= rect.rotation < math.pi
    assert abs(rect.rotation - want) < 1e-12
    if eps == 0.0:
        assert rect.rotation == -math.pi
    elif eps > 0:  # pi - tiny stays
        assert rect.rotation == pytest.approx(math.pi, abs=1e-5) and rect.rotation < math.pi
    else:  # pi + tiny wraps to -pi + tiny
        assert rect.rotation == pytest.approx(-math.pi, abs=1e-5) and rect.rotation > -math.pi


def test_ai_hub_blazepose_roi():
    """AI Hub: c = KP2, e = KP3 in pixels, theta = atan2(c.y - e.y, c.x - e.x) - pi/2,
    side = 2 |c - e| * 1.5: the same rect as MediaPipe's alignment with target pi/2."""
    rng = np.random.default_rng(5)
    W, H = 1280, 720
    for _ in range(50):
        c, e = rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)
        rect = rect_from_keypoints(c, e, (W, H), target_angle=math.pi / 2, scale=1.5)
        cx, cy, ex, ey = c[0] * W, c[1] * H, e[0] * W, e[1] * H
        theta = math.atan2(cy - ey, cx - ex) - math.pi / 2
        diff = (rect.rotation - theta) % (2 * math.pi)
        assert min(diff, 2 * math.pi - diff) < 1e-9
        side = 2 * math.hypot(cx - ex, cy - ey) * 1.5
        assert rect.width == pytest.approx(side) and rect.height == pytest.approx(side)
        assert (rect.x_center, rect.y_center) == pytest.approx((cx, cy))


@given(
    x=st.floats(-0.2, 0.9),
    y=st.floats(-0.2, 0.9),
    w=st.floats(0, 0.8),
    h=st.floats(0, 0.8),
    size=image_sizes,
    p0=points,
    p1=points,
    rotate=st.booleans(),
    square=st.booleans(),
)
def test_rect_from_box_matches_reference(x, y, w, h, size, p0, p1, rotate, square):
    box = (x, y, x + w, y + h)
    pts = (p0, p1) if rotate else None
    got = rect_from_box(box, size, rotation_points=pts, target_angle=0.0, scale=1.5, square_long=square)
    want = ref.box_rect(box, size, pts, 0.0, 1.5, square)
    if abs(abs(want[4]) - math.pi) < 1e-9 and abs(abs(got.rotation) - math.pi) < 1e-9:
        want = want[:4] + (got.rotation,)
    assert_rect(got, want)


def test_face_roi_from_detection():
    """§5.2: box centre, eyes (keypoints 0, 1) for the rotation, 1.5 x the long side."""
    box = np.array([0.4, 0.3, 0.6, 0.55], np.float32)
    eyes = ((0.45, 0.4), (0.55, 0.42))
    rect = rect_from_box(box, (640, 480), rotation_points=eyes)
    side = 1.5 * max(0.2 * 640, 0.25 * 480)
    assert rect.width == pytest.approx(side) and rect.height == pytest.approx(side)
    assert rect.rotation == pytest.approx(-math.atan2(-0.02 * 480, 0.1 * 640))
    assert rect_from_box(box, (640, 480)).rotation == 0.0
    anisotropic = rect_from_box(box, (640, 480), scale=(1.0, 2.0), square_long=False)
    assert anisotropic.width == pytest.approx(0.2 * 640) and anisotropic.height == pytest.approx(2 * 0.25 * 480)


def test_landmarks_box(rng):
    lm = rng.uniform(-0.3, 1.2, (468, 3)).astype(np.float32)
    np.testing.assert_array_equal(landmarks_box(lm), ref.landmarks_box(lm).astype(np.float32))
    negative = -np.abs(lm) - 0.1
    box = landmarks_box(negative)
    assert box[2] == box[3] == np.finfo(np.float32).tiny  # MediaPipe's FLT_MIN start (§0.8)
    np.testing.assert_array_equal(box, ref.landmarks_box(negative).astype(np.float32))
    np.testing.assert_array_equal(landmarks_box(lm[:, :2][::-1]), landmarks_box(lm))
