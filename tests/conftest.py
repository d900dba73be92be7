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


@pytest.fixture(scope="session", autouse=True)
def session_cache_home(tmp_path_factory):
    """The tests build many small models, and loading one may write an edited copy into the
    cache: those copies go to a folder of this session, not into the user's cache. Fetched
    models (and their ONNX conversions) and the SAM 2 test export stay in the user's cache,
    fetched or made once for every run."""
    from edgevision import models

    shared = models.cache_home()
    home = tmp_path_factory.mktemp("edgevision-home")
    try:
        for folder in ("models", "test-cache"):
            (shared / folder).mkdir(parents=True, exist_ok=True)
            (home / folder).symlink_to(shared / folder, target_is_directory=True)
    except OSError:  # no writable cache or no symlinks here: the tests use the cache as it is
        yield shared
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EDGEVISION_HOME", str(home))
        patch.setenv("EDGEVISION_TEST_CACHE", os.environ.get("EDGEVISION_TEST_CACHE") or str(shared / "test-cache"))
        yield home


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
