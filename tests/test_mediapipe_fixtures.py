"""The committed MediaPipe fixtures still describe the inputs that ``edgevision.samples`` makes.

Parity tests feed our pipelines ``samples.reference_input(name)`` and compare with what
MediaPipe 0.10.21 returned on the same frames (``bench/reference/make_fixtures.py``); this
guards the link: every frame regenerates bit-exactly, and each file's arrays are consistent.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from edgevision import samples

FIXTURES = Path(__file__).parent / "fixtures" / "mediapipe"
FILES = sorted(FIXTURES.glob("*/*.npz"))


@functools.cache
def _input(name: str) -> tuple[np.ndarray, ...]:
    return tuple(samples.reference_input(name))


def _load(path: Path) -> dict:
    with np.load(path) as data:  # allow_pickle stays False: no object arrays in fixtures
        return {key: data[key] for key in data.files}


def test_manifest_lists_every_file_and_input():
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    assert manifest["environment"]["mediapipe"] == "0.10.21"
    listed = {entry["file"] for task in manifest["tasks"].values() for entry in task["files"].values()}
    assert listed == {str(p.relative_to(FIXTURES)) for p in FILES}
    assert set(manifest["inputs"]) == set(samples.REFERENCE_INPUTS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_inputs_regenerate_bit_exactly(path):
    data = _load(path)
    meta = json.loads(str(data["meta"]))
    frames = _input(meta["input"])
    assert meta["environment"]["mediapipe"] == "0.10.21"
    assert meta["image_size"] == [frames[0].shape[1], frames[0].shape[0]]
    digests = [hashlib.sha256(frames[i].tobytes()).hexdigest() for i in data["frame_index"]]
    assert digests == data["frame_sha256"].tolist()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_arrays_are_consistent(path):
    data = _load(path)
    meta = json.loads(str(data["meta"]))
    frames = len(data["frame_index"])
    width, height = meta["image_size"]
    for key, value in data.items():
        if key != "meta":
            assert value.shape[0] == frames, key
    if "mask" in data:
        assert data["mask"].shape == (frames, height, width) and data["mask"].dtype == np.uint8
    if "found" in data:  # pose: NaN exactly where no pose
        missing = ~data["found"]
        for key in ("landmarks", "world_landmarks"):
            assert np.isnan(data[key][missing]).all() and not np.isnan(data[key][~missing]).any()
        if "has_mask" in data:
            assert not data["mask"][~data["has_mask"]].any()
    for count_key in [k for k in data if k == "count" or k.endswith("_count")]:
        prefix = "" if count_key == "count" else count_key[: -len("count")]
        padded = data[f"{prefix}landmarks" if f"{prefix}landmarks" in data else
                      f"{prefix}boxes" if f"{prefix}boxes" in data else prefix.rstrip("_")]
        assert data[count_key].max(initial=0) <= padded.shape[1]
        for t, n in enumerate(data[count_key]):
            assert not np.isnan(padded[t, :n]).any() and np.isnan(padded[t, n:]).all()
