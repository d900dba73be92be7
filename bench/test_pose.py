"""PoseLandmarker (video mode) speed and memory vs MediaPipe 0.10.21's Pose on 720p frames.

Run::

    EDGEVISION_MEDIAPIPE_PYTHON=/work/venv-mp/bin/python python -m pytest bench/test_pose.py -s
    python bench/test_pose.py                       # the same figures as JSON, without pytest

* frames/s: ours (median wall time of ``landmarker(frame)`` over the synthetic 1280x720 clip,
  video mode, smoothing on; with and without segmentation) against
  ``bench/reference/mediapipe_speed.py`` on the same clip (``pose_video`` and
  ``pose_video_segmentation``), through the python named by ``EDGEVISION_MEDIAPIPE_PYTHON``
  (skipped without it). Target >= 2x. Threads: ``EDGEVISION_BENCH_THREADS`` (default 1) for
  our inference; MediaPipe uses its default.
* non-inference time per frame: total minus the runtimes' own invoke time, median; budget
  0.5 ms (no segmentation).
* memory: RSS growth over a 300-frame clip in a fresh process stays under 4 MB.
"""

from __future__ import annotations

import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import pytest

from mediapipe_peer import mediapipe_fps, mediapipe_or_skip

FRAME_SIZE = (1280, 720)
CLIP_FRAMES = 90
TARGET_SPEEDUP = 2.0
OVERHEAD_BUDGET_MS = 0.5
THREADS = int(os.environ.get("EDGEVISION_BENCH_THREADS", "1"))
_HERE = pathlib.Path(__file__).resolve().parent
CASES = {False: "pose_video", True: "pose_video_segmentation"}


def clip():
    import skimage.data

    from edgevision import samples

    return list(samples.synthetic_video(skimage.data.astronaut(), frames=CLIP_FRAMES, size=FRAME_SIZE))


def measure(frames, *, segmentation: bool, timed: int = 120, warmup: int = 10) -> dict:
    """Median ms per frame: total, inference (detector + landmarks) and the rest."""
    import edgevision

    landmarker = edgevision.PoseLandmarker(mode="video", segmentation=segmentation, threads=THREADS)
    total, infer, overhead, runs = [], [], [], 0
    for k in range(warmup + timed):
        frame = frames[k % len(frames)]
        start = time.perf_counter()
        landmarker(frame)
        elapsed = (time.perf_counter() - start) * 1e3
        if k >= warmup:
            total.append(elapsed)
            infer.append(landmarker.timings.inference_ms)
            overhead.append(elapsed - landmarker.timings.inference_ms)
            runs += landmarker.timings.detector_runs
    med = statistics.median
    return {"total_ms": med(total), "fps": 1e3 / med(total), "inference_ms": med(infer),
            "non_inference_ms": med(overhead), "detector_runs": runs, "frames": timed, "threads": THREADS}


@pytest.fixture(scope="module")
def frames():
    return clip()


@pytest.fixture(scope="module")
def mediapipe():
    return mediapipe_or_skip(CASES.values())


@pytest.mark.parametrize("segmentation", [False, True], ids=["landmarks", "landmarks+mask"])
def test_frames_per_second_vs_mediapipe(segmentation, frames, mediapipe):
    ours = measure(frames, segmentation=segmentation)
    theirs = mediapipe["results"][CASES[segmentation]]["fps"]
    ratio = ours["fps"] / theirs
    print(f"\npose video {'+ mask ' if segmentation else ''}720p: edgevision {ours['fps']:.1f} frames/s "
          f"({THREADS} thread(s)), MediaPipe {theirs:.1f} frames/s: {ratio:.2f}x (target >= {TARGET_SPEEDUP}x)")
    assert ratio >= TARGET_SPEEDUP


def test_non_inference_time(frames):
    ours = measure(frames, segmentation=False)
    print(f"\npose video 720p: non-inference {ours['non_inference_ms']:.3f} ms per frame "
          f"(budget {OVERHEAD_BUDGET_MS}); detector on {ours['detector_runs']} of {ours['frames']} frames")
    assert ours["non_inference_ms"] <= OVERHEAD_BUDGET_MS


_MEMORY_SCRIPT = """
import json, sys
sys.path.insert(0, {here!r})
from test_memory import current_rss_bytes, peak_rss_bytes
from test_pose import clip
import edgevision
frames = clip()
pose = edgevision.PoseLandmarker(mode="video", segmentation=True)
for k in range(30):
    pose(frames[k % len(frames)])
rss0, peak0 = current_rss_bytes(), peak_rss_bytes()
for k in range(300):
    pose(frames[k % len(frames)])
print(json.dumps({{"rss_growth_mb": (current_rss_bytes() - rss0) / 2**20, "peak_growth_mb": (peak_rss_bytes() - peak0) / 2**20}}))
"""


@pytest.mark.memory
def test_memory_flat_over_long_video():
    code = _MEMORY_SCRIPT.format(here=str(_HERE))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=900)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\npose + mask 300 frames 720p: RSS growth {result['rss_growth_mb']:.2f} MB, peak growth "
          f"{result['peak_growth_mb']:.2f} MB")
    assert result["rss_growth_mb"] < 4 and result["peak_growth_mb"] < 4


if __name__ == "__main__":
    video = clip()
    report = {CASES[s]: measure(video, segmentation=s) for s in (False, True)}
    mp = mediapipe_fps(CASES.values())
    if mp:
        for case in CASES.values():
            report[case]["mediapipe_fps"] = mp["results"][case]["fps"]
            report[case]["speedup"] = report[case]["fps"] / mp["results"][case]["fps"]
    print(json.dumps(report, indent=1))
