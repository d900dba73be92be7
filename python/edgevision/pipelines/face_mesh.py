"""Face landmarks: MediaPipe's Face Mesh (BlazeFace short range + the 468-point model), end to end.

Reproduces MediaPipe 0.10.21's legacy ``FaceMesh`` (``refine_landmarks=False``, spec §5): the
detector on the whole frame, a square rotated crop per face (the detection box, rotated by
the eyes, 1.5 x its long side), the landmark model, projection back to the frame. In video
mode the next crop comes from the landmarks (their box, rotated by the outer eye corners
33 -> 263), and the detector runs only while fewer than ``max_faces`` faces are tracked.
Crops of detections and tracked faces are merged as MediaPipe's AssociationNormRect does
(IoU of the axis-aligned boxes > 0.5: the later one replaces the earlier). Face Mesh has no
landmark smoothing. Every number comes from the model cards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal, Mapping, Optional

import numpy as np

from .._native import Rect
from .arguments import check_choice, check_count, check_probability, stage_specs
from .detector import SsdDetector
from .frames import ModelPipeline, StageTimings, check_frame
from .landmark_stage import LandmarkStage
from .loading import ModelSpec, load_stage
from .roi_rules import RoiRule, rect_iou

__all__ = ["FaceLandmarker", "FaceLandmarks", "DEFAULT_MODELS"]

DEFAULT_MODELS = {"detector": "face_detection_short_range", "landmarks": "face_landmark"}


@dataclass(eq=False)
class FaceLandmarks:
    """One face. ``landmarks`` float32 ``[468, 3]``: x, y normalised to the frame, z in the
    units of x (``z * width`` is pixels; smaller is nearer the camera); ``score`` the landmark
    model's face presence; ``roi`` the crop it saw (pixels, radians)."""

    landmarks: np.ndarray
    score: float
    roi: Rect


