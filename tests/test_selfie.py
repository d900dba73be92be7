"""SelfieSegmenter: parity with MediaPipe 0.10.21's SelfieSegmentation, letterbox geometry, errors."""

from __future__ import annotations

import functools
import warnings

import cv2
import numpy as np
import pytest

import edgevision

import reference as ref
from backends import needs_qnn, runtimes
from mediapipe_reference import load_fixture, reference_frames as _frames

TASKS = {"general": "selfie_general", "landscape": "selfie_landscape"}
PARITY_INPUTS = ("astronaut", "camera", "orbit", "blank", "background")


@functools.cache
def _segmenter(model: str, resize: str | None = None, runtime: str = "auto", device: str = "cpu"):
    return edgevision.SelfieSegmenter(model=model, resize=resize, runtime=runtime, device=device)


def _fixture(model: str, name: str) -> dict:
    return load_fixture(TASKS[model], name)


@pytest.mark.parametrize("runtime", runtimes("auto"))
@pytest.mark.parametrize("name", PARITY_INPUTS)
@pytest.mark.parametrize("model", sorted(TASKS))
def test_mask_matches_mediapipe(model, name, runtime):
    segmenter = _segmenter(model, runtime=runtime)
    assert segmenter.model.runtime == ("onnxruntime" if runtime == "onnxruntime" else "litert")
    _assert_parity(segmenter, model, name)


@needs_qnn
@pytest.mark.parametrize("name", ["astronaut", "camera"])
def test_mask_on_qnn_htp_matches_mediapipe(name):
    """The converted float model on the QNN HTP (emulated on x86-64: ~1 s a frame, so two stills)."""
    from edgevision.runtime import PlacementWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", PlacementWarning)  # any node off the HTP fails the test
        segmenter = _segmenter("general", runtime="onnxruntime", device="qnn-htp")
    assert set(segmenter.model.placement) == {"QNNExecutionProvider"}
    _assert_parity(segmenter, "general", name)


def _assert_parity(segmenter, model, name):
    fixture = _fixture(model, name)
    frames = _frames(name)
    for k, index in enumerate(fixture["frame_index"]):
        frame = frames[int(index)]
        expected = fixture["mask"][k].astype(np.float32) / 255.0
        mask = segmenter(frame)
        assert mask.dtype == np.float32 and mask.shape == frame.shape[:2]
        assert 0.0 <= mask.min() and mask.max() <= 1.0
        mad = float(np.abs(mask - expected).mean())
        assert mad <= 0.02, f"{model}/{name} frame {index}: mean |diff| {mad:.4f}"
        ours, theirs = mask > 0.5, expected > 0.5
        union = np.count_nonzero(ours | theirs)
        if union >= 0.01 * ours.size:  # IoU is meaningless on (almost) person-free frames
            iou = np.count_nonzero(ours & theirs) / union
            assert iou >= 0.98, f"{model}/{name} frame {index}: IoU {iou:.4f}"


def test_bgr_frames_give_the_rgb_result(astronaut):
    bgr = edgevision.SelfieSegmenter(channel_order="bgr")
    np.testing.assert_array_equal(bgr(np.ascontiguousarray(astronaut[..., ::-1])), _segmenter("general")(astronaut))


def test_returns_fresh_arrays_unless_out(astronaut):
    segmenter = _segmenter("general")
    first = segmenter(astronaut)
    kept = first.copy()
    segmenter(np.ascontiguousarray(astronaut[::-1]))
    np.testing.assert_array_equal(first, kept)
    out = np.empty(astronaut.shape[:2], np.float32)
    assert segmenter(astronaut, out=out) is out
    np.testing.assert_array_equal(out, kept)


# ------------------------------------------------------------------ letterbox geometry


def _place(canvas_size, image, top_left):
    """``image`` pasted into a mid-grey canvas of ``(width, height)`` at ``top_left``."""
    width, height = canvas_size
    canvas = np.full((height, width, 3), 128, np.uint8)
    x, y = top_left
    canvas[y:y + image.shape[0], x:x + image.shape[1]] = image
    return canvas


