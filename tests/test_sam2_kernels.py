"""SAM 2 kernels against plain NumPy: prompt encoding, dense positional grid, image tensor,
mask choice and the fused upsample + threshold; bad input; threads. (PyTorch parity: test_sam2_torch.py.)"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgevision import _native
from edgevision.kernels import (
    sam2_dense_positional_encoding,
    sam2_image_tensor,
    sam2_postprocess,
    sam2_prompt_encode,
)

import sam2_reference as ref
from assertions import assert_max_diff, assert_threads_match_sequential
from images import random_image, strided_view

PARAMS = ref.random_params(np.random.default_rng(5))
SIZE = (1280, 720)


# ------------------------------------------------------------------------------ prompts

PROMPTS = {
    "one positive click": (np.array([[640.0, 360.0]]), np.array([1]), None),
    "negative clicks only": (np.array([[10.0, 20.0], [700.5, 300.25]]), np.array([0, 0]), None),
    "outside the image": (np.array([[-50.0, 800.0], [1500.0, -3.5], [1279.0, 719.0]]), np.array([1, 0, 1]), None),
    "box only": (None, None, np.array([100.0, 50.0, 900.0, 700.0])),
    "box and clicks": (np.array([[400.0, 300.0], [420.0, 310.0]]), np.array([1, 0]), np.array([[100, 50, 900, 700]])),
    "padding label": (np.array([[5.0, 5.0], [6.0, 7.0]]), np.array([1, -1]), None),
    "every label": (np.arange(10, dtype=np.float64).reshape(5, 2) * 97, np.array([-1, 0, 1, 2, 3]), None),
    "two boxes": (None, None, np.array([[0, 0, 10, 10], [20, 30, 40, 50]], np.float32)),
}


@pytest.mark.parametrize("name", sorted(PROMPTS))
def test_prompt_encoding_matches_numpy(name):
    points, labels, boxes = PROMPTS[name]
    got = sam2_prompt_encode(points, labels, boxes=boxes, image_size=SIZE, params=PARAMS)
    expected = ref.prompt_encode(points, labels, boxes, SIZE, PARAMS)
    assert got.dtype == np.float32 and got.shape == expected.shape
    n_boxes = 0 if boxes is None else np.asarray(boxes).reshape(-1, 4).shape[0]
    assert got.shape[0] == 2 * n_boxes + (0 if points is None else len(points)) + 1
    assert_max_diff(got, expected, 5e-6, name)
    np.testing.assert_array_equal(got[-1], PARAMS["not_a_point_embed"])  # the padding token, exactly


def test_prompt_coordinates_any_real_dtype_and_strided():
    points = np.array([[100, 200], [300, 50]])
    expected = sam2_prompt_encode(points.astype(np.float32), np.array([1, 0], np.int32), image_size=SIZE, params=PARAMS)
    for variant in (points, points.astype(np.float64), points.astype(np.int32),
                    np.asfortranarray(points.astype(np.float64)), np.repeat(points, 2, axis=0)[::2]):
        got = sam2_prompt_encode(variant, np.array([1, 0], np.uint8), image_size=SIZE, params=PARAMS)
        np.testing.assert_array_equal(got, expected)


def test_npz_file_works_as_params(tmp_path):
    np.savez(tmp_path / "p.npz", **PARAMS)
    with np.load(tmp_path / "p.npz") as params:
        got = sam2_prompt_encode(np.array([[1.0, 2.0]]), np.array([1]), image_size=SIZE, params=params)
    np.testing.assert_array_equal(got, sam2_prompt_encode(np.array([[1.0, 2.0]]), np.array([1]), image_size=SIZE,
                                                          params=PARAMS))


@given(st.lists(st.tuples(st.floats(-2000, 4000, width=32), st.floats(-2000, 4000, width=32),
                          st.sampled_from([-1, 0, 1, 2, 3])), min_size=0, max_size=12),
       st.one_of(st.none(), st.tuples(*[st.floats(-100, 2000, width=32)] * 4)),
       st.integers(1, 5000), st.integers(1, 5000))
def test_prompt_encoding_property(points, box, width, height):
    pts = np.array([p[:2] for p in points], np.float32).reshape(-1, 2)
    labels = np.array([p[2] for p in points], np.int64)
    if not points and box is None:
        with pytest.raises(ValueError, match="empty prompt"):
            sam2_prompt_encode(pts, labels, image_size=(width, height), params=PARAMS)
        return
    boxes = None if box is None else np.array(box, np.float32)
    got = sam2_prompt_encode(pts if points else None, labels if points else None, boxes=boxes,
                             image_size=(width, height), params=PARAMS)
    expected = ref.prompt_encode(pts if points else None, labels, box, (width, height), PARAMS)
    # The angles are float32 (as in the reference): far outside a small image they reach ~1e4 rad,
    # where a few ulps of the angle move sin/cos by that much.
    coords = np.concatenate([pts, np.array(box or [0, 0, 0, 0], np.float32).reshape(2, 2)]) / [width, height]
    max_angle = 2 * np.pi * np.abs(2 * coords + 1).max() * np.abs(PARAMS["gaussian_matrix"]).sum(axis=0).max()
    assert_max_diff(got, expected, 5e-6 + 4 * ref.F32_EPS * max_angle, "random prompt")


def test_dense_positional_encoding_matches_numpy():
    for size in ((64, 64), (7, 3)):
        got = sam2_dense_positional_encoding(PARAMS["gaussian_matrix"], size)
        assert got.shape == (256, size[1], size[0]) and got.dtype == np.float32
        assert_max_diff(got, ref.dense_positional_encoding(PARAMS["gaussian_matrix"], size), 5e-6, str(size))


# --------------------------------------------------------------------------- image tensor


@pytest.mark.parametrize("shape", [(512, 512), (720, 1280), (1080, 1920), (200, 300), (1500, 700), (1, 1)])
def test_image_tensor_matches_antialiased_resize(rng, shape):
    image = random_image(rng, *shape) if shape != (512, 512) else cv2.resize(random_image(rng, 64, 64), (512, 512))
    got = sam2_image_tensor(image, size=(256, 256) if shape[0] > 1000 else (1024, 1024))
    expected = ref.image_tensor(image, (got.shape[3], got.shape[2]))
    assert got.shape == expected.shape and got.dtype == np.float32
    assert_max_diff(got, expected, 2e-6, str(shape))


def test_image_tensor_strided_bgr_and_alpha(rng):
    view = strided_view(rng, 90, 130, 4)
    got = sam2_image_tensor(view, size=(64, 48), channel_order="bgr")
    assert_max_diff(got, ref.image_tensor(view, (64, 48), "bgr"), 2e-6, "strided bgra")
    out = np.empty((1, 3, 48, 64), np.float32)
    assert sam2_image_tensor(view, size=(64, 48), channel_order="bgr", out=out) is out
    np.testing.assert_array_equal(out, got)


# ---------------------------------------------------------------------------- masks


def blob_logits(rng, tokens=4, size=256) -> np.ndarray:
    """Smooth logits with large plateaus and a few sharp details, like a decoder's output."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    planes = []
    for t in range(tokens):
        cx, cy, r = 0.3 + 0.1 * t, 0.5 - 0.05 * t, 0.2 + 0.05 * t
        field = 12.0 * (r - np.hypot(xx - cx, yy - cy)) + cv2.GaussianBlur(rng.standard_normal((size, size)), (0, 0), 3)
        planes.append(field)
    return np.ascontiguousarray(np.stack(planes)[None], dtype=np.float32)


