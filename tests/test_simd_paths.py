"""Every SIMD path gives bit-identical results to the scalar path, for every kernel."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import edgevision
from edgevision import Rect, _native
from edgevision.kernels import composite, letterbox, resize_mask, segmentation_smoothing, warp_roi
from images import random_image, smooth_mask

SUPPORTED = list(_native._supported_isas())
VECTOR_ISAS = [isa for isa in SUPPORTED if isa != "scalar"]
# SIMD tails: every width up to 40 (covers 4/8/16/32-lane remainders) and 257.
WIDTHS = list(range(1, 41)) + [257]


def option_cycle(**choices):
    """Endless cycle through combinations so every option meets many widths."""
    keys = list(choices)
    combos = list(itertools.product(*(choices[k] for k in keys)))
    # A stride coprime with len(combos) walks all combinations in a scrambled order.
    step = next(s for s in (7, 11, 13, 17) if np.gcd(s, len(combos)) == 1)
    for n in itertools.count():
        yield dict(zip(keys, combos[(n * step) % len(combos)]))


def make_image(rng, height, width, channels, view):
    """Contiguous, offset crop of a bigger frame, or odd-stride view."""
    if view == "contiguous":
        return random_image(rng, height, width, channels)
    if view == "crop":
        return random_image(rng, height + 5, width + 3, channels)[2 : 2 + height, 3 : 3 + width]
    return random_image(rng, height + 3, 3 * width + 1, channels)[3:, 1::3]


def letterbox_cases():
    rng = np.random.default_rng(1)
    options = option_cycle(
        channels=[3, 4],
        layout=["nhwc", "nchw"],
        dtype=["float32", "uint8"],
        border=["zero", "replicate"],
        channel_order=["rgb", "bgr"],
        view=["contiguous", "crop", "strided"],
        keep_aspect=[True, False],
    )
    for width, sampling in itertools.product(WIDTHS, ["opencv", "mediapipe"]):
        o = next(options)
        image = make_image(rng, 1 + width % 9, width * 7 // 3 + 1, o["channels"], o["view"])
        size = (width, 1 + (width * 5) % 23)
        kwargs = dict(
            sampling=sampling,
            keep_aspect=o["keep_aspect"],
            layout=o["layout"],
            dtype=o["dtype"],
            border=o["border"],
            channel_order=o["channel_order"],
            value_range=(-1.0, 1.0),
        )
        name = f"letterbox-w{width}-{sampling}-" + "-".join(str(v) for v in o.values())
        yield pytest.param(lambda i=image, s=size, k=kwargs: letterbox(i, s, **k), id=name)


def warp_roi_cases():
    rng = np.random.default_rng(2)
    options = option_cycle(
        channels=[3, 4],
        layout=["nhwc", "nchw"],
        dtype=["float32", "uint8"],
        border=["zero", "replicate"],
        channel_order=["rgb", "bgr"],
        view=["contiguous", "crop", "strided"],
    )
    for width in WIDTHS:
        o = next(options)
        image = make_image(rng, 23, 2 * width + 5, o["channels"], o["view"])
        # Rect partly outside the frame, rotated, with non-integer geometry.
        rect = Rect(width * 0.9, 10.3, width * 1.3 + 2.0, 17.7, 0.37 * width - 3.0)
        size = (width, 1 + width % 13)
        kwargs = dict(
            layout=o["layout"], dtype=o["dtype"], border=o["border"], channel_order=o["channel_order"]
        )
        name = f"warp_roi-w{width}-" + "-".join(str(v) for v in o.values())
        yield pytest.param(lambda i=image, r=rect, s=size, k=kwargs: warp_roi(i, r, s, **k), id=name)


def resize_mask_cases():
    rng = np.random.default_rng(3)
    options = option_cycle(
        transform=["none", "letterbox", "warp_roi"],
        threshold=[None, 0.5],
        border=["zero", "replicate"],
        strided=[False, True],
    )
    for width in WIDTHS:
        o = next(options)
        mask_w, mask_h = 1 + width // 3, 1 + width % 7
        if o["strided"]:
            mask = rng.random((mask_h, 2 * mask_w + 1), np.float32)[:, 1::2]
        else:
            mask = rng.random((mask_h, mask_w), np.float32)
        frame = (width, 3 + width % 11)
        tf = None
        if o["transform"] == "letterbox":
            _, tf = letterbox(np.zeros((frame[1], frame[0], 3), np.uint8), (mask_w * 2, mask_h * 2))
        elif o["transform"] == "warp_roi":
            rect = Rect(width / 2, 4.0, width * 0.8 + 1, 5.5, 0.3 * width)
            _, tf = warp_roi(np.zeros((frame[1], frame[0], 3), np.uint8), rect, (mask_w, mask_h))
        kwargs = dict(transform=tf, threshold=o["threshold"], border=o["border"])
        name = f"resize_mask-w{width}-" + "-".join(str(v) for v in o.values())
        yield pytest.param(lambda m=mask, s=frame, k=kwargs: resize_mask(m, s, **k), id=name)


def composite_cases():
    rng = np.random.default_rng(4)
    options = option_cycle(
        channels=[3, 4],
        background=["colour", "image", "blur"],
        mask=["float", "uint8", "out_of_range"],
        view=["contiguous", "crop", "strided"],
    )
    for width in WIDTHS:
        o = next(options)
        height = 1 + (width * 3) % 17
        image = make_image(rng, height, width, o["channels"], o["view"])
        if o["mask"] == "uint8":
            mask = rng.integers(0, 3, (height, width), dtype=np.uint8)
        elif o["mask"] == "float":
            mask = smooth_mask(rng, height, width)
        else:
            mask = (rng.random((height, width), np.float32) * 1.6 - 0.3).astype(np.float32)
        background = {
            "colour": (17, 130, 251),
            "image": make_image(rng, height, width, 3, o["view"]),
            "blur": "blur",
        }[o["background"]]
        sigma = 1.0 + width % 5
        name = f"composite-w{width}-" + "-".join(str(v) for v in o.values())
        yield pytest.param(
            lambda i=image, m=mask, b=background, s=sigma: composite(i, m, b, blur_sigma=s), id=name
        )


def segmentation_smoothing_cases():
    rng = np.random.default_rng(5)
    options = option_cycle(strided=[False, True], ratio=[0.0, 0.7, 1.0])
    for width in WIDTHS:
        o = next(options)
        height = 1 + width % 6
        previous = rng.random((height, width), np.float32)
        # Beyond [0, 1] too, where the uncertainty fit saturates.
        current = (rng.random((height, 2 * width), np.float32) * 1.6 - 0.3).astype(np.float32)
        current = current[:, ::2] if o["strided"] else np.ascontiguousarray(current[:, :width])
        name = f"segmentation_smoothing-w{width}-" + "-".join(str(v) for v in o.values())
        yield pytest.param(lambda p=previous, c=current, r=o["ratio"]: segmentation_smoothing(p, c, r), id=name)


CASES = [*letterbox_cases(), *warp_roi_cases(), *resize_mask_cases(), *composite_cases(),
         *segmentation_smoothing_cases()]


def as_arrays(result):
    """Kernel results as a list of arrays (tensor and transform matrix where present)."""
    if isinstance(result, tuple):
        tensor, tf = result
        return [np.asarray(tensor), tf.matrix]
    return [np.asarray(result)]


@pytest.mark.skipif(not VECTOR_ISAS, reason="this build/CPU has only the scalar path")
@pytest.mark.parametrize("isa", VECTOR_ISAS)
@pytest.mark.parametrize("call", CASES)
def test_simd_path_is_bit_identical_to_scalar(force_isa, call, isa):
    force_isa("scalar")
    expected = as_arrays(call())
    force_isa(isa)
    got = as_arrays(call())
    for want, have in zip(expected, got):
        assert want.dtype == have.dtype and want.shape == have.shape
        if not np.array_equal(want, have):
            diff = np.argwhere(want != have)
            first = tuple(diff[0])
            raise AssertionError(
                f"{isa} differs from scalar at {len(diff)} of {want.size} elements; "
                f"first at {first}: scalar {want[first]!r}, {isa} {have[first]!r}"
            )


def test_scalar_is_always_supported():
    assert "scalar" in SUPPORTED
    info = edgevision.build_info()
    assert info["isa"] in info["supported_isas"]
    assert list(info["supported_isas"]) == SUPPORTED


@pytest.mark.parametrize("isa", SUPPORTED)
def test_forced_isa_is_reported(force_isa, isa):
    force_isa(isa)
    assert edgevision.build_info()["isa"] == isa


def test_none_restores_automatic_choice(force_isa):
    automatic = edgevision.build_info()["isa"]
    force_isa("scalar")
    force_isa(None)
    assert edgevision.build_info()["isa"] == automatic


def test_unknown_isa_is_rejected(force_isa):
    with pytest.raises(ValueError):
        force_isa("mmx")
