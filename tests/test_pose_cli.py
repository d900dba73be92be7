"""`edgevision pose` and the pose part of `edgevision demo`, end to end on real files."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

import edgevision
from edgevision import cli, samples

from images import count_frames, write_clip


def test_pose_image_writes_json_and_the_drawing(tmp_path, astronaut):
    src = tmp_path / "a.png"
    Image.fromarray(astronaut).save(src)
    out, lines = tmp_path / "o.png", tmp_path / "p.jsonl"
    assert cli.main(["pose", str(src), "--out", str(out), "--json", str(lines)]) == 0
    record = json.loads(lines.read_text().splitlines()[0])
    expected = edgevision.PoseLandmarker()(astronaut)[0]
    assert record["frame"] == 0 and len(record["poses"]) == 1
    np.testing.assert_allclose(record["poses"][0]["landmarks"], expected.landmarks, atol=1e-5)
    np.testing.assert_allclose(record["poses"][0]["world_landmarks"], expected.world_landmarks, atol=1e-5)
    drawn = np.asarray(Image.open(out))
    assert drawn.shape == astronaut.shape
    # the skeleton is drawn: pixels change around the shoulders, not in the far corner
    x, y = (expected.landmarks[11, :2] * 512).astype(int)
    assert np.any(drawn[y - 3:y + 4, x - 3:x + 4] != astronaut[y - 3:y + 4, x - 3:x + 4])
    np.testing.assert_array_equal(drawn[:20, -20:], astronaut[:20, -20:])


def test_pose_video_tracks(tmp_path, capsys):
    frames = list(samples.synthetic_video(samples.reference_input("astronaut")[0], frames=6, size=(320, 240)))
    src = tmp_path / "v.avi"
    write_clip(src, frames)
    out, lines = tmp_path / "v_out.avi", tmp_path / "v.jsonl"
    assert cli.main(["pose", str(src), "--out", str(out), "--json", str(lines), "--segmentation",
                     "--max-frames", "5"]) == 0
    text = capsys.readouterr().out
    assert "5 frames" in text and "detector ran on 1 of 5 frames" in text
    records = [json.loads(line) for line in lines.read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(5))
    assert all(len(r["poses"]) == 1 and len(r["poses"][0]["landmarks"]) == 33 for r in records)
    assert records[1]["timestamp_ms"] == 100.0  # 10 frames/s
    assert count_frames(out) == 5


def test_pose_missing_input(tmp_path):
    import pytest

    with pytest.raises(SystemExit, match="no such file"):
        cli.main(["pose", str(tmp_path / "missing.png")])


def test_demo_writes_the_pose_drawing(tmp_path, capsys):
    assert cli.main(["demo", "--budget", "0.01", "--no-peers", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "pose.png").is_file()
    assert "Pose (pose_detection + pose_landmark_full" in capsys.readouterr().out
