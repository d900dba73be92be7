"""Kernels called from several threads at once give the single-threaded results."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from edgevision import Rect
from edgevision.kernels import composite, letterbox, resize_mask, warp_roi
from images import random_image, smooth_mask

N_THREADS = 4
ROUNDS = 6


def make_jobs(rng):
    """Per thread, a different frame and different kernel options."""
    jobs = []
    for t in range(N_THREADS):
        H, W = 360 + 17 * t, 480 - 23 * t
        frame = random_image(rng, H, W, 3 + t % 2)
        mask = smooth_mask(rng, 64 * (1 + t % 2), 64 * (1 + t % 2))
        rect = Rect(W / 2 + 5 * t, H / 2 - 3 * t, 150 + 10 * t, 120, 0.3 * t - 0.4)
        _, lb_tf = letterbox(frame, (256, 256))
        _, roi_tf = warp_roi(frame, rect, (160, 160))

        def job(frame=frame, mask=mask, rect=rect, lb_tf=lb_tf, roi_tf=roi_tf, t=t, size=(W, H)):
            return [
                letterbox(frame, (256, 192), sampling="mediapipe" if t % 2 else "opencv")[0],
                warp_roi(frame, rect, (160, 160), border="zero" if t % 2 else "replicate")[0],
                resize_mask(mask, size, transform=lb_tf if t % 2 else roi_tf),
                resize_mask(mask, size, transform=roi_tf, threshold=0.5),
                composite(frame, resize_mask(mask, size), "blur" if t % 2 else (0, 255, 0)),
            ]

        jobs.append(job)
    return jobs


def test_concurrent_calls_match_sequential(rng):
    jobs = make_jobs(rng)
    expected = [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        futures = [(t, pool.submit(jobs[t])) for _ in range(ROUNDS) for t in range(N_THREADS)]
        for t, future in futures:
            for want, got in zip(expected[t], future.result()):
                np.testing.assert_array_equal(got, want)
