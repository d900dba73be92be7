"""decode_landmarks, project_landmarks, project_world_landmarks and refine_from_heatmap
against spec §0.9 and §3.3 written plainly."""

from __future__ import annotations

import math

import numpy as np
import pytest

import detection_reference as ref
from edgevision import Rect
from edgevision.kernels import decode_landmarks, project_landmarks, project_world_landmarks, refine_from_heatmap


def test_decode_pose_landmarks(rng):
    raw = rng.normal(0, 100, (1, 195)).astype(np.float32)  # 39 x (x, y, z, vis, pres)
    got = decode_landmarks(raw, 39, input_size=(256, 256))
    assert got.shape == (39, 5) and got.dtype == np.float32
    np.testing.assert_allclose(got, ref.decode_landmarks(raw, 39, (256, 256)), rtol=2e-7, atol=1e-30)
    # x, y, z are single float divisions: exact
    r = raw.reshape(39, 5)
    np.testing.assert_array_equal(got[:, :3], r[:, :3] / np.float32(256))


def test_decode_face_and_world_landmarks(rng):
    face = rng.normal(96, 50, (1, 1, 1, 1404)).astype(np.float32)
    got = decode_landmarks(face, 468, input_size=(192, 192))
    np.testing.assert_allclose(got, ref.decode_landmarks(face, 468, (192, 192)), rtol=2e-7)
    world = rng.normal(0, 0.5, (1, 117)).astype(np.float32)
    np.testing.assert_array_equal(decode_landmarks(world, 39, input_size=None), world.reshape(39, 3))
    other = rng.normal(0, 3, (10, 5)).astype(np.float32)
    got = decode_landmarks(other, 10, input_size=(64, 32), normalize_z=2.0, presence_activation="none")
    want = ref.decode_landmarks(other, 10, (64, 32), normalize_z=2.0, sigmoid_pres=False)
    np.testing.assert_allclose(got, want, rtol=2e-7)
    six = rng.normal(0, 3, (4, 6)).astype(np.float32)  # values past presence are ignored
    assert decode_landmarks(six, 4, input_size=(8, 8)).shape == (4, 5)


@pytest.mark.parametrize("rotation", [0.0, 0.4, -1.9, math.pi, -math.pi + 1e-7])
def test_project_landmarks(rng, rotation):
    lm = rng.uniform(-0.2, 1.2, (39, 5)).astype(np.float32)
    rect = Rect(310.5, 240.25, 280.0, 280.0, rotation)
    got = project_landmarks(lm, rect, (640, 480))
    want = ref.project_landmarks(lm, (310.5, 240.25, 280.0, 280.0, rotation), (640, 480))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(got[:, 3:], lm[:, 3:])


def test_project_landmarks_centre_and_corners():
    rect = Rect(100.0, 50.0, 40.0, 40.0, math.pi / 2)
    lm = np.array([[0.5, 0.5, 0.25], [1.0, 0.5, 0.0]], np.float32)
    got = project_landmarks(lm, rect, (200, 100))
    np.testing.assert_allclose(got[0], [0.5, 0.5, 0.25 * 40 / 200], atol=1e-7)
    # a quarter turn clockwise on screen moves the ROI's right edge to the bottom
    np.testing.assert_allclose(got[1, :2], [0.5, (50 + 20) / 100], atol=1e-7)


def test_project_landmarks_out_and_strided(rng):
    base = rng.uniform(0, 1, (33, 10)).astype(np.float32)
    lm = base[:, ::2]  # strided view, 5 columns
    rect = Rect(20.0, 30.0, 15.0, 25.0, 0.3)
    want = project_landmarks(np.ascontiguousarray(lm), rect, (64, 48))
    np.testing.assert_array_equal(project_landmarks(lm, rect, (64, 48)), want)
    inplace = np.ascontiguousarray(lm)
    assert project_landmarks(inplace, rect, (64, 48), out=inplace) is not None
    np.testing.assert_array_equal(inplace, want)