@pytest.mark.parametrize("image_size", [(1920, 1080), (512, 512), (333, 250), (256, 256), (100, 64), (1, 1)])
@pytest.mark.parametrize("multimask", [True, False])
def test_postprocess_matches_numpy(rng, image_size, multimask):
    logits = blob_logits(rng)
    iou = rng.random((1, 4)).astype(np.float32)
    got = sam2_postprocess(logits, iou, image_size=image_size, multimask=multimask)
    token = ref.select(logits[0], iou[0], multimask)
    assert got.token == token and got.score == iou[0, token]
    assert got.stability_score == pytest.approx(ref.stability(logits[0, token]), abs=1e-7)
    assert got.mask.dtype == np.bool_ and got.mask.shape == (image_size[1], image_size[0])
    np.testing.assert_array_equal(got.mask, ref.upsample(logits[0, token], image_size) > 0)
    np.testing.assert_array_equal(got.low_res_logits, np.clip(logits[0, token], -32, 32))


def test_stability_fallback_both_ways(rng):
    iou = np.array([0.9, 0.2, 0.8, 0.5], np.float32)
    stable = np.full((4, 64, 64), -5.0, np.float32)
    stable[:, 10:40, 10:40] = 5.0  # no logit within +-0.05: stability 1
    unstable = stable.copy()
    unstable[0, 40:60, :] = 0.01  # between -delta and delta: counted in the union only
    assert sam2_postprocess(stable, iou, image_size=(64, 64), multimask=False).token == 0
    chosen = sam2_postprocess(unstable, iou, image_size=(64, 64), multimask=False)
    assert chosen.token == 2 and chosen.score == pytest.approx(0.8)
    assert ref.stability(unstable[0]) < 0.98
    assert sam2_postprocess(stable, iou, image_size=(64, 64), multimask=True).token == 2
    # A lower threshold keeps the unstable token 0 (its stability is 900 / 2180).
    assert sam2_postprocess(unstable, iou, image_size=(64, 64), multimask=False, stability_threshold=0.4).token == 0


