"""MediaPipe 0.10.21's outputs on the reference inputs (committed fixtures, made by
``bench/reference/make_fixtures.py``), for the parity tests."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from edgevision import samples

FIXTURES = Path(__file__).parent / "fixtures" / "mediapipe"


@functools.cache
def reference_frames(name: str) -> tuple[np.ndarray, ...]:
    """The frames of ``samples.reference_input(name)`` (computed once per test session)."""
    return tuple(samples.reference_input(name))


def load_fixture(task: str, name: str) -> dict[str, np.ndarray]:
    """Every array of ``fixtures/mediapipe/<task>/<name>.npz``."""
    with np.load(FIXTURES / task / f"{name}.npz") as data:
        return {key: data[key] for key in data.files}
