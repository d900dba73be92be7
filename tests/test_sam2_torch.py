"""SAM 2 end to end against PyTorch: the Hiera-tiny model with random weights (fixed seed), exported by
models/sam2/export.py, run by Sam2Predictor and compared with SAM2ImagePredictor's computation on the
same model (tests/sam2_torch.py). Skipped without torch + sam2, unless EDGEVISION_REQUIRE_SAM2 is set
(CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from PIL import Image

import edgevision
from edgevision import cli, kernels

import sam2_torch
from assertions import assert_max_diff

REASON = sam2_torch.missing()
if REASON and os.environ.get("EDGEVISION_REQUIRE_SAM2"):
    raise RuntimeError(f"EDGEVISION_REQUIRE_SAM2 is set but {REASON}")
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")

MASK_TOLERANCE = 0.001  # fraction of pixels the binary masks may differ on
LOGIT_TOLERANCE = 1e-3
EMBEDDING_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def files():
    return sam2_torch.exported()


@pytest.fixture(scope="module")
def params(files):
    with np.load(files["prompt_encoder"]) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def reference(astronaut):
    ref = sam2_torch.Reference()
    ref.set_image(astronaut)
    return ref


@pytest.fixture(scope="module")
def predictor(files, astronaut):
    p = edgevision.Sam2Predictor(files["encoder"], files["decoder"])
    p.set_image(astronaut)
    return p


# -------------------------------------------------------------------------- prompt side

PROMPTS = {
    "one click": dict(points=[[200, 150]], labels=[1]),
    "click and background click": dict(points=[[200, 150], [300, 300]], labels=[1, 0]),
    "negative clicks only": dict(points=[[20, 30], [480, 500]], labels=[0, 0]),
    "outside the image": dict(points=[[-40, 100], [600, 530], [511, 511]], labels=[1, 0, 1]),
    "box only": dict(box=[60, 40, 420, 500]),
    "box and clicks": dict(points=[[250, 200], [100, 450]], labels=[1, 0], box=[60, 40, 420, 500]),
}
SIZES = [(512, 512), (1920, 1080), (333, 777)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_sparse_embeddings_match_torch(name, size, params):
    prompt = PROMPTS[name]
    sparse, _ = sam2_torch.Reference().prompt(image_hw=(size[1], size[0]), **prompt)
    points = None if "points" not in prompt else np.array(prompt["points"], np.float64)
    labels = None if "labels" not in prompt else np.array(prompt["labels"])
    box = None if "box" not in prompt else np.array(prompt["box"], np.float64)
    got = kernels.sam2_prompt_encode(points, labels, boxes=box, image_size=size, params=params)
    assert_max_diff(got, sparse[0].numpy(), EMBEDDING_TOLERANCE, name)


def test_dense_embeddings_and_positional_grid_match_torch(files, params):
    import torch

    model = sam2_torch.model()
    ref = sam2_torch.Reference()
    _, dense = ref.prompt(points=[[1, 2]], labels=[1], image_hw=(10, 10))
    no_mask = np.broadcast_to(params["no_mask_embed"][None, :, None, None], (1, 256, 64, 64))
    assert_max_diff(no_mask, dense.numpy(), 0.0, "no-mask dense embedding")
    grid = kernels.sam2_dense_positional_encoding(params["gaussian_matrix"], (64, 64))
    with torch.no_grad():
        torch_grid = model.sam_prompt_encoder.get_dense_pe()[0].numpy()
    assert_max_diff(grid, torch_grid, EMBEDDING_TOLERANCE, "dense positional encoding")
    np.testing.assert_array_equal(params["dense_pe"], torch_grid)
    # The mask-input model against the prompt encoder's mask_downscaling.
    rng = np.random.default_rng(3)
    mask = np.clip(cv2.GaussianBlur(rng.standard_normal((256, 256)).astype(np.float32), (0, 0), 6) * 80, -32, 32)
    _, dense_mask = ref.prompt(points=[[1, 2]], labels=[1], mask_input=mask, image_hw=(10, 10))
    from edgevision import runtime

    got = runtime.load(files["mask_input"]).run([mask.reshape(1, 1, 256, 256)])[0]
    assert_max_diff(got, dense_mask.numpy(), EMBEDDING_TOLERANCE * max(1.0, float(np.abs(got).max())), "mask input")


@pytest.mark.parametrize("shape", [(512, 512), (1080, 1920), (1500, 2000), (200, 300)])
def test_image_tensor_matches_torch_resize(rng, shape):
    import torch
    import torch.nn.functional as F

    image = cv2.resize(rng.integers(0, 256, (shape[0] // 4 + 1, shape[1] // 4 + 1, 3), dtype=np.uint8),
                       (shape[1], shape[0]))
    x = torch.from_numpy(image).permute(2, 0, 1).float().div(255)[None]
    expected = F.interpolate(x, (1024, 1024), mode="bilinear", align_corners=False, antialias=True).numpy()
    assert_max_diff(kernels.sam2_image_tensor(image), expected, 1e-6, str(shape))


# ------------------------------------------------------------------------------ end to end


def test_encoder_features_match_torch(predictor, reference):
    ours = predictor._features
    theirs = [reference.features["image_embed"]] + list(reference.features["high_res_feats"])
    for name, got, want in zip(("image_embeddings", "high_res_features1", "high_res_features2"), ours, theirs):
        want = want.numpy()
        assert_max_diff(got, want, 1e-4 * max(1.0, float(np.abs(want).max())), name)


@pytest.mark.parametrize("multimask", [True, False])
@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_predict_matches_torch(predictor, reference, name, multimask):
    prompt = PROMPTS[name]
    got = predictor.predict(multimask=multimask, **prompt)
    want = reference.predict(multimask=multimask, **prompt)
    # The same token (multimask choice / stability fallback) with the same score.
    expected_token = 1 + int(np.argmax(want["iou"])) if multimask else want["tokens"][0]
    assert got.token == expected_token, f"{name}: token {got.token}, torch chose {expected_token}"
    j = int(np.argmax(want["iou"])) if multimask else 0
    assert got.score == pytest.approx(float(want["iou"][j]), abs=1e-5)
    assert_max_diff(got.iou_predictions, want["raw_iou"], 1e-5, "iou")
    assert got.object_score_logit == pytest.approx(want["object_score"], abs=1e-4)
    assert_max_diff(got.low_res_logits, want["low_res"][j], LOGIT_TOLERANCE, f"{name} low-res logits")
    assert got.mask.shape == want["masks"][j].shape == (512, 512)
    differ = np.count_nonzero(got.mask != want["masks"][j]) / got.mask.size
    assert differ <= MASK_TOLERANCE, f"{name}: masks differ on {differ:.4%} of pixels"
    assert 0.0 < got.mask.mean() < 1.0


@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_candidates_match_torch_multimask_output(predictor, reference, name):
    """predict_candidates: SAM2ImagePredictor's three multimask outputs, best first."""
    prompt = PROMPTS[name]
    candidates = predictor.predict_candidates(**prompt)
    want = reference.predict(multimask=True, **prompt)
    assert [c.token for c in candidates] == [1 + int(j) for j in np.argsort(-want["iou"], kind="stable")]
    for c in candidates:
        j = c.token - 1
        assert c.score == pytest.approx(float(want["iou"][j]), abs=1e-5)
        assert_max_diff(c.low_res_logits, want["low_res"][j], LOGIT_TOLERANCE, f"{name} token {c.token}")
        differ = np.count_nonzero(c.mask != want["masks"][j]) / c.mask.size
        assert differ <= MASK_TOLERANCE, f"{name} token {c.token}: masks differ on {differ:.4%} of pixels"
    best = predictor.predict(multimask=True, **prompt)
    assert best.token == candidates[0].token and np.array_equal(best.mask, candidates[0].mask)


