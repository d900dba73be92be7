"""FaceLandmarker (MediaPipe Face Mesh): parity with MediaPipe 0.10.21's FaceMesh outputs
(committed fixtures, image and video mode), tracking, several / small / cut faces built by
pasting the astronaut's face (whose MediaPipe landmarks map into the new frame), options
and bad input."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgevision import FaceLandmarker, FaceLandmarks

from backends import runtimes
from mediapipe_reference import FIXTURES, load_fixture as fixture, reference_frames as frames
from pasted_faces import ASTRONAUT_FACE, paste_face

FACE_SIZE = ASTRONAUT_FACE[2] - ASTRONAUT_FACE[0]  # pixels, the pasted crop's width at scale 1


@functools.cache
def landmarker(mode="image", max_faces=1, runtime="litert") -> FaceLandmarker:
    return FaceLandmarker(mode=mode, max_faces=max_faces, runtime=runtime)




def distance_percent(ours, theirs, size):
    """Mean 2D landmark distance in % of the image diagonal."""
    width, height = size
    d = np.hypot((ours[:, 0] - theirs[:, 0]) * width, (ours[:, 1] - theirs[:, 1]) * height)
    return float(d.mean() / math.hypot(width, height) * 100.0)


def rect_tuple(rect, size):
    W, H = size
    return np.array([rect.x_center / W, rect.y_center / H, rect.width / W, rect.height / H, rect.rotation])


def assert_same_rect(rect, want, size):
    """Centre and size within 0.1% of the frame, rotation within 0.01 rad. Crops follow the
    landmarks' extremes and two eye corners ~80 px apart, so they amplify the landmarks'
    0.01%-level differences: 0.1 px on one corner turns the crop by 1e-3 rad."""
    got = rect_tuple(rect, size)
    np.testing.assert_allclose(got[:4], want[:4], atol=1e-3)
    assert abs(got[4] - want[4]) < 1e-2, (got[4], want[4])


# ----------------------------------------------------------------------------- parity


IMAGE_CASES = [(task, int(task[-1]), path.stem) for task in ("face_mesh_image_1", "face_mesh_image_3")
               for path in sorted((FIXTURES / task).glob("*.npz"))]


@pytest.mark.parametrize("runtime", runtimes())
@pytest.mark.parametrize("task,max_faces,name", IMAGE_CASES)
def test_image_mode_matches_mediapipe(task, max_faces, name, runtime):
    """Same faces as MediaPipe on every frame, landmarks within 0.5% of the diagonal, crops
    equal to MediaPipe's rects from the detections."""
    want = fixture(task, name)
    mesh = landmarker("image", max_faces, runtime)
    compared = 0
    for t, index in enumerate(want["frame_index"]):
        frame = frames(name)[index]
        size = (frame.shape[1], frame.shape[0])
        faces = mesh(frame)
        assert len(faces) == want["count"][t], f"frame {index}: {len(faces)} faces, MediaPipe {want['count'][t]}"
        for k, face in enumerate(faces):
            assert isinstance(face, FaceLandmarks)
            assert face.landmarks.shape == (468, 3) and face.landmarks.dtype == np.float32
            assert 0.5 < face.score <= 1.0
            assert distance_percent(face.landmarks, want["landmarks"][t, k], size) <= 0.5
            assert_same_rect(face.roi, want["rects_from_detections"][t, k], size)
            compared += 1
    assert compared == int(want["count"].sum())


@pytest.mark.parametrize("runtime", runtimes())
@pytest.mark.parametrize("name", ["orbit", "exit"])
def test_video_mode_matches_mediapipe(name, runtime):
    """Frame by frame over the clip: the same frames with a face, landmarks within 1% of the
    diagonal, each crop the one MediaPipe derived from the previous frame's landmarks, and
    the detector run exactly on the frames after which no face was tracked."""
    want = fixture("face_mesh_video", name)
    mesh = FaceLandmarker(mode="video", runtime=runtime)
    distances = []
    for t, index in enumerate(want["frame_index"]):
        frame = frames(name)[index]
        size = (frame.shape[1], frame.shape[0])
        runs = mesh.detector_runs
        faces = mesh(frame)
        tracked_before = t > 0 and want["count"][t - 1] > 0
        assert mesh.detector_runs - runs == (0 if tracked_before else 1), f"frame {t}"
        assert mesh.timings.detector_runs == (0 if tracked_before else 1)
        assert len(faces) == want["count"][t], f"frame {t}: {len(faces)} faces, MediaPipe {want['count'][t]}"
        if faces:
            distances.append(distance_percent(faces[0].landmarks, want["landmarks"][t, 0], size))
            if tracked_before:
                assert_same_rect(faces[0].roi, want["rects_from_landmarks"][t - 1, 0], size)
    assert distances and max(distances) <= 1.0 and float(np.mean(distances)) <= 1.0


# ------------------------------------------------------------------ synthetic frames


