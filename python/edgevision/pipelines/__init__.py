"""End-to-end pipelines: frames in, results out (model + native pre/post-processing)."""

from .selfie import SelfieSegmenter, SelfieTimings

__all__ = ["SelfieSegmenter", "SelfieTimings"]
