"""Float kernels flush subnormal values to zero, and leave the caller's float mode alone.

Model sigmoids reach down to ~1e-38 (FLT_MIN): interpolating such masks makes subnormal
products, which x86 cores compute in microcode at about 100x the normal cost. The kernels
treat values below FLT_MIN as zero; the mode is set per call and restored. (SAM 2's logit
upsampling keeps exact IEEE arithmetic: its threshold at 0 must agree with PyTorch's even for
subnormal logits.)
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edgevision import kernels

TINY = np.finfo(np.float32).tiny


def near_float_min_mask(rng, height, width):
    """Mask values from 0 to 4 * FLT_MIN: their interpolation products are subnormal."""
    return (rng.random((height, width)) * 4 * TINY).astype(np.float32)


def subnormal(values: np.ndarray) -> np.ndarray:
    return (values != 0) & (np.abs(values) < TINY)


def test_resize_mask_flushes_subnormal_products(rng):
    mask = near_float_min_mask(rng, 64, 64)
    got = kernels.resize_mask(mask, (300, 200))
    expected = cv2.resize(mask, (300, 200), interpolation=cv2.INTER_LINEAR)
    assert subnormal(expected).any()  # OpenCV keeps them: the check below can fail
    assert not subnormal(got).any()
    # Each flushed product loses less than FLT_MIN; a bilinear sample sums four of them.
    np.testing.assert_allclose(got, expected, rtol=0, atol=4 * TINY)


def test_resize_mask_of_normal_values_is_unchanged(rng):
    mask = rng.random((64, 64)).astype(np.float32)
    expected = cv2.resize(mask, (300, 200), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(kernels.resize_mask(mask, (300, 200)), expected, rtol=0, atol=1e-5)


def test_segmentation_smoothing_flushes_subnormals(rng):
    previous = near_float_min_mask(rng, 32, 32)
    current = near_float_min_mask(rng, 32, 32)
    got = kernels.segmentation_smoothing(previous, current, 0.7)
    assert not subnormal(got).any()
    assert np.abs(got).max() <= 4 * TINY


CALLS = {
    "resize_mask": lambda rng: kernels.resize_mask(near_float_min_mask(rng, 16, 16), (40, 30)),
    "resize_mask rotated": lambda rng: kernels.resize_mask(
        near_float_min_mask(rng, 16, 16), (40, 30),
        transform=kernels.warp_roi(np.zeros((30, 40, 3), np.uint8), kernels.Rect(20, 15, 16, 12, 0.4), (16, 16))[1]),
    "composite": lambda rng: kernels.composite(np.zeros((30, 40, 3), np.uint8), near_float_min_mask(rng, 30, 40), "blur"),
    "segmentation_smoothing": lambda rng: kernels.segmentation_smoothing(
        near_float_min_mask(rng, 8, 8), near_float_min_mask(rng, 8, 8), 0.5),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_callers_float_mode_is_restored(rng, name):
    CALLS[name](rng)
    # NumPy on this thread still produces subnormals: the kernel did not leave flush-to-zero on.
    assert np.float32(TINY) * np.float32(0.25) != 0
    assert np.multiply(np.full(8, TINY, np.float32), np.float32(0.25)).min() > 0
