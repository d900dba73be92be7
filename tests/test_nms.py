"""nms (hard and MediaPipe's weighted) against plain references of spec §0.4 and OpenCV."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import detection_reference as ref
from edgevision import Detections
from edgevision.kernels import nms


def detections(boxes, scores, keypoints=None, k=2):
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if keypoints is None:
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        keypoints = np.stack([centre + 0.01 * j for j in range(k)], axis=1)
    return Detections(boxes, np.asarray(keypoints, np.float32), np.asarray(scores, np.float32))


def random_detections(rng, n, k=3, spread=1.0, size=(0.05, 0.4)):
    xy = rng.uniform(0, spread, (n, 2))
    wh = rng.uniform(*size, (n, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    return detections(boxes, rng.uniform(0, 1, n), rng.uniform(0, 1, (n, k, 2)))


def clustered_detections(rng, n_clusters=4, per_cluster=60, k=4):
    """Realistic detector output: jittered copies of a few boxes."""
    centres = rng.uniform(0.2, 0.8, (n_clusters, 2))
    sizes = rng.uniform(0.1, 0.3, (n_clusters, 2))
    boxes, kps = [], []
    for c, s in zip(centres, sizes):
        jitter = rng.normal(0, 0.02, (per_cluster, 4))
        boxes.append(np.concatenate([c - s / 2, c + s / 2]) + jitter)
        kps.append(c + rng.normal(0, 0.05, (per_cluster, k, 2)))
    scores = rng.uniform(0.5, 1, n_clusters * per_cluster)
    return detections(np.concatenate(boxes), scores, np.concatenate(kps))


def assert_weighted(got, dets, threshold=0.3, max_detections=None):
    """Same seeds and clusters; means equal to float32 summation rounding (the kernel adds
    float32 terms as MediaPipe does, in index order; the reference is exact)."""
    b, k, s = ref.weighted_nms(dets.boxes, dets.keypoints, dets.scores, threshold, max_detections)
    np.testing.assert_array_equal(got.scores, s)
    tol = 4e-6 * max(1.0, float(np.abs(dets.boxes).max(initial=0)), float(np.abs(dets.keypoints).max(initial=0)))
    np.testing.assert_allclose(got.boxes, b, rtol=0, atol=tol)
    np.testing.assert_allclose(got.keypoints, k, rtol=0, atol=tol)


def assert_hard(got, dets, threshold=0.3, max_detections=None):
    kept = ref.hard_nms(dets.boxes, dets.scores, threshold, max_detections)
    np.testing.assert_array_equal(got.boxes, dets.boxes[kept])
    np.testing.assert_array_equal(got.keypoints, dets.keypoints[kept])
    np.testing.assert_array_equal(got.scores, dets.scores[kept])


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.9])
def test_weighted_random(rng, threshold):
    for n in (1, 2, 17, 150):
        dets = random_detections(rng, n)
        assert_weighted(nms(dets, iou_threshold=threshold), dets, threshold)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.9])
def test_hard_random(rng, threshold):
    for n in (1, 2, 17, 300):
        dets = random_detections(rng, n)
        assert_hard(nms(dets, method="hard", iou_threshold=threshold), dets, threshold)


def test_clustered_detections(rng):
    dets = clustered_detections(rng)
    got = nms(dets)
    assert_weighted(got, dets)
    assert 1 <= len(got) < 40
    assert np.all(np.diff(got.scores) <= 0), "outputs come in descending seed score"
    assert_hard(nms(dets, method="hard"), dets)


def test_hard_matches_opencv(rng):
    for n, spread in ((50, 1.0), (400, 1.0), (1000, 3.0)):
        dets = random_detections(rng, n, spread=spread)
        b = dets.boxes.astype(np.float64)
        xywh = np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)
        want = np.asarray(cv2.dnn.NMSBoxes(xywh.tolist(), dets.scores.tolist(), 0.0, 0.3)).reshape(-1)
        got = nms(dets, method="hard")
        np.testing.assert_array_equal(got.boxes, dets.boxes[want])


def test_max_detections(rng):
    dets = clustered_detections(rng, n_clusters=6)
    for m in (0, 1, 2, 5, 100):
        assert_weighted(nms(dets, max_detections=m), dets, max_detections=m)
        assert_hard(nms(dets, method="hard", max_detections=m), dets, max_detections=m)


def test_all_suppressed():
    """One cluster: weighted NMS gives the score-weighted mean with the seed's score."""
    boxes = [[0.1, 0.1, 0.5, 0.5], [0.11, 0.1, 0.5, 0.52], [0.09, 0.12, 0.48, 0.5]]
    scores = [0.6, 0.9, 0.7]
    dets = detections(boxes, scores)
    got = nms(dets)
    assert len(got) == 1 and got.scores[0] == np.float32(0.9)
    w = np.array(scores, np.float64)
    np.testing.assert_allclose(got.boxes[0], (np.array(boxes) * w[:, None]).sum(0) / w.sum(), rtol=1e-6)
    assert_weighted(got, dets)
    hard = nms(dets, method="hard")
    np.testing.assert_array_equal(hard.boxes, dets.boxes[[1]])