def _letterbox_reference(segmenter, frame):
    """Independent letterbox mode: NumPy tensor, the bare model, NumPy undo of the padding."""
    H, W = frame.shape[:2]
    size = segmenter.input_size
    cx, cy, roi_w, roi_h = ref.mediapipe_letterbox_roi((W, H), size, keep_aspect=True)
    matrix = ref.roi_matrix(cx, cy, roi_w, roi_h, 0.0, size)  # tensor px -> frame px
    tensor = ref.sample_tensor(frame, matrix, size, "zero") / 255.0
    small = segmenter.model.run(tensor[None].astype(np.float32))[0].reshape(size[1], size[0])
    xs, ys = ref.undo_map(matrix, size, size, (W, H))
    # Only where all four taps are real content: the padding edge is handled differently.
    content = ((xs >= np.ceil(xs.min()) + 1) & (xs <= np.floor(xs.max()) - 1)
               & (ys >= np.ceil(ys.min()) + 1) & (ys <= np.floor(ys.max()) - 1))
    return ref.bilinear(small, xs, ys, "replicate"), content


@pytest.mark.parametrize(
    "canvas, scale, top_left",
    [((1600, 400), 0.75, (1150, 10)),   # very wide, person far right
     ((400, 1000), 0.78, (0, 590)),     # very tall, person at the bottom
     ((900, 600), 1.0, (20, 60))],      # person off-centre, top-left
)
def test_letterbox_mask_maps_back_without_shift(astronaut, canvas, scale, top_left):
    person = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = _place(canvas, person, top_left)
    segmenter = _segmenter("general", "letterbox")
    mask = segmenter(frame)
    assert mask.shape == frame.shape[:2]
    expected, content = _letterbox_reference(segmenter, frame)
    diff = np.abs(mask - expected)[content]
    assert diff.mean() < 0.01 and np.quantile(diff, 0.999) < 0.1
    # No shift: the mask's centre of mass agrees with the reference's within a pixel.
    ys, xs = np.mgrid[: mask.shape[0], : mask.shape[1]]
    for got, want in ((mask, expected),):
        g, w = got * content, want * content
        assert abs((g * xs).sum() / g.sum() - (w * xs).sum() / w.sum()) < 1.0
        assert abs((g * ys).sum() / g.sum() - (w * ys).sum() / w.sum()) < 1.0
    # And the person found is where we put it.
    x, y = top_left
    inside = np.zeros(mask.shape, bool)
    inside[y:y + person.shape[0], x:x + person.shape[1]] = True
    person_pixels = mask > 0.5
    assert person_pixels.sum() > 0.02 * person.shape[0] * person.shape[1]
    assert person_pixels[inside].sum() >= 0.97 * person_pixels.sum()


def test_letterbox_is_aihub_cards_default():
    card = edgevision.models.card("aihub_mediapipe_selfie")
    assert card.params["preprocess"]["keep_aspect"] is True
    assert _segmenter("general").resize == "stretch"


# ------------------------------------------------------------------------ composites


@pytest.mark.parametrize("resize", ["stretch", "letterbox"])
def test_apply_blends_with_the_mask(astronaut, resize):
    # apply() upsamples the model's mask inside the blend: the same mask as __call__'s.
    segmenter = edgevision.SelfieSegmenter(model="general", resize=resize, threads=1)
    frame = np.ascontiguousarray(astronaut[40:400]) if resize == "letterbox" else astronaut
    mask = segmenter(frame)
    for background in ((0, 255, 0), "blur"):
        got = segmenter.apply(frame, background)
        want = edgevision.kernels.composite(frame, mask, background)
        np.testing.assert_array_equal(got, want)
    got = segmenter.apply(frame, (0, 0, 255), threshold=0.5)
    np.testing.assert_array_equal(got, ref.composite_reference(frame, (mask > 0.5).astype(np.uint8), (0, 0, 255)))


def test_helper_threads_give_the_one_thread_results(astronaut):
    # The frame-size work of a 1080p frame is shared with helper threads by default.
    frame = cv2.resize(astronaut, (1920, 1080), interpolation=cv2.INTER_LINEAR)
    alone = edgevision.SelfieSegmenter(threads=1)
    shared = edgevision.SelfieSegmenter()
    np.testing.assert_array_equal(shared(frame), alone(frame))
    for background in ("blur", (0, 255, 0)):
        np.testing.assert_array_equal(shared.apply(frame, background), alone.apply(frame, background))