@functools.cache
def astronaut_landmarks_px():
    """MediaPipe's landmarks on the astronaut, in astronaut pixels."""
    return fixture("face_mesh_image_1", "astronaut")["landmarks"][0, 0, :, :2].astype(np.float64) * 512


def pasted_error(face, scale, offset, size, visible_only=False):
    """Mean distance of ``face``'s landmarks from where the pasted face's MediaPipe landmarks
    land, in % of the pasted face's size."""
    want = astronaut_landmarks_px() * scale + offset
    got = face.landmarks[:, :2].astype(np.float64) * size
    error = np.hypot(*(got - want).T)
    if visible_only:
        W, H = size
        error = error[(want[:, 0] >= 0) & (want[:, 0] < W) & (want[:, 1] >= 0) & (want[:, 1] < H)]
    return float(error.mean() / (FACE_SIZE * scale) * 100.0)


def canvas(width=640, height=480):
    return np.full((height, width, 3), 110, np.uint8)


PLACES = [(1.3, 10, 40), (1.0, 230, 200), (1.0, 420, 30)]


def matched(faces, pasted, size):
    """For each pasted face, the error of the landmarker's face nearest to it."""
    return [min(pasted_error(f, s, o, size) for f in faces) for s, o in pasted]


def test_several_faces_with_max_faces_1_and_3():
    frame = canvas()
    pasted = [paste_face(frame, *p) for p in PLACES]
    one = landmarker("image", 1)(frame)
    assert len(one) == 1
    assert min(pasted_error(one[0], s, o, (640, 480)) for s, o in pasted) < 2.0
    three = landmarker("image", 3)(frame)
    assert len(three) == 3
    assert max(matched(three, pasted, (640, 480))) < 2.0


def test_video_tracks_several_faces_without_the_detector():
    frame = canvas()
    pasted = [paste_face(frame, *p) for p in PLACES[:2]]
    mesh = FaceLandmarker(mode="video", max_faces=2)
    for t in range(4):
        faces = mesh(frame)
        assert len(faces) == 2 and max(matched(faces, pasted, (640, 480))) < 2.0
        assert mesh.timings.detector_runs == (1 if t == 0 else 0)
    assert mesh.detector_runs == 1


def test_video_never_returns_more_than_max_faces():
    """One face tracked, then two new ones appear: MediaPipe would return all three (the
    detector's two plus the tracked one); max_faces=2 keeps the tracked face and the best
    new one."""
    mesh = FaceLandmarker(mode="video", max_faces=2)
    frame = canvas()
    first = paste_face(frame, *PLACES[0])
    assert len(mesh(frame)) == 1
    more = [paste_face(frame, *p) for p in PLACES[1:]]
    faces = mesh(frame)
    assert len(faces) == 2 and mesh.timings.detector_runs == 1
    assert min(pasted_error(f, *first, (640, 480)) for f in faces) < 2.0  # the tracked face stays
    assert min(min(pasted_error(f, s, o, (640, 480)) for f in faces) for s, o in more) < 2.0


def test_small_faces_are_tracked_after_the_detector_stops_seeing_them():
    """The short-range detector misses a 105-px face in 640x480; tracking a face that
    shrinks to that size keeps it (the crop follows the landmarks)."""
    small = canvas()
    scale, offset = paste_face(small, 0.5, 250, 180)
    assert landmarker("image")(small) == []
    mesh = FaceLandmarker(mode="video")
    for step in np.linspace(1.0, 0.5, 11):
        frame = canvas()
        s, o = paste_face(frame, float(step), round(250 + (1 - step) * 0), 180)
        faces = mesh(frame)
        assert len(faces) == 1 and pasted_error(faces[0], s, o, (640, 480)) < 3.0, step
    assert mesh.detector_runs == 1
    # the same small face in a smaller frame is big enough for the detector
    frame = canvas(320, 240)
    s, o = paste_face(frame, 0.5, 100, 50)
    faces = landmarker("image")(frame)
    assert len(faces) == 1 and pasted_error(faces[0], s, o, (320, 240)) < 2.0


@pytest.mark.parametrize("x,y", [(-100, 100), (-60, 100), (200, -60), (200, 340)])
def test_faces_cut_by_the_frame_edge(x, y):
    """The crop reaches outside the frame (replicated border, as MediaPipe); the landmarks
    inside the frame stay where the pasted face's are, the others extend past the edge."""
    frame = canvas()
    scale, offset = paste_face(frame, 1.2, x, y)
    faces = landmarker("image")(frame)
    assert len(faces) == 1
    assert pasted_error(faces[0], scale, offset, (640, 480), visible_only=True) < 2.0
    got = faces[0].landmarks[:, :2] * (640, 480)
    want = astronaut_landmarks_px() * scale + offset
    for axis, limit in ((0, 640), (1, 480)):  # landmarks past an edge are extrapolated past it too
        if want[:, axis].min() < -10:
            assert got[:, axis].min() < 0
        if want[:, axis].max() > limit + 10:
            assert got[:, axis].max() > limit