def test_all_four_tokens_match_torch(predictor, reference, params):
    """The decoder graph's four outputs, not only the chosen one."""
    prompt = PROMPTS["box and clicks"]
    want = reference.predict(**prompt)
    sparse = kernels.sam2_prompt_encode(np.array(prompt["points"]), np.array(prompt["labels"]),
                                        boxes=np.array(prompt["box"]), image_size=(512, 512), params=params)
    assert_max_diff(sparse, want["sparse"], EMBEDDING_TOLERANCE, "sparse")
    dense = np.ascontiguousarray(np.broadcast_to(params["no_mask_embed"][None, :, None, None], (1, 256, 64, 64)))
    low_res, iou, _ = predictor.decoder.run(list(predictor._features) + [sparse[None], dense])
    assert_max_diff(low_res[0], want["raw"], LOGIT_TOLERANCE, "four tokens")
    assert_max_diff(iou[0], want["raw_iou"], 1e-5, "iou")


def test_stability_fallback_matches_torch_decoder(rng):
    """The kernel's choice against the decoder's own _dynamic_multimask_via_stability and argmax."""
    import torch

    decoder = sam2_torch.model().sam_mask_decoder
    yy, xx = np.mgrid[0:256, 0:256] / 256
    for trial in range(12):
        planes = [8 * (0.25 + 0.02 * k - np.hypot(xx - 0.5, yy - 0.4)) for k in range(4)]
        if trial % 2:  # a band of near-zero logits: token 0 unstable
            planes[0][100 + trial: 140, :] = rng.uniform(-0.04, 0.04, (40 - trial, 256))
        logits = np.stack(planes)[None].astype(np.float32)
        iou = rng.random((1, 4)).astype(np.float32)
        with torch.no_grad():
            masks, scores = decoder._dynamic_multimask_via_stability(torch.from_numpy(logits), torch.from_numpy(iou))
        single = kernels.sam2_postprocess(logits, iou, image_size=(256, 256), multimask=False)
        np.testing.assert_array_equal(logits[0, single.token], masks[0, 0].numpy())
        assert single.score == float(scores[0, 0])
        stable = float(decoder._get_stability_scores(torch.from_numpy(logits[:, :1]))[0, 0]) >= 0.98
        assert (single.token == 0) == stable
        assert kernels.sam2_postprocess(logits, iou, image_size=(256, 256), multimask=True).token == \
            1 + int(torch.argmax(torch.from_numpy(iou[0, 1:])))


