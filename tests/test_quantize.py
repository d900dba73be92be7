"""kernels.quantize / dequantize against NumPy written out plainly (np.rint rounds half to even)."""

from __future__ import annotations

import numpy as np
import pytest
from edgevision.kernels import dequantize, quantize
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

LIMITS = {np.uint8: (0, 255), np.int8: (-128, 127)}


def numpy_quantize(x, scale, zero_point, dtype):
    lo, hi = LIMITS[dtype]
    q = np.rint(x.astype(np.float32) / np.float32(scale)).astype(np.float64) + zero_point
    q = np.where(np.isnan(x), zero_point, q)
    return np.clip(q, lo, hi).astype(dtype)


def numpy_dequantize(q, scale, zero_point):
    return ((q.astype(np.int32) - zero_point).astype(np.float32) * np.float32(scale)).astype(np.float32)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
def test_quantize_matches_numpy_on_ties_and_extremes(dtype):
    scale, zero_point = 0.5, 3 if dtype is np.uint8 else -2
    # Exact ties (k + 0.5) * scale both sides, values that saturate, infinities, NaN, zeros.
    ties = (np.arange(-300, 300) + 0.5) * scale
    extremes = np.array([0.0, -0.0, 1e30, -1e30, np.inf, -np.inf, np.nan, 127.49, 127.5, -64.25])
    x = np.concatenate([ties, extremes]).astype(np.float32)
    got = quantize(x, scale, zero_point, dtype)
    np.testing.assert_array_equal(got, numpy_quantize(x, scale, zero_point, dtype))
    assert got.dtype == dtype and got.shape == x.shape


@pytest.mark.parametrize("dtype", ["uint8", "int8"])
def test_quantize_random_tensor_and_round_trip(rng, dtype):
    x = rng.normal(0, 3, (1, 37, 29, 3)).astype(np.float32)
    scale, zero_point = 0.0372, 128 if dtype == "uint8" else 0
    q = quantize(x, scale, zero_point, dtype)
    np.testing.assert_array_equal(q, numpy_quantize(x, scale, zero_point, np.dtype(dtype).type))
    back = dequantize(q, scale, zero_point)
    np.testing.assert_array_equal(back, numpy_dequantize(q, scale, zero_point))
    inside = (x > (LIMITS[np.dtype(dtype).type][0] - zero_point) * scale) & (
        x < (LIMITS[np.dtype(dtype).type][1] - zero_point) * scale)
    assert np.abs(back - x)[inside].max() <= scale / 2 * (1 + 1e-5)


def test_strided_and_reversed_views_are_read_in_place(rng):
    base = rng.normal(0, 1, (9, 40, 6)).astype(np.float32)
    for view in (base[::2, 3:37:3, ::-2], base.transpose(2, 0, 1), base[:, ::-1], base[4, 7]):
        got = quantize(view, 0.01, 7, "int8")
        assert got.flags.c_contiguous and got.shape == view.shape
        np.testing.assert_array_equal(got, numpy_quantize(np.ascontiguousarray(view), 0.01, 7, np.int8))
        q = np.ascontiguousarray(got)[..., ::-1]
        np.testing.assert_array_equal(dequantize(q, 0.01, 7), numpy_dequantize(q, 0.01, 7))


def test_scalar_and_empty_arrays():
    assert quantize(np.array(2.5, np.float32), 1.0, 0, "uint8") == 2
    empty = quantize(np.zeros((0, 3), np.float32), 1.0, 0, "uint8")
    assert empty.shape == (0, 3) and empty.dtype == np.uint8


def test_out_is_filled_and_returned(rng):
    x = rng.random((4, 5)).astype(np.float32)
    out = np.empty((4, 5), np.uint8)
    assert quantize(x, 1 / 255, 0, "uint8", out=out) is out
    np.testing.assert_array_equal(out, numpy_quantize(x, 1 / 255, 0, np.uint8))
    fout = np.empty((4, 5), np.float32)
    assert dequantize(out, 1 / 255, 0, out=fout) is fout
    np.testing.assert_array_equal(fout, numpy_dequantize(out, 1 / 255, 0))


@given(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=4, max_side=9),
               elements=st.floats(-1e6, 1e6, width=32) | st.just(float("nan"))),
    st.floats(2 ** -13, 10.0, width=32),
    st.sampled_from([("uint8", 0, 255), ("int8", -128, 127)]),
    st.data(),
)
def test_quantize_property(x, scale, kind, data):
    dtype, lo, hi = kind
    zero_point = data.draw(st.integers(lo, hi))
    got = quantize(x, scale, zero_point, dtype)
    np.testing.assert_array_equal(got, numpy_quantize(x, scale, zero_point, np.dtype(dtype).type))


BAD_CALLS = {
    "float64 x": (lambda: quantize(np.zeros(3), 1.0, 0, "uint8"), TypeError, "float32"),
    "list x": (lambda: quantize([1.0, 2.0], 1.0, 0, "uint8"), TypeError, "numpy.ndarray"),
    "zero scale": (lambda: quantize(np.zeros(3, np.float32), 0.0, 0, "uint8"), ValueError, "scale"),
    "nan scale": (lambda: quantize(np.zeros(3, np.float32), float("nan"), 0, "uint8"), ValueError, "scale"),
    "str scale": (lambda: quantize(np.zeros(3, np.float32), "1", 0, "uint8"), TypeError, "scale"),
    "zero point range": (lambda: quantize(np.zeros(3, np.float32), 1.0, 200, "int8"), ValueError, "zero_point"),
    "float zero point": (lambda: quantize(np.zeros(3, np.float32), 1.0, 1.5, "uint8"), TypeError, "zero_point"),
    "bad dtype": (lambda: quantize(np.zeros(3, np.float32), 1.0, 0, "int16"), ValueError, "dtype"),
    "out shape": (lambda: quantize(np.zeros(3, np.float32), 1.0, 0, "uint8", out=np.zeros(4, np.uint8)),
                  ValueError, "out"),
    "out dtype": (lambda: quantize(np.zeros(3, np.float32), 1.0, 0, "uint8", out=np.zeros(3, np.int8)),
                  TypeError, "out"),
    "dequantize float": (lambda: dequantize(np.zeros(3, np.float32), 1.0, 0), TypeError, "uint8 or int8"),
    "dequantize zero point": (lambda: dequantize(np.zeros(3, np.uint8), 1.0, -1), ValueError, "zero_point"),
    "too many dims": (lambda: quantize(np.zeros((1,) * 9, np.float32), 1.0, 0, "uint8"), ValueError, "dimensions"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_arguments(case):
    call, error, words = BAD_CALLS[case]
    with pytest.raises(error, match=words):
        call()
