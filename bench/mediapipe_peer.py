"""The MediaPipe side of the pipeline benchmarks: ``bench/reference/mediapipe_speed.py`` run
through the python named by ``EDGEVISION_MEDIAPIPE_PYTHON`` (a venv with mediapipe==0.10.21,
which needs numpy < 2 and so cannot share our environment)."""

from __future__ import annotations

import json
import os
import pathlib
import statistics
import subprocess
from typing import Callable, Iterable, Optional

import pytest

_SCRIPT = pathlib.Path(__file__).resolve().parent / "reference" / "mediapipe_speed.py"
# Rounds of the interleaved comparison (EDGEVISION_BENCH_ROUNDS).
ROUNDS = int(os.environ.get("EDGEVISION_BENCH_ROUNDS", "3"))


def mediapipe_fps(cases: Iterable[str], frames: int = 120) -> Optional[dict]:
    """MediaPipe's report for ``cases`` on the 720p clip, or None without the venv."""
    python = os.environ.get("EDGEVISION_MEDIAPIPE_PYTHON")
    if not python:
        return None
    cmd = [python, str(_SCRIPT), "--frames", str(frames)]
    for case in cases:
        cmd += ["--case", case]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=900)
    return json.loads(done.stdout)


def mediapipe_or_skip(cases: Iterable[str]) -> dict:
    report = mediapipe_fps(cases)
    if report is None:
        pytest.skip("set EDGEVISION_MEDIAPIPE_PYTHON to a python with mediapipe==0.10.21 to compare")
    return report


def interleaved_speedup(case: str, ours: Callable[[], float], *, rounds: int = ROUNDS) -> dict:
    """Our frames/s over MediaPipe's for ``case``, measured in alternating rounds (MediaPipe's
    run, then ``ours()``), so that a host whose speed drifts (a shared VM) slows both sides
    alike: the median of the per-round ratios, and each round's (ours, MediaPipe) frames/s.
    Skips without the MediaPipe venv."""
    rounds_fps = []
    for _ in range(rounds):
        theirs = mediapipe_or_skip([case])["results"][case]["fps"]
        rounds_fps.append((ours(), theirs))
    return {"speedup": statistics.median(m / t for m, t in rounds_fps), "rounds_fps": rounds_fps}
