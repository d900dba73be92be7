"""Transform and Rect value types."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgevision import Rect, Transform
from reference import apply_matrix

AFFINE = np.array([[1.5, -0.25, 10.0], [0.4, 2.0, -3.5], [0.0, 0.0, 1.0]])
PROJECTIVE = np.array([[1.2, 0.1, 5.0], [-0.2, 0.9, 7.0], [1e-3, -2e-3, 1.0]])


def numpy_apply(matrix, points):
    pts = np.asarray(points, np.float64)
    x, y = apply_matrix(matrix, pts[..., 0], pts[..., 1])
    return np.stack([x, y], axis=-1)


@pytest.fixture(params=["affine", "projective"])
def matrix(request):
    return {"affine": AFFINE, "projective": PROJECTIVE}[request.param]


def test_attributes(matrix):
    tf = Transform(matrix, (256, 192), (640, 480))
    np.testing.assert_array_equal(tf.matrix, matrix)
    assert tf.matrix.dtype == np.float64 and tf.matrix.shape == (3, 3)
    assert tuple(tf.src_size) == (256, 192)
    assert tuple(tf.dst_size) == (640, 480)
    assert tuple(tf.content) == (0, 0, 256, 192)
    tf2 = Transform(matrix, (256, 192), (640, 480), content=(3, 4, 200, 190))
    assert tuple(tf2.content) == (3, 4, 200, 190)


def test_matrix_is_a_copy(matrix):
    source = matrix.copy()
    tf = Transform(source, (10, 10), (10, 10))
    source[0, 0] = 99.0  # the transform must not alias the caller's array
    np.testing.assert_array_equal(tf.matrix, matrix)
    m = tf.matrix
    m[0, 0] = -99.0  # nor hand out its own storage
    np.testing.assert_array_equal(tf.matrix, matrix)


@pytest.mark.parametrize("shape", [(5, 2), (2,), (3, 4, 2), (0, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_apply_shapes_and_dtypes(matrix, rng, shape, dtype):
    tf = Transform(matrix, (256, 192), (640, 480))
    points = (rng.random(shape) * 300 - 20).astype(dtype)
    got = tf.apply(points)
    assert got.shape == points.shape and got.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(got, numpy_apply(matrix, points), rtol=rtol, atol=rtol * 100)


def test_apply_does_not_modify_input(matrix):
    tf = Transform(matrix, (256, 192), (640, 480))
    points = np.array([[1.0, 2.0], [3.0, 4.0]])
    before = points.copy()
    tf.apply(points)
    np.testing.assert_array_equal(points, before)


def test_inverse_round_trip(matrix, rng):
    tf = Transform(matrix, (256, 192), (640, 480))
    inv = tf.inverse()
    np.testing.assert_allclose(inv.matrix @ matrix, np.eye(3), atol=1e-12)
    assert tuple(inv.src_size) == (640, 480)
    assert tuple(inv.dst_size) == (256, 192)
    points = rng.random((50, 2)) * 250
    np.testing.assert_allclose(inv.apply(tf.apply(points)), points, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(inv.inverse().matrix, matrix, rtol=1e-12, atol=1e-12)


def test_normalized_matrix(matrix):
    tf = Transform(matrix, (256, 192), (640, 480))
    expected = np.diag([1 / 640, 1 / 480, 1.0]) @ matrix @ np.diag([256.0, 192.0, 1.0])
    np.testing.assert_allclose(tf.normalized_matrix, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", [(7, 2), (2,), (2, 3, 2)])
def test_apply_normalized(matrix, rng, shape):
    tf = Transform(matrix, (256, 192), (640, 480))
    uv = rng.random(shape)
    expected = numpy_apply(matrix, uv * [256, 192]) / [640, 480]
    got = tf.apply_normalized(uv)
    assert got.shape == uv.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, numpy_apply(tf.normalized_matrix, uv), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------ Rect


def test_rect_attributes_and_equality():
    r = Rect(10.5, 20.25, 30.0, 40.0, 0.5)
    assert (r.x_center, r.y_center, r.width, r.height, r.rotation) == (10.5, 20.25, 30.0, 40.0, 0.5)
    assert Rect(1, 2, 3, 4).rotation == 0.0
    assert r == Rect(10.5, 20.25, 30.0, 40.0, 0.5)
    assert r != Rect(10.5, 20.25, 30.0, 40.0, 0.6)
    assert "Rect" in repr(r) and "10.5" in repr(r)


@pytest.mark.parametrize("name", ["x_center", "y_center", "width", "height", "rotation"])
def test_rect_is_read_only(name):
    r = Rect(1, 2, 3, 4, 0.1)
    with pytest.raises(AttributeError):
        setattr(r, name, 5.0)


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_rect_rejects_non_finite(index, bad):
    args = [1.0, 2.0, 3.0, 4.0, 0.1]
    args[index] = bad
    with pytest.raises(ValueError):
        Rect(*args)
