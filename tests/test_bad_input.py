"""Invalid arguments raise ValueError/TypeError naming the argument (and never crash)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgevision import Rect, Transform
from edgevision.kernels import composite, expect_parallel_work, letterbox, resize_mask, warp_roi

IMG = np.zeros((20, 30, 3), np.uint8)
MASK = np.zeros((20, 30), np.float32)
RECT = Rect(15, 10, 8, 6, 0.2)
ERRORS = (ValueError, TypeError)


def readonly(a):
    a = a.copy()
    a.setflags(write=False)
    return a


def channel_strided():
    # 3 channels with a channel stride of 2 bytes.
    return np.zeros((20, 30, 6), np.uint8)[:, :, ::2]


def channel_first_view():
    return np.zeros((3, 20, 30), np.uint8).transpose(1, 2, 0)


BAD_IMAGES = {
    "float32": IMG.astype(np.float32),
    "int64": IMG.astype(np.int64),
    "uint16": IMG.astype(np.uint16),
    "2d_gray": np.zeros((20, 30), np.uint8),
    "4d": np.zeros((1, 20, 30, 3), np.uint8),
    "1_channel": np.zeros((20, 30, 1), np.uint8),
    "2_channels": np.zeros((20, 30, 2), np.uint8),
    "5_channels": np.zeros((20, 30, 5), np.uint8),
    "reversed_channels": IMG[:, :, ::-1],
    "channel_stride_2": channel_strided(),
    "channel_first_view": channel_first_view(),
    "negative_row_stride": IMG[::-1],
    "negative_col_stride": IMG[:, ::-1],
    "zero_rows": np.zeros((0, 30, 3), np.uint8),
    "zero_cols": np.zeros((20, 0, 3), np.uint8),
    "list": IMG.tolist(),
    "none": None,
}


def image_calls(image):
    yield "letterbox", lambda: letterbox(image, (16, 16))
    yield "letterbox_mediapipe", lambda: letterbox(image, (16, 16), sampling="mediapipe")
    yield "warp_roi", lambda: warp_roi(image, RECT, (16, 16))
    yield "composite", lambda: composite(image, MASK, (0, 0, 0))
    yield "composite_blur", lambda: composite(image, MASK, "blur")


def cases_for_images():
    for name, image in BAD_IMAGES.items():
        for func, call in image_calls(image):
            yield pytest.param(call, "image", id=f"{func}-image-{name}")


BAD_SIZES = {
    "zero_w": (0, 16),
    "zero_h": (16, 0),
    "negative": (-4, 16),
    "one_value": (16,),
    "three_values": (16, 16, 3),
    "scalar": 16,
    "string": "16x16",
    "float": (16.5, 16),
    "none": None,
}


def cases_for_sizes():
    for name, size in BAD_SIZES.items():
        yield pytest.param(lambda s=size: letterbox(IMG, s), "size", id=f"letterbox-size-{name}")
        yield pytest.param(lambda s=size: warp_roi(IMG, RECT, s), "size", id=f"warp_roi-size-{name}")
        yield pytest.param(lambda s=size: resize_mask(MASK, s), "size", id=f"resize_mask-size-{name}")


def out_cases():
    good = {
        "letterbox": ((1, 16, 16, 3), np.float32, lambda out: letterbox(IMG, (16, 16), out=out)),
        "warp_roi": ((1, 16, 16, 3), np.float32, lambda out: warp_roi(IMG, RECT, (16, 16), out=out)),
        "resize_mask": ((16, 16), np.float32, lambda out: resize_mask(MASK, (16, 16), out=out)),
        "composite": ((20, 30, 3), np.uint8, lambda out: composite(IMG, MASK, (0, 0, 0), out=out)),
    }
    for func, (shape, dtype, call) in good.items():
        wrong_dtype = np.uint8 if dtype == np.float32 else np.float32
        bigger = tuple(shape[:-1]) + (shape[-1] + 1,)
        outs = {
            "readonly": readonly(np.zeros(shape, dtype)),
            "wrong_shape": np.zeros(bigger, dtype),
            "wrong_ndim": np.zeros(shape + (1,), dtype),
            "wrong_dtype": np.zeros(shape, wrong_dtype),
            "non_contiguous": np.zeros(shape[:-1] + (2 * shape[-1],), dtype)[..., ::2],
            "list": np.zeros(shape, dtype).tolist(),
        }
        for name, out in outs.items():
            yield pytest.param(lambda c=call, o=out: c(o), "out", id=f"{func}-out-{name}")
    yield pytest.param(
        lambda: letterbox(IMG, (16, 16), dtype="uint8", out=np.zeros((1, 16, 16, 3), np.float32)),
        "out",
        id="letterbox-out-float-for-uint8",
    )
    yield pytest.param(
        lambda: letterbox(IMG, (16, 16), layout="nchw", out=np.zeros((1, 16, 16, 3), np.float32)),
        "out",
        id="letterbox-out-nhwc-for-nchw",
    )
    yield pytest.param(
        lambda: resize_mask(MASK, (16, 16), threshold=0.5, out=np.zeros((16, 16), np.float32)),
        "out",
        id="resize_mask-out-float-for-threshold",
    )


def option_cases():
    bad_strings = {
        "layout": ["NCHW2", "chw", ""],
        "border": ["reflect", "constant"],
        "sampling": ["bilinear", "nearest"],
        "dtype": ["float64", "int8"],
        "channel_order": ["bgra", "RGBA"],
    }
    for option, values in bad_strings.items():
        for value in values:
            kw = {option: value}
            yield pytest.param(lambda kw=kw: letterbox(IMG, (16, 16), **kw), option, id=f"letterbox-{option}-{value}")
            if option != "sampling":
                yield pytest.param(
                    lambda kw=kw: warp_roi(IMG, RECT, (16, 16), **kw), option, id=f"warp_roi-{option}-{value}"
                )
    for value in ["reflect", "zeros"]:
        yield pytest.param(lambda v=value: resize_mask(MASK, (8, 8), border=v), "border", id=f"resize_mask-border-{value}")
    for value in [None, 3]:
        yield pytest.param(lambda v=value: letterbox(IMG, (16, 16), layout=v), "layout", id=f"letterbox-layout-{value}")

    for name, vr in {
        "equal": (0.5, 0.5),
        "nan": (0.0, math.nan),
        "inf": (-math.inf, 1.0),
        "one_value": (1.0,),
        "scalar": 1.0,
        "strings": ("0", "1"),
    }.items():
        yield pytest.param(
            lambda vr=vr: letterbox(IMG, (16, 16), value_range=vr), "value_range", id=f"letterbox-value_range-{name}"
        )
        yield pytest.param(
            lambda vr=vr: warp_roi(IMG, RECT, (16, 16), value_range=vr), "value_range", id=f"warp_roi-value_range-{name}"
        )


def rect_cases():
    for name, rect in {
        "zero_width": Rect(15, 10, 0, 6),
        "negative_height": Rect(15, 10, 8, -1),
        "none": None,
    }.items():
        yield pytest.param(lambda r=rect: warp_roi(IMG, r, (16, 16)), "rect", id=f"warp_roi-rect-{name}")


def mask_cases():
    bad_masks = {
        "int32": MASK.astype(np.int32),
        "float16": MASK.astype(np.float16),
        "int64": MASK.astype(np.int64),
        "1d": np.zeros(30, np.float32),
        "3_channels": np.zeros((20, 30, 3), np.float32),
        "batch_2": np.zeros((2, 20, 30, 1), np.float32),
        "5d": np.zeros((1, 1, 20, 30, 1), np.float32),
        "empty": np.zeros((0, 30), np.float32),
        "none": None,
    }
    for name, mask in bad_masks.items():
        yield pytest.param(lambda m=mask: resize_mask(m, (8, 8)), "mask", id=f"resize_mask-mask-{name}")
        yield pytest.param(lambda m=mask: composite(IMG, m, (0, 0, 0)), "mask", id=f"composite-mask-{name}")
    # A float32 mask of another size is a low-resolution mask (upsampled); a uint8 one must
    # match the frame.
    for name, mask in {
        "wrong_height_uint8": np.zeros((21, 30), np.uint8),
        "transposed_uint8": np.zeros((30, 20), np.uint8),
        "wrong_width_uint8": np.zeros((20, 29), np.uint8),
    }.items():
        yield pytest.param(lambda m=mask: composite(IMG, m, (0, 0, 0)), "mask", id=f"composite-mask-{name}")


def background_cases():
    for name, bg in {
        "wrong_size": np.zeros((21, 30, 3), np.uint8),
        "2_channels": np.zeros((20, 30, 2), np.uint8),
        "2d": np.zeros((20, 30), np.uint8),
        "float_image": np.zeros((20, 30, 3), np.float32),
        "two_values": (1, 2),
        "five_values": (1, 2, 3, 4, 5),
        "out_of_range_colour": (0, 256, 0),
        "negative_colour": (-1, 0, 0),
        "unknown_string": "gaussian",
        "none": None,
    }.items():
        yield pytest.param(lambda b=bg: composite(IMG, MASK, b), "background", id=f"composite-background-{name}")


def scalar_cases():
    for value in [0.0, -1.0, math.nan, math.inf]:
        yield pytest.param(
            lambda v=value: composite(IMG, MASK, "blur", blur_sigma=v), "blur_sigma", id=f"composite-blur_sigma-{value}"
        )
    for value in [math.nan]:
        yield pytest.param(lambda v=value: resize_mask(MASK, (8, 8), threshold=v), "threshold", id=f"threshold-{value}")
    # Numbers given as strings are type errors (as in math.sqrt("4")), not parsed.
    yield pytest.param(lambda: resize_mask(MASK, (8, 8), threshold="0.5"), "threshold", id="threshold-string")
    yield pytest.param(
        lambda: composite(IMG, MASK, "blur", blur_sigma="8"), "blur_sigma", id="composite-blur_sigma-string"
    )
    for value in [0, -1, 2.0, True, "2", None]:
        yield pytest.param(lambda v=value: resize_mask(MASK, (8, 8), threads=v), "threads",
                           id=f"resize_mask-threads-{value!r}")
        yield pytest.param(lambda v=value: composite(IMG, MASK, "blur", threads=v), "threads",
                           id=f"composite-threads-{value!r}")
    for value in [-1.0, math.nan, math.inf, 60001.0, "5", None]:
        yield pytest.param(lambda v=value: expect_parallel_work(v, 1.0), "after_ms", id=f"expect-after_ms-{value!r}")
        yield pytest.param(lambda v=value: expect_parallel_work(1.0, v), "window_ms", id=f"expect-window_ms-{value!r}")
    for value in [1, "yes", None]:
        yield pytest.param(lambda v=value: expect_parallel_work(1.0, 1.0, wake_parked=v), "wake_parked",
                           id=f"expect-wake_parked-{value!r}")
    yield pytest.param(lambda: resize_mask(MASK, (8, 8), transform="letterbox"), "transform", id="transform-string")
    yield pytest.param(lambda: resize_mask(MASK, (8, 8), transform=np.eye(3)), "transform", id="transform-ndarray")


def transform_cases():
    for name, m in {
        "2x3": np.zeros((2, 3)),
        "4x4": np.eye(4),
        "nan": np.full((3, 3), math.nan),
        "string": "eye",
    }.items():
        yield pytest.param(lambda m=m: Transform(m, (8, 8), (8, 8)), "matrix", id=f"Transform-matrix-{name}")
    yield pytest.param(lambda: Transform(np.eye(3), (0, 8), (8, 8)), "src_size", id="Transform-src_size-zero")
    yield pytest.param(lambda: Transform(np.eye(3), (8, 8), (8,)), "dst_size", id="Transform-dst_size-one")


ALL_CASES = [
    *cases_for_images(),
    *cases_for_sizes(),
    *out_cases(),
    *option_cases(),
    *rect_cases(),
    *mask_cases(),
    *background_cases(),
    *scalar_cases(),
    *transform_cases(),
]


@pytest.mark.parametrize("call,argument", ALL_CASES)
def test_rejected_with_argument_named(call, argument):
    with pytest.raises(ERRORS, match=argument):
        call()


def test_read_only_out_is_left_untouched():
    out = readonly(np.full((1, 16, 16, 3), 3.0, np.float32))
    with pytest.raises(ERRORS, match="out"):
        letterbox(IMG, (16, 16), out=out)
    assert np.all(out == 3.0)


def test_valid_call_still_works_after_errors():
    # Errors must leave no state behind.
    for case in ALL_CASES[:40]:
        with pytest.raises(ERRORS):
            case.values[0]()
    tensor, _ = letterbox(np.full((20, 30, 3), 255, np.uint8), (16, 16))
    assert tensor.shape == (1, 16, 16, 3)
