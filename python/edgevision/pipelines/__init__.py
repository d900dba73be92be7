"""End-to-end pipelines: frames in, results out (model + native pre/post-processing)."""

from .sam2 import Sam2Prediction, Sam2Predictor, Sam2Timings
from .selfie import SelfieSegmenter, SelfieTimings

__all__ = ["Sam2Prediction", "Sam2Predictor", "Sam2Timings", "SelfieSegmenter", "SelfieTimings"]
