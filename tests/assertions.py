"""Comparison helpers that report where and by how much an output is wrong."""

from __future__ import annotations

import numpy as np


def _diff(got, expected, context):
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{context}: shape {got.shape}, expected {expected.shape}"
    got64 = got.astype(np.float64)
    exp64 = expected.astype(np.float64)
    bad = ~np.isfinite(got64)
    assert not bad.any(), f"{context}: non-finite output at {np.argwhere(bad)[:5].tolist()}"
    return got64, exp64, np.abs(got64 - exp64)


def assert_max_diff(got, expected, tol, context=""):
    """Every element within ``tol``; on failure name the worst element."""
    got64, exp64, diff = _diff(got, expected, context)
    if diff.size == 0:
        return
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    if diff[worst] > tol:
        n_bad = int((diff > tol).sum())
        raise AssertionError(
            f"{context}: max |got - expected| = {diff[worst]:.6g} > {tol:.6g} at index "
            f"{tuple(int(i) for i in worst)} (got {got64[worst]!r}, expected {exp64[worst]!r}); "
            f"{n_bad} of {diff.size} elements out of tolerance"
        )


def assert_near_opencv(got, opencv, exact, tol, exact_tol, context=""):
    """Every element within ``tol`` of OpenCV's result or, where this build of OpenCV lands
    further than that from the exact value (its aarch64 NEON resize rounds more coarsely than
    the x86 one), within ``exact_tol`` of ``exact``, the float64 reference."""
    got64, exp64, diff = _diff(got, opencv, context)
    exact_diff = np.abs(got64 - np.asarray(exact, np.float64))
    bad = (diff > tol) & (exact_diff > exact_tol)
    if bad.any():
        worst = np.unravel_index(np.argmax(np.where(bad, exact_diff, -1.0)), diff.shape)
        raise AssertionError(
            f"{context}: {int(bad.sum())} of {diff.size} elements neither within {tol:.6g} of OpenCV nor within "
            f"{exact_tol:.6g} of the exact value; worst at {tuple(int(i) for i in worst)}: got {got64[worst]!r}, "
            f"OpenCV {exp64[worst]!r}, exact {float(np.asarray(exact)[worst])!r}"
        )


def assert_mean_diff(got, expected, tol, context=""):
    """Mean absolute difference within ``tol``."""
    _, _, diff = _diff(got, expected, context)
    mean = float(diff.mean()) if diff.size else 0.0
    assert mean <= tol, f"{context}: mean |got - expected| = {mean:.6g} > {tol:.6g}"


def assert_unbiased(got, expected, tol, context=""):
    """Mean signed difference within ``tol``: catches truncation where rounding is due."""
    got64, exp64, _ = _diff(got, expected, context)
    bias = float((got64 - exp64).mean()) if got64.size else 0.0
    assert abs(bias) <= tol, f"{context}: mean (got - expected) = {bias:.6g}, beyond +-{tol:.6g}"


def assert_threads_match_sequential(jobs, rounds=5, workers=4):
    """Each job (a callable returning a list of arrays), run ``rounds`` times across ``workers``
    threads at once, returns exactly what it returned run alone."""
    from concurrent.futures import ThreadPoolExecutor

    expected = [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [(t, pool.submit(job)) for _ in range(rounds) for t, job in enumerate(jobs)]
        for t, future in futures:
            for want, got in zip(expected[t], future.result()):
                np.testing.assert_array_equal(got, want)
