"""Detections.to_image against MediaPipe's letterbox removal and detection projection
(spec §0.5) with the Transforms that letterbox / warp_roi return."""

from __future__ import annotations

import math

import numpy as np
import pytest

import detection_reference as ref
from edgevision import Detections, Rect
from edgevision.kernels import letterbox, warp_roi


def some_detections(rng, n=20, k=4):
    xy = rng.uniform(-0.1, 0.9, (n, 2))
    wh = rng.uniform(0.0, 0.4, (n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    return Detections(boxes, rng.uniform(-0.2, 1.2, (n, k, 2)).astype(np.float32), rng.uniform(0, 1, n).astype(np.float32))


@pytest.mark.parametrize("image_size", [(640, 480), (480, 640), (300, 300), (1280, 720), (17, 301)])
@pytest.mark.parametrize("tensor_size", [(224, 224), (128, 128), (256, 144)])
def test_letterbox_removal(rng, image_size, tensor_size):
    W, H = image_size
    _, transform = letterbox(np.zeros((H, W, 3), np.uint8), tensor_size, sampling="mediapipe")
    dets = some_detections(rng)
    got = dets.to_image(transform)
    boxes, kps = ref.remove_letterbox(dets.boxes, dets.keypoints, ref.letterbox_padding(image_size, tensor_size))
    np.testing.assert_allclose(got.boxes, boxes, rtol=0, atol=2e-7 * max(1, np.abs(boxes).max()))
    np.testing.assert_allclose(got.keypoints, kps, rtol=0, atol=2e-7 * max(1, np.abs(kps).max()))
    np.testing.assert_array_equal(got.scores, dets.scores)
    assert got.scores is not dets.scores


@pytest.mark.parametrize("rotation", [0.0, 0.7, -2.9, math.pi])
@pytest.mark.parametrize("keep_aspect", [True, False])
def test_projection_through_rotated_roi(rng, rotation, keep_aspect):
    """DetectionProjection with ImageToTensor's MATRIX of a rotated ROI (§0.1.6)."""
    image_size, tensor_size = (640, 480), (192, 128)
    rect = Rect(300.0, 200.0, 180.0, 150.0, rotation)
    _, transform = warp_roi(np.zeros((480, 640, 3), np.uint8), rect, tensor_size, keep_aspect=keep_aspect)
    w, h = rect.width, rect.height
    if keep_aspect:  # PadRoi (§0.1.2)
        ta = tensor_size[1] / tensor_size[0]
        if ta > h / w:
            h = w * ta
        else:
            w = h / ta
    m = ref.roi_matrix((rect.x_center, rect.y_center), (w, h), rotation, image_size)
    dets = some_detections(rng)
    got = dets.to_image(transform)
    boxes, kps = ref.project_detections(dets.boxes, dets.keypoints, m)
    np.testing.assert_allclose(got.boxes, boxes, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got.keypoints, kps, rtol=0, atol=1e-6)
    if rotation == 0.0:
        assert np.all(got.boxes[:, 2] >= got.boxes[:, 0])


def test_empty_and_keypointless(rng):
    _, transform = letterbox(np.zeros((48, 64, 3), np.uint8), (32, 32), sampling="mediapipe")
    assert len(Detections.empty(3).to_image(transform)) == 0
    dets = some_detections(rng, k=0)
    got = dets.to_image(transform)
    assert got.keypoints.shape == (20, 0, 2)
