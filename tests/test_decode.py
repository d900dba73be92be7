"""decode_detections against TensorsToDetectionsCalculator's formulas (spec §0.3, §1, §5.1)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import detection_reference as ref
from edgevision import Detections
from edgevision.kernels import DetectionDecoder, decode_detections, nms, ssd_anchors

POSE_ANCHORS = ssd_anchors(input_size=(224, 224), strides=(8, 16, 32, 32, 32), min_scale=0.1484375, max_scale=0.75)
FACE_ANCHORS = ssd_anchors(input_size=(128, 128), strides=(8, 16, 16, 16), min_scale=0.1484375, max_scale=0.75)


def random_head(rng, anchors, cols, score_mean=-2.0):
    boxes = rng.normal(0, 20, (1, len(anchors), cols)).astype(np.float32)
    boxes[..., 2:4] = np.abs(boxes[..., 2:4]) + 1
    scores = rng.normal(score_mean, 3, (1, len(anchors), 1)).astype(np.float32)
    return boxes, scores


def assert_decoded(got, raw_boxes, raw_scores, anchors, **kw):
    boxes, kps, scores, _ = ref.decode(raw_boxes, raw_scores, anchors, **kw)
    assert isinstance(got, Detections)
    np.testing.assert_array_equal(got.boxes, boxes)
    np.testing.assert_array_equal(got.keypoints, kps)
    np.testing.assert_allclose(got.scores, scores, rtol=2e-7, atol=0)


@pytest.mark.parametrize("min_score", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_pose_head_matches_reference(rng, min_score):
    raw_boxes, raw_scores = random_head(rng, POSE_ANCHORS, 12)
    got = decode_detections(raw_boxes, raw_scores, POSE_ANCHORS, scale=224, num_keypoints=4, min_score=min_score)
    assert_decoded(got, raw_boxes, raw_scores, POSE_ANCHORS, scale=224, num_keypoints=4, min_score=min_score)
    assert got.boxes.dtype == got.keypoints.dtype == got.scores.dtype == np.float32
    assert np.all(got.scores >= np.float32(min_score))


def test_face_head_matches_reference(rng):
    raw_boxes, raw_scores = random_head(rng, FACE_ANCHORS, 16, score_mean=0.0)
    got = decode_detections(raw_boxes, raw_scores, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.5)
    assert_decoded(got, raw_boxes, raw_scores, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.5)
    assert got.keypoints.shape[1:] == (6, 2)


def test_non_unit_anchors_and_per_axis_scales(rng):
    anchors = ssd_anchors(input_size=(96, 64), strides=(8, 16), min_scale=0.2, max_scale=0.8, fixed_anchor_size=False)
    raw_boxes, raw_scores = random_head(rng, anchors, 9, score_mean=1.0)
    scale = (96.0, 64.0, 50.0, 40.0)
    for fmt in ("xywh", "yxhw"):
        got = decode_detections(
            raw_boxes, raw_scores, anchors, scale=scale, num_keypoints=2, min_score=0.3, keypoint_offset=5,
            box_format=fmt,
        )
        assert_decoded(
            got, raw_boxes, raw_scores, anchors, scale=scale, num_keypoints=2, min_score=0.3, kp_offset=5, fmt=fmt
        )


def test_score_clip(rng):
    raw_boxes, raw_scores = random_head(rng, FACE_ANCHORS, 16)
    raw_scores *= 20
    for clip in (100.0, 2.0, None):
        got = decode_detections(
            raw_boxes, raw_scores, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.6, score_clip=clip
        )
        assert_decoded(got, raw_boxes, raw_scores, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.6, clip=clip)
    # clamped to 2: no score above sigmoid(2), and every clipped logit ties there
    got = decode_detections(raw_boxes, raw_scores, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.6, score_clip=2.0)
    assert np.sum(got.scores == got.scores.max()) == np.sum(raw_scores >= 2.0)
    assert abs(got.scores.max() - 1 / (1 + math.exp(-2.0))) < 2e-7


def test_threshold_is_inclusive():
    anchors = FACE_ANCHORS[:3]
    raw = np.zeros((3, 16), np.float32)
    raw[:, 2:4] = 10
    logits = np.array([0.0, -1e-3, 1e-3], np.float32)  # sigmoid(0) == 0.5 exactly
    got = decode_detections(raw, logits, anchors, scale=128, num_keypoints=6, min_score=0.5)
    np.testing.assert_array_equal(got.scores, [0.5, np.float32(1 / (1 + math.exp(-1e-3)))])


def test_drops_nan_scores_and_bad_sizes():
    anchors = FACE_ANCHORS[:6]
    raw = np.full((6, 16), 1.0, np.float32)
    raw[:, 2:4] = 10
    raw[1, 2] = -5  # negative width
    raw[2, 3] = np.nan  # NaN height
    raw[3, 0] = np.inf  # inf centre: inf - inf width is NaN
    raw[4, 5] = np.nan  # NaN keypoint: kept, as in MediaPipe
    logits = np.array([3, 3, 3, 3, 3, np.nan], np.float32)
    got = decode_detections(raw, logits, anchors, scale=128, num_keypoints=6, min_score=0.0)
    assert len(got) == 2
    np.testing.assert_array_equal(got.boxes, ref.decode(raw, logits, anchors, 128, 6, 0.0)[0])
    assert np.isnan(got.keypoints[1, 0, 1]) and not np.isnan(got.scores).any()


def test_zero_width_box_is_kept():
    raw = np.zeros((1, 16), np.float32)
    got = decode_detections(raw, np.array([5.0], np.float32), FACE_ANCHORS[:1], scale=128, num_keypoints=6, min_score=0.5)
    assert len(got) == 1 and got.boxes[0, 0] == got.boxes[0, 2]


def test_empty_inputs():
    got = decode_detections(
        np.zeros((1, 0, 12), np.float32), np.zeros((1, 0, 1), np.float32), np.zeros((0, 4), np.float32),
        scale=224, num_keypoints=4, min_score=0.5,
    )
    assert got.boxes.shape == (0, 4) and got.keypoints.shape == (0, 4, 2) and got.scores.shape == (0,)
    none_pass = decode_detections(
        np.zeros((1, 2254, 12), np.float32), np.full((1, 2254, 1), -50, np.float32), POSE_ANCHORS,
        scale=224, num_keypoints=4, min_score=0.5,
    )
    assert len(none_pass) == 0 and none_pass.keypoints.shape == (0, 4, 2)
    assert len(nms(none_pass)) == 0 and len(nms(none_pass, method="hard")) == 0


def test_split_heads_equal_concatenated(rng):
    """AI Hub's BlazePose detector returns box_coords_1 [1,512,12], box_coords_2 [1,384,12],
    box_scores_1 [1,512,1], box_scores_2 [1,384,1] (aihub spec §2a)."""
    raw_boxes, raw_scores = random_head(rng, FACE_ANCHORS, 12, score_mean=0.0)
    whole = decode_detections(raw_boxes, raw_scores, FACE_ANCHORS, scale=128, num_keypoints=4, min_score=0.75)
    parts = decode_detections(
        (raw_boxes[:, :512], raw_boxes[:, 512:]),
        [raw_scores[:, :512], raw_scores[:, 512:]],
        FACE_ANCHORS,
        scale=128,
        num_keypoints=4,
        min_score=0.75,
    )
    for a, b in zip((whole.boxes, whole.keypoints, whole.scores), (parts.boxes, parts.keypoints, parts.scores)):
        np.testing.assert_array_equal(a, b)
    # parts need not line up between boxes and scores, and empty parts are allowed
    odd = decode_detections(
        [raw_boxes[0, :100], raw_boxes[0, 100:100], raw_boxes[0, 100:]],
        [raw_scores[0, :700, 0], raw_scores[0, 700:, 0]],
        FACE_ANCHORS,
        scale=128,
        num_keypoints=4,
        min_score=0.75,
    )
    np.testing.assert_array_equal(odd.boxes, whole.boxes)


def test_strided_views_are_read_in_place(rng):
    raw_boxes, raw_scores = random_head(rng, FACE_ANCHORS, 16, score_mean=0.0)
    wide = np.zeros((896, 40), np.float32)
    wide[:, ::2][:, :16] = raw_boxes[0]
    boxes_view = wide[:, ::2][:, :16]  # column stride 2
    scores_view = np.repeat(raw_scores[0], 3, axis=1)[:, 1]  # stride 3
    anchors_view = np.asfortranarray(FACE_ANCHORS)
    got = decode_detections(boxes_view, scores_view, anchors_view, scale=128, num_keypoints=6, min_score=0.5)
    assert_decoded(got, raw_boxes, raw_scores, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.5)


def test_does_not_modify_inputs(rng):
    raw_boxes, raw_scores = random_head(rng, POSE_ANCHORS, 12)
    copies = raw_boxes.copy(), raw_scores.copy(), POSE_ANCHORS.copy()
    dets = decode_detections(raw_boxes, raw_scores, POSE_ANCHORS, scale=224, num_keypoints=4, min_score=0.5)
    nms(dets)
    for a, b in zip(copies, (raw_boxes, raw_scores, POSE_ANCHORS)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["weighted", "hard", None])
def test_decoder_equals_decode_then_nms(rng, method):
    raw_boxes, raw_scores = random_head(rng, POSE_ANCHORS, 12, score_mean=0.0)
    decoder = DetectionDecoder(POSE_ANCHORS, scale=224, num_keypoints=4, min_score=0.5, nms=method)
    got = decoder(raw_boxes, raw_scores)
    want = decode_detections(raw_boxes, raw_scores, POSE_ANCHORS, scale=224, num_keypoints=4, min_score=0.5)
    if method is not None:
        want = nms(want, method=method)
    assert isinstance(got, Detections) and decoder.num_anchors == 2254
    for a, b in zip((got.boxes, got.keypoints, got.scores), (want.boxes, want.keypoints, want.scores)):
        np.testing.assert_array_equal(a, b)


def test_decoder_keeps_its_own_anchor_copy(rng):
    anchors = FACE_ANCHORS.copy()
    decoder = DetectionDecoder(anchors, scale=128, num_keypoints=6, min_score=0.5, max_detections=1)
    anchors[:] = 0
    np.testing.assert_array_equal(decoder.anchors, FACE_ANCHORS)
    raw_boxes, raw_scores = random_head(rng, FACE_ANCHORS, 16, score_mean=0.0)
    assert len(decoder(raw_boxes, raw_scores)) == 1
