"""Memory stays flat across a long video when ``out=`` buffers are reused.

Run::

    python -m pytest bench -m memory                 # just this check
    python -m pytest bench --benchmark-only          # also runs it (it times one pipeline frame)
    python bench/test_memory.py                      # the video loop alone, prints JSON

A fresh interpreter runs the per-frame pipeline (letterbox -> warp_roi -> resize_mask
-> composite, every output into a reused buffer, backgrounds cycling blur / colour /
image) for a warm-up and then 300 frames; the growth of its peak RSS
(``resource.getrusage().ru_maxrss``) and of its current RSS (``/proc/self/statm``,
Linux) over those 300 frames must stay under ``EDGEVISION_BENCH_RSS_LIMIT_MB``
(default 4 MB). A fresh process is used because the peak RSS of the pytest process
already includes every earlier benchmark, which would hide growth.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

FRAMES = 300
WARMUP = 30
LIMIT_MB = float(os.environ.get("EDGEVISION_BENCH_RSS_LIMIT_MB", "4"))
_HERE = pathlib.Path(__file__).resolve().parent


def peak_rss_bytes() -> int:
    import resource  # noqa: PLC0415  (POSIX only)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # macOS: bytes, Linux: KiB


def current_rss_bytes():
    """Resident set size now (Linux), else ``None``."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class Pipeline:
    """One video frame's worth of edgevision work, all outputs into preallocated buffers."""

    def __init__(self, ek, frame, mask):
        h, w = frame.shape[:2]
        self.ek, self.size = ek, (w, h)
        self.rect = ek.Rect(w / 2, h / 2, 500 * h / 720, 500 * h / 720, 0.5)
        self.tensor = np.empty((1, 256, 256, 3), np.float32)
        self.crop = np.empty((1, 256, 256, 3), np.float32)
        self.mask_f = np.empty((h, w), np.float32)
        self.mask_u8 = np.empty((h, w), np.uint8)
        self.out = np.empty_like(frame)
        self.bg_image = np.ascontiguousarray(frame[::-1])  # any frame-sized image
        self.mask = mask

    def __call__(self, frame, i=0):
        ek = self.ek
        tensor, tf = ek.letterbox(frame, (256, 256), out=self.tensor)
        crop, _ = ek.warp_roi(frame, self.rect, (256, 256), out=self.crop)
        m = ek.resize_mask(self.mask, self.size, transform=tf, out=self.mask_f)
        mu8 = ek.resize_mask(self.mask, self.size, transform=tf, threshold=0.5, out=self.mask_u8)
        background = ("blur", (0, 177, 64), self.bg_image)[i % 3]
        result = ek.composite(frame, m if i % 2 == 0 else mu8, background, blur_sigma=8, out=self.out)
        return tensor, crop, m, mu8, result

    def check_buffers(self, outputs):
        for got, buf in zip(outputs, (self.tensor, self.crop, self.mask_f, self.mask_u8, self.out)):
            assert np.shares_memory(got, buf), "a kernel ignored its out= buffer"


def run_video(frames: int = FRAMES, warmup: int = WARMUP) -> dict:
    """Warm up, then run ``frames`` frames; RSS figures in bytes."""
    import edgevision.kernels as ek  # noqa: PLC0415

    from edgevision import speed as report  # noqa: PLC0415
    base = report.make_frame()
    video = [np.ascontiguousarray(np.roll(base, 8 * k, axis=1)) for k in range(4)]  # moving content
    masks = [report.make_mask(), np.ascontiguousarray(report.make_mask()[:, ::-1])]
    pipe = Pipeline(ek, base, masks[0])
    for i in range(warmup):
        pipe.mask = masks[i % 2]
        pipe.check_buffers(pipe(video[i % 4], i))
    peak0, rss0 = peak_rss_bytes(), current_rss_bytes()
    for i in range(frames):
        pipe.mask = masks[i % 2]
        pipe(video[i % 4], i)
    pipe.check_buffers(pipe(video[0], 0))
    peak1, rss1 = peak_rss_bytes(), current_rss_bytes()
    return {
        "frames": frames,
        "peak_before": peak0,
        "peak_after": peak1,
        "rss_before": rss0,
        "rss_after": rss1,
    }


@pytest.mark.memory
@pytest.mark.benchmark(group="pipeline 1280x720 (memory test)", max_time=0.3, min_rounds=10, warmup=True, warmup_iterations=10)
def test_memory_flat_over_long_video(benchmark, ek, frame, mask):
    pytest.importorskip("resource")
    # In-process: time one pipeline frame (all out= buffers reused) and check the reuse.
    pipe = Pipeline(ek, frame, mask)
    benchmark.extra_info["role"] = "pipeline"
    pipe.check_buffers(benchmark(pipe, frame, 0))

    # Fresh interpreter for a meaningful peak RSS; same sys.path so it imports the same build.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.run(
        [sys.executable, str(pathlib.Path(__file__).resolve())],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, f"video loop failed:\n{proc.stdout}\n{proc.stderr}"
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    mb = 1024 * 1024
    peak_growth = (res["peak_after"] - res["peak_before"]) / mb
    benchmark.extra_info.update(peak_rss_growth_mb=round(peak_growth, 3), peak_rss_mb=round(res["peak_after"] / mb, 1))
    assert peak_growth < LIMIT_MB, f"peak RSS grew {peak_growth:.2f} MB over {res['frames']} frames (limit {LIMIT_MB} MB)"
    if res["rss_before"] is not None:
        rss_growth = (res["rss_after"] - res["rss_before"]) / mb
        benchmark.extra_info["rss_growth_mb"] = round(rss_growth, 3)
        assert rss_growth < LIMIT_MB, f"RSS grew {rss_growth:.2f} MB over {res['frames']} frames (limit {LIMIT_MB} MB)"


if __name__ == "__main__":
    print(json.dumps(run_video()))


_FRESH_PROCESS = """
import json, sys
sys.path.insert(0, {here!r})
from test_memory import current_rss_bytes, peak_rss_bytes
{setup}
for k in range({warmup}):
    step(k)
rss0, peak0 = current_rss_bytes(), peak_rss_bytes()
for k in range({frames}):
    step(k)
print(json.dumps({{"rss_growth_mb": (current_rss_bytes() - rss0) / 2**20,
                  "peak_growth_mb": (peak_rss_bytes() - peak0) / 2**20}}))
"""


def growth_in_fresh_process(setup: str, *, warmup: int = 30, frames: int = 300) -> dict:
    """RSS and peak-RSS growth (MB) over ``frames`` calls of ``step(k)``, which ``setup`` (Python
    source, run in a new interpreter with ``bench/`` on the path) defines, after ``warmup`` calls.
    A fresh process, because the pytest process's peak RSS reflects everything before."""
    code = _FRESH_PROCESS.format(here=str(pathlib.Path(__file__).resolve().parent), setup=setup, warmup=warmup,
                                 frames=frames)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=900)
    return json.loads(done.stdout.strip().splitlines()[-1])
