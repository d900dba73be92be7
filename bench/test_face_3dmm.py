"""facemap_3dmm decode (68 landmarks from 265 parameters): edgevision's native kernel vs the
NumPy a user would write from AI Hub's formulas (aihub_and_sam2.md §4).

Run::

    python -m pytest bench/test_face_3dmm.py --benchmark-only

Target: <= 20 us per face (``budget_us``), single-threaded. The edgevision test also checks,
untimed, that it produced what the peer produces.
"""

from __future__ import annotations

import math

import numpy as np
import pytest


def bench(group: str):
    return pytest.mark.benchmark(group=group, max_time=0.5, min_rounds=50, warmup=True, warmup_iterations=200)


@pytest.fixture(scope="module")
def face():
    """Random basis of AI Hub's shapes and one model output."""
    rng = np.random.default_rng(0)
    mean = rng.normal(0, 40, (204, 1)).astype(np.float32)
    shape = rng.normal(0, 1, (204, 219)).astype(np.float32)
    blend = rng.normal(0, 2, (204, 39)).astype(np.float32)
    params = rng.uniform(-0.6, 0.6, (1, 265)).astype(np.float32)
    return mean, shape, blend, params, (37, 12, 251, 260)


def numpy_decode(params, mean, shape, blend, box):
    """AI Hub's project_landmark + transform_landmark_coordinates in vectorised NumPy."""
    p = params.reshape(-1)
    alpha_id = p[:219] * 3
    alpha_exp = p[219:258] * 0.5 + 0.5
    pitch, yaw, roll = -p[258:261] * (math.pi / 2)
    tx, ty, focal = p[261] * 60, p[262] * 60, p[263] * 150 + 450
    v = (mean + shape @ alpha_id[:, None] + blend @ alpha_exp[:, None]).reshape(68, 3)
    cy, sy, cp, sp, cr, sr = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch), np.cos(roll), np.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    flip = np.diag([1.0, -1.0, -1.0])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    moved = v @ (ry @ rx @ flip @ rz).T + np.array([tx, ty, 500.0])
    xy = moved[:, :2] * (focal / 500)
    x0, y0, x1, y1 = box
    return np.stack([(xy[:, 0] + 64) * ((x1 - x0 + 1) / 128) + x0, (xy[:, 1] + 64) * ((y1 - y0 + 1) / 128) + y0], 1)


@bench("facemap_3dmm decode")
def test_facemap_3dmm_decode_edgevision(benchmark, ek, face):
    mean, shape, blend, params, box = face
    benchmark.extra_info.update(role="edgevision", target=5.0, budget_us=20.0)
    basis = ek.FaceMap3DMMBasis(mean, shape, blend)
    out = np.empty((68, 2), np.float32)
    result = benchmark(ek.facemap_3dmm_decode, params, basis, box, out=out)
    np.testing.assert_allclose(result, numpy_decode(params, mean, shape, blend, box), atol=5e-3)


@bench("facemap_3dmm decode")
def test_facemap_3dmm_decode_peer(benchmark, face):
    mean, shape, blend, params, box = face
    benchmark.extra_info.update(role="peer", chain="numpy: matmuls for the basis, 3x3 rotation, projection")
    benchmark(numpy_decode, params, mean, shape, blend, box)