def test_helpers_woken_ahead_of_the_mask_change_no_result(astronaut):
    # Woken before the model ends (LiteRT on one thread leaves the other cores idle) or not,
    # the helpers produce the same masks and composites, frame after frame.
    frames = [cv2.resize(np.roll(astronaut, 40 * k, axis=1), (1920, 1080)) for k in range(3)]
    woken, plain = edgevision.SelfieSegmenter(), edgevision.SelfieSegmenter()
    assert woken._wake.enabled
    plain._wake.enabled = False
    for frame in frames:
        np.testing.assert_array_equal(woken(frame), plain(frame))
        np.testing.assert_array_equal(woken.apply(frame, "blur"), plain.apply(frame, "blur"))


@pytest.mark.parametrize("threads, enabled", [(None, True), (1, False), (2, False)])
def test_helpers_are_woken_ahead_only_beside_a_one_thread_model(threads, enabled):
    # threads=1: no helpers; threads=2: LiteRT's inference uses the second core itself.
    assert edgevision.SelfieSegmenter(threads=threads)._wake.enabled is enabled
    assert edgevision.PoseLandmarker(threads=threads).landmarker._wake.enabled is enabled


def test_apply_resizes_an_image_background(astronaut, rng):
    segmenter = _segmenter("general")
    small_bg = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    got = segmenter.apply(astronaut, small_bg)
    resized = cv2.resize(small_bg, (512, 512), interpolation=cv2.INTER_LINEAR)
    want = ref.composite_reference(astronaut, segmenter(astronaut), resized)
    assert np.abs(got.astype(int) - want).max() <= 2


# ------------------------------------------------------------------------- smoothing


def test_smoothing_follows_mediapipe_weighting():
    frames = _frames("orbit")[:3]
    plain = _segmenter("general")
    smoothed = edgevision.SelfieSegmenter(smoothing=0.7)
    raw = [plain.model.run(_stretch_tensor(plain, f))[0].reshape(256, 256) for f in frames]
    prev = raw[0].astype(np.float64)
    for k, frame in enumerate(frames):
        p = raw[k].astype(np.float64)
        if k:
            x = (p - 0.5) ** 2
            u = 1 - np.minimum(1, x * (5.68842 + x * (-0.748699 + x * (-57.8051 + x * (291.309 + x * -624.717)))))
            prev = p + (prev - p) * u * 0.7
        want = cv2.resize(prev.astype(np.float32), (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(smoothed(frame), want, atol=2e-3)
    smoothed.reset()
    np.testing.assert_allclose(smoothed(frames[0]), plain(frames[0]), atol=1e-6)


def _stretch_tensor(segmenter, frame):
    tensor, _ = edgevision.kernels.letterbox(frame, segmenter.input_size, keep_aspect=False, sampling="mediapipe")
    return tensor


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "frame, error, words",
    [(np.zeros((64, 64), np.uint8), ValueError, "grayscale"),
     (np.zeros((64, 64, 1), np.uint8), ValueError, "grayscale"),
     (np.zeros((64, 64, 3), np.float32), TypeError, "uint8"),
     (np.zeros((0, 64, 3), np.uint8), ValueError, "empty"),
     (np.zeros((64, 0, 3), np.uint8), ValueError, "empty"),
     ([[1, 2, 3]], TypeError, "numpy"),
     (np.zeros((8, 8, 5), np.uint8), ValueError, "colour")],
)
def test_bad_frames_raise_clear_errors(frame, error, words):
    segmenter = _segmenter("general")
    with pytest.raises(error, match=words):
        segmenter(frame)
    with pytest.raises(error, match=words):
        segmenter.apply(frame, "blur")


@pytest.mark.parametrize(
    "kwargs, error, words",
    [(dict(model="portrait"), ValueError, "model"),
     (dict(model="pose_detection"), ValueError, "segmentation"),
     (dict(resize="crop"), ValueError, "resize"),
     (dict(smoothing=1.5), ValueError, "smoothing"),
     (dict(smoothing="yes"), TypeError, "smoothing"),
     (dict(channel_order="rgba"), ValueError, "channel_order")],
)
def test_bad_options_raise_clear_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        edgevision.SelfieSegmenter(**kwargs)


def test_bad_backgrounds_raise(astronaut):
    segmenter = _segmenter("general")
    with pytest.raises(ValueError, match="background"):
        segmenter.apply(astronaut, "sepia")
    with pytest.raises(ValueError, match="background"):
        segmenter.apply(astronaut, np.zeros((10, 10, 3), np.float32))
    with pytest.raises((TypeError, ValueError)):
        segmenter.apply(astronaut, (1, 2))