def test_postprocess_single_token_threshold_and_out(rng):
    logits = blob_logits(rng, tokens=1)[0, 0]
    for threshold in (0.0, 2.5, -1.0):
        out = np.empty((300, 400), np.uint8)
        got = sam2_postprocess(logits, np.array([0.7], np.float32), image_size=(400, 300), multimask=True,
                               threshold=threshold, out=out)
        assert got.token == 0 and np.shares_memory(got.mask, out)
        np.testing.assert_array_equal(out.view(bool), ref.upsample(logits, (400, 300)) > threshold)


def test_postprocess_threads_give_the_same_mask(rng):
    logits = blob_logits(rng)
    iou = np.array([[0.1, 0.3, 0.9, 0.2]], np.float32)
    one = sam2_postprocess(logits, iou, image_size=(1920, 1080), multimask=True).mask
    for threads in (2, 3, 8):
        np.testing.assert_array_equal(sam2_postprocess(logits, iou, image_size=(1920, 1080), multimask=True,
                                                       threads=threads).mask, one)


def test_postprocess_threads_on_noise_and_changing_sizes(rng):
    """Noise logits (every block needs arithmetic, so every row chunk reads its own source rows)
    against the float32 NumPy reference, with the output size changing between calls (the taps
    are kept while a size repeats) and the rows shared with helper threads."""
    noise = rng.standard_normal((1, 4, 256, 256)).astype(np.float32)
    iou = np.array([0.1, 0.3, 0.9, 0.2], np.float32)
    for size in [(1920, 1080), (1280, 720), (1920, 1080), (641, 1999), (1920, 1080)]:
        expected = ref.upsample(noise[0, 2], size) > 0
        for threads in (1, 2, 4):
            got = sam2_postprocess(noise, iou, image_size=size, multimask=True, threads=threads)
            assert got.token == 2
            np.testing.assert_array_equal(got.mask, expected, err_msg=f"{size} on {threads} threads")


def test_postprocess_callers_share_the_helpers(rng):
    """Several threads asking for helpers at once: one gets them, the others run alone; all
    masks equal the sequential ones."""
    jobs = []
    for t in range(4):
        logits = rng.standard_normal((1, 4, 64 + 32 * t, 256)).astype(np.float32)
        iou = rng.random(4).astype(np.float32)

        def job(logits=logits, iou=iou, t=t):
            return [sam2_postprocess(logits, iou, image_size=(1920 - 200 * t, 1080), multimask=True, threads=2).mask]

        jobs.append(job)
    assert_threads_match_sequential(jobs)


def test_postprocess_strided_logits_every_isa(rng, force_isa):
    logits = blob_logits(rng)
    # NHWC-like view: tokens last, then a transposed view back to [1, 4, h, w].
    nhwc = np.ascontiguousarray(logits.transpose(0, 2, 3, 1))
    view = nhwc.transpose(0, 3, 1, 2)
    iou = np.array([[0.1, 0.3, 0.9, 0.2]], np.float32)[:, ::1]
    expected = ref.upsample(logits[0, 2], (777, 555)) > 0
    for isa in _native._supported_isas():
        force_isa(isa)
        got = sam2_postprocess(view, iou, image_size=(777, 555), multimask=True)
        assert got.token == 2
        np.testing.assert_array_equal(got.mask, expected, err_msg=isa)


