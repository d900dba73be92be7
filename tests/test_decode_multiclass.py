"""Multi-class detector heads (spec §0.3, §0.4): TensorsToDetections keeps, per anchor, the
best class's score and its class id; NMS is class-agnostic and each output keeps its seed's
class. ``Detections.class_ids`` carries the ids through nms, to_image and indexing."""

from __future__ import annotations

import numpy as np
import pytest

from edgevision import Detections, Transform
from edgevision.kernels import DetectionDecoder, decode_detections, letterbox, nms, ssd_anchors

f32 = np.float32
ANCHORS = ssd_anchors(input_size=(128, 128), strides=(8, 16, 16, 16), min_scale=0.1484375, max_scale=0.75)


def best_class_ref(logits, clip=100.0, sigmoid=True):
    """MediaPipe's loop per anchor: score = sigmoid(clamp(s)) in float32 per class, the
    running best replaced only by a strictly greater score (NaN never), starting from
    -FLT_MAX with class -1."""
    scores = np.empty(len(logits), np.float64)
    ids = np.empty(len(logits), np.int32)
    for i, row in enumerate(logits):
        best, label = -np.finfo(np.float32).max, -1
        for c, s in enumerate(row):
            s = f32(s)
            if sigmoid:
                if clip is not None:
                    s = min(max(s, f32(-clip)), f32(clip))
                s = f32(1) / (f32(1) + np.exp(-s, dtype=np.float32))
            if best < s:
                best, label = s, c
        scores[i], ids[i] = best, label
    return scores, ids


def decode_ref(raw, logits, anchors, min_score, **kw):
    scores, ids = best_class_ref(logits, **kw)
    a = anchors
    xc = raw[:, 0] / f32(128) * a[:, 2] + a[:, 0]
    yc = raw[:, 1] / f32(128) * a[:, 3] + a[:, 1]
    w = raw[:, 2] / f32(128) * a[:, 2]
    h = raw[:, 3] / f32(128) * a[:, 3]
    boxes = np.stack([xc - w / f32(2), yc - h / f32(2), xc + w / f32(2), yc + h / f32(2)], 1)
    with np.errstate(invalid="ignore"):
        idx = np.flatnonzero((scores >= min_score) & (w >= 0) & (h >= 0))
    return boxes[idx], scores[idx], ids[idx]


def random_head(rng, classes, n=len(ANCHORS)):
    raw = rng.normal(0, 15, (n, 16)).astype(np.float32)
    raw[:, 2:4] = np.abs(raw[:, 2:4]) + 1
    logits = rng.normal(-1.5, 2.5, (n, classes)).astype(np.float32)
    return raw, logits


@pytest.mark.parametrize("classes", [2, 3, 7, 80])
@pytest.mark.parametrize("min_score", [0.0, 0.5, 0.9])
def test_best_class_per_anchor(rng, classes, min_score):
    raw, logits = random_head(rng, classes)
    got = decode_detections(raw, logits, ANCHORS, scale=128, num_keypoints=6, min_score=min_score)
    boxes, scores, ids = decode_ref(raw, logits, ANCHORS, min_score)
    assert len(got) == len(scores) > 0
    np.testing.assert_array_equal(got.class_ids, ids)
    np.testing.assert_allclose(got.scores, scores, rtol=3e-7, atol=0)  # float32 sigmoids, a ulp or two apart
    np.testing.assert_array_equal(got.boxes, boxes)
    assert got.class_ids.dtype == np.int32 and set(np.unique(ids)) <= set(range(classes))


def test_ties_saturation_and_nan():
    """Equal scores: the lower class. Logits 30 and 40 both round to sigmoid 1.0 in float32,
    so the first class wins although its logit is smaller. NaN classes never win; an
    all-NaN anchor is dropped. Clipping to 2 ties every larger logit."""
    raw = np.zeros((6, 16), np.float32)
    raw[:, 2:4] = 10
    logits = np.array(
        [[1.0, 1.0, 0.0], [30.0, 40.0, 0.0], [np.nan, 0.5, 2.0], [np.nan, np.nan, np.nan], [0.1, 5.0, 9.0],
         [-1.0, -2.0, -0.5]],
        np.float32,
    )
    got = decode_detections(raw, logits, ANCHORS[:6], scale=128, num_keypoints=6, min_score=0.5)
    np.testing.assert_array_equal(got.class_ids, [0, 0, 2, 2])
    np.testing.assert_allclose(got.scores, best_class_ref(logits)[0][[0, 1, 2, 4]], rtol=2e-7)
    clipped = decode_detections(raw, logits, ANCHORS[:6], scale=128, num_keypoints=6, min_score=0.5, score_clip=2.0)
    np.testing.assert_array_equal(clipped.class_ids, [0, 0, 2, 1])  # 5 and 9 both clip to 2: class 1 first
    ids = best_class_ref(logits, clip=2.0)[1]
    np.testing.assert_array_equal(clipped.class_ids, ids[[0, 1, 2, 4]])