class FaceLandmarker(ModelPipeline):
    """468 face landmarks per face in RGB frames (MediaPipe Face Mesh).

    >>> mesh = FaceLandmarker(mode="video", max_faces=2)
    >>> for frame in frames:
    ...     faces = mesh(frame)               # list of FaceLandmarks, empty when no face

    * ``mode``: ``"image"`` (detector on every frame) or ``"video"`` (frames of one stream:
      each face is tracked from its previous landmarks, the detector runs only while fewer
      than ``max_faces`` are tracked).
    * ``max_faces``: at most this many faces are returned. (MediaPipe can return up to
      ``2 * max_faces - 1`` for a frame where the detector found new faces next to tracked
      ones; here tracked faces are kept first, then new ones in detection order.)
    * ``min_detection_confidence``: detector score threshold; ``min_tracking_confidence``:
      the landmark model's presence threshold (at or below it the face is dropped/lost).
    * ``runtime``, ``device``, ``threads``: as :func:`edgevision.runtime.load` (both models).
    * ``models``: ``{"detector": ..., "landmarks": ...}``, each a card name, a model path or
      a ``(card name, path)`` pair (default: MediaPipe's face_detection_short_range and
      face_landmark).
    * ``channel_order``: ``"bgr"`` for OpenCV frames.

    Faces come in MediaPipe's order: new detections first, then tracked faces. A frame of
    another size starts a new stream (as :meth:`reset`). Not thread-safe (per-stream state,
    reused buffers): one per thread. ``timings`` holds the last call's
    :class:`StageTimings`; ``detector_runs`` counts detector invocations since construction.
    """

    def __init__(
        self,
        *,
        mode: Literal["image", "video"] = "image",
        max_faces: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        runtime: str = "auto",
        device: str = "cpu",
        threads: Optional[int] = None,
        models: Optional[Mapping[str, ModelSpec]] = None,
        channel_order: Literal["rgb", "bgr"] = "rgb",
    ):
        check_choice("mode", mode, ("image", "video"))
        check_count("max_faces", max_faces)
        min_detection_confidence = check_probability("min_detection_confidence", min_detection_confidence)
        min_tracking_confidence = check_probability("min_tracking_confidence", min_tracking_confidence)
        check_choice("channel_order", channel_order, ("rgb", "bgr"))
        specs = stage_specs(models, DEFAULT_MODELS)

        load = dict(runtime=runtime, device=device, threads=threads)
        detector_card, detector_model = load_stage(specs["detector"], "face_detection", "models['detector']", **load)
        landmark_card, landmark_model = load_stage(specs["landmarks"], "face_landmarks", "models['landmarks']",
                                                   **load)
        self.mode = mode
        self.max_faces = max_faces
        self.channel_order = channel_order
        self.detector = SsdDetector(detector_card, detector_model, min_score=min_detection_confidence,
                                    channel_order=channel_order)
        self.landmarker = LandmarkStage(landmark_card, landmark_model, min_presence=min_tracking_confidence,
                                        channel_order=channel_order)
        self.model = landmark_model
        self._detection_roi = RoiRule.from_card(detector_card.params["roi"], start_key="start_keypoint",
                                                end_key="end_keypoint")
        tracking = landmark_card.params["tracking_roi"]
        self._tracking_roi = RoiRule.from_card(tracking, start_key="start_landmark", end_key="end_landmark")
        self._association_iou = float(tracking.get("association_iou", 0.5))
        self.timings = StageTimings()
        self.detector_runs = 0
        self.reset()

    # ------------------------------------------------------------------------------- API

    def __call__(self, frame: np.ndarray) -> list[FaceLandmarks]:
        """The faces in ``frame`` (``H x W x 3`` uint8)."""
        if self.model is None:
            raise RuntimeError("this FaceLandmarker is closed")
        start = time.perf_counter()
        height, width = check_frame(frame)
        size = (width, height)
        if self.mode == "video" and size != self._size:
            self.reset()  # a new stream: tracked crops do not carry over
            self._size = size
        tracked = self._tracked if self.mode == "video" else []
        inference = 0.0
        detector_runs = 0
        new: list[Rect] = []
        if len(tracked) < self.max_faces:
            detections = self.detector(frame)
            inference += self.detector.model.invoke_ms
            detector_runs = 1
            for k in range(min(len(detections), self.max_faces)):
                new.append(self._detection_roi.from_points(detections.keypoints[k], detections.boxes[k], size))
        rois = self._associate(new, tracked)
        faces: list[FaceLandmarks] = []
        next_tracked: list[Rect] = []
        for roi in rois:
            result = self.landmarker(frame, roi, size)
            inference += self.landmarker.model.invoke_ms
            if result is None:
                continue
            faces.append(FaceLandmarks(result.landmarks, result.presence, result.rect))
            next_tracked.append(self._tracking_roi.from_points(result.landmarks, None, size))
        if self.mode == "video":
            self._tracked = next_tracked
        self.detector_runs += detector_runs
        self.timings = StageTimings((time.perf_counter() - start) * 1e3, inference, detector_runs)
        return faces

    def reset(self) -> None:
        """Start a new stream: forget the tracked faces."""
        self._tracked: list[Rect] = []
        self._size: Optional[tuple[int, int]] = None

    def close(self) -> None:
        super().close()
        self.detector = None
        self.landmarker = None

    def __repr__(self) -> str:
        if self.model is None:
            return "<FaceLandmarker (closed)>"
        return (f"<FaceLandmarker {self.detector.card.name} + {self.landmarker.card.name} mode={self.mode!r} "
                f"max_faces={self.max_faces} on {self.model.runtime}/{self.model.device}>")

    # -------------------------------------------------------------------------- internals

    def _associate(self, new: list[Rect], tracked: list[Rect]) -> list[Rect]:
        """MediaPipe's AssociationNormRect over the detection crops, then the tracked ones: a
        crop overlapping an earlier one by IoU > threshold replaces it. Then at most
        ``max_faces``, tracked crops first."""
        merged: list[tuple[Rect, bool]] = []
        for rect, is_tracked in [(r, False) for r in new] + [(r, True) for r in tracked]:
            merged = [m for m in merged if rect_iou(rect, m[0]) <= self._association_iou]
            merged.append((rect, is_tracked))
        excess = len(merged) - self.max_faces
        if excess > 0:
            dropped = [k for k, (_, is_tracked) in enumerate(merged) if not is_tracked][-excess:]
            merged = [m for k, m in enumerate(merged) if k not in dropped]
        return [rect for rect, _ in merged]