@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 300), st.integers(1, 300),
       st.floats(-2, 2, width=32), st.integers(0, 2**31 - 1))
def test_upsample_property(src_w, src_h, out_w, out_h, threshold, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((src_h, src_w)) * 3).astype(np.float32)
    logits[rng.random((src_h, src_w)) < 0.3] = threshold  # ties with the threshold
    got = sam2_postprocess(logits, np.array([0.5], np.float32), image_size=(out_w, out_h), multimask=False,
                           threshold=threshold)
    np.testing.assert_array_equal(got.mask, ref.upsample(logits, (out_w, out_h)) > np.float32(threshold))


# ------------------------------------------------------------------------------ bad input

IOU4 = np.ones((1, 4), np.float32)
LOGITS4 = np.zeros((1, 4, 16, 16), np.float32)
ONE = np.array([[1.0, 2.0]])


def without(key):
    return {k: v for k, v in PARAMS.items() if k != key}


BAD_PROMPTS = {
    "empty": (dict(points=None, labels=None), ValueError, "empty prompt"),
    "empty arrays": (dict(points=np.zeros((0, 2)), labels=np.zeros(0, int)), ValueError, "empty prompt"),
    "nan x": (dict(points=np.array([[np.nan, 1.0]]), labels=np.array([1])), ValueError, "points must be finite"),
    "inf y": (dict(points=np.array([[1.0, np.inf]]), labels=np.array([1])), ValueError, "points must be finite"),
    "nan box": (dict(points=None, labels=None, boxes=np.array([0, 0, np.nan, 1.0])), ValueError, "boxes must be finite"),
    "labels missing": (dict(points=ONE, labels=None), ValueError, "points given without labels"),
    "points missing": (dict(points=None, labels=np.array([1])), ValueError, "labels given without points"),
    "label 4": (dict(points=ONE, labels=np.array([4])), ValueError, "labels must be -1"),
    "label -2": (dict(points=ONE, labels=np.array([-2])), ValueError, "got -2 at index 0"),
    "float labels": (dict(points=ONE, labels=np.array([1.0])), TypeError, "labels must be an integer array"),
    "label count": (dict(points=ONE, labels=np.array([1, 1])), ValueError, r"labels must have shape \(1,\)"),
    "points 1-d": (dict(points=np.array([1.0, 2.0]), labels=np.array([1])), ValueError, r"points must have shape \(N, 2\)"),
    "points 3 cols": (dict(points=np.zeros((2, 3)), labels=np.array([1, 1])), ValueError, "points must have shape"),
    "points list": (dict(points=[[1.0, 2.0]], labels=np.array([1])), TypeError, "points must be a numpy.ndarray"),
    "points str": (dict(points=np.array([["a", "b"]]), labels=np.array([1])), TypeError, "real-valued"),
    "box 3 values": (dict(points=None, labels=None, boxes=np.zeros(3)), ValueError, "boxes must have shape"),
    "size 0": (dict(points=ONE, labels=np.array([1]), image_size=(0, 10)), ValueError, "image_size must be"),
    "size float": (dict(points=ONE, labels=np.array([1]), image_size=(10.5, 10)), TypeError, "image_size must be"),
    "params missing key": (dict(points=ONE, labels=np.array([1]), params=without("gaussian_matrix")), ValueError,
                           "params is missing 'gaussian_matrix'"),
    "params wrong shape": (dict(points=ONE, labels=np.array([1]), params={**PARAMS, "point_embeddings": np.zeros((3, 256), np.float32)}),
                           ValueError, r"params\['point_embeddings'\] must have shape \(4, 256\)"),
    "params float64": (dict(points=ONE, labels=np.array([1]), params={**PARAMS, "gaussian_matrix": np.zeros((2, 128))}),
                       TypeError, "must be float32"),
    "params not mapping": (dict(points=ONE, labels=np.array([1]), params=42), TypeError, "params must be a mapping"),
}


@pytest.mark.parametrize("name", sorted(BAD_PROMPTS))
def test_bad_prompt_raises(name):
    kwargs, error, match = BAD_PROMPTS[name]
    call = {"boxes": None, "image_size": SIZE, "params": PARAMS, **kwargs}
    with pytest.raises(error, match=match):
        sam2_prompt_encode(call.pop("points"), call.pop("labels"), **call)


