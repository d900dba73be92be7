"""End-to-end pipelines: frames in, results out (model + native pre/post-processing)."""

from .frames import StageTimings
from .pose import Pose, PoseLandmarker
from .selfie import SelfieSegmenter, SelfieTimings

__all__ = ["Pose", "PoseLandmarker", "SelfieSegmenter", "SelfieTimings", "StageTimings"]
