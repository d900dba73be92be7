"""Detector post-processing against MediaPipe 0.10.21's own outputs (committed fixtures).

The detectors run on LiteRT (XNNPACK, as in MediaPipe) behind ``letterbox(...,
sampling="mediapipe")``; decoding, weighted NMS, letterbox removal and the pose ROI are
ours. BlazeFace's 128-px input samples 640x480 and 512x512 frames at whole pixels, so its
tensor equals MediaPipe's and so must the detections (to float32 rounding). The pose
detector's 224-px input interpolates, where MediaPipe's OpenCV warp rounds to 1/32 px and
uint8 (spec §7): its results agree to about a pixel. The same thresholds hold for the models
converted to ONNX (edgevision.convert) on ONNX Runtime, and for both detectors on the QNN HTP.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from edgevision import kernels as ek
from edgevision import runtime

from backends import needs_qnn, runtimes
from mediapipe_reference import load_fixture as _fixture, reference_frames as _frames

@functools.cache
def _face(backend="litert", device="cpu"):
    anchors = ek.ssd_anchors(input_size=(128, 128), strides=(8, 16, 16, 16), min_scale=0.1484375, max_scale=0.75)
    model = runtime.load("face_detection_short_range", runtime=backend, device=device, strict=device != "cpu")
    return model, ek.DetectionDecoder(anchors, scale=128, num_keypoints=6, min_score=0.5)


@functools.cache
def _pose(backend="litert", device="cpu"):
    anchors = ek.ssd_anchors(input_size=(224, 224), strides=(8, 16, 32, 32, 32), min_scale=0.1484375, max_scale=0.75)
    model = runtime.load("pose_detection", runtime=backend, device=device, strict=device != "cpu")
    return model, ek.DetectionDecoder(anchors, scale=224, num_keypoints=4, min_score=0.5)


def _detect(model_and_decoder, frame, size):
    model, decoder = model_and_decoder
    tensor, transform = ek.letterbox(frame, size, value_range=(-1, 1), sampling="mediapipe", border="zero")
    raw_boxes, raw_scores = model.run([tensor])
    return decoder(raw_boxes, raw_scores).to_image(transform)


def _xyxy(box):  # MediaPipe's relative box is (xmin, ymin, width, height)
    box = np.asarray(box, np.float64)
    return np.concatenate([box[..., :2], box[..., :2] + box[..., 2:]], axis=-1)


@pytest.mark.parametrize("backend", runtimes())
@pytest.mark.parametrize("name", ["astronaut", "camera", "blank", "background", "orbit", "exit"])
def test_face_detection_matches_mediapipe(name, backend):
    _assert_face_parity(_face(backend), name)


@needs_qnn
@pytest.mark.parametrize("name", ["astronaut", "camera"])
def test_face_detection_on_qnn_htp_matches_mediapipe(name):
    """The converted float model, every node on the QNN HTP (strict; emulated on x86-64)."""
    model_and_decoder = _face("onnxruntime", "qnn-htp")
    assert set(model_and_decoder[0].placement) == {"QNNExecutionProvider"}
    _assert_face_parity(model_and_decoder, name)


def _assert_face_parity(model_and_decoder, name):
    fixture = _fixture("face_detection", name)
    frames = _frames(name)
    for t, index in enumerate(fixture["frame_index"]):
        dets = _detect(model_and_decoder, frames[index], (128, 128))
        n = int(fixture["count"][t])
        assert len(dets) == n, f"frame {index}: {len(dets)} faces, MediaPipe {n}"
        if n:
            np.testing.assert_allclose(dets.boxes, _xyxy(fixture["boxes"][t, :n]), rtol=0, atol=1e-6)
            np.testing.assert_allclose(dets.keypoints, fixture["keypoints"][t, :n], rtol=0, atol=1e-6)
            np.testing.assert_allclose(dets.scores, fixture["scores"][t, :n], rtol=0, atol=1e-6)


@pytest.mark.parametrize("backend", runtimes())
@pytest.mark.parametrize("task,name", [("pose_image", n) for n in ("astronaut", "camera", "blank", "background")]
                         + [("pose_image_noseg", "orbit")])
def test_pose_detection_and_roi_match_mediapipe(task, name, backend):
    _assert_pose_parity(_pose(backend), task, name)


@needs_qnn
def test_pose_detection_on_qnn_htp_matches_mediapipe():
    """The converted float model, every node on the QNN HTP (strict; the x86-64 simulator
    prepares it with runtime.load's default htp_graph_finalization_optimization_mode; ~6 s a
    frame there, so one still)."""
    model_and_decoder = _pose("onnxruntime", "qnn-htp")
    assert set(model_and_decoder[0].placement) == {"QNNExecutionProvider"}
    _assert_pose_parity(model_and_decoder, "pose_image", "astronaut")


def _assert_pose_parity(model_and_decoder, task, name):
    fixture = _fixture(task, name)
    frames = _frames(name)
    compared = 0
    for t, index in enumerate(fixture["frame_index"]):
        frame = frames[index]
        H, W = frame.shape[:2]
        dets = _detect(model_and_decoder, frame, (224, 224))
        found = bool(fixture["detection_found"][t])
        if len(dets) > 0 and found:
            np.testing.assert_allclose(dets.boxes[0], _xyxy(fixture["detection_box"][t]), rtol=0, atol=3e-3)
            np.testing.assert_allclose(dets.keypoints[0], fixture["detection_keypoints"][t], rtol=0, atol=5e-3)
            assert abs(dets.scores[0] - fixture["detection_score"][t]) < 2e-2
            kp = dets.keypoints[0]
            roi = ek.rect_from_keypoints(kp[0], kp[1], (W, H), target_angle=math.pi / 2, scale=1.25)
            want = fixture["roi_from_detection"][t]
            np.testing.assert_allclose([roi.x_center / W, roi.y_center / H], want[:2], rtol=0, atol=5e-3)
            # the side is 2.5 x the keypoint distance: keypoint differences double in it
            np.testing.assert_allclose([roi.width / W, roi.height / H], want[2:4], rtol=1.5e-2)
            turn = (roi.rotation - want[4] + math.pi) % (2 * math.pi) - math.pi
            assert abs(turn) < 1e-2
            compared += 1
        else:  # only a score at the threshold may tip the other way
            score = fixture["detection_score"][t] if found else dets.scores[0] if len(dets) else None
            assert score is None or abs(score - 0.5) < 2e-2, f"frame {index}: found {len(dets) > 0}, MediaPipe {found}"
    assert compared == int(fixture["detection_found"].sum()) or name == "orbit"


def _rect_tuple(rect, W, H):
    return np.array([rect.x_center / W, rect.y_center / H, rect.width / W, rect.height / H, rect.rotation])


@pytest.mark.parametrize("name", ["astronaut", "camera", "orbit"])
def test_face_rois_match_mediapipe(name):
    """Face Mesh ROIs (spec §5.2, §5.4): from the detection (box, eyes = keypoints 0 -> 1) and
    from the landmarks MediaPipe returned (their bounds, landmarks 33 -> 263); 1.5 x long side."""
    fixture = _fixture("face_mesh_image_1", name)
    frames = _frames(name)
    for t, index in enumerate(fixture["frame_index"]):
        H, W = frames[index].shape[:2]
        if fixture["rects_from_detections_count"][t]:
            box = _xyxy(fixture["detection_boxes"][t, 0])
            eyes = fixture["detection_keypoints"][t, 0, :2]
            rect = ek.rect_from_box(box, (W, H), rotation_points=(eyes[0], eyes[1]), target_angle=0.0, scale=1.5)
            np.testing.assert_allclose(_rect_tuple(rect, W, H), fixture["rects_from_detections"][t, 0], atol=1e-6)
        if fixture["rects_from_landmarks_count"][t]:
            lm = fixture["landmarks"][t, 0]
            rect = ek.rect_from_box(ek.landmarks_box(lm), (W, H), rotation_points=(lm[33, :2], lm[263, :2]), scale=1.5)
            np.testing.assert_allclose(_rect_tuple(rect, W, H), fixture["rects_from_landmarks"][t, 0], atol=1e-6)
