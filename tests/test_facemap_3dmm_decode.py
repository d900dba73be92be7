"""facemap_3dmm_decode against a plain NumPy implementation of AI Hub's formulas
(aihub_and_sam2.md §4), on random basis arrays of the documented shapes."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import detection_reference as ref
from edgevision.kernels import FaceMap3DMMBasis, facemap_3dmm_decode

N, IDENTITY, EXPRESSION = 68, 219, 39


def random_basis(rng):
    """Shapes as AI Hub reshapes them: meanFace (204, 1), shapeBasis (204, 219), blendShape
    (204, 39); a face-sized mean (units ~ mm) and small columns."""
    mean = rng.normal(0, 40, (3 * N, 1))
    shape = rng.normal(0, 1.0, (3 * N, IDENTITY))
    blend = rng.normal(0, 2.0, (3 * N, EXPRESSION))
    return mean, shape, blend


def reference(params, mean, shape, blend, box):
    """Landmarks and the de-normalised parameters as one vector."""
    landmarks, g = ref.facemap_3dmm(params, mean, shape, blend, box)
    parameters = np.concatenate([g["identity"], g["expression"], [g["pitch"], g["yaw"], g["roll"]], g["translation"],
                                 [g["focal"]]])
    return landmarks, parameters


def random_params(rng):
    return rng.uniform(-0.6, 0.6, (1, 265)).astype(np.float32)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("box", [(0, 0, 127, 127), (37, 12, 251, 260), (100.5, 40.25, 180.0, 130.5)])
def test_decode_matches_reference(seed, box):
    rng = np.random.default_rng(seed)
    mean, shape, blend = random_basis(rng)
    basis = FaceMap3DMMBasis(mean, shape, blend)
    params = random_params(rng)
    parameters = np.empty(basis.num_parameters, np.float32)
    got = facemap_3dmm_decode(params, basis, box, parameters_out=parameters)
    want, want_parameters = reference(params, mean.astype(np.float32), shape.astype(np.float32),
                                      blend.astype(np.float32), box)
    assert got.shape == (68, 2) and got.dtype == np.float32
    # float32 basis sums (as AI Hub's PyTorch) against float64: well under a thousandth of a pixel per unit
    scale = max(box[2] - box[0] + 1, box[3] - box[1] + 1) / 128
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-3 * scale)
    np.testing.assert_allclose(parameters, want_parameters, rtol=2e-6, atol=1e-6)


def test_pose_only_by_hand():
    """No identity/expression (params -1 for expression: 0.5 * -1 + 0.5 = 0), no rotation:
    R = Rx(-pi) = diag(1, -1, -1), so x = (vx + tx) * f / 500, y = (-vy + ty) * f / 500."""
    mean = np.zeros((3 * N, 1))
    mean[0::3, 0] = np.linspace(-40, 40, N)
    mean[1::3, 0] = np.linspace(30, -30, N)
    mean[2::3, 0] = 7.0
    basis = FaceMap3DMMBasis(mean, np.ones((3 * N, IDENTITY)), np.ones((3 * N, EXPRESSION)))
    params = np.zeros(265, np.float32)
    params[IDENTITY:IDENTITY + EXPRESSION] = -1
    params[261], params[262] = 0.25, -0.5  # tx = 15, ty = -30
    params[263] = 1.0  # focal = 600
    got = facemap_3dmm_decode(params, basis, (10, 20, 265, 147))  # 256 x 128 box
    px = (mean[0::3, 0] + 15) * 600 / 500
    py = (-mean[1::3, 0] - 30) * 600 / 500
    np.testing.assert_allclose(got[:, 0], (px + 64) * 2 + 10, atol=1e-4)
    np.testing.assert_allclose(got[:, 1], (py + 64) * 1 + 20, atol=1e-4)


def test_yaw_turns_about_the_vertical_axis():
    """A quarter turn of yaw puts z where x was: with V = (0, 0, z), x' = -sin(-yaw) * ... ."""
    mean = np.zeros((3 * N, 1))
    mean[2::3, 0] = 10.0  # every vertex at z = 10
    basis = FaceMap3DMMBasis(mean, np.zeros((3 * N, IDENTITY)), np.zeros((3 * N, EXPRESSION)))
    params = np.zeros(265, np.float32)
    params[259] = 1.0  # yaw = pi/2
    got = facemap_3dmm_decode(params, basis, (0, 0, 127, 127))
    # Ry(-pi/2) Rx(-pi) (0, 0, 10) = Ry(-pi/2) (0, 0, -10) = (10, 0, 0) (x' = sin(-yaw) * -10)
    np.testing.assert_allclose(got, np.tile([64 + 10 * 450 / 500, 64.0], (N, 1)), atol=1e-4)


