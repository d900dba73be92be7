"""Face detection: MediaPipe's FaceDetection (short range, BlazeFace), end to end.

Reproduces MediaPipe 0.10.21's legacy ``FaceDetection(model_selection=0)`` graph: the whole
frame letterboxed into the 128x128 input with MediaPipe's ImageToTensor sampling (values in
``[-1, 1]``, zero border), the detector's head decoded against its SSD anchors, weighted
non-maximum suppression, and the detections mapped back to the frame (spec §5.1). Every
per-frame step is a native kernel.

Everything model-specific (input size, value range, sampling, anchors, decoding, NMS,
keypoint names) comes from the model card (``models/face_detection_short_range.toml``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Literal, Optional, Union

import numpy as np

from ..detections import Detections
from .detector import SsdDetector
from .frames import ModelPipeline, StageTimings, check_frame
from .loading import load_stage

__all__ = ["FaceDetector", "Face", "MODELS"]

# Short names; any zoo card with task "face_detection" and the same sections works too.
MODELS = {"short_range": "face_detection_short_range"}


@dataclass(eq=False, slots=True)
class Face:
    """One detected face, coordinates normalised to the frame (``x / W``, ``y / H``).

    ``box``: float32 ``[4]`` ``(xmin, ymin, xmax, ymax)``; ``keypoints``: float32 ``[6, 2]``
    ``(x, y)`` in the detector's order (``FaceDetector.keypoint_names``: right eye, left eye,
    nose tip, mouth centre, right ear tragion, left ear tragion; "right" is the subject's, on
    the image's left); ``score``: the detection probability. Boxes and keypoints may reach
    outside ``[0, 1]`` for a face cut by the frame edge.
    """

    box: np.ndarray
    keypoints: np.ndarray
    score: float

    def __post_init__(self) -> None:
        for name, value, shape in (("box", self.box, "[4]"), ("keypoints", self.keypoints, "[k, 2]")):
            if not isinstance(value, np.ndarray) or value.dtype != np.float32:
                raise TypeError(f"Face.{name} must be a float32 numpy array")
            if value.shape[-1:] != ((4,) if name == "box" else (2,)) or value.ndim != (1 if name == "box" else 2):
                raise ValueError(f"Face.{name} must have shape {shape}, got {value.shape}")
        self.score = float(self.score)

    def box_pixels(self, image_size: tuple[int, int]) -> np.ndarray:
        """The box in pixels of a frame of ``image_size = (width, height)``, float64."""
        width, height = image_size
        return self.box.astype(np.float64) * (width, height, width, height)


class FaceDetector(ModelPipeline):
    """Faces in RGB frames, as MediaPipe's short-range FaceDetection finds them.

    >>> detector = FaceDetector()
    >>> faces = detector(frame)               # list of Face, best first
    >>> faces[0].box, faces[0].keypoints[2]   # normalised box; nose tip

    * ``min_confidence``: detections scoring below it are dropped (MediaPipe's
      ``min_detection_confidence``).
    * ``runtime``, ``device``, ``threads``: as :func:`edgevision.runtime.load`.
    * ``model_path``: a local model file to use instead of fetching the card's file (its
      pre/post-processing still comes from ``model``'s card).
    * ``model``: ``"short_range"`` or the name of another face-detection card in the zoo.
    * ``channel_order``: ``"bgr"`` for OpenCV frames.

    Faces are in descending score order. :meth:`detect` returns the same as one
    :class:`~edgevision.Detections` (struct of arrays). Not thread-safe (it reuses its input
    tensor): use one per thread. ``timings`` holds the last call's :class:`StageTimings`
    (the whole call, and the runtime's inference time).
    """

    def __init__(
        self,
        *,
        min_confidence: float = 0.5,
        runtime: str = "auto",
        device: str = "cpu",
        threads: Optional[int] = None,
        model_path: Union[str, os.PathLike, None] = None,
        model: str = "short_range",
        channel_order: Literal["rgb", "bgr"] = "rgb",
    ):
        if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)):
            raise TypeError(f"min_confidence must be a number in [0, 1], got {type(min_confidence).__name__}")
        if not 0.0 <= float(min_confidence) <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        if not isinstance(model, str):
            raise TypeError(f"model must be 'short_range' or a zoo card name, got {type(model).__name__}")
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if model_path is not None and not isinstance(model_path, (str, os.PathLike)):
            raise TypeError(f"model_path must be a file path or None, got {type(model_path).__name__}")
        card_name = MODELS.get(model, model)
        spec = card_name if model_path is None else (card_name, model_path)
        card, loaded = load_stage(spec, "face_detection", "model", runtime=runtime, device=device, threads=threads)
        self.card = card
        self.model = loaded
        self.min_confidence = float(min_confidence)
        self.channel_order = channel_order
        self.keypoint_names: tuple[str, ...] = tuple(card.params["decode"].get("keypoints", ()))
        self._detector = SsdDetector(card, loaded, min_score=self.min_confidence, channel_order=channel_order)
        self.input_size: tuple[int, int] = self._detector.input_size
        self.timings = StageTimings()

    # ------------------------------------------------------------------------------- API

    def __call__(self, frame: np.ndarray) -> list[Face]:
        """The faces in an ``H x W x 3`` uint8 frame, best first (``[]`` when there is none)."""
        start = time.perf_counter()
        detections = self.detect(frame)
        faces = [Face(detections.boxes[i], detections.keypoints[i], detections.scores[i])
                 for i in range(len(detections))]
        self.timings.total_ms = (time.perf_counter() - start) * 1e3
        return faces

    def detect(self, frame: np.ndarray) -> Detections:
        """The faces as one :class:`~edgevision.Detections`, normalised to the frame, best first."""
        start = time.perf_counter()
        check_frame(frame)
        if self.model is None:
            raise RuntimeError("this FaceDetector is closed")
        detections = self._detector(frame)
        self.timings = StageTimings((time.perf_counter() - start) * 1e3, self.model.invoke_ms, 1)
        return detections

    def __repr__(self) -> str:
        w, h = self.input_size
        return (f"<FaceDetector {self.card.name} {w}x{h} min_confidence={self.min_confidence} "
                f"on {getattr(self.model, 'runtime', '?')}/{getattr(self.model, 'device', '?')}>")