BAD_POSTPROCESS = {
    "float64 logits": (dict(low_res_logits=LOGITS4.astype(np.float64)), TypeError, "low_res_logits must be a float32"),
    "5-d logits": (dict(low_res_logits=LOGITS4[None]), ValueError, "low_res_logits must have shape"),
    "batch 2": (dict(low_res_logits=np.zeros((2, 4, 16, 16), np.float32)), ValueError, "low_res_logits must have shape"),
    "empty logits": (dict(low_res_logits=np.zeros((1, 4, 0, 16), np.float32)), ValueError, "empty"),
    "reversed logits": (dict(low_res_logits=LOGITS4[:, :, ::-1]), ValueError, "positive, element-aligned strides"),
    "iou count": (dict(iou=np.ones(3, np.float32)), ValueError, r"iou must have shape \(4,\)"),
    "iou nan": (dict(iou=np.array([1, np.nan, 1, 1], np.float32)), ValueError, "iou must be finite"),
    "iou list": (dict(iou=[1.0, 1, 1, 1]), TypeError, "iou must be a numpy.ndarray"),
    "multimask int": (dict(multimask=1), TypeError, "multimask must be True or False"),
    "threshold nan": (dict(threshold=float("nan")), ValueError, "threshold must be a finite number"),
    "threshold str": (dict(threshold="0"), TypeError, "threshold must be a finite number"),
    "negative delta": (dict(stability_delta=-0.1), ValueError, "stability_delta must be >= 0"),
    "threads 0": (dict(threads=0), ValueError, "threads must be a positive int"),
    "threads float": (dict(threads=2.0), TypeError, "threads must be a positive int"),
    "threads bool": (dict(threads=True), TypeError, "threads must be a positive int"),
    "size": (dict(image_size=(64,)), TypeError, "image_size must be"),
    "out shape": (dict(out=np.zeros((10, 64), bool)), ValueError, r"out must have shape \(48, 64\)"),
    "out dtype": (dict(out=np.zeros((48, 64), np.float32)), TypeError, "out must have dtype bool or uint8"),
    "out readonly": (dict(out=np.broadcast_to(np.zeros(64, bool), (48, 64))), ValueError, "out must be"),
}


@pytest.mark.parametrize("name", sorted(BAD_POSTPROCESS))
def test_bad_postprocess_raises(name):
    kwargs, error, match = BAD_POSTPROCESS[name]
    call = {"low_res_logits": LOGITS4, "iou": IOU4, "image_size": (64, 48), "multimask": True, **kwargs}
    with pytest.raises(error, match=match):
        sam2_postprocess(call.pop("low_res_logits"), call.pop("iou"), **call)


def test_bad_image_and_grid_raise():
    with pytest.raises(TypeError, match="image must be a uint8 array"):
        sam2_image_tensor(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="image must be an H x W x 3"):
        sam2_image_tensor(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="out must have shape"):
        sam2_image_tensor(np.zeros((8, 8, 3), np.uint8), size=(16, 16), out=np.zeros((1, 3, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"gaussian_matrix must have shape \(2, 128\)"):
        sam2_dense_positional_encoding(np.zeros((128, 2), np.float32))
    with pytest.raises(ValueError, match="size is too large"):
        sam2_dense_positional_encoding(PARAMS["gaussian_matrix"], (4096, 4096))


# -------------------------------------------------------------------------------- threads


def test_concurrent_calls_match_sequential(rng):
    jobs = []
    for t in range(4):
        logits = blob_logits(rng)
        iou = rng.random((1, 4)).astype(np.float32)
        image = random_image(rng, 300 + 40 * t, 500 - 30 * t)
        points = rng.uniform(0, 500, (t + 1, 2))
        labels = np.arange(t + 1) % 2

        def job(logits=logits, iou=iou, image=image, points=points, labels=labels, t=t):
            return [sam2_postprocess(logits, iou, image_size=(1280 - 100 * t, 720), multimask=t % 2 == 0).mask,
                    sam2_image_tensor(image, size=(256, 256)),
                    sam2_prompt_encode(points, labels, image_size=(640, 480), params=PARAMS)]

        jobs.append(job)
    assert_threads_match_sequential(jobs)
