"""refine_from_heatmap's refine_presence / refine_visibility (MediaPipe's
RefineLandmarksFromHeatmapCalculator options): whenever the landmark's window is not empty,
presence (column 4) and visibility (column 3) become min(value, window peak), the peak being
the largest sigmoid(heatmap) in the window, whether or not x and y were refined. Reference:
``detection_reference.refine_from_heatmap`` (the calculator's loop written out)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import detection_reference as ref

from edgevision.kernels import refine_from_heatmap


def case(rng, n=39, size=64):
    heatmap = rng.normal(-3, 2.5, (size, size, n)).astype(np.float32)
    lm = rng.uniform(-0.05, 1.08, (n, 5)).astype(np.float32)
    lm[:, 3:] = rng.uniform(0, 1, (n, 2))
    for k in range(0, n, 2):  # a confident blob near every other landmark
        cx, cy = np.clip((lm[k, :2] * size).astype(int), 0, size - 1)
        yy, xx = np.mgrid[0:size, 0:size]
        heatmap[:, :, k] += 7 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 5.0)
    return lm, heatmap


@pytest.mark.parametrize("presence,visibility", [(True, False), (False, True), (True, True), (False, False)])
@pytest.mark.parametrize("kernel_size", [7, 3])
def test_presence_and_visibility_match_reference(rng, presence, visibility, kernel_size):
    lm, heatmap = case(rng)
    got = refine_from_heatmap(lm, heatmap, kernel_size=kernel_size, refine_presence=presence,
                              refine_visibility=visibility)
    want = ref.refine_from_heatmap(lm, heatmap, kernel_size, presence=presence, visibility=visibility)
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6)
    np.testing.assert_array_equal(got[:, 2], lm[:, 2])
    if presence:
        assert np.all(got[:, 4] <= lm[:, 4]) and np.any(got[:, 4] < lm[:, 4])
    else:
        np.testing.assert_array_equal(got[:, 4], lm[:, 4])
    if visibility:
        assert np.any(got[:, 3] < lm[:, 3])
    else:
        np.testing.assert_array_equal(got[:, 3], lm[:, 3])


def test_lowered_even_when_not_refined():
    """A weak heatmap (peak below min_confidence): x, y stay, presence drops to the peak;
    outside the map nothing changes."""
    heatmap = np.full((1, 64, 64, 3), -2.0, np.float32)
    peak = 1 / (1 + math.exp(2.0))
    lm = np.array([[0.5, 0.5, 0.1, 0.9, 0.8], [0.5, 0.5, 0.1, 0.05, 0.01], [1.2, 0.5, 0.1, 0.9, 0.8]], np.float32)
    got = refine_from_heatmap(lm, heatmap, refine_presence=True, refine_visibility=True)
    np.testing.assert_array_equal(got[:, :3], lm[:, :3])
    np.testing.assert_allclose(got[0, 3:], [peak, peak], rtol=1e-6)
    np.testing.assert_array_equal(got[1:, 3:], lm[1:, 3:])  # already lower / outside the map


def test_missing_columns_are_rejected():
    heatmap = np.zeros((64, 64, 4), np.float32)
    with pytest.raises(ValueError, match="refine_presence"):
        refine_from_heatmap(np.zeros((4, 4), np.float32), heatmap, refine_presence=True)
    with pytest.raises(ValueError, match="refine_visibility"):
        refine_from_heatmap(np.zeros((4, 3), np.float32), heatmap, refine_visibility=True)
    with pytest.raises(TypeError, match="refine_presence"):
        refine_from_heatmap(np.zeros((4, 5), np.float32), heatmap, refine_presence="yes")
    refine_from_heatmap(np.zeros((4, 4), np.float32), heatmap, refine_visibility=True)  # enough columns