def test_basis_layouts_and_dtypes_agree(rng):
    mean, shape, blend = random_basis(rng)
    params = random_params(rng)
    want = facemap_3dmm_decode(params, FaceMap3DMMBasis(mean, shape, blend), (5, 5, 90, 90))
    layouts = [
        (mean.reshape(-1), shape, blend),
        (mean.reshape(N, 3), shape.astype(np.float32), blend.astype(np.float32)),
        (mean, shape.reshape(-1), blend.reshape(3 * N * EXPRESSION, 1)),
        (np.asfortranarray(mean), np.asfortranarray(shape), blend),  # copied in C order
    ]
    for m, s, b in layouts:
        got = facemap_3dmm_decode(params, FaceMap3DMMBasis(m, s, b), (5, 5, 90, 90))
        np.testing.assert_array_equal(got, want)
    # params as [265], [264], a strided view
    wide = np.zeros((1, 530), np.float32)
    wide[0, ::2] = params[0]
    for p in (params[0], params[0, :264], wide[0, ::2]):
        np.testing.assert_array_equal(facemap_3dmm_decode(p, FaceMap3DMMBasis(mean, shape, blend), (5, 5, 90, 90)), want)


def test_custom_scaling_and_sizes(rng):
    """Other basis sizes (n landmarks, I, E) and scalings follow the same formulas."""
    n, identity, expression = 5, 7, 3
    mean, shape, blend = rng.normal(0, 20, 3 * n), rng.normal(0, 1, (3 * n, identity)), rng.normal(0, 1, (3 * n, expression))
    basis = FaceMap3DMMBasis(mean, shape, blend, identity_scale=2.0, expression_scale=1.0, expression_offset=0.0,
                             angle_scale=1.0, translation_scale=10.0, focal_scale=100.0, focal_offset=300.0, tz=400.0,
                             crop_size=64)
    assert (basis.num_landmarks, basis.num_parameters, basis.crop_size) == (n, identity + expression + 6, 64)
    params = rng.uniform(-1, 1, identity + expression + 7).astype(np.float32)
    p = params.astype(np.float64)
    v = (mean + shape @ (p[:identity] * 2) + blend @ p[identity:identity + expression]).reshape(n, 3)
    pitch, yaw, roll = p[identity + expression:identity + expression + 3]
    tx, ty = p[identity + expression + 3:identity + expression + 5] * 10
    focal = p[identity + expression + 5] * 100 + 300
    moved = v @ ref.facemap_3dmm_rotation(pitch, yaw, roll).T + [tx, ty, 400]
    proj = moved[:, :2] * focal / 400
    want = np.stack([(proj[:, 0] + 32) * 2 + 3, (proj[:, 1] + 32) * 1 + 4], axis=1)
    np.testing.assert_allclose(facemap_3dmm_decode(params, basis, (3, 4, 130, 67)), want, atol=1e-3)


def test_out_arrays_and_threads(rng):
    mean, shape, blend = random_basis(rng)
    basis = FaceMap3DMMBasis(mean, shape, blend)
    params = [random_params(rng) for _ in range(8)]
    want = [facemap_3dmm_decode(p, basis, (0, 0, 199, 199)) for p in params]
    out = np.empty((68, 2), np.float32)
    assert facemap_3dmm_decode(params[0], basis, (0, 0, 199, 199), out=out) is out
    results = [None] * 8

    def work(k):
        for _ in range(50):
            results[k] = facemap_3dmm_decode(params[k], basis, (0, 0, 199, 199))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, w in zip(results, want):
        np.testing.assert_array_equal(got, w)


BASIS = FaceMap3DMMBasis(*random_basis(np.random.default_rng(0)))
PARAMS = np.zeros((1, 265), np.float32)