def test_none_suppressed():
    boxes = [[0.0, 0.0, 0.1, 0.1], [0.2, 0.2, 0.3, 0.3], [0.05, 0.0, 0.15, 0.1], [0.5, 0.5, 0.9, 0.9]]
    scores = [0.2, 0.9, 0.5, 0.7]  # boxes 0 and 2 overlap with IoU 1/3 > 0.3
    dets = detections(boxes, scores)
    hard = nms(dets, method="hard", iou_threshold=0.34)
    np.testing.assert_array_equal(hard.boxes, dets.boxes[[1, 3, 2, 0]])
    weighted = nms(dets, iou_threshold=0.34)  # single-member clusters: (x * s) / s, rounded
    np.testing.assert_array_equal(weighted.scores, np.float32([0.9, 0.7, 0.5, 0.2]))
    np.testing.assert_allclose(weighted.boxes, dets.boxes[[1, 3, 2, 0]], rtol=2e-7)
    assert_weighted(weighted, dets, 0.34)
    assert len(nms(dets, method="hard", iou_threshold=0.33)) == 3


def test_iou_threshold_is_strict():
    # IoU of these two boxes is exactly 0.5 in float32
    dets = detections([[0, 0, 2, 1], [0, 0, 1, 1]], [0.9, 0.8])
    assert ref.iou(dets.boxes[0], dets.boxes[1]) == np.float32(0.5)
    assert len(nms(dets, method="hard", iou_threshold=0.5)) == 2
    assert len(nms(dets, method="hard", iou_threshold=0.49)) == 1
    assert len(nms(dets, iou_threshold=0.5)) == 2


def test_identical_boxes_and_tied_scores_are_deterministic():
    """Equal scores are visited by index: the first detection seeds (MediaPipe leaves this
    undefined); the weighted mean of identical boxes is the box."""
    boxes = [[0.2, 0.2, 0.6, 0.7]] * 5
    kps = np.arange(5 * 2 * 2, dtype=np.float32).reshape(5, 2, 2)
    dets = detections(boxes, [0.8] * 5, kps)
    hard = nms(dets, method="hard")
    np.testing.assert_array_equal(hard.keypoints, kps[:1])
    weighted = nms(dets)
    assert len(weighted) == 1
    np.testing.assert_allclose(weighted.boxes[0], boxes[0], rtol=1e-6)
    np.testing.assert_allclose(weighted.keypoints[0], kps.mean(0), rtol=1e-6)
    assert_weighted(weighted, dets)
    # ties among distinct boxes: lower index first
    dets = detections([[0, 0, 0.1, 0.1], [0.5, 0.5, 0.6, 0.6], [0.8, 0.8, 0.9, 0.9]], [0.5, 0.7, 0.5])
    np.testing.assert_array_equal(nms(dets, method="hard").boxes, dets.boxes[[1, 0, 2]])
    np.testing.assert_array_equal(nms(dets).boxes, dets.boxes[[1, 0, 2]])