def test_z_is_in_units_of_x():
    """Zooming the frame 2x around the face scales x, y and z alike (relative to the frame):
    z is not in crop units."""
    a = canvas(320, 240)
    paste_face(a, 0.5, 100, 50)
    b = canvas(640, 480)
    paste_face(b, 1.0, 200, 100)
    fa, fb = landmarker("image")(a)[0], landmarker("image")(b)[0]
    za, zb = fa.landmarks[:, 2] * 320, fb.landmarks[:, 2] * 640  # pixels
    spread_a, spread_b = np.ptp(za), np.ptp(zb)
    assert abs(spread_b / spread_a - 2.0) < 0.15
    assert abs(np.ptp(fb.landmarks[:, 0] * 640) / np.ptp(fa.landmarks[:, 0] * 320) - 2.0) < 0.1


# ------------------------------------------------------------------------- options


def test_video_resets_on_a_new_frame_size_and_on_reset():
    mesh = FaceLandmarker(mode="video")
    astronaut = frames("astronaut")[0]
    mesh(astronaut)
    mesh(astronaut)
    assert mesh.detector_runs == 1
    mesh(np.ascontiguousarray(astronaut[:500]))  # another size: a new stream
    assert mesh.detector_runs == 2
    mesh.reset()
    mesh(np.ascontiguousarray(astronaut[:500]))
    assert mesh.detector_runs == 3


def test_bgr_rgba_and_strided_frames_give_the_same_landmarks():
    frame = frames("astronaut")[0]
    want = landmarker("image")(frame)[0].landmarks
    bgr = FaceLandmarker(channel_order="bgr")(np.ascontiguousarray(frame[..., ::-1]))[0].landmarks
    rgba = landmarker("image")(np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)]))[0].landmarks
    padded = np.zeros((512, 700, 3), np.uint8)
    padded[:, 100:612] = frame
    view = landmarker("image")(padded[:, 100:612])[0].landmarks
    for got in (bgr, rgba, view):
        np.testing.assert_array_equal(got, want)


def test_confidence_thresholds():
    frame = frames("astronaut")[0]
    assert FaceLandmarker(min_detection_confidence=1.0)(frame) == []  # no sigmoid reaches 1 on this face
    assert FaceLandmarker(min_tracking_confidence=1.0)(frame) == []  # presence is never > 1
    assert len(FaceLandmarker(min_detection_confidence=0.0, min_tracking_confidence=0.0)(frame)) == 1


def test_models_by_card_name_and_path_and_timings():
    from edgevision import models

    path = models.fetch("face_landmark")
    mesh = FaceLandmarker(models={"landmarks": str(path)})
    faces = mesh(frames("astronaut")[0])
    np.testing.assert_array_equal(faces[0].landmarks, landmarker("image")(frames("astronaut")[0])[0].landmarks)
    t = mesh.timings
    assert t.detector_runs == 1 and 0 < t.inference_ms < t.total_ms and t.overhead_ms > 0
    assert "face_landmark" in repr(mesh)


def test_close():
    mesh = FaceLandmarker()
    with mesh:
        pass
    assert "closed" in repr(mesh)
    with pytest.raises(RuntimeError, match="closed"):
        mesh(frames("astronaut")[0])


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("kwargs,error,match", [
    ({"mode": "stream"}, ValueError, "mode"),
    ({"max_faces": 0}, ValueError, "max_faces"),
    ({"max_faces": "2"}, TypeError, "max_faces"),
    ({"max_faces": True}, TypeError, "max_faces"),
    ({"min_detection_confidence": 1.5}, ValueError, "min_detection_confidence"),
    ({"min_tracking_confidence": "high"}, TypeError, "min_tracking_confidence"),
    ({"channel_order": "rgba"}, ValueError, "channel_order"),
    ({"models": ["face_landmark"]}, TypeError, "models"),
    ({"models": {"mesh": "face_landmark"}}, ValueError, "models"),
    ({"models": {"landmarks": "pose_landmark_full"}}, ValueError, "landmarks"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        FaceLandmarker(**kwargs)


@pytest.mark.parametrize("frame,error", [
    (np.zeros((64, 64), np.uint8), ValueError),
    (np.zeros((64, 64, 1), np.uint8), ValueError),
    (np.zeros((64, 64, 3), np.float32), TypeError),
    (np.zeros((0, 64, 3), np.uint8), ValueError),
    ([[0, 0, 0]], TypeError),
])
def test_bad_frames(frame, error):
    with pytest.raises(error, match="frame"):
        landmarker("image")(frame)


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 96), width=st.integers(1, 96), seed=st.integers(0, 2**31 - 1),
       mode=st.sampled_from(["image", "video"]))
def test_any_small_frame_is_handled(height, width, seed, mode):
    """Noise frames of any size (including 1x1 and thin strips): no crash, every result well formed."""
    frame = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    for face in landmarker(mode, 2)(frame):
        assert face.landmarks.shape == (468, 3) and np.isfinite(face.landmarks).all()
        assert 0.0 <= face.score <= 1.0
