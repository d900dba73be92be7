"""PoseLandmarker on Qualcomm AI Hub's mediapipe_pose contract, driven by its model cards alone.

The real AI Hub files are not reachable here, so the two models are built with the exact I/O
of the cards (128x128 detector with split heads, 25-landmark upper-body model) and outputs that
are constants: what the pipeline must then return is written out below with AI Hub's own app
formulas (anchor decode, letterbox removal, ROI angle ``atan2(c.y - e.y, c.x - e.x) - pi/2``,
landmark projection), in NumPy. This checks everything the cards decide: split heads,
anchors per cell, hard NMS, the ROI rule, 25 landmarks, presence >= 0.75 inclusive, no world
landmarks, detector on every frame.

Two of the app's artifacts are not reproduced, on purpose: it truncates the un-letterboxed
keypoints to whole pixels, and its crop maps the ROI's corners onto pixels 0 and 255 (so it
projects landmarks with a 255/256 scale); here the keypoints stay exact and landmarks are
fractions of the crop, as MediaPipe defines them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import edgevision

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

ANCHOR = 2 * (5 * 16 + 9) + 1  # 16x16 map, cell (x=9, y=5), its second anchor
# dx, dy, w, h, then keypoints mid_hip, full_body_scale, mid_shoulder, upper_body_scale (128-px units)
BOX = np.array([3.0, -2.0, 40.0, 60.0, 2.0, 20.0, 2.0, -40.0, 4.0, -14.0, 22.0, -30.0], np.float32)
# AI Hub's app keeps detections and landmarks scoring >= 0.75 (the cards' thresholds); the
# pipeline's own arguments default to MediaPipe's 0.5 and take precedence over the cards.
AIHUB_APP_THRESHOLDS = dict(min_detection_confidence=0.75, min_tracking_confidence=0.75)
LANDMARKS = np.random.default_rng(7).uniform(0.1, 0.9, (25, 4)).astype(np.float32)


def constant_model(path, input_shape, outputs):
    """An ONNX model whose outputs are the given constants (times nothing of the input)."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("ReduceMean", ["image"], ["mean"], keepdims=0),
             helper.make_node("Mul", ["mean", "zero"], ["nothing"])]
    inits = [numpy_helper.from_array(np.zeros((), np.float32), "zero")]
    infos = []
    for name, value in outputs.items():
        nodes.append(helper.make_node("Add", ["nothing", f"{name}_value"], [name]))
        inits.append(numpy_helper.from_array(value.astype(np.float32), f"{name}_value"))
        infos.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(nodes, "constant", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                                 list(input_shape))], infos, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    import onnx

    onnx.save(model, str(path))
    return str(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aihub_pose")
    coords1, coords2 = np.zeros((1, 512, 12)), np.zeros((1, 384, 12))
    scores1, scores2 = np.full((1, 512, 1), -8.0), np.full((1, 384, 1), -8.0)
    coords1[0, ANCHOR] = BOX
    scores1[0, ANCHOR] = 4.0  # sigmoid 0.982 >= 0.75
    scores1[0, ANCHOR + 1] = 1.0  # 0.73: below the card's threshold
    detector = constant_model(folder / "detector.onnx", (1, 128, 128, 3), {
        "box_coords_1": coords1, "box_coords_2": coords2, "box_scores_1": scores1, "box_scores_2": scores2})
    present = constant_model(folder / "landmarks.onnx", (1, 256, 256, 3), {
        "scores": np.array([0.75]), "landmarks": LANDMARKS[None]})
    absent = constant_model(folder / "absent.onnx", (1, 256, 256, 3), {
        "scores": np.array([0.7]), "landmarks": LANDMARKS[None]})
    return {"detector": ("aihub_mediapipe_pose_detector", detector),
            "landmarks": ("aihub_mediapipe_pose_landmark", present),
            "absent": ("aihub_mediapipe_pose_landmark", absent)}


def expected(width, height):
    """AI Hub's app on a width x height frame: detection -> ROI -> landmarks in frame pixels."""
    cell, k = divmod(ANCHOR, 2)
    cy, cx = divmod(cell, 16)
    anchor = np.array([(cx + 0.5) / 16, (cy + 0.5) / 16])
    points = anchor + BOX[4:].reshape(4, 2).astype(np.float64) / 128  # normalised to the 128 input
    # letterbox removal: the frame was scaled by s into the square and centred
    s = 128 / max(width, height)
    pad = np.array([(128 - width * s) / 2, (128 - height * s) / 2])
    pixels = (points * 128 - pad) / s
    centre, scale_point = pixels[2], pixels[3]
    theta = math.atan2(centre[1] - scale_point[1], centre[0] - scale_point[0]) - math.pi / 2
    side = 2.0 * np.hypot(*(scale_point - centre)) * 1.5  # 2 |c - e| x DETECT_DSCALE
    c, sn = math.cos(theta), math.sin(theta)
    local = (LANDMARKS[:, :2].astype(np.float64) - 0.5) * side
    frame_xy = centre + np.stack([c * local[:, 0] - sn * local[:, 1], sn * local[:, 0] + c * local[:, 1]], axis=1)
    return frame_xy, LANDMARKS[:, 2] * side / width, theta, side, centre


@pytest.mark.parametrize("size", [(640, 480), (360, 640)])
def test_image_mode_follows_the_cards(models, size):
    width, height = size
    pose = edgevision.PoseLandmarker(models={"detector": models["detector"], "landmarks": models["landmarks"]},
                                     **AIHUB_APP_THRESHOLDS)
    frame = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    people = pose(frame)
    assert len(people) == 1  # hard NMS, max_detections 1; the 0.73 anchor is below 0.75
    person = people[0]
    xy, z, theta, side, centre = expected(width, height)
    assert person.landmarks.shape == (25, 4) and person.world_landmarks is None
    np.testing.assert_allclose(person.landmarks[:, :2] * (width, height), xy, atol=2e-3)
    np.testing.assert_allclose(person.landmarks[:, 2], z, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(person.landmarks[:, 3], LANDMARKS[:, 3], atol=1e-6)  # "none": raw 4th column
    assert person.score == pytest.approx(0.75)  # inclusive threshold
    roi = person.roi
    assert math.remainder(roi.rotation - theta, 2 * math.pi) == pytest.approx(0.0, abs=1e-5)
    assert (roi.width, roi.height) == (pytest.approx(side, rel=1e-5), pytest.approx(side, rel=1e-5))
    assert (roi.x_center, roi.y_center) == (pytest.approx(centre[0], abs=1e-3), pytest.approx(centre[1], abs=1e-3))


def test_below_presence_is_nobody_and_video_runs_the_detector_each_frame(models):
    frame = np.zeros((480, 640, 3), np.uint8)
    assert edgevision.PoseLandmarker(models={"detector": models["detector"], "landmarks": models["absent"]},
                                     **AIHUB_APP_THRESHOLDS)(frame) == []
    video = edgevision.PoseLandmarker(mode="video", models={"detector": models["detector"],
                                                            "landmarks": models["landmarks"]}, **AIHUB_APP_THRESHOLDS)
    for _ in range(3):
        assert len(video(frame)) == 1
    assert video.detector_runs == 3  # the card has no tracking rule
