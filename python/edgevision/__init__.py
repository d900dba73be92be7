"""edgevision: on-device vision models from Python, with native pre- and post-processing."""

from importlib.metadata import PackageNotFoundError, version

from . import kernels
from ._native import Rect, Transform
from .detections import Detections

try:
    __version__ = version("edgevision")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

_PIPELINES = ("Face", "Face3DMM", "FaceDetector", "FaceLandmarker", "FaceLandmarks", "FaceMap3DMM", "Pose",
              "PoseLandmarker", "Sam2Predictor", "SelfieSegmenter")

__all__ = ["Detections", "Rect", "Transform", "build_info", "kernels", "__version__", *_PIPELINES]


def __getattr__(name: str):
    # Pipelines load lazily: importing edgevision stays cheap (no runtime or model zoo import).
    if name in _PIPELINES:
        from . import pipelines

        return getattr(pipelines, name)
    raise AttributeError(f"module 'edgevision' has no attribute {name!r}")


def build_info() -> dict:
    """How the native core was built and which SIMD path it runs (``"isa"``)."""
    from ._native import build_info as native_build_info

    return {"version": __version__, **native_build_info()}