def test_mask_input_refinement_matches_torch(predictor, reference):
    first = predictor.predict(points=[[200, 150]], labels=[1])
    prompt = dict(points=[[200, 150], [300, 300]], labels=[1, 0])
    got = predictor.predict(mask_input=first.low_res_logits, multimask=False, **prompt)
    want = reference.predict(mask_input=first.low_res_logits, multimask=False, **prompt)
    assert got.token == want["tokens"][0]
    assert_max_diff(got.low_res_logits, want["low_res"][0], LOGIT_TOLERANCE, "refined low-res logits")
    assert np.count_nonzero(got.mask != want["masks"][0]) / got.mask.size <= MASK_TOLERANCE


@pytest.mark.parametrize("multimask", [False, True])
def test_mask_only_prompt_matches_torch(predictor, reference, multimask):
    """A previous mask alone (no click, no box): zero sparse tokens, as SAM2ImagePredictor."""
    first = predictor.predict(points=[[200, 150]], labels=[1])
    got = predictor.predict(mask_input=first.low_res_logits, multimask=multimask)
    want = reference.predict(mask_input=first.low_res_logits, multimask=multimask)
    j = int(np.argmax(want["iou"])) if multimask else 0
    expected_token = 1 + j if multimask else want["tokens"][0]
    assert got.token == expected_token
    assert_max_diff(got.low_res_logits, want["low_res"][j], LOGIT_TOLERANCE, "mask-only low-res logits")
    assert np.count_nonzero(got.mask != want["masks"][j]) / got.mask.size <= MASK_TOLERANCE


def test_non_square_image_and_bgr(files, camera3, reference):
    """A 720p frame (stretched, downscaled horizontally) in BGR order."""
    frame = cv2.resize(camera3, (1280, 720))
    frame[:, :, 0] = frame[:, :, 0] // 2  # make the channel order matter
    p = edgevision.Sam2Predictor(files["encoder"], files["decoder"], channel_order="bgr")
    p.set_image(np.ascontiguousarray(frame[..., ::-1]))
    ref = sam2_torch.Reference(reference.model)
    ref.set_image(frame)
    prompt = dict(points=[[640, 300], [100, 650]], labels=[1, 0], box=[300, 100, 1000, 700])
    got, want = p.predict(**prompt), ref.predict(**prompt)
    j = int(np.argmax(want["iou"]))
    assert got.token == 1 + j and got.mask.shape == (720, 1280)
    assert_max_diff(got.low_res_logits, want["low_res"][j], LOGIT_TOLERANCE, "720p low-res logits")
    assert np.count_nonzero(got.mask != want["masks"][j]) / got.mask.size <= MASK_TOLERANCE


def test_aihub_contract(astronaut, reference):
    """AI Hub's split (points encoded in the encoder, token 0 only) through the same predictor API."""
    aihub = sam2_torch.exported("aihub")
    p = edgevision.Sam2Predictor(aihub["encoder"], aihub["decoder"])
    p.set_image(astronaut)
    got = p.predict(points=[[200, 150], [260, 180]], labels=[1, 1])
    want = reference.predict(points=[[200, 150], [260, 180]], labels=[1, 1])
    assert got.token == 0 and got.score == pytest.approx(float(want["raw_iou"][0]), abs=1e-5)
    assert_max_diff(got.low_res_logits, np.clip(want["raw"][0], -32, 32), LOGIT_TOLERANCE, "AI Hub token 0")
    (only,) = p.predict_candidates(points=[[200, 150], [260, 180]], labels=[1, 1])  # one output: one candidate
    assert only.token == 0 and np.array_equal(only.mask, got.mask)
    with pytest.raises(ValueError, match="encodes every point as a positive click"):
        p.predict(points=[[200, 150]], labels=[0])
    with pytest.raises(ValueError, match="clicks only"):
        p.predict(box=[0, 0, 10, 10])
    with pytest.raises(ValueError, match="at most 2 points"):
        p.predict(points=[[1, 1], [2, 2], [3, 3]])


