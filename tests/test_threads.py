"""Kernels called from several threads at once, and kernels sharing one call's rows with helper
threads, give the single-threaded results."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from edgevision import Rect, kernels
from edgevision.filters import segmentation_smoothing
from edgevision.kernels import composite, letterbox, resize_mask, warp_roi
from images import random_image, smooth_mask
from reference import composite_reference

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


# ------------------------------------------------ one call's rows shared with helper threads

FULL_HD = (1920, 1080)  # 2 megapixels: above two workers' worth


def test_resize_mask_on_helpers_equals_cv2_and_one_thread(rng):
    mask = smooth_mask(rng, 256, 256)
    frame = random_image(rng, 1080, 1920, 3)
    _, lb_tf = letterbox(frame, (256, 256))
    rect = Rect(900, 560, 1000, 900, 0.35)
    _, roi_tf = warp_roi(frame, rect, (256, 256))
    plain = resize_mask(mask, FULL_HD, threads=4)
    np.testing.assert_allclose(plain, cv2.resize(mask, FULL_HD, interpolation=cv2.INTER_LINEAR), atol=1e-5)
    for transform in (None, lb_tf, roi_tf):
        for threshold in (None, 0.5):
            one = resize_mask(mask, FULL_HD, transform=transform, threshold=threshold, border="zero")
            for threads in (2, 4):
                for _ in range(2):  # a helper joins at a different row each time
                    np.testing.assert_array_equal(
                        resize_mask(mask, FULL_HD, transform=transform, threshold=threshold, border="zero",
                                    threads=threads), one)


def test_composite_on_helpers_equals_one_thread_and_reference(rng):
    frame = random_image(rng, 1080, 1920, 3)
    small = smooth_mask(rng, 256, 256)
    full = cv2.resize(small, FULL_HD, interpolation=cv2.INTER_LINEAR)
    background = random_image(rng, 1080, 1920, 3)
    # An independent check of the shared rows: the colour blend against the float reference.
    got = composite(frame, small, (0, 255, 0), threads=4)
    assert np.abs(got.astype(int) - composite_reference(frame, full, (0, 255, 0)).astype(int)).max() <= 1
    for bg in ("blur", (0, 255, 0), background):
        for mask in (small, full):
            one = composite(frame, mask, bg)
            for _ in range(2):
                np.testing.assert_array_equal(composite(frame, mask, bg, threads=4), one)


def test_fused_smoothing_on_helpers_equals_one_thread(rng):
    previous = smooth_mask(rng, 1080, 1920)
    current = smooth_mask(rng, 256, 256)
    one = segmentation_smoothing(previous, current, 0.7, size=FULL_HD)
    np.testing.assert_array_equal(segmentation_smoothing(previous, current, 0.7, size=FULL_HD, threads=4), one)
    np.testing.assert_array_equal(segmentation_smoothing(None, current, 0.7, size=FULL_HD, threads=4),
                                  resize_mask(current, FULL_HD))


def test_callers_asking_for_helpers_at_once_match_sequential(rng):
    """One caller gets the helpers, the others run their rows alone: every result is the same."""
    jobs = []
    for t in range(N_THREADS):
        frame = random_image(rng, 1080 - 40 * t, 1920, 3)
        mask = smooth_mask(rng, 256, 144 + 16 * t)
        size = (1920, 1080 - 40 * t)

        def job(frame=frame, mask=mask, size=size, t=t):
            return [resize_mask(mask, size, threads=2), composite(frame, mask, "blur" if t % 2 else (9, 9, 9), threads=2)]

        jobs.append(job)
    expected = [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        futures = [(t, pool.submit(jobs[t])) for _ in range(3) for t in range(N_THREADS)]
        for t, future in futures:
            for want, got in zip(expected[t], future.result()):
                np.testing.assert_array_equal(got, want)


def test_a_hint_without_waking_is_taken_only_while_a_helper_watches():
    """expect_parallel_work(wake_parked=False) drops the hint once the helper has parked (50 ms
    after a kernel) and takes it while the helper watches (here through an open window)."""
    if os.cpu_count() < 2:
        pytest.skip("one core: no helper threads")
    mask = np.random.default_rng(0).random((256, 256), dtype=np.float32)
    out = np.empty((720, 1280), np.float32)
    kernels.resize_mask(mask, (1280, 720), out=out, threads=2)  # the helper exists from here on
    time.sleep(0.05)
    assert kernels.expect_parallel_work(5.0, 10.0, wake_parked=False) is False
    kernels.expect_parallel_work(0.0, 10000.0)  # wakes it to watch (waking can take milliseconds on a VM)
    give_up = time.monotonic() + 2.0
    taken = False
    while not taken and time.monotonic() < give_up:
        taken = kernels.expect_parallel_work(0.0, 10000.0, wake_parked=False)
        time.sleep(0.001)
    kernels.resize_mask(mask, (1280, 720), out=out, threads=2)  # spends the window: the helper parks again
    assert taken


def test_helper_wake_hints_the_window_of_the_recent_runs(monkeypatch):
    """HelperWake asks the helpers to wake lead_ms before the fastest recent frame's run ends
    (timed from start() to after()) and to watch until window_ms after the slowest: at start()
    if a helper is still watching, else at before(), counting the time since start(); no hint
    without history or when disabled."""
    from edgevision.pipelines import frames

    hints = []
    awake = [True]  # whether a hint without waking would be taken

    def expect(after, window, *, wake_parked):
        taken = wake_parked or awake[0]
        hints.append((after, window, wake_parked, taken))
        return taken

    monkeypatch.setattr(frames.kernels, "expect_parallel_work", expect)
    now = [0.0]

    class OneThreadLiteRT:
        runtime, device, threads = "litert", "cpu", None

    def frame(wake, before_ms, run_ms):  # start(), the input (before_ms), the run (run_ms), after()
        wake.start()
        now[0] += before_ms / 1e3
        wake.before()
        now[0] += run_ms / 1e3
        wake.after()

    wake = frames.HelperWake(4, OneThreadLiteRT(), lead_ms=0.25, window_ms=1.0, history=3, clock=lambda: now[0])
    for run_ms in (9.0, 7.0, 8.0, 12.0):  # nothing known at the first frame; the last three count
        frame(wake, 1.0, run_ms)
    assert len(hints) == 3 and all(h[2] is False for h in hints)  # each at start(), taken
    hints.clear()
    wake.start()
    assert hints == [(pytest.approx(8.0 - 0.25), pytest.approx(0.25 + (13.0 - 8.0) + 1.0), False, True)]
    now[0] += 1.0 / 1e3
    wake.before()  # taken at start(): no second hint
    assert len(hints) == 1
    now[0] += 8.0 / 1e3
    wake.after()  # recent frames: 9, 13, 9 ms
    # A parked helper: dropped at start(), given at before() with the time since start() counted.
    awake[0] = False
    hints.clear()
    wake.start()
    now[0] += 2.0 / 1e3
    wake.before()
    assert [h[2:] for h in hints] == [(False, False), (True, True)]
    assert hints[1][:2] == (pytest.approx(9.0 - 2.0 - 0.25), pytest.approx(0.25 + (13.0 - 9.0) + 1.0))
    now[0] += 0.05 / 1e3
    wake.after()
    frame(wake, 0.0, 0.1)
    hints.clear()
    wake.start()
    assert hints[-1][0] == 0.0  # a frame shorter than the lead: wake at once
    wake.after()
    hints.clear()
    awake[0] = True
    # Without start(): hinted at before() (waking a parked helper), timed from before().
    late = frames.HelperWake(4, OneThreadLiteRT(), lead_ms=0.25, window_ms=1.0, clock=lambda: now[0])
    for run_ms in (6.0, 5.0):
        now[0] += 1.0 / 1e3
        late.before()
        now[0] += run_ms / 1e3
        late.after()
    assert hints == [(pytest.approx(6.0 - 0.25), pytest.approx(0.25 + 0.0 + 1.0), True, True)]
    hints.clear()
    for threads, model in ((1, OneThreadLiteRT()), (4, type("TwoThreads", (OneThreadLiteRT,), {"threads": 2})()),
                           (4, type("OnnxCpu", (), {"runtime": "onnxruntime", "device": "cpu", "threads": None})())):
        disabled = frames.HelperWake(threads, model, clock=lambda: now[0])
        frame(disabled, 1.0, 5.0)
        frame(disabled, 1.0, 5.0)
    assert hints == []
    accelerator = frames.HelperWake(4, type("Htp", (), {"runtime": "onnxruntime", "device": "qnn-htp", "threads": None})(),
                                    clock=lambda: now[0])
    frame(accelerator, 1.0, 5.0)
    frame(accelerator, 1.0, 5.0)
    assert len(hints) == 1
