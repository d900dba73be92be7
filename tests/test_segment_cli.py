"""`edgevision segment` and the selfie part of `edgevision demo`, end to end on real files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import edgevision
from edgevision import cli, samples

from images import count_frames, write_clip
from edgevision.segment_cli import parse_colour


@pytest.fixture(scope="module")
def segmenter():
    return edgevision.SelfieSegmenter()


def test_segment_image_writes_the_composite(tmp_path, astronaut, segmenter):
    src = tmp_path / "a.png"
    Image.fromarray(astronaut).save(src)
    out = tmp_path / "o.png"
    assert cli.main(["segment", str(src), "--out", str(out), "--background", "0,255,0"]) == 0
    got = np.asarray(Image.open(out))
    np.testing.assert_array_equal(got, edgevision.kernels.composite(astronaut, segmenter(astronaut), (0, 255, 0)))


def test_segment_mask_only_and_default_name(tmp_path, astronaut, segmenter):
    src = tmp_path / "b.png"
    Image.fromarray(astronaut).save(src)
    assert cli.main(["segment", str(src), "--mask-only"]) == 0
    got = np.asarray(Image.open(tmp_path / "b_segmented.png"))
    np.testing.assert_array_equal(got, np.rint(segmenter(astronaut) * 255).astype(np.uint8))


def test_segment_video(tmp_path, capsys, segmenter):
    frames = list(samples.synthetic_video(samples.reference_input("astronaut")[0], frames=6, size=(320, 240)))
    src = tmp_path / "v.avi"
    write_clip(src, frames)
    out = tmp_path / "v_out.avi"
    assert cli.main(["segment", str(src), "--out", str(out), "--background", "blue", "--max-frames", "4"]) == 0
    assert "4 frames" in capsys.readouterr().out
    assert count_frames(out) == 4


@pytest.mark.parametrize("text, rgb", [("green", (0, 177, 64)), ("#0a0B0c", (10, 11, 12)), ("1,2,3", (1, 2, 3))])
def test_parse_colour(text, rgb):
    assert parse_colour(text) == rgb


@pytest.mark.parametrize("text", ["#12345", "1,2", "300,0,0", "purpleish"])
def test_parse_colour_rejects(text):
    with pytest.raises(ValueError, match="background"):
        parse_colour(text)


def test_segment_missing_input(tmp_path):
    with pytest.raises(SystemExit, match="no such file"):
        cli.main(["segment", str(tmp_path / "nope.png")])


def test_demo_writes_selfie_outputs(tmp_path, capsys):
    assert cli.main(["demo", "--budget", "0.01", "--no-peers", "--out-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "Selfie segmentation" in text and "| kernel |" in text
    mask = np.asarray(Image.open(tmp_path / "selfie_mask.png"))
    assert mask.shape == (512, 512) and (mask > 127).mean() > 0.2
    assert np.asarray(Image.open(tmp_path / "selfie_blur.png")).shape == (512, 512, 3)
