"""FaceDetector (MediaPipe's short-range FaceDetection) end to end: parity with MediaPipe
0.10.21's outputs (committed fixtures), frames built from pasted astronaut faces (several,
tiny, cut by the frame edge), options and bad input."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edgevision
from edgevision import Detections, Face, FaceDetector

from mediapipe_reference import load_fixture, reference_frames as frames
from pasted_faces import paste_face



@functools.cache
def detector() -> FaceDetector:
    return FaceDetector()


def fixture(name):
    return load_fixture("face_detection", name)


def diagonal(frame):
    return math.hypot(frame.shape[1], frame.shape[0])


@pytest.mark.parametrize("name", ["astronaut", "camera", "blank", "background", "orbit", "exit"])
def test_matches_mediapipe(name):
    """Boxes and keypoints within 0.5% of the image diagonal (they agree to float32
    rounding: the 128-px input samples these frames at whole pixels), same counts."""
    want = fixture(name)
    for t, index in enumerate(want["frame_index"]):
        frame = frames(name)[index]
        H, W = frame.shape[:2]
        faces = detector()(frame)
        n = int(want["count"][t])
        assert len(faces) == n, f"frame {index}: {len(faces)} faces, MediaPipe {n}"
        tolerance = 0.005 * diagonal(frame)
        for face, box, keypoints, score in zip(faces, want["boxes"][t], want["keypoints"][t], want["scores"][t]):
            xyxy = np.concatenate([box[:2], box[:2] + box[2:]])  # MediaPipe: xmin, ymin, width, height
            assert isinstance(face, Face) and face.box.dtype == np.float32 and face.keypoints.shape == (6, 2)
            np.testing.assert_array_less(np.abs(face.box - xyxy) * [W, H, W, H], tolerance)
            np.testing.assert_array_less(np.abs(face.keypoints - keypoints) * [W, H], tolerance)
            assert abs(face.score - score) < 1e-4


def test_no_face():
    assert detector()(np.full((480, 640, 3), 128, np.uint8)) == []
    assert detector()(np.zeros((7, 3, 3), np.uint8)) == []
    assert len(detector().detect(np.zeros((100, 100, 3), np.uint8))) == 0


# ------------------------------------------------------------------ synthetic frames


@functools.cache
def reference_face():
    """The astronaut's face box and keypoints in pixels of the astronaut image."""
    image = frames("astronaut")[0]
    face = detector()(image)[0]
    return face.box_pixels((512, 512)), face.keypoints.astype(np.float64) * 512


def paste(canvas, scale, x, y):
    """Paste the astronaut face; returns where its box and keypoints land (pixels)."""
    scale, offset = paste_face(canvas, scale, x, y)
    box, keypoints = reference_face()
    return box * scale + np.tile(offset, 2), keypoints * scale + offset


def assert_found(faces, box, keypoints, frame, tolerance=0.025):
    """A face whose box centre and keypoints are within `tolerance` of the diagonal of where
    the pasted face is (the detector sees the face in new surroundings and resampled, so not
    exactly where it saw it in the astronaut image), and its size within 15%. The ear
    keypoints (4, 5) move most with the surroundings: twice the tolerance."""
    H, W = frame.shape[:2]
    limit = tolerance * diagonal(frame)
    centre = (box[:2] + box[2:]) / 2
    found = [f for f in faces if np.hypot(*((f.box_pixels((W, H))[:2] + f.box_pixels((W, H))[2:]) / 2 - centre)) < limit]
    assert len(found) == 1, f"no face near {centre} among {[f.box_pixels((W, H)) for f in faces]}"
    got = found[0].box_pixels((W, H))
    assert abs((got[2] - got[0]) / (box[2] - box[0]) - 1) < 0.15
    visible = (keypoints[:, 0] >= 0) & (keypoints[:, 0] < W) & (keypoints[:, 1] >= 0) & (keypoints[:, 1] < H)
    error = np.hypot(*(found[0].keypoints.astype(np.float64) * [W, H] - keypoints).T)
    assert np.all((error < limit * np.array([1, 1, 1, 1, 2, 2]))[visible]), error
    return found[0]


def test_several_faces():
    frame = np.full((480, 640, 3), 110, np.uint8)
    places = [(1.3, 10, 40), (1.0, 230, 200), (1.0, 420, 30)]
    expected = [paste(frame, *p) for p in places]
    faces = detector()(frame)
    assert len(faces) == 3
    for box, keypoints in expected:
        assert_found(faces, box, keypoints, frame)
    scores = [f.score for f in faces]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.5


def test_tiny_faces_are_not_found_but_small_frames_are():
    """The short-range model needs a face of about 15% of the frame's longer side: a 47-px
    face in a 640x480 frame is missed, the same face in a 320x240 frame is found."""
    big = np.full((480, 640, 3), 110, np.uint8)
    for scale, x, y in [(0.5, 40, 40), (0.3, 300, 200), (0.2, 500, 350)]:
        paste(big, scale, x, y)
    assert detector()(big) == []
    small = np.full((240, 320, 3), 110, np.uint8)
    box, keypoints = paste(small, 0.5, 100, 50)
    faces = detector()(small)
    assert len(faces) == 1
    assert_found(faces, box, keypoints, small)


