"""End-to-end pipelines: frames in, results out (model + native pre/post-processing)."""

from .face_detection import Face, FaceDetector
from .frames import StageTimings
from .selfie import SelfieSegmenter, SelfieTimings

__all__ = ["Face", "FaceDetector", "SelfieSegmenter", "SelfieTimings", "StageTimings"]
