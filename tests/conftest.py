"""Shared fixtures: reference images, a seeded RNG, the SIMD-path switch."""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np
import pytest
import skimage.data
from hypothesis import settings

# Make tests/reference.py and tests/images.py importable whatever pytest's import mode is.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

settings.register_profile("edgevision", max_examples=50, deadline=None, print_blob=True)
settings.load_profile("edgevision")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """512 x 512 x 3 RGB photo with sharp edges and smooth areas."""
    return skimage.data.astronaut()


@pytest.fixture(scope="session")
def camera3() -> np.ndarray:
    """skimage's 512 x 512 grayscale camera, stacked to 3 channels."""
    return np.ascontiguousarray(np.repeat(skimage.data.camera()[..., None], 3, axis=2))


@pytest.fixture(scope="session")
def astronaut_720p(astronaut) -> np.ndarray:
    return cv2.resize(astronaut, (1280, 720), interpolation=cv2.INTER_LINEAR)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def force_isa():
    """Call ``force_isa(name)`` to pin a SIMD path; automatic selection is restored after."""
    from edgevision import _native

    try:
        yield _native._force_isa
    finally:
        _native._force_isa(None)
