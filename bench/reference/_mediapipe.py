"""Shared by the reference scripts: ``samples.py`` loaded by path, and MediaPipe solutions that
also expose the graphs' intermediate streams (detections, ROIs, un-cleared landmark presence).

Run with the MediaPipe venv (``mediapipe==0.10.21``, numpy < 2); nothing here imports edgevision.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_samples():
    """``python/edgevision/samples.py`` as a stand-alone module (numpy only, no edgevision)."""
    path = REPO / "python" / "edgevision" / "samples.py"
    spec = importlib.util.spec_from_file_location("edgevision_samples_by_path", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if "edgevision" in sys.modules:  # the point of loading by path
        raise RuntimeError("samples.py pulled in the edgevision package")
    return module


def traced_solutions():
    """``{"pose", "face_mesh"}`` -> subclasses of the MediaPipe solutions with extra outputs.

    The subclass keeps the solution's own ``__init__`` (side packets, calculator params, model
    files) and ``process``; a mixin between it and ``SolutionBase`` only appends graph output
    streams to observe and records landmark ``presence`` before ``Pose.process`` clears it.
    Observing more streams does not change what the graph computes.
    """
    from mediapipe.python.solution_base import SolutionBase
    from mediapipe.python.solutions import face_mesh, pose

    class _ExtraOutputs(SolutionBase):
        extra_outputs: tuple[str, ...] = ()

        def __init__(self, **kwargs):
            kwargs["outputs"] = list(kwargs["outputs"]) + list(self.extra_outputs)
            super().__init__(**kwargs)

        def process(self, input_data):
            results = super().process(input_data)
            self.raw_presence = {}
            for field in ("pose_landmarks", "pose_world_landmarks"):
                landmarks = getattr(results, field, None)
                if landmarks is not None:
                    self.raw_presence[field] = [lm.presence for lm in landmarks.landmark]
            return results

    class TracedPose(pose.Pose, _ExtraOutputs):
        extra_outputs = ("pose_detection", "pose_rect_from_detection", "pose_rect_from_landmarks")

    class TracedFaceMesh(face_mesh.FaceMesh, _ExtraOutputs):
        extra_outputs = ("face_detections", "face_rects_from_detections", "face_rects_from_landmarks")

    return {"pose": TracedPose, "face_mesh": TracedFaceMesh}