@pytest.mark.parametrize("call,argument", [
    (lambda: FaceMap3DMMBasis(np.zeros(203), np.zeros((203, 219)), np.zeros((203, 39))), "mean_face"),
    (lambda: FaceMap3DMMBasis(np.zeros(204), np.zeros((204, 218)) [:, :-1].ravel()[:-5], np.zeros((204, 39))),
     "shape_basis"),
    (lambda: FaceMap3DMMBasis(np.zeros(204), np.zeros((204, 219)), np.zeros(0)), "blend_shape"),
    (lambda: FaceMap3DMMBasis(np.zeros(204, np.int64), np.zeros((204, 219)), np.zeros((204, 39))), "mean_face"),
    (lambda: FaceMap3DMMBasis([0.0] * 204, np.zeros((204, 219)), np.zeros((204, 39))), "mean_face"),
    (lambda: FaceMap3DMMBasis(np.full(204, np.nan), np.zeros((204, 219)), np.zeros((204, 39))), "mean_face"),
    (lambda: FaceMap3DMMBasis(np.zeros(204), np.zeros((204, 219)), np.zeros((204, 39)), tz=0.0), "tz"),
    (lambda: FaceMap3DMMBasis(np.zeros(204), np.zeros((204, 219)), np.zeros((204, 39)), crop_size=0), "crop_size"),
    (lambda: FaceMap3DMMBasis(np.zeros(204), np.zeros((204, 219)), np.zeros((204, 39)), focal_scale=math.inf),
     "focal_scale"),
    (lambda: facemap_3dmm_decode(PARAMS[:, :263], BASIS, (0, 0, 9, 9)), "params"),
    (lambda: facemap_3dmm_decode(np.zeros((1, 266), np.float32), BASIS, (0, 0, 9, 9)), "params"),
    (lambda: facemap_3dmm_decode(np.zeros((2, 265), np.float32), BASIS, (0, 0, 9, 9)), "params"),
    (lambda: facemap_3dmm_decode(PARAMS.astype(np.float64), BASIS, (0, 0, 9, 9)), "params"),
    (lambda: facemap_3dmm_decode(PARAMS, BASIS, (0, 0, 9)), "box"),
    (lambda: facemap_3dmm_decode(PARAMS, BASIS, (10, 0, 9, 9)), "box"),
    (lambda: facemap_3dmm_decode(PARAMS, BASIS, (0, 0, math.nan, 9)), "box"),
    (lambda: facemap_3dmm_decode(PARAMS, BASIS, "0 0 9 9"), "box"),
    (lambda: facemap_3dmm_decode(PARAMS, "basis", (0, 0, 9, 9)), "basis"),
    (lambda: facemap_3dmm_decode(PARAMS, BASIS, (0, 0, 9, 9), out=np.zeros((68, 3), np.float32)), "out"),
    (lambda: facemap_3dmm_decode(PARAMS, BASIS, (0, 0, 9, 9), parameters_out=np.zeros(265, np.float32)),
     "parameters_out"),
    (lambda: FaceMap3DMMBasis.load("/nonexistent/basis"), "basis_dir"),
])
def test_bad_input(call, argument):
    with pytest.raises((TypeError, ValueError, FileNotFoundError), match=argument):
        call()


def test_load_from_directory(tmp_path, rng):
    mean, shape, blend = random_basis(rng)
    np.save(tmp_path / "meanFace.npy", mean.reshape(-1))
    np.save(tmp_path / "shapeBasis.npy", shape)
    np.save(tmp_path / "blendShape.npy", blend.astype(np.float32))
    params = random_params(rng)
    loaded = FaceMap3DMMBasis.load(tmp_path)
    np.testing.assert_array_equal(facemap_3dmm_decode(params, loaded, (0, 0, 99, 99)),
                                  facemap_3dmm_decode(params, FaceMap3DMMBasis(mean, shape, blend), (0, 0, 99, 99)))
    (tmp_path / "blendShape.npy").unlink()
    with pytest.raises(FileNotFoundError, match="blendShape.npy"):
        FaceMap3DMMBasis.load(tmp_path)


@given(
    shape=st.lists(st.integers(0, 270), min_size=0, max_size=3).map(tuple),
    dtype=st.sampled_from([np.float32, np.float32, np.float64, np.int32]),
    box=st.lists(st.one_of(st.floats(-1e6, 1e6), st.floats()), min_size=0, max_size=5),
    seed=st.integers(0, 2**32 - 1),
)
def test_decode_never_crashes(shape, dtype, box, seed):
    params = np.random.default_rng(seed).normal(0, 2, shape).astype(dtype)
    try:
        landmarks = facemap_3dmm_decode(params, BASIS, box)
    except (TypeError, ValueError):
        return
    assert landmarks.shape == (68, 2) and landmarks.dtype == np.float32
    if max(abs(v) for v in box) < 1e6:  # float32 landmarks of astronomic boxes overflow, as they should
        assert np.all(np.isfinite(landmarks))
