"""Temporal filters against MediaPipe's LowPass / OneEuro / LandmarksSmoothing /
VisibilitySmoothing / SegmentationSmoothing semantics written plainly (spec §0.10, §0.11, §3.6)."""

from __future__ import annotations

import numpy as np
import pytest

import detection_reference as ref
from edgevision import Rect
from edgevision.kernels import (
    LandmarksSmoother,
    LowPassFilter,
    OneEuroFilter,
    VisibilitySmoother,
    segmentation_smoothing,
)

FRAME_US = 33333  # MediaPipe's Python solutions stamp frame k at k * 33333 us


def walk(rng, frames, shape, step=0.01):
    return (0.5 + np.cumsum(rng.normal(0, step, (frames,) + shape), axis=0)).astype(np.float32)


@pytest.mark.parametrize("start_us", [0, 1_000_000])
def test_one_euro_matches_reference(rng, start_us):
    values = walk(rng, 40, (7,), step=0.05) * 300
    f = OneEuroFilter(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0, frequency=30.0)
    refs = [ref.OneEuro(30.0, 0.05, 80.0, 1.0) for _ in range(7)]
    for k, v in enumerate(values):
        t = start_us + k * FRAME_US + (k * k * 7) % 1000  # slightly irregular
        got = f.apply(v, t, value_scale=1 / 150)
        want = [ref_f.apply(t * 1000, 1 / 150, float(x)) for ref_f, x in zip(refs, v)]
        np.testing.assert_array_equal(got, np.float32(want))
        if k == 0:
            np.testing.assert_array_equal(got, v)  # the first sample passes through


def test_one_euro_stale_timestamps_pass_through(rng):
    f = OneEuroFilter(min_cutoff=0.1, beta=1.0)
    a = f.apply(np.float32([1.0, 2.0]), 100)
    b = f.apply(np.float32([5.0, 5.0]), 200)
    stale = np.float32([9.0, -9.0])
    np.testing.assert_array_equal(f.apply(stale, 200), stale)  # not after the last one
    np.testing.assert_array_equal(f.apply(stale, 150), stale)
    r = [ref.OneEuro(30.0, 0.1, 1.0, 1.0) for _ in range(2)]
    for t, v in ((100, [1.0, 2.0]), (200, [5.0, 5.0])):
        want = [rf.apply(t * 1000, 1.0, x) for rf, x in zip(r, v)]
    np.testing.assert_array_equal(b, np.float32(want))
    assert a.shape == (2,)
    f.reset()
    np.testing.assert_array_equal(f.apply(stale, 10), stale)  # state gone: first sample again
    with pytest.raises(ValueError, match="changed"):
        f.apply(np.zeros(3, np.float32), 20)


def test_low_pass_matches_reference(rng):
    values = rng.uniform(0, 1, (30, 4, 2)).astype(np.float32)
    f = LowPassFilter(0.1)
    refs = [ref.LowPass(0.1) for _ in range(8)]
    for v in values:
        got = f.apply(v)
        assert got.shape == (4, 2)
        np.testing.assert_array_equal(got.reshape(-1), np.float32([r.apply(x) for r, x in zip(refs, v.reshape(-1))]))


POSE_MAIN = dict(min_cutoff=0.05, beta=80.0, derivate_cutoff=1.0)
POSE_AUX = dict(min_cutoff=0.01, beta=10.0, derivate_cutoff=1.0)
POSE_WORLD = dict(min_cutoff=0.1, beta=40.0, derivate_cutoff=1.0, disable_value_scaling=True)


@pytest.mark.parametrize("options", [POSE_MAIN, POSE_AUX], ids=["main", "aux"])
def test_landmarks_smoother_with_object_scale_roi(rng, options):
    size = (640, 480)
    frames = walk(rng, 25, (33, 5), step=0.004)
    smoother = LandmarksSmoother(**options)
    reference = ref.Smoother(**options)
    for k, lm in enumerate(frames):
        roi = Rect(320.0, 240.0, 200.0 + k, 200.0 + k, 0.1)
        got = smoother.apply(lm, k * FRAME_US, image_size=size, object_scale=roi)
        want = reference.apply(lm, k * FRAME_US, size, np.float32((roi.width + roi.height) / 2))
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got[:, 3:], lm[:, 3:])  # visibility, presence copied
    assert smoother.num_landmarks == 33


def test_landmarks_smoother_scale_from_landmarks_and_world(rng):
    frames = walk(rng, 15, (21, 3), step=0.01)
    smoother, reference = LandmarksSmoother(**POSE_MAIN), ref.Smoother(**POSE_MAIN)
    world, world_ref = LandmarksSmoother(**POSE_WORLD), ref.Smoother(**POSE_WORLD)
    for k, lm in enumerate(frames):
        np.testing.assert_array_equal(
            smoother.apply(lm, k * FRAME_US, image_size=(320, 200)), reference.apply(lm, k * FRAME_US, (320, 200))
        )
        np.testing.assert_array_equal(world.apply(lm - 0.5, k * FRAME_US), world_ref.apply(lm - 0.5, k * FRAME_US))