def test_zero_area_boxes():
    """A zero-area box overlaps nothing, itself included (IoU 0): hard NMS keeps it; weighted
    NMS emits it as is and stops there, as MediaPipe's loop guard does."""
    boxes = [[0.1, 0.1, 0.5, 0.5], [0.3, 0.3, 0.3, 0.6], [0.1, 0.1, 0.5, 0.5], [0.7, 0.7, 0.9, 0.9]]
    dets = detections(boxes, [0.9, 0.8, 0.7, 0.6])
    hard = nms(dets, method="hard")
    np.testing.assert_array_equal(hard.boxes, dets.boxes[[0, 1, 3]])
    weighted = nms(dets)
    assert_weighted(weighted, dets)
    np.testing.assert_array_equal(weighted.scores, np.float32([0.9, 0.8]))
    np.testing.assert_array_equal(weighted.boxes[1], dets.boxes[1])
    top_degenerate = detections([[0.2, 0.2, 0.2, 0.2], [0.1, 0.1, 0.5, 0.5]], [0.9, 0.8])
    assert len(nms(top_degenerate)) == 1 and len(nms(top_degenerate, method="hard")) == 2


def test_empty():
    empty = Detections.empty(num_keypoints=4)
    for method in ("weighted", "hard"):
        got = nms(empty, method=method)
        assert got.boxes.shape == (0, 4) and got.keypoints.shape == (0, 4, 2) and got.scores.shape == (0,)


def test_strided_inputs(rng):
    dets = clustered_detections(rng)
    big_b = np.zeros((len(dets), 8), np.float32)
    big_b[:, ::2] = dets.boxes
    big_k = np.zeros((len(dets), dets.num_keypoints, 3), np.float32)
    big_k[..., 1:] = dets.keypoints
    big_s = np.repeat(dets.scores, 2)
    strided = Detections(big_b[:, ::2], big_k[..., 1:], big_s[::2])
    for method in ("weighted", "hard"):
        a, b = nms(strided, method=method), nms(dets, method=method)
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.keypoints, b.keypoints)


def test_detections_container(rng):
    dets = clustered_detections(rng)
    assert len(dets[0]) == 1 and len(dets[-1]) == 1 and len(dets[:5]) == 5
    np.testing.assert_array_equal(dets[3].boxes[0], dets.boxes[3])
    with pytest.raises(IndexError):
        dets[len(dets)]
    assert "Detections(n=" in repr(dets)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 40),
    k=st.integers(0, 3),
    threshold=st.sampled_from([0.0, 0.1, 0.3, 0.7, 1.0]),
    quantise=st.booleans(),
    max_detections=st.one_of(st.none(), st.integers(0, 5)),
)
def test_property_matches_reference(seed, n, k, threshold, quantise, max_detections):
    """Random small sets, including many exact ties and duplicates when quantised."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1, (n, 2))
    wh = rng.uniform(0, 0.5, (n, 2))
    scores = rng.uniform(0, 1, n)
    if quantise:
        xy, wh, scores = np.round(xy * 4) / 4, np.round(wh * 4) / 4, np.round(scores * 3) / 3
    dets = detections(np.concatenate([xy, xy + wh], 1), scores, rng.uniform(0, 1, (n, k, 2)))
    assert_weighted(nms(dets, iou_threshold=threshold, max_detections=max_detections), dets, threshold, max_detections)
    hard = nms(dets, method="hard", iou_threshold=threshold, max_detections=max_detections)
    assert_hard(hard, dets, threshold, max_detections)
    for i in range(len(hard)):  # no two kept boxes overlap
        for j in range(i):
            assert not ref.iou(hard.boxes[i], hard.boxes[j]) > np.float32(threshold)
