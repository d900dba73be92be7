"""End-to-end pipelines: frames in, results out (model + native pre/post-processing)."""

from .face_detection import Face, FaceDetector
from .face_mesh import FaceLandmarker, FaceLandmarks
from .facemap_3dmm import Face3DMM, FaceMap3DMM
from .frames import StageTimings
from .pose import Pose, PoseLandmarker
from .sam2 import Sam2Prediction, Sam2Predictor, Sam2Timings
from .selfie import SelfieSegmenter, SelfieTimings

__all__ = ["Face", "Face3DMM", "FaceDetector", "FaceLandmarker", "FaceLandmarks", "FaceMap3DMM", "Pose",
           "PoseLandmarker", "Sam2Prediction", "Sam2Predictor", "Sam2Timings", "SelfieSegmenter", "SelfieTimings",
           "StageTimings"]
