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

from .. import kernels
from ..detections import Detections
from .frames import ModelPipeline, StageTimings, check_frame

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
    tensor): use one per thread. ``timings`` holds the last call's :class:`StageTimings`.
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
        from .. import models
        from .. import runtime as runtime_module

        if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)):
            raise TypeError(f"min_confidence must be a number in [0, 1], got {type(min_confidence).__name__}")
        if not 0.0 <= float(min_confidence) <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        if not isinstance(model, str):
            raise TypeError(f"model must be 'short_range' or a zoo card name, got {type(model).__name__}")
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        card_name = MODELS.get(model, model)
        try:
            card = models.card(card_name)
        except (KeyError, ValueError, models.CardError) as e:
            raise ValueError(f"model must be one of {sorted(MODELS)} or a face-detection card name, got {model!r} "
                             f"({e})") from None
        if card.task != "face_detection" or card.kind != "model":
            raise ValueError(f"model: card {card.name!r} is a {card.task} {card.kind}, not a face-detection model")

        self.card = card
        self.min_confidence = float(min_confidence)
        self.channel_order = channel_order
        source = card.name if model_path is None else model_path
        self.model = runtime_module.load(source, runtime=runtime, device=device, threads=threads)

        pre, decode, nms = card.params["preprocess"], card.params["decode"], card.params.get("nms", {})
        self.input_size: tuple[int, int] = tuple(pre["size"])  # (w, h)
        self.keypoint_names: tuple[str, ...] = tuple(decode.get("keypoints", ()))
        self._keep_aspect = bool(pre.get("keep_aspect", True))
        self._value_range = tuple(pre.get("value_range", (-1.0, 1.0)))
        self._border = pre.get("border", "zero")
        self._sampling = pre.get("sampling", "mediapipe")
        w, h = self.input_size
        info = self.model.inputs[0]
        self._layout = "nchw" if tuple(info.shape) == (1, 3, h, w) else "nhwc"
        expected = (1, 3, h, w) if self._layout == "nchw" else (1, h, w, 3)
        if not info.accepts_shape(expected):
            raise ValueError(f"model: input {info.name!r} has shape {list(info.shape)}, but card {card.name!r} "
                             f"describes a {w}x{h} image input")
        raw = info.dtype == np.uint8 and info.takes_raw_pixels(self._value_range)
        self._dtype = "uint8" if raw else "float32"
        self._tensor = np.empty(expected, np.uint8 if raw else np.float32)
        self._boxes_index, self._scores_index = _head_outputs(self.model, card)

        anchor_options = {k: v for k, v in card.params["anchors"].items() if k != "count"}
        anchor_options["input_size"] = tuple(anchor_options["input_size"])
        anchor_options["anchor_offset"] = tuple(anchor_options.get("anchor_offset", (0.5, 0.5)))
        anchors = kernels.ssd_anchors(**anchor_options)
        method = {"weighted": "weighted", "hard": "hard"}.get(nms.get("algorithm", "weighted"))
        if method is None:
            raise ValueError(f"model: card {card.name!r} asks for NMS {nms.get('algorithm')!r}; "
                             "only 'weighted' and 'hard' are supported")
        self._decoder = kernels.DetectionDecoder(
            anchors,
            scale=tuple(decode["scale"]),
            num_keypoints=int(decode["num_keypoints"]),
            min_score=self.min_confidence,
            score_clip=decode.get("score_clipping_thresh", 100.0),
            keypoint_offset=int(decode.get("keypoint_coord_offset", 4)),
            box_format=decode.get("box_format", "xywh"),
            score_activation="sigmoid" if decode.get("sigmoid_score", True) else "none",
            nms=method,
            iou_threshold=float(nms.get("min_suppression_threshold", 0.3)),
        )
        self.timings = StageTimings()

    # ------------------------------------------------------------------------------- API

    def __call__(self, frame: np.ndarray) -> list[Face]:
        """The faces in an ``H x W x 3`` uint8 frame, best first (``[]`` when there is none)."""
        detections = self.detect(frame)
        start = time.perf_counter()
        faces = [Face(detections.boxes[i], detections.keypoints[i], detections.scores[i])
                 for i in range(len(detections))]
        self.timings.postprocess_ms += (time.perf_counter() - start) * 1e3
        return faces

    def detect(self, frame: np.ndarray) -> Detections:
        """The faces as one :class:`~edgevision.Detections`, normalised to the frame, best first."""
        check_frame(frame)
        if self.model is None:
            raise RuntimeError("this FaceDetector is closed")
        start = time.perf_counter()
        tensor, transform = kernels.letterbox(
            frame, self.input_size, keep_aspect=self._keep_aspect, value_range=self._value_range,
            layout=self._layout, border=self._border, sampling=self._sampling, dtype=self._dtype,
            channel_order=self.channel_order, out=self._tensor,
        )
        mid = time.perf_counter()
        outputs = self.model.run(tensor)
        end = time.perf_counter()
        detections = self._decoder(outputs[self._boxes_index], outputs[self._scores_index]).to_image(transform)
        self.timings.preprocess_ms = (mid - start) * 1e3
        self.timings.inference_ms = (end - mid) * 1e3
        self.timings.postprocess_ms = (time.perf_counter() - end) * 1e3
        return detections

    def __repr__(self) -> str:
        w, h = self.input_size
        return (f"<FaceDetector {self.card.name} {w}x{h} min_confidence={self.min_confidence} "
                f"on {getattr(self.model, 'runtime', '?')}/{getattr(self.model, 'device', '?')}>")


def _head_outputs(model, card) -> tuple[int, int]:
    """Indices of the box regressors and the scores among the model's outputs: by the card's
    names, else by shape (the scores have one value per anchor)."""
    names = [o.name for o in model.outputs]
    wanted = [o.name for o in card.outputs]
    if len(wanted) == 2 and all(n in names for n in wanted):
        return names.index(wanted[0]), names.index(wanted[1])
    if len(names) != 2:
        raise ValueError(f"model: expected two outputs (box regressors, scores), got {len(names)}: {names}")
    last = [o.shape[-1] for o in model.outputs]
    return (1, 0) if last[0] == 1 else (0, 1)
