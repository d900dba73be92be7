"""The zoo's MediaPipe models: fetched and verified, loaded in LiteRT, I/O as on the card, run on a photo.

The first run downloads the mediapipe==0.10.21 wheel once (one download fills every card) into
the user cache ($EDGEVISION_HOME or ~/.cache/edgevision); later runs use the cache.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest
from edgevision import kernels, models, runtime
from edgevision.cli import main as cli

MEDIAPIPE = ["pose_detection", "pose_landmark_full", "selfie_segmentation", "selfie_segmentation_landscape",
             "face_detection_short_range", "face_landmark"]


@pytest.fixture(scope="module")
def zoo():
    return {name: models.fetch(name) for name in MEDIAPIPE}


def sigmoid(v):
    return 1 / (1 + np.exp(-np.clip(v, -80, 80)))


def test_every_mediapipe_card_is_in_the_zoo():
    cards = models.all_cards()
    for name in MEDIAPIPE:
        card = cards[name]
        assert card.kind == "model" and card.io_verified and card.sha256 and card.size
        assert card.sources[0].kind == "pypi" and card.sources[0].requirement == "mediapipe==0.10.21"


@pytest.mark.parametrize("name", MEDIAPIPE)
def test_file_is_verified_and_matches_its_card(zoo, name):
    card = models.card(name)
    path = zoo[name]
    data = path.read_bytes()
    assert len(data) == card.size and hashlib.sha256(data).hexdigest() == card.sha256
    model = runtime.load(name)
    assert model.card is card and model.runtime == "litert"
    for infos, specs in ((model.inputs, card.inputs), (model.outputs, card.outputs)):
        assert [(i.name, i.shape, i.dtype.name) for i in infos] == [(s.name, s.shape, s.dtypes[0]) for s in specs]


@pytest.mark.parametrize("name", MEDIAPIPE)
def test_one_run_on_a_photo_equals_the_bare_interpreter(zoo, name, astronaut):
    from ai_edge_litert.interpreter import Interpreter

    card = models.card(name)
    pre = card.params["preprocess"]
    tensor, _ = kernels.letterbox(astronaut, tuple(pre["size"]), keep_aspect=pre["keep_aspect"],
                                  value_range=tuple(pre["value_range"]), border=pre.get("border", "zero"),
                                  sampling=pre.get("sampling", "opencv"))
    default = runtime.load(name)
    order_kept = runtime.load(name, options={"xnnpack_rewrites": ["subpixel"]})
    # Bit for bit with the edits that keep every sum's order; the default also reorders the
    # selfie decoder's resize/convolution pairs (runtime.resize_order): float32 rounding there.
    reordered = default.edited_path != order_kept.edited_path
    assert reordered == name.startswith("selfie_segmentation")
    outputs, exact = default.run([tensor]), order_kept.run([tensor])
    # The same file through LiteRT's own API, without edgevision in between.
    bare = Interpreter(model_path=str(zoo[name]))
    bare.allocate_tensors()
    bare.set_tensor(bare.get_input_details()[0]["index"], tensor)
    bare.invoke()
    expected = [bare.get_tensor(d["index"]) for d in bare.get_output_details()]
    assert len(outputs) == len(exact) == len(expected)
    for got, bit_exact, want in zip(outputs, exact, expected):
        assert got.shape == want.shape and np.isfinite(got).all()
        np.testing.assert_array_equal(bit_exact, want)
        if reordered:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=5e-5 * max(1.0, float(np.abs(want).max())))
        else:
            np.testing.assert_array_equal(got, want)

    # And the numbers mean what the card says on this photo of a person.
    if name in ("pose_detection", "face_detection_short_range"):
        assert sigmoid(outputs[1]).max() > 0.5
    elif name == "pose_landmark_full":
        assert outputs[1][0, 0] > 0.5  # presence flag, already a probability
    elif name.startswith("selfie_segmentation"):
        mask = outputs[0][0, ..., 0]
        h, w = mask.shape
        assert 0 <= mask.min() and mask.max() <= 1
        assert mask[h // 2, w // 4] > 0.9 and mask[h // 10, w - w // 10] < 0.1  # body vs. background


def test_astronaut_asset_equals_skimage(astronaut):
    path = models.fetch("astronaut")
    image = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(image, astronaut)


def test_load_rejects_bad_files(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'pose_detector'"):
        runtime.load("pose_detector")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"unsupported file type '.txt'"):
        runtime.load(text)
    with pytest.raises(FileNotFoundError, match="no such file"):
        runtime.load(tmp_path / "missing.tflite")
    for suffix in (".tflite", ".onnx"):
        junk = tmp_path / f"junk{suffix}"
        junk.write_bytes(b"\x00\x01 not a model " * 50)
        with pytest.raises(ValueError, match="cannot load .* as a"):
            runtime.load(junk)
    with pytest.raises(TypeError, match="model must be a file path"):
        runtime.load(42)


def test_user_supplied_card_fails_with_instructions():
    card = models.card("aihub_sam2_encoder")
    assert card.user_supplied and card.sha256 is None
    if models.is_cached(card):
        pytest.skip("an AI Hub SAM2 encoder is present in the cache")
    with pytest.raises(models.FetchError, match="Put the file by hand at: .*aihub_sam2_encoder.tflite"):
        runtime.load("aihub_sam2_encoder")


def test_card_io_mismatch_is_reported(zoo, tmp_path, monkeypatch):
    # A card whose input shape disagrees with the file.
    import dataclasses

    card = models.card("face_landmark")
    wrong = dataclasses.replace(card, inputs=(dataclasses.replace(card.inputs[0], shape=(1, 128, 128, 3)),))
    model = runtime.load(zoo["face_landmark"])
    with pytest.raises(ValueError, match=r"input 0 does not match card 'face_landmark': shape \[1, 192, 192, 3\]"):
        wrong.check_io(model)


def test_cli_list_info_fetch(zoo, capsys):
    assert cli(["models", "list"]) == 0
    listing = capsys.readouterr().out
    for name in MEDIAPIPE + ["astronaut", "aihub_sam2_decoder"]:
        assert name in listing
    assert cli(["models", "info", "face_detection_short_range"]) == 0
    info = capsys.readouterr().out
    assert models.card("face_detection_short_range").sha256 in info
    assert "input input: [1, 128, 128, 3] float32" in info and "output classificators: [1, 896, 1] float32" in info
    assert cli(["models", "fetch", "face_landmark", "selfie_segmentation"]) == 0
    assert str(zoo["face_landmark"]) in capsys.readouterr().out
    assert cli(["models", "fetch", "no_such_model"]) == 1
    assert "unknown model" in capsys.readouterr().err
    assert cli(["models", "fetch"]) == 2