def test_landmarks_smoother_smooths_and_resets(rng):
    smoother = LandmarksSmoother(**POSE_MAIN)
    still = np.full((33, 4), 0.5, np.float32)
    smoother.apply(still, 0, image_size=(640, 480), object_scale=200.0)
    jump = still + np.float32(0.01)
    moved = smoother.apply(jump, FRAME_US, image_size=(640, 480), object_scale=200.0)
    assert np.all(moved[:, :2] > 0.5) and np.all(moved[:, :2] < jump[:, :2])  # lags behind the jump
    # subject lost: an empty list resets, so the next sample passes through
    assert smoother.apply(np.zeros((0, 4), np.float32), 2 * FRAME_US, image_size=(640, 480)).shape == (0, 4)
    assert smoother.num_landmarks == 0
    np.testing.assert_array_equal(smoother.apply(jump, 3 * FRAME_US, image_size=(640, 480), object_scale=200.0), jump)
    # too small an object: passed through without touching the state
    np.testing.assert_array_equal(
        smoother.apply(still, 4 * FRAME_US, image_size=(640, 480), object_scale=0.0), still
    )
    with pytest.raises(ValueError, match="landmarks"):
        smoother.apply(np.zeros((5, 4), np.float32), 5 * FRAME_US, image_size=(640, 480))
    smoother.reset()
    assert smoother.apply(np.zeros((5, 4), np.float32), 6 * FRAME_US, image_size=(640, 480)).shape == (5, 4)


def test_visibility_smoother(rng):
    frames = rng.uniform(0, 1, (12, 33, 5)).astype(np.float32)
    smoother = VisibilitySmoother(alpha=0.1)
    refs = [ref.LowPass(0.1) for _ in range(33)]
    for lm in frames:
        got = smoother.apply(lm)
        np.testing.assert_array_equal(got[:, 3], np.float32([r.apply(v) for r, v in zip(refs, lm[:, 3])]))
        np.testing.assert_array_equal(np.delete(got, 3, axis=1), np.delete(lm, 3, axis=1))


def test_segmentation_smoothing(rng):
    prev = rng.uniform(0, 1, (144, 256)).astype(np.float32)
    cur = rng.uniform(0, 1, (144, 256)).astype(np.float32)
    cur[0, :5] = [0.0, 0.5, 1.0, 0.45, 0.55]
    got = segmentation_smoothing(prev, cur, 0.7)
    np.testing.assert_array_equal(got, ref.segmentation_smoothing(prev, cur, 0.7))
    # certain pixels (almost) keep the new value, p = 0.5 moves 70 % toward the previous mask
    assert got[0, 0] == pytest.approx(0.0, abs=1e-4) and got[0, 2] == pytest.approx(1.0, abs=1e-4)
    assert got[0, 1] == pytest.approx(0.5 + (prev[0, 1] - 0.5) * 0.7, abs=1e-6)
    np.testing.assert_array_equal(segmentation_smoothing(prev, cur, 0.0), cur)
    # model-output shapes, strided views, out=, no previous mask
    out = np.empty((144, 256), np.float32)
    r = segmentation_smoothing(prev[None, :, :, None], cur[None, None], 0.7, out=out)
    assert r is out or np.shares_memory(r, out)
    np.testing.assert_array_equal(out, got)
    wide = np.repeat(cur, 2, axis=1)[:, ::2]
    np.testing.assert_array_equal(segmentation_smoothing(prev, wide, 0.7), got)
    first = segmentation_smoothing(None, cur, 0.7)
    np.testing.assert_array_equal(first, cur)
    assert not np.shares_memory(first, cur)


@pytest.mark.parametrize("transform_kind", ["letterbox", "rotated", "none"])
@pytest.mark.parametrize("border", ["zero", "replicate"])
def test_segmentation_smoothing_of_a_low_resolution_mask(rng, transform_kind, border):
    """With size=, the model-resolution mask is resized inside the pass: exactly resize_mask then
    segmentation_smoothing."""
    from edgevision.kernels import letterbox, resize_mask, warp_roi

    frame = np.zeros((61, 97, 3), np.uint8)
    transform = {"letterbox": lambda: letterbox(frame, (40, 36))[1],
                 "rotated": lambda: warp_roi(frame, Rect(50, 30, 70, 60, 0.4), (40, 36))[1],
                 "none": lambda: None}[transform_kind]()
    small = rng.uniform(-0.2, 1.2, (36, 40)).astype(np.float32)
    previous = rng.uniform(0, 1, (61, 97)).astype(np.float32)
    kw = dict(transform=transform, border=border)
    expected = segmentation_smoothing(previous, resize_mask(small, (97, 61), **kw), 0.7)
    np.testing.assert_array_equal(segmentation_smoothing(previous, small, 0.7, size=(97, 61), **kw), expected)
    # first frame: the resized mask; a strided previous; in place over previous
    np.testing.assert_array_equal(segmentation_smoothing(None, small, 0.7, size=(97, 61), **kw),
                                  resize_mask(small, (97, 61), **kw))
    strided = np.repeat(previous, 2, axis=1)[:, ::2]
    np.testing.assert_array_equal(segmentation_smoothing(strided, small, 0.7, size=(97, 61), **kw), expected)
    in_place = previous.copy()
    result = segmentation_smoothing(in_place, small, 0.7, size=(97, 61), out=in_place, **kw)
    assert np.shares_memory(result, in_place)
    np.testing.assert_array_equal(in_place, expected)


def test_segmentation_smoothing_resize_arguments(rng):
    from edgevision.kernels import letterbox

    _, transform = letterbox(np.zeros((61, 97, 3), np.uint8), (40, 36))
    small = rng.uniform(0, 1, (36, 40)).astype(np.float32)
    with pytest.raises(ValueError, match="transform needs size"):
        segmentation_smoothing(None, small, 0.7, transform=transform)
    with pytest.raises(ValueError, match="previous must be 61 x 97"):
        segmentation_smoothing(np.zeros((36, 40), np.float32), small, 0.7, size=(97, 61), transform=transform)
    with pytest.raises(ValueError, match="size"):
        segmentation_smoothing(None, small, 0.7, size=(0, 61))
    with pytest.raises(TypeError, match="transform"):
        segmentation_smoothing(None, small, 0.7, size=(97, 61), transform="letterbox")
    with pytest.raises(ValueError, match="border"):
        segmentation_smoothing(None, small, 0.7, size=(97, 61), border="wrap")