def test_checkpoint_loading_path(tmp_path):
    """build_model(checkpoint=...) loads a state dict the way sam2.build_sam does ({"model": ...})."""
    import torch

    module = sam2_torch.export_module()
    source = sam2_torch.model()
    path = tmp_path / "sam2.1_hiera_tiny.pt"
    torch.save({"model": source.state_dict()}, path)
    loaded = module.build_model(checkpoint=str(path))
    for key, value in module.prompt_parameters(loaded).items():
        np.testing.assert_array_equal(value, module.prompt_parameters(source)[key])
    torch.save({"model": {k: v for k, v in source.state_dict().items() if "mask_decoder" not in k}}, path)
    with pytest.raises(RuntimeError, match="does not fit"):
        module.build_model(checkpoint=str(path))


# ------------------------------------------------------------------------------ errors, CLI

BAD_PREDICT = {
    "empty prompt": (dict(), ValueError, "empty prompt"),
    "empty point list": (dict(points=[], labels=[]), ValueError, "empty prompt"),
    "nan point": (dict(points=[[np.nan, 3]], labels=[1]), ValueError, "points must be finite"),
    "inf box": (dict(box=[0, 0, np.inf, 4]), ValueError, "boxes must be finite"),
    "labels without points": (dict(labels=[1]), ValueError, "labels given without points"),
    "label count": (dict(points=[[1, 2], [3, 4]], labels=[1]), ValueError, "labels must have shape"),
    "bad label": (dict(points=[[1, 2]], labels=[7]), ValueError, "labels must be -1"),
    "float labels": (dict(points=[[1, 2]], labels=[1.0]), TypeError, "labels must be integers"),
    "box shape": (dict(box=[1, 2, 3]), ValueError, "box must be"),
    "text points": (dict(points=[["a", "b"]]), TypeError, "points must be numbers"),
    "mask shape": (dict(points=[[1, 2]], mask_input=np.zeros((64, 64), np.float32)), ValueError, "mask_input must be 256"),
    "mask nan": (dict(points=[[1, 2]], mask_input=np.full((256, 256), np.nan, np.float32)), ValueError, "finite"),
    "mask list": (dict(points=[[1, 2]], mask_input=[[0.0]]), TypeError, "mask_input must be a numpy.ndarray"),
    "multimask": (dict(points=[[1, 2]], multimask="yes"), TypeError, "multimask must be True or False"),
}


@pytest.mark.parametrize("name", sorted(BAD_PREDICT))
def test_bad_predict_raises(predictor, name):
    kwargs, error, match = BAD_PREDICT[name]
    with pytest.raises(error, match=match):
        predictor.predict(**kwargs)


def test_predictor_misuse(files):
    p = edgevision.Sam2Predictor(files["encoder"], files["decoder"])
    with pytest.raises(RuntimeError, match="set_image"):
        p.predict(points=[[1, 2]])
    with pytest.raises(TypeError, match="image must have dtype uint8"):
        p.set_image(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="H x W x 3"):
        p.set_image(np.zeros((10, 10), np.uint8))
    with pytest.raises(FileNotFoundError, match="prompt_encoder"):
        edgevision.Sam2Predictor(files["encoder"], files["decoder"], prompt_encoder=files["decoder"].parent / "x.npz")
    with pytest.raises(ValueError, match="expected"):  # encoder and decoder swapped
        edgevision.Sam2Predictor(files["decoder"], files["encoder"])


def test_cli_writes_the_mask(files, tmp_path, astronaut, predictor, capsys):
    src = tmp_path / "a.png"
    Image.fromarray(astronaut).save(src)
    out = tmp_path / "mask.png"
    argv = ["sam2", str(src), "--point", "200,150", "--point", "300,300,0", "--box", "60,40,420,500",
            "--encoder", str(files["encoder"]), "--decoder", str(files["decoder"]), "--out", str(out)]
    assert cli.main(argv) == 0
    expected = predictor.predict(points=[[200, 150], [300, 300]], labels=[1, 0], box=[60, 40, 420, 500])
    np.testing.assert_array_equal(np.asarray(Image.open(out)), expected.mask.astype(np.uint8) * 255)
    assert f"token {expected.token}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["sam2", str(src), "--point", "1,2,9", "--out", str(out)])
    assert "the label must be 1 (object) or 0 (background)" in capsys.readouterr().err
    assert cli.main(["sam2", str(src), "--out", str(out)]) == 2
    assert "give at least one --point or a --box" in capsys.readouterr().err
