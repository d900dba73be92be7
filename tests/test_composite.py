"""composite: colour / image / blurred backgrounds against NumPy and OpenCV."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from assertions import assert_max_diff, assert_mean_diff, assert_unbiased
from edgevision.kernels import blurred_background, composite
from images import random_image, smooth_mask, soft_circle
from reference import composite_reference


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("colour", [(0, 255, 0), (12, 200, 99), (255, 255, 255)])
def test_colour_background(astronaut, rng, channels, colour):
    image = astronaut
    if channels == 4:
        image = np.concatenate([astronaut, rng.integers(0, 256, (512, 512, 1), np.uint8)], axis=2)
    mask = smooth_mask(rng, 512, 512)
    got = composite(image, mask, colour)
    assert got.dtype == np.uint8 and got.shape == image.shape
    expected = composite_reference(image, mask, colour)
    assert_max_diff(got, expected, 1, f"colour {colour}")
    # Off-by-one is allowed per pixel (mask quantisation), a systematic bias is not.
    assert_unbiased(got, expected, 0.1, f"colour {colour}")
    if channels == 4:
        np.testing.assert_array_equal(got[..., 3], image[..., 3])


def test_colour_is_in_image_channel_order(astronaut, rng):
    mask = smooth_mask(rng, 512, 512)
    bgr = np.ascontiguousarray(astronaut[..., ::-1])
    got_bgr = composite(bgr, mask, (200, 100, 10))
    got_rgb = composite(astronaut, mask, (10, 100, 200))
    np.testing.assert_array_equal(got_bgr[..., ::-1], got_rgb)


@pytest.mark.parametrize("bg_channels", [3, 4])
@pytest.mark.parametrize("image_channels", [3, 4])
def test_image_background(astronaut, camera3, rng, image_channels, bg_channels):
    image = astronaut if image_channels == 3 else np.dstack([astronaut, np.full((512, 512), 128, np.uint8)])
    bg = camera3 if bg_channels == 3 else np.dstack([camera3, rng.integers(0, 256, (512, 512), np.uint8)])
    mask = smooth_mask(rng, 512, 512)
    got = composite(image, mask, bg)
    assert got.shape == image.shape
    expected = composite_reference(image, mask, bg)
    assert_max_diff(got, expected, 1, "image background")
    assert_unbiased(got, expected, 0.1, "image background")
    if image_channels == 4:
        np.testing.assert_array_equal(got[..., 3], image[..., 3])


def test_matches_cv2_blend_linear(astronaut, camera3, rng):
    mask = smooth_mask(rng, 512, 512)
    got = composite(astronaut, mask, camera3)
    expected = cv2.blendLinear(astronaut, camera3, mask, 1.0 - mask)
    assert_max_diff(got, expected, 1, "vs cv2.blendLinear")


def test_out_of_range_mask_is_clipped(astronaut, rng):
    mask = (smooth_mask(rng, 512, 512) * 2.0 - 0.5).astype(np.float32)
    assert mask.min() < 0 and mask.max() > 1
    got = composite(astronaut, mask, (30, 60, 90))
    assert_max_diff(got, composite_reference(astronaut, mask, (30, 60, 90)), 1, "clipped mask")


@pytest.mark.parametrize("background", ["colour", "image", "blur"])
def test_uint8_mask_nonzero_is_foreground(astronaut, camera3, rng, background):
    mask = rng.integers(0, 4, (512, 512), dtype=np.uint8)  # 0 = background, 1..3 = fg
    bg = {"colour": (1, 2, 3), "image": camera3, "blur": "blur"}[background]
    got = composite(astronaut, mask, bg)
    as_float = composite(astronaut, (mask != 0).astype(np.float32), bg)
    np.testing.assert_array_equal(got, as_float)
    fg = mask != 0
    np.testing.assert_array_equal(got[fg], astronaut[fg])
    if background == "colour":
        assert np.all(got[~fg] == (1, 2, 3))
    if background == "image":
        np.testing.assert_array_equal(got[~fg], camera3[~fg])


def test_full_mask_returns_image(astronaut):
    ones = np.ones((512, 512), np.float32)
    for bg in ((0, 0, 0), "blur"):
        np.testing.assert_array_equal(composite(astronaut, ones, bg), astronaut)


def test_strided_image_and_mask(astronaut, rng):
    image = astronaut[3:, 1::2]
    big_mask = smooth_mask(rng, 600, 600)
    mask = big_mask[5 : 5 + image.shape[0], 7 : 7 + image.shape[1]]
    got = composite(image, mask, (9, 8, 7))
    assert_max_diff(got, composite_reference(image, mask, (9, 8, 7)), 1, "strided inputs")


def test_out_parameter(astronaut, rng):
    mask = smooth_mask(rng, 512, 512)
    out = np.zeros_like(astronaut)
    result = composite(astronaut, mask, (5, 5, 5), out=out)
    assert np.shares_memory(result, out)
    np.testing.assert_array_equal(out, composite(astronaut, mask, (5, 5, 5)))


# ---------------------------------------------------------------------- blur


def blur_frames(astronaut, camera3, astronaut_720p):
    return {
        "astronaut": astronaut,
        "camera3": camera3,
        "astronaut_720p": astronaut_720p,
        "astronaut_333x177": cv2.resize(astronaut, (333, 177), interpolation=cv2.INTER_AREA),
        "camera3_333x177": cv2.resize(camera3, (333, 177), interpolation=cv2.INTER_AREA),
    }


@pytest.mark.parametrize("sigma", [2.0, 4.0, 8.0, 16.0])
@pytest.mark.parametrize(
    "name", ["astronaut", "camera3", "astronaut_720p", "astronaut_333x177", "camera3_333x177"]
)
def test_blur_background_is_close_to_gaussian_blur(astronaut, camera3, astronaut_720p, name, sigma):
    image = blur_frames(astronaut, camera3, astronaut_720p)[name]
    zeros = np.zeros(image.shape[:2], np.float32)
    got = composite(image, zeros, "blur", blur_sigma=sigma)
    expected = cv2.GaussianBlur(image, (0, 0), sigma)  # BORDER_DEFAULT = reflect-101
    assert got.shape == image.shape
    # The contract: within 2/255 mean absolute difference of cv2.GaussianBlur.
    assert_mean_diff(got, expected, 2.0, f"blur {name} sigma={sigma}")


@pytest.mark.parametrize("sigma", [4.0, 16.0])
def test_blur_with_soft_mask(astronaut_720p, sigma):
    mask = soft_circle(720, 1280)
    got = composite(astronaut_720p, mask, "blur", blur_sigma=sigma)
    exact = composite_reference(astronaut_720p, mask, cv2.GaussianBlur(astronaut_720p, (0, 0), sigma))
    assert_mean_diff(got, exact, 2.0, f"soft-mask blur sigma={sigma}")


def test_blur_keeps_alpha(rng):
    image = random_image(rng, 120, 160, 4)
    got = composite(image, np.zeros((120, 160), np.float32), "blur", blur_sigma=3.0)
    np.testing.assert_array_equal(got[..., 3], image[..., 3])
    expected = cv2.GaussianBlur(np.ascontiguousarray(image[..., :3]), (0, 0), 3.0)
    assert_mean_diff(got[..., :3], expected, 2.0, "4-channel blur")


# ------------------------------------------------------- low-resolution masks, fused


def low_res_cases(frame):
    """(mask, transform, border) triples: a plain upsample, a letterbox undo, a rotated ROI."""
    from edgevision import Rect
    from edgevision.kernels import letterbox, warp_roi

    h, w = frame.shape[:2]
    rng = np.random.default_rng(5)
    mask = rng.random((64, 48)).astype(np.float32)
    _, letterboxed = letterbox(frame, (48, 64))
    _, rotated = warp_roi(frame, Rect(w * 0.5, h * 0.45, w * 0.4, h * 0.5, 0.4), (48, 64))
    return {"plain": (mask, None, "replicate"), "letterbox": (mask, letterboxed, "replicate"),
            "rotated": (mask, rotated, "zero")}


@pytest.mark.parametrize("case", ["plain", "letterbox", "rotated"])
@pytest.mark.parametrize("background", ["colour", "image", "blur"])
@pytest.mark.parametrize("threshold", [None, 0.5])
def test_low_res_mask_equals_resize_mask_then_composite(astronaut, camera3, case, background, threshold):
    from edgevision.kernels import resize_mask

    frame = np.ascontiguousarray(astronaut[:300, :500])
    bg = {"colour": (3, 100, 250), "image": np.ascontiguousarray(camera3[:300, :500]), "blur": "blur"}[background]
    mask, transform, border = low_res_cases(frame)[case]
    fused = composite(frame, mask, bg, transform=transform, threshold=threshold, border=border)
    full = resize_mask(mask, (500, 300), transform=transform, threshold=threshold, border=border)
    np.testing.assert_array_equal(fused, composite(frame, full, bg))


def test_low_res_mask_against_numpy_reference(astronaut):
    frame = np.ascontiguousarray(astronaut[:300, :500])
    mask = np.random.default_rng(2).random((36, 64)).astype(np.float32)
    got = composite(frame, mask, (0, 255, 0))
    upsampled = cv2.resize(mask, (500, 300), interpolation=cv2.INTER_LINEAR)
    expected = composite_reference(frame, upsampled, (0, 255, 0))
    assert_max_diff(got, expected, 1, "low-res mask vs cv2.resize + blend")
    assert_unbiased(got, expected, 0.1, "low-res mask vs cv2.resize + blend")


def test_model_output_shapes_are_accepted(astronaut):
    mask = np.random.default_rng(3).random((32, 32)).astype(np.float32)
    expected = composite(astronaut, mask, "blur")
    for shaped in (mask[None, :, :, None], mask[None, None], mask[None]):
        np.testing.assert_array_equal(composite(astronaut, shaped, "blur"), expected)


def test_low_res_mask_bad_arguments(astronaut):
    small_u8 = np.zeros((32, 32), np.uint8)
    with pytest.raises(ValueError, match="uint8 mask must be 512 x 512"):
        composite(astronaut, small_u8, (0, 0, 0))
    from edgevision.kernels import letterbox

    _, transform = letterbox(astronaut, (32, 32))
    with pytest.raises(ValueError, match="transform applies to a float32 mask"):
        composite(astronaut, np.zeros((512, 512), np.uint8), (0, 0, 0), transform=transform)
    with pytest.raises(TypeError, match="transform must be an edgevision.Transform"):
        composite(astronaut, np.zeros((32, 32), np.float32), (0, 0, 0), transform="letterbox")
    with pytest.raises(ValueError, match="threshold must be finite"):
        composite(astronaut, np.zeros((32, 32), np.float32), (0, 0, 0), threshold=float("nan"))
    with pytest.raises(ValueError, match="border"):
        composite(astronaut, np.zeros((32, 32), np.float32), (0, 0, 0), border="wrap")


# ------------------------------------------------- blur started ahead (blurred_background)


@pytest.mark.parametrize("threads", [1, 4])
def test_blurred_background_equals_blur_composite(astronaut_720p, rng, threads):
    mask = smooth_mask(rng, 256, 256)
    expected = composite(astronaut_720p, mask, "blur", blur_sigma=6.0)
    ahead = blurred_background(astronaut_720p, 6.0, threads=threads)
    np.testing.assert_array_equal(composite(astronaut_720p, mask, ahead, threads=threads), expected)
    # And against cv2's exact blur, as the contract says.
    zeros = np.zeros((720, 1280), np.float32)
    got = composite(astronaut_720p, zeros, blurred_background(astronaut_720p, 6.0, threads=threads))
    assert_mean_diff(got, cv2.GaussianBlur(astronaut_720p, (0, 0), 6.0), 2.0, "blurred ahead")


def test_blurred_background_reused_across_frames_and_sizes(astronaut, camera3, astronaut_720p, rng):
    ahead = None
    for frame in (astronaut_720p, astronaut, camera3, astronaut_720p):
        mask = smooth_mask(rng, 144, 256)
        reused = blurred_background(frame, 8.0, out=ahead)
        assert ahead is None or reused is ahead
        ahead = reused
        np.testing.assert_array_equal(composite(frame, mask, ahead), composite(frame, mask, "blur"))


def test_blurred_background_must_fit_the_frame(astronaut, astronaut_720p):
    ahead = blurred_background(astronaut_720p)
    with pytest.raises(ValueError, match="background"):
        composite(astronaut, np.zeros((512, 512), np.float32), ahead)
    with pytest.raises(TypeError, match="out"):
        blurred_background(astronaut, out=np.zeros(3))
    with pytest.raises(ValueError, match="blur_sigma"):
        blurred_background(astronaut, 0.0)
    with pytest.raises(ValueError, match="threads"):
        blurred_background(astronaut, threads=0)
    with pytest.raises(ValueError, match="image"):
        blurred_background(astronaut[..., 0])


def test_blurred_background_shared_by_threads(astronaut_720p, rng):
    masks = [smooth_mask(rng, 256, 256) for _ in range(4)]
    expected = [composite(astronaut_720p, m, "blur") for m in masks]
    ahead = blurred_background(astronaut_720p)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda m: composite(astronaut_720p, m, ahead, threads=2), masks * 3))
    for k, got in enumerate(results):
        np.testing.assert_array_equal(got, expected[k % 4])