@pytest.mark.parametrize("x,y", [(-100, 100), (-60, 100), (200, -60), (200, 340)])
def test_faces_cut_by_the_frame_edge(x, y):
    frame = np.full((480, 640, 3), 110, np.uint8)
    box, keypoints = paste(frame, 1.2, x, y)
    faces = detector()(frame)
    found = assert_found(faces, box, keypoints, frame, tolerance=0.03)
    if x < 0 and box[0] < 0:
        assert found.box[0] < 0  # the box reaches past the left edge, as the face does
    if y < 0:
        assert found.box[1] < 0
    if box[3] > frame.shape[0]:
        assert found.box[3] > 1


# ------------------------------------------------------------------------- options


def test_bgr_rgba_and_strided_frames_give_the_same_faces():
    frame = frames("astronaut")[0]
    want = detector()(frame)
    bgr = FaceDetector(channel_order="bgr")(np.ascontiguousarray(frame[..., ::-1]))
    rgba = detector()(np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)]))
    padded = np.zeros((512, 700, 3), np.uint8)
    padded[:, 100:612] = frame
    view = detector()(padded[:, 100:612])
    for got in (bgr, rgba, view):
        assert len(got) == len(want) == 1
        np.testing.assert_array_equal(got[0].box, want[0].box)
        np.testing.assert_array_equal(got[0].keypoints, want[0].keypoints)


def test_min_confidence_and_detect():
    frame = np.full((480, 640, 3), 110, np.uint8)
    for place in [(1.3, 10, 40), (1.0, 230, 200), (1.0, 420, 30)]:
        paste(frame, *place)
    faces = detector()(frame)
    threshold = (faces[1].score + faces[2].score) / 2
    strict = FaceDetector(min_confidence=threshold)(frame)
    assert len(strict) == 2 and all(f.score >= threshold for f in strict)
    dets = detector().detect(frame)
    assert isinstance(dets, Detections) and len(dets) == 3
    np.testing.assert_array_equal(dets.boxes, np.stack([f.box for f in faces]))
    np.testing.assert_array_equal(dets.keypoints, np.stack([f.keypoints for f in faces]))
    np.testing.assert_array_equal(dets.scores, np.float32([f.score for f in faces]))
    t = detector().timings
    assert t.inference_ms > 0 and t.total_ms >= t.inference_ms and t.detector_runs == 1


def test_exports_and_card():
    assert edgevision.FaceDetector is FaceDetector and edgevision.Face is Face
    d = detector()
    assert d.input_size == (128, 128)
    assert d.keypoint_names[:2] == ("right_eye", "left_eye") and len(d.keypoint_names) == 6
    assert "FaceDetector" in repr(d)


def test_model_path_and_context_manager():
    d = FaceDetector(model_path=detector().model.path)
    frame = frames("astronaut")[0]
    with d:
        np.testing.assert_array_equal(d(frame)[0].box, detector()(frame)[0].box)
    with pytest.raises(RuntimeError, match="closed"):
        d(frame)


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize("frame,error,match", [
    (np.zeros((10, 10), np.uint8), ValueError, "frame"),
    (np.zeros((10, 10, 1), np.uint8), ValueError, "grayscale"),
    (np.zeros((10, 10, 3), np.float32), TypeError, "uint8"),
    (np.zeros((0, 10, 3), np.uint8), ValueError, "empty"),
    ([[0, 0, 0]], TypeError, "frame"),
    (None, TypeError, "frame"),
])
def test_bad_frames(frame, error, match):
    with pytest.raises(error, match=match):
        detector()(frame)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(min_confidence=1.5), ValueError, "min_confidence"),
    (dict(min_confidence=-0.1), ValueError, "min_confidence"),
    (dict(min_confidence="0.5"), TypeError, "min_confidence"),
    (dict(min_confidence=True), TypeError, "min_confidence"),
    (dict(channel_order="BGR"), ValueError, "channel_order"),
    (dict(model="long_range"), ValueError, "model"),
    (dict(model="selfie_segmentation"), ValueError, "face_detection"),
    (dict(model=3), TypeError, "model"),
    (dict(runtime="tensorflow"), ValueError, "runtime"),
    (dict(model_path="/nonexistent/face.tflite"), FileNotFoundError, "face.tflite"),
])
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        FaceDetector(**kwargs)


def test_face_checks_its_arrays():
    with pytest.raises(TypeError, match="box"):
        Face(np.zeros(4), np.zeros((6, 2), np.float32), 0.5)
    with pytest.raises(ValueError, match="keypoints"):
        Face(np.zeros(4, np.float32), np.zeros((6, 3), np.float32), 0.5)
    face = Face(np.array([0.1, 0.2, 0.3, 0.4], np.float32), np.zeros((6, 2), np.float32), np.float32(0.75))
    assert isinstance(face.score, float)
    np.testing.assert_allclose(face.box_pixels((200, 100)), [20, 20, 60, 40], rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 300), width=st.integers(1, 300), channels=st.sampled_from([3, 4]),
       seed=st.integers(0, 2**32 - 1))
def test_any_frame_size_gives_finite_faces(height, width, channels, seed):
    frame = np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)
    faces = detector()(frame)
    for face in faces:
        assert np.all(np.isfinite(face.box)) and np.all(np.isfinite(face.keypoints)) and 0.5 <= face.score <= 1
