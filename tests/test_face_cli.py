"""`edgevision face` (mesh, detect, 3dmm) and the face part of `edgevision demo`, end to end on real files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import edgevision
from edgevision import cli, samples

from images import count_frames, write_clip


def test_mesh_image_writes_json_and_the_drawing(tmp_path, astronaut):
    src = tmp_path / "a.png"
    Image.fromarray(astronaut).save(src)
    out, lines = tmp_path / "o.png", tmp_path / "f.jsonl"
    assert cli.main(["face", str(src), "--out", str(out), "--json", str(lines)]) == 0
    record = json.loads(lines.read_text().splitlines()[0])
    expected = edgevision.FaceLandmarker()(astronaut)[0]
    assert record["frame"] == 0 and len(record["faces"]) == 1
    np.testing.assert_allclose(record["faces"][0]["landmarks"], expected.landmarks, atol=1e-5)
    drawn = np.asarray(Image.open(out))
    assert drawn.shape == astronaut.shape
    x, y = (expected.landmarks[1, :2] * 512).astype(int)  # nose tip: dots drawn there, not in a far corner
    assert np.any(drawn[y - 2:y + 3, x - 2:x + 3] != astronaut[y - 2:y + 3, x - 2:x + 3])
    np.testing.assert_array_equal(drawn[-20:, :20], astronaut[-20:, :20])


def test_detect_image(tmp_path, astronaut):
    src = tmp_path / "a.png"
    Image.fromarray(astronaut).save(src)
    lines = tmp_path / "d.jsonl"
    assert cli.main(["face", str(src), "--model", "detect", "--json", str(lines)]) == 0
    assert (tmp_path / "a_face.png").is_file()
    face = json.loads(lines.read_text())["faces"][0]
    expected = edgevision.FaceDetector()(astronaut)[0]
    np.testing.assert_allclose(face["box"], expected.box, atol=1e-5)
    np.testing.assert_allclose(face["keypoints"], expected.keypoints, atol=1e-5)


def test_mesh_video_tracks(tmp_path, capsys):
    frames = list(samples.synthetic_video(samples.reference_input("astronaut")[0], frames=7, size=(320, 240)))
    src = tmp_path / "v.avi"
    write_clip(src, frames[1:])  # the clip's first frame is too zoomed out for the face detector
    out, lines = tmp_path / "v_out.avi", tmp_path / "v.jsonl"
    assert cli.main(["face", str(src), "--out", str(out), "--json", str(lines), "--max-frames", "5"]) == 0
    text = capsys.readouterr().out
    assert "5 frames" in text and "detector ran on 1 of 5 frames" in text
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(5))
    assert all(len(r["faces"]) == 1 and len(r["faces"][0]["landmarks"]) == 468 for r in records)
    assert count_frames(out) == 5


def test_3dmm_image(tmp_path, astronaut):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    import model_builders

    model = model_builders.facemap_3dmm_like(tmp_path / "facemap.onnx", np.random.default_rng(1))["path"]
    rng = np.random.default_rng(2)
    for name, shape, sigma in (("meanFace.npy", (204, 1), 40), ("shapeBasis.npy", (204, 219), 1),
                               ("blendShape.npy", (204, 39), 2)):
        np.save(tmp_path / name, rng.normal(0, sigma, shape).astype(np.float32))
    src = tmp_path / "a.png"
    Image.fromarray(astronaut).save(src)
    lines = tmp_path / "m.jsonl"
    assert cli.main(["face", str(src), "--model", "3dmm", "--model-path", str(model), "--basis-dir", str(tmp_path),
                     "--json", str(lines)]) == 0
    face = json.loads(lines.read_text())["faces"][0]
    expected = edgevision.FaceMap3DMM(model, tmp_path, detector=edgevision.FaceDetector())(astronaut)[0]
    np.testing.assert_allclose(face["landmarks"], expected.landmarks, atol=1e-4)
    assert face["box"] == expected.box.tolist()


@pytest.mark.parametrize("argv,match", [
    (["--model", "3dmm"], "--model-path"),
    (["--max-faces", "0"], "--max-faces"),
    (["--min-confidence", "2"], "--min-confidence"),
])
def test_bad_options(tmp_path, astronaut, argv, match):
    src = tmp_path / "a.png"
    Image.fromarray(astronaut).save(src)
    with pytest.raises(SystemExit, match=match):
        cli.main(["face", str(src), *argv])


def test_missing_input(tmp_path):
    with pytest.raises(SystemExit, match="no such file"):
        cli.main(["face", str(tmp_path / "missing.png")])


def test_demo_writes_the_face_drawing(tmp_path, capsys):
    assert cli.main(["demo", "--budget", "0.01", "--no-peers", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "face.png").is_file()
    assert "Face Mesh (face_detection_short_range + face_landmark" in capsys.readouterr().out
