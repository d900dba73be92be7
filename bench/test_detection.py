"""Detector post-processing: edgevision vs. the NumPy / OpenCV chain a user would write.

Run::

    python -m pytest bench/test_detection.py --benchmark-only

Inputs: MediaPipe's pose-detector outputs for a frame with two people (2254 anchors, a few
hundred scoring above 0.5; ``edgevision.speed.make_pose_detector_outputs``). Single-threaded
(edgevision's kernels are; OpenCV is limited to one thread by conftest). Each edgevision
test also checks, untimed, that it produced what the peer produces.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgevision import speed


def bench(group: str):
    return pytest.mark.benchmark(group=group, max_time=0.5, min_rounds=20, warmup=True, warmup_iterations=50)


def _ours(benchmark, target):
    benchmark.extra_info.update(role="edgevision", target=target)


def _peer(benchmark, chain):
    benchmark.extra_info.update(role="peer", chain=chain)


@pytest.fixture(scope="module")
def pose_outputs():
    return speed.make_pose_detector_outputs()


def _same_detections(ours, peer, what):
    """The NumPy peer computes in float32/float64 mixes: agree to float32 rounding."""
    boxes, keypoints, scores = peer
    assert len(ours) == len(scores), f"{what}: {len(ours)} detections, peer {len(scores)}"
    np.testing.assert_allclose(ours.boxes, boxes, rtol=0, atol=1e-5, err_msg=what)
    np.testing.assert_allclose(ours.keypoints, keypoints, rtol=0, atol=1e-5, err_msg=what)
    np.testing.assert_allclose(ours.scores, scores, rtol=1e-6, err_msg=what)


# ------------------------------------------------- 1. decode + weighted NMS, 2254 anchors


def _decode_nms(ek, raw_boxes, raw_scores, anchors):
    dets = ek.decode_detections(raw_boxes, raw_scores, anchors, scale=224, num_keypoints=4, min_score=0.5)
    return ek.nms(dets)


@bench("decode+weighted NMS 2254")
def test_decode_nms_edgevision(benchmark, ek, pose_outputs):
    _ours(benchmark, 20.0)
    result = benchmark(_decode_nms, ek, *pose_outputs)
    _same_detections(result, speed.numpy_decode_weighted_nms(*pose_outputs), "decode + nms")


@bench("decode+weighted NMS 2254")
def test_decoder_edgevision(benchmark, ek, pose_outputs):
    _ours(benchmark, 20.0)
    raw_boxes, raw_scores, anchors = pose_outputs
    decoder = ek.DetectionDecoder(anchors, scale=224, num_keypoints=4, min_score=0.5)
    result = benchmark(decoder, raw_boxes, raw_scores)
    _same_detections(result, speed.numpy_decode_weighted_nms(*pose_outputs), "DetectionDecoder")


@bench("decode+weighted NMS 2254")
def test_decode_nms_peer(benchmark, pose_outputs):
    _peer(benchmark, "numpy: vectorised decode, weighted NMS with one IoU sweep per output")
    benchmark(speed.numpy_decode_weighted_nms, *pose_outputs)


# ------------------------------------------------------------- 2. hard NMS, 2254 boxes


@pytest.fixture(scope="module")
def all_boxes(ek, pose_outputs):
    """Every anchor's decoded box (min_score=0): 2254 detections."""
    raw_boxes, raw_scores, anchors = pose_outputs
    return ek.decode_detections(raw_boxes, raw_scores, anchors, scale=224, num_keypoints=4, min_score=0.0)


def _peer_nms(cv2, xywh, scores):
    return cv2.dnn.NMSBoxes(xywh, scores, 0.0, 0.3)


@pytest.fixture(scope="module")
def xywh(all_boxes):
    b = all_boxes.boxes
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)


@bench("hard NMS 2254 boxes")
def test_nms_hard_edgevision(benchmark, ek, all_boxes, cv2, xywh):
    _ours(benchmark, 5.0)
    result = benchmark(ek.nms, all_boxes, method="hard")
    kept = np.asarray(_peer_nms(cv2, xywh, all_boxes.scores)).reshape(-1)
    np.testing.assert_array_equal(result.boxes, all_boxes.boxes[kept])


@bench("hard NMS 2254 boxes")
def test_nms_hard_peer(benchmark, cv2, all_boxes, xywh):
    _peer(benchmark, "cv2.dnn.NMSBoxes(boxes [n,4] xywh, scores [n], 0.0, 0.3) from numpy arrays")
    benchmark(_peer_nms, cv2, xywh, all_boxes.scores)