def test_project_world_landmarks(rng):
    world = rng.normal(0, 0.4, (33, 4)).astype(np.float32)
    for theta in (0.0, 1.2, -2.5):
        got = project_world_landmarks(world, Rect(1, 1, 1, 1, theta))
        np.testing.assert_allclose(got, ref.rotate_world(world, theta), rtol=0, atol=1e-6)
        np.testing.assert_array_equal(project_world_landmarks(world, theta), got)


def heatmap_case(rng, n=39, size=64):
    heatmap = rng.normal(-4, 3, (1, size, size, n)).astype(np.float32)
    lm = rng.uniform(-0.05, 1.05, (n, 5)).astype(np.float32)
    for k in range(n):  # a confident blob near each landmark, for most of them
        if k % 4 == 3:
            continue
        cx, cy = np.clip((lm[k, :2] * size).astype(int), 0, size - 1) + rng.integers(-2, 3, 2)
        yy, xx = np.mgrid[0:size, 0:size]
        heatmap[0, :, :, k] += 8 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 6.0)
    return lm, heatmap


@pytest.mark.parametrize("kernel_size", [7, 3, 1, 9])
def test_refine_from_heatmap(rng, kernel_size):
    lm, heatmap = heatmap_case(rng)
    got = refine_from_heatmap(lm, heatmap, kernel_size=kernel_size)
    want = ref.refine_from_heatmap(lm, heatmap[0], kernel_size)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)
    assert np.any(got[:, :2] != lm[:, :2]) and np.any(got[:, :2] == lm[:, :2])
    np.testing.assert_array_equal(got[:, 2:], lm[:, 2:])


def test_refine_edge_cases():
    n = 8
    heatmap = np.full((64, 64, n), 3.0, np.float32)  # sigmoid(3) = 0.95 everywhere
    lm = np.array(
        [
            [-0.005, 0.5],  # int(-0.32) == 0: refined from column 0
            [-0.02, 0.5],  # int(-1.28) == -1: skipped
            [1.0, 0.5],  # col 64: skipped
            [0.5, 1.0],  # row 64: MediaPipe's check does not skip it; window rows 61..63
            [0.5, 1.05],  # row 67: window empty, unchanged
            [np.nan, 0.5],  # unchanged
            [0.5, 0.5],
            [0.999, 0.999],
        ],
        np.float32,
    )
    got = refine_from_heatmap(lm, heatmap)
    want = ref.refine_from_heatmap(lm, heatmap)
    np.testing.assert_allclose(got, want, atol=2e-6)
    np.testing.assert_array_equal(got[[1, 2, 4]], lm[[1, 2, 4]])
    assert np.isnan(got[5, 0])
    assert got[3, 1] == pytest.approx(62 / 64)  # centre of rows 61..63
    assert got[0, 0] == pytest.approx(1.5 / 64)  # centre of columns 0..3
    low = refine_from_heatmap(lm, np.full((1, 64, 64, n), -3.0, np.float32))  # peak 0.047 < 0.5
    np.testing.assert_array_equal(low, lm)
    flat = refine_from_heatmap(lm, np.full((64, 64, n), -3.0, np.float32), min_confidence=0.0)
    np.testing.assert_allclose(flat[6], [0.5, 0.5], atol=1e-6)  # centre of the 7x7 window


def test_refine_non_square_heatmap_and_strides(rng):
    lm = rng.uniform(0, 1, (5, 3)).astype(np.float32)
    chw = rng.normal(0, 2, (5, 24, 40)).astype(np.float32)
    hwc_view = chw.transpose(1, 2, 0)  # channel-strided view
    got = refine_from_heatmap(lm, hwc_view, kernel_size=5)
    np.testing.assert_allclose(got, ref.refine_from_heatmap(lm, np.ascontiguousarray(hwc_view), 5), atol=2e-6)
