"""FaceMap3DMM end to end with a model of facemap_3dmm's exact I/O contract (random weights,
built with onnx.helper) and random basis files of the documented shapes: crops, the model
input (NCHW and NHWC), box mapping and the decode, against the AI Hub app's steps written out
with OpenCV and NumPy (aihub_and_sam2.md §4)."""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
import pytest

import detection_reference as ref
import model_builders
from edgevision import Face3DMM, FaceDetector, FaceMap3DMM, samples

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Both model layouts (same weights) and a basis directory."""
    folder = tmp_path_factory.mktemp("facemap")
    nchw = model_builders.facemap_3dmm_like(folder / "facemap_nchw.onnx", np.random.default_rng(3), "nchw")
    nhwc = model_builders.facemap_3dmm_like(folder / "facemap_nhwc.onnx", np.random.default_rng(3), "nhwc")
    rng = np.random.default_rng(4)
    basis = {"meanFace.npy": rng.normal(0, 40, (204, 1)), "shapeBasis.npy": rng.normal(0, 1, (204, 219)),
             "blendShape.npy": rng.normal(0, 2, (204, 39))}
    for name, array in basis.items():
        np.save(folder / name, array.astype(np.float32))
    return {"nchw": nchw, "nhwc": nhwc, "basis_dir": folder,
            "basis": {k: v.astype(np.float32).astype(np.float64) for k, v in basis.items()}}


@functools.cache
def astronaut():
    return samples.reference_input("astronaut")[0]


def app_reference(image, box, model_reference, basis):
    """AI Hub's landmark_prediction: crop image[y0:y1+1, x0:x1+1], resize to 128x128
    INTER_LINEAR (on float pixels here, so no uint8 rounding), / 255, NCHW, the model, then
    project_landmark and transform_landmark_coordinates."""
    x0, y0, x1, y1 = box
    crop = image[y0:y1 + 1, x0:x1 + 1].astype(np.float32)
    tensor = cv2.resize(crop, (128, 128), interpolation=cv2.INTER_LINEAR).transpose(2, 0, 1)[None] / 255.0
    return ref.facemap_3dmm(model_reference(tensor), basis["meanFace.npy"], basis["shapeBasis.npy"],
                            basis["blendShape.npy"], box)


def assert_matches_app(face, image, box, model_reference, basis, tolerance_px=0.02):
    want, groups = app_reference(image, box, model_reference, basis)
    assert isinstance(face, Face3DMM)
    np.testing.assert_array_equal(face.box, box)
    assert face.landmarks.shape == (68, 2) and face.landmarks.dtype == np.float32
    np.testing.assert_allclose(face.landmarks, want, rtol=0, atol=tolerance_px)
    np.testing.assert_allclose(face.identity, groups["identity"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(face.expression, groups["expression"], rtol=0, atol=1e-4)
    np.testing.assert_allclose([face.pitch, face.yaw, face.roll], [groups["pitch"], groups["yaw"], groups["roll"]],
                               atol=1e-4)
    np.testing.assert_allclose(face.translation, groups["translation"], atol=2e-3)
    assert abs(face.focal - groups["focal"]) < 5e-3
    assert face.identity.shape == (219,) and face.expression.shape == (39,) and face.translation.shape == (2,)


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
@pytest.mark.parametrize("box", [(150, 60, 300, 230), (0, 0, 511, 511), (400, 10, 427, 97), (5, 300, 6, 301)])
def test_given_boxes_match_the_app(setup, layout, box):
    landmarker = FaceMap3DMM(setup[layout]["path"], setup["basis_dir"])
    faces = landmarker(astronaut(), boxes=box)
    assert len(faces) == 1 and faces[0].score is None
    assert_matches_app(faces[0], astronaut(), box, setup[layout]["reference"], setup["basis"])


def test_layouts_agree_and_several_boxes(setup):
    boxes = np.array([[150, 60, 300, 230], [20.4, 30.6, 99.5, 140.2]])  # rounded to whole pixels
    a = FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"])(astronaut(), boxes=boxes)
    b = FaceMap3DMM(setup["nhwc"]["path"], setup["basis_dir"])(astronaut(), boxes=boxes)
    assert len(a) == len(b) == 2
    np.testing.assert_array_equal(a[1].box, [20, 31, 100, 140])
    for x, y in zip(a, b):
        np.testing.assert_allclose(x.landmarks, y.landmarks, atol=1e-3)
    assert not np.allclose(a[0].landmarks, a[1].landmarks)


def test_boxes_are_clipped_to_the_frame(setup):
    landmarker = FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"])
    face = landmarker(astronaut(), boxes=(-40, 450, 100, 600))[0]
    np.testing.assert_array_equal(face.box, [0, 450, 100, 511])
    assert_matches_app(face, astronaut(), (0, 450, 100, 511), setup["nchw"]["reference"], setup["basis"])
    with pytest.raises(ValueError, match="outside"):
        landmarker(astronaut(), boxes=(600, 0, 700, 50))


def test_whole_frame_without_detector_or_boxes(setup):
    frame = cv2.resize(astronaut(), (300, 200), interpolation=cv2.INTER_AREA)
    face = FaceMap3DMM(setup["nhwc"]["path"], setup["basis_dir"])(frame)[0]
    assert_matches_app(face, frame, (0, 0, 299, 199), setup["nhwc"]["reference"], setup["basis"])


def expected_crop(face_box, size):
    """AI Hub's evaluation crop of a detector box: inclusive pixels, then x0 - int(0.1 w),
    width int(1.2 w) when the enlarged box fits in the image."""
    W, H = size
    x0, y0 = round(face_box[0] * W), round(face_box[1] * H)
    x1, y1 = round(face_box[2] * W) - 1, round(face_box[3] * H) - 1
    w, h = x1 - x0 + 1, y1 - y0 + 1
    ax0, ay0, aw, ah = x0 - int(w * 0.1), y0 - int(h * 0.1), int(w * 1.2), int(h * 1.2)
    if ax0 >= 0 and ay0 >= 0 and ax0 + aw - 1 < W and ay0 + ah - 1 < H:
        return ax0, ay0, ax0 + aw - 1, ay0 + ah - 1
    return max(x0, 0), max(y0, 0), min(x1, W - 1), min(y1, H - 1)


def test_faces_from_the_detector(setup):
    detector = FaceDetector()
    landmarker = FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"], detector=detector)
    image = astronaut()
    detected = detector(image)
    faces = landmarker(image)
    assert len(faces) == len(detected) == 1
    box = expected_crop(detected[0].box, (512, 512))
    assert box[2] - box[0] > 1.15 * (detected[0].box[2] - detected[0].box[0]) * 512  # enlarged: it fits
    assert faces[0].score == pytest.approx(detected[0].score)
    assert_matches_app(faces[0], image, box, setup["nchw"]["reference"], setup["basis"])
    # a face at the frame's edge: the enlarged box would not fit, so the detector's box is
    # used (clipped to the frame)
    edge = np.ascontiguousarray(image[78:, 175:])
    found = detector(edge)
    assert len(found) == 1
    box = expected_crop(found[0].box, (edge.shape[1], edge.shape[0]))
    assert box[1] == 0 and box[2] - box[0] < 1.05 * (found[0].box[2] - found[0].box[0]) * edge.shape[1]
    face = landmarker(edge)[0]
    assert_matches_app(face, edge, box, setup["nchw"]["reference"], setup["basis"])
    assert landmarker(np.full((240, 320, 3), 128, np.uint8)) == []
    assert landmarker.timings.total_ms > landmarker.timings.inference_ms > 0 and landmarker.timings.detector_runs == 1


def test_bgr_frames(setup):
    rgb = FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"])(astronaut(), boxes=(150, 60, 300, 230))[0]
    bgr = FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"], channel_order="bgr")(
        np.ascontiguousarray(astronaut()[..., ::-1]), boxes=(150, 60, 300, 230))[0]
    np.testing.assert_array_equal(rgb.landmarks, bgr.landmarks)


def bad_model(folder, output_size=265, input_shape=(1, 3, 128, 128)):
    from onnx import TensorProto, helper, numpy_helper

    path = folder / f"bad_{output_size}_{'x'.join(map(str, input_shape))}.onnx"
    flat = int(np.prod(input_shape))
    nodes = [helper.make_node("Reshape", ["image", "shape"], ["flat"]),
             helper.make_node("ReduceMean", ["flat"], ["mean"], axes=[1], keepdims=1),
             helper.make_node("Tile", ["mean", "reps"], ["parameters_3dmm"])]
    graph = helper.make_graph(
        nodes, "bad", [helper.make_tensor_value_info("image", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("parameters_3dmm", TensorProto.FLOAT, [1, output_size])],
        [numpy_helper.from_array(np.array([1, flat], np.int64), "shape"),
         numpy_helper.from_array(np.array([1, output_size], np.int64), "reps")])
    model_builders._save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_bad_models_and_basis(setup, tmp_path):
    with pytest.raises(ValueError, match="parameters"):
        FaceMap3DMM(bad_model(tmp_path, output_size=100), setup["basis_dir"])
    with pytest.raises(ValueError, match="input"):
        FaceMap3DMM(bad_model(tmp_path, input_shape=(1, 3, 96, 96)), setup["basis_dir"])
    with pytest.raises(FileNotFoundError, match="basis_dir"):
        FaceMap3DMM(setup["nchw"]["path"], tmp_path / "missing")
    small = tmp_path / "small_basis"
    small.mkdir()
    np.save(small / "meanFace.npy", np.zeros(204, np.float32))
    np.save(small / "shapeBasis.npy", np.zeros((204, 100), np.float32))
    np.save(small / "blendShape.npy", np.zeros((204, 39), np.float32))
    with pytest.raises(ValueError, match="basis"):
        FaceMap3DMM(setup["nchw"]["path"], small)
    with pytest.raises(FileNotFoundError):
        FaceMap3DMM(tmp_path / "nothing.onnx", setup["basis_dir"])


@pytest.mark.parametrize("call,error,match", [
    (lambda m: m(np.zeros((10, 10), np.uint8)), ValueError, "frame"),
    (lambda m: m(np.zeros((10, 10, 3), np.float32)), TypeError, "uint8"),
    (lambda m: m(astronaut(), boxes=(0, 0, 10)), ValueError, "boxes"),
    (lambda m: m(astronaut(), boxes=[(0, 0, 10, 10), (0, 0, 5)]), ValueError, "boxes"),
    (lambda m: m(astronaut(), boxes=(10, 0, 5, 10)), ValueError, "boxes"),
    (lambda m: m(astronaut(), boxes=(0, 0, math.nan, 10)), ValueError, "boxes"),
    (lambda m: m(astronaut(), boxes="0 0 10 10"), TypeError, "boxes"),
    (lambda m: m(astronaut(), boxes=np.zeros((2, 2, 4))), ValueError, "boxes"),
])
def test_bad_calls(setup, call, error, match):
    with pytest.raises(error, match=match):
        call(FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"]))


def test_bad_options(setup):
    with pytest.raises(TypeError, match="detector"):
        FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"], detector="mediapipe")
    with pytest.raises(ValueError, match="channel_order"):
        FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"], channel_order="rgba")
    with pytest.raises(ValueError, match="detector"):
        FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"], detector=FaceDetector(), channel_order="bgr")
    closed = FaceMap3DMM(setup["nchw"]["path"], setup["basis_dir"])
    closed.close()
    with pytest.raises(RuntimeError, match="closed"):
        closed(astronaut())