def test_probabilities_without_sigmoid(rng):
    raw, _ = random_head(rng, 4)
    p = rng.uniform(0, 1, (len(ANCHORS), 4)).astype(np.float32)
    got = decode_detections(raw, p, ANCHORS, scale=128, num_keypoints=6, min_score=0.8, score_activation="none")
    best = p.max(axis=1)
    idx = np.flatnonzero(best >= 0.8)
    np.testing.assert_array_equal(got.scores, best[idx])
    np.testing.assert_array_equal(got.class_ids, p[idx].argmax(axis=1))


def test_single_class_columns_equal_vector(rng):
    raw, logits = random_head(rng, 1)
    a = decode_detections(raw, logits, ANCHORS, scale=128, num_keypoints=6, min_score=0.3)
    b = decode_detections(raw, logits[:, 0], ANCHORS, scale=128, num_keypoints=6, min_score=0.3)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.class_ids, np.zeros(len(a), np.int32))


def test_layouts_and_split_parts(rng):
    """[1, n, c], [n, c], strided class columns and split parts all read the same values."""
    raw, logits = random_head(rng, 5)
    want = decode_detections(raw, logits, ANCHORS, scale=128, num_keypoints=6, min_score=0.5)
    wide = np.zeros((len(ANCHORS), 10), np.float32)
    wide[:, ::2] = logits
    fortran = np.asfortranarray(logits)
    parts = [logits[None, :512], logits[None, 512:]]
    for scores in (logits[None], wide[:, ::2], fortran, parts):
        got = decode_detections(raw, scores, ANCHORS, scale=128, num_keypoints=6, min_score=0.5)
        np.testing.assert_array_equal(got.class_ids, want.class_ids)
        np.testing.assert_array_equal(got.scores, want.scores)


def test_nms_keeps_the_seed_class(rng):
    raw, logits = random_head(rng, 3)
    raw[:, 0:2] = rng.normal(0, 2, (len(ANCHORS), 2))  # boxes pile up near their anchors
    raw[:, 2:4] = 40
    dets = decode_detections(raw, logits, ANCHORS, scale=128, num_keypoints=6, min_score=0.5)
    for method in ("weighted", "hard"):
        out = nms(dets, method=method)
        assert 1 < len(out) < len(dets)
        # each output is a seed: its score and class are one input detection's
        rows = [int(np.flatnonzero(dets.scores == s)[0]) for s in out.scores]
        np.testing.assert_array_equal(out.class_ids, dets.class_ids[rows])
    fused = DetectionDecoder(ANCHORS, scale=128, num_keypoints=6, min_score=0.5)(raw, logits)
    np.testing.assert_array_equal(fused.class_ids, nms(dets).class_ids)
    assert len(np.unique(nms(dets).class_ids)) > 1


def test_class_ids_follow_indexing_and_projection(rng):
    raw, logits = random_head(rng, 4)
    dets = decode_detections(raw, logits, ANCHORS, scale=128, num_keypoints=6, min_score=0.5)
    np.testing.assert_array_equal(dets[1:4].class_ids, dets.class_ids[1:4])
    np.testing.assert_array_equal(dets[2].class_ids, dets.class_ids[2:3])
    _, transform = letterbox(np.zeros((60, 100, 3), np.uint8), (128, 128))
    assert isinstance(transform, Transform)
    np.testing.assert_array_equal(dets.to_image(transform).class_ids, dets.class_ids)


def test_detections_class_ids_checked():
    b, k, s = np.zeros((2, 4), f32), np.zeros((2, 1, 2), f32), np.zeros(2, f32)
    np.testing.assert_array_equal(Detections(b, k, s).class_ids, [0, 0])
    d = Detections(b, k, s, np.array([3, 1]))  # int64 converted
    assert d.class_ids.dtype == np.int32 and list(d.class_ids) == [3, 1]
    with pytest.raises(TypeError, match="class_ids"):
        Detections(b, k, s, np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="class_ids"):
        Detections(b, k, s, [0, 1])
    with pytest.raises(ValueError, match="class_ids"):
        Detections(b, k, s, np.zeros(3, np.int32))
    with pytest.raises(ValueError, match="class_ids"):
        Detections(b, k, s, np.array([0, 2**40]))
