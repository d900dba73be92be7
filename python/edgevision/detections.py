"""Detector outputs to detections: SSD anchors, decoding, non-maximum suppression.

Semantics are MediaPipe's SsdAnchorsCalculator, TensorsToDetectionsCalculator,
NonMaxSuppressionCalculator and DetectionProjectionCalculator, computed natively in
float32. Anchors, decoding (boxes, keypoints, scores) and IoU tests follow MediaPipe's
order of operations and agree with it to the last bit; weighted NMS sums each cluster in
float32 in index order rather than score order (no sort), which agrees to float32 rounding
(~1e-7 relative); projection runs in double and rounds once. Equal scores are visited by
index (MediaPipe leaves their order undefined), so results are deterministic.
Coordinates are normalised: ``x`` relative to the width, ``y`` to the height, of the
model input (after decoding) or of the image (after :meth:`Detections.to_image`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Sequence, Union

import numpy as np

from . import _native
from ._native import Transform

__all__ = ["Detections", "DetectionDecoder", "ssd_anchors", "decode_detections", "nms"]

HeadTensor = Union[np.ndarray, Sequence[np.ndarray]]


def _check_array(name: str, value, ndim: int, last: int | None) -> None:
    if not isinstance(value, np.ndarray):
        raise TypeError(f"Detections.{name} must be a numpy.ndarray, got {type(value).__name__}")
    if value.dtype != np.float32:
        raise TypeError(f"Detections.{name} must be float32, got dtype {value.dtype}")
    if value.ndim != ndim or (last is not None and value.shape[-1] != last):
        want = {1: "[n]", 2: "[n, 4]", 3: "[n, k, 2]"}[ndim]
        raise ValueError(f"Detections.{name} must have shape {want}, got {value.shape}")


@dataclass(eq=False, slots=True)
class Detections:
    """Detections as a struct of arrays, best first after :func:`nms`.

    ``boxes`` ``[n, 4]`` float32: ``(xmin, ymin, xmax, ymax)``; ``keypoints`` ``[n, k, 2]``
    float32: ``(x, y)``; ``scores`` ``[n]`` float32: probabilities; ``class_ids`` ``[n]``
    int32: the class each score belongs to (0 for single-class detectors; ``None`` at
    construction means all 0, other integer dtypes are converted). Checked at construction
    (dtype, shapes, equal lengths, no NaN score).
    """

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    class_ids: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        _check_array("boxes", self.boxes, 2, 4)
        _check_array("keypoints", self.keypoints, 3, 2)
        _check_array("scores", self.scores, 1, None)
        n = (len(self.boxes), len(self.keypoints), len(self.scores))
        if n[0] != n[1] or n[0] != n[2]:
            raise ValueError(f"Detections: boxes, keypoints and scores must have the same length, got {n}")
        if np.isnan(self.scores).any():
            raise ValueError("Detections.scores must not contain NaN")
        self.class_ids = _class_ids(self.class_ids, n[0])

    @classmethod
    def _trusted(
        cls, boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, class_ids: np.ndarray
    ) -> "Detections":
        """Wrap arrays the native code just made (already valid) without re-checking them."""
        obj = object.__new__(cls)
        obj.boxes = boxes
        obj.keypoints = keypoints
        obj.scores = scores
        obj.class_ids = class_ids
        return obj

    @classmethod
    def empty(cls, num_keypoints: int = 0) -> "Detections":
        return cls._trusted(
            np.zeros((0, 4), np.float32), np.zeros((0, num_keypoints, 2), np.float32), np.zeros(0, np.float32),
            np.zeros(0, np.int32),
        )

    @property
    def num_keypoints(self) -> int:
        return self.keypoints.shape[1]

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index) -> "Detections":
        """A subset: ``dets[0]`` (kept as a list of one), ``dets[:2]``, ``dets[mask]``."""
        if isinstance(index, (int, np.integer)):
            i = range(len(self))[index]  # IndexError when out of range
            index = slice(i, i + 1)
        return Detections(self.boxes[index], self.keypoints[index], self.scores[index], self.class_ids[index])

    def to_image(self, transform: Transform) -> "Detections":
        """Map to the image through ``transform`` (from :func:`~edgevision.kernels.letterbox` or
        :func:`~edgevision.kernels.warp_roi`), still normalised, now to the image.

        Keypoints map through ``transform.normalized_matrix`` (MediaPipe's MATRIX); boxes
        become the bounds of their four mapped corners (DetectionProjectionCalculator).
        For the transform of ``letterbox(..., sampling="mediapipe")`` this is MediaPipe's
        letterbox removal: ``x' = (x - left) / (1 - left - right)``, likewise ``y``.
        """
        boxes, keypoints = _native.project_detections(self.boxes, self.keypoints, self.scores, transform)
        return Detections._trusted(boxes, keypoints, self.scores.copy(), self.class_ids.copy())

    def __repr__(self) -> str:
        top = f", top_score={float(self.scores.max()):.4f}" if len(self) else ""
        return f"Detections(n={len(self)}, num_keypoints={self.num_keypoints}{top})"


def _class_ids(value, n: int) -> np.ndarray:
    if value is None:
        return np.zeros(n, np.int32)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"Detections.class_ids must be a numpy.ndarray or None, got {type(value).__name__}")
    if value.dtype.kind not in "iu":
        raise TypeError(f"Detections.class_ids must be an integer array, got dtype {value.dtype}")
    if value.shape != (n,):
        raise ValueError(f"Detections.class_ids must have shape [{n}], got {value.shape}")
    if value.dtype != np.int32:
        if len(value) and (value.min() < np.iinfo(np.int32).min or value.max() > np.iinfo(np.int32).max):
            raise ValueError("Detections.class_ids must fit in int32")
        value = value.astype(np.int32)
    return value


def ssd_anchors(
    *,
    input_size: tuple[int, int],
    strides: Sequence[int],
    num_layers: int | None = None,
    min_scale: float,
    max_scale: float,
    aspect_ratios: Sequence[float] = (1.0,),
    anchor_offset: tuple[float, float] = (0.5, 0.5),
    fixed_anchor_size: bool = True,
    interpolated_scale_aspect_ratio: float = 1.0,
    reduce_boxes_in_lowest_layer: bool = False,
) -> np.ndarray:
    """SSD anchors as MediaPipe's SsdAnchorsCalculator builds them: float32 ``[n, 4]`` of
    ``(x_center, y_center, width, height)``, normalised.

    ``input_size = (width, height)``; ``strides`` one per layer (``num_layers``, default
    ``len(strides)``). Consecutive layers with the same stride share one grid of
    ``ceil(height / stride) x ceil(width / stride)`` cells; per cell, row-major, come one
    anchor per aspect ratio per layer plus, if ``interpolated_scale_aspect_ratio > 0``, one
    of scale ``sqrt(s_l * s_{l+1})`` per layer (``s_l`` linear from ``min_scale`` to
    ``max_scale``; 1 after the last). Centres are ``((x + offset_x) / cols, (y + offset_y) /
    rows)``; with ``fixed_anchor_size`` every anchor is 1 x 1.

    MediaPipe's pose detector (224 px, strides 8, 16, 32, 32, 32) gives 2254 anchors;
    BlazeFace short range and AI Hub's 128-px BlazePose detector (strides 8, 16, 16, 16)
    give 896.
    """
    if num_layers is None:  # one layer per stride; a non-sequence is reported by the native check
        num_layers = len(strides) if hasattr(strides, "__len__") and not isinstance(strides, str) else 1
    return _native.ssd_anchors(
        input_size,
        strides,
        num_layers,
        min_scale,
        max_scale,
        aspect_ratios,
        anchor_offset,
        fixed_anchor_size,
        interpolated_scale_aspect_ratio,
        reduce_boxes_in_lowest_layer,
    )


BoxFormat = Literal["xywh", "yxhw", "ltrb", "xyxy"]
ScoreActivation = Literal["sigmoid", "none"]


def decode_detections(
    raw_boxes: HeadTensor,
    raw_scores: HeadTensor,
    anchors: Optional[np.ndarray],
    *,
    scale: float | tuple[float, float, float, float],
    num_keypoints: int,
    min_score: float,
    score_clip: float | None = 100.0,
    keypoint_offset: int = 4,
    box_format: BoxFormat = "xywh",
    score_activation: ScoreActivation = "sigmoid",
) -> Detections:
    """Decode an SSD detector head against ``anchors``; detections in anchor order.

    ``raw_boxes`` ``[1, n, c]`` or ``[n, c]`` float32 (``c >= keypoint_offset +
    2 * num_keypoints``). ``raw_scores`` one value per anchor (``[1, n, 1]``, ``[n, 1]``,
    ``[1, n]`` or ``[n]``) or one per class (``[1, n, classes]`` or ``[n, classes]`` with
    ``n > 1``). A head split in parts (AI Hub exports: one tensor per feature map) is passed
    as a list of the parts in order; they are read in place, not concatenated.

    Per anchor ``(ax, ay, aw, ah)`` and row ``r``, with ``scale`` one number or
    ``(x_scale, y_scale, w_scale, h_scale)``::

        keypoint k = (r[o+2k] / x_scale * aw + ax, r[o+2k+1] / y_scale * ah + ay)

    and the box by ``box_format``:

    * ``"xywh"`` (MediaPipe's XYWH; ``"yxhw"`` swaps x/y and w/h, keypoints too)::

          x = r0 / x_scale * aw + ax      w = r2 / w_scale * aw
          y = r1 / y_scale * ah + ay      h = r3 / h_scale * ah
          box = (x - w/2, y - h/2, x + w/2, y + h/2)

    * ``"ltrb"`` (MediaPipe's box_format XYXY): distances from the anchor centre to the
      left, top, right and bottom edges: ``x = (r2 - r0) / 2``, ``w = r2 + r0`` (likewise
      ``y``, ``h`` from ``r1``, ``r3``), then as ``"xywh"``.
    * ``"xyxy"``: the corners ``(xmin, ymin, xmax, ymax)``, each mapped like a keypoint
      (``r0 / x_scale * aw + ax``, ...). AI Hub's detectors exported with built-in
      post-processing return corners and keypoints already decoded, in input pixels, and
      probabilities: decode them with ``anchors=None``, ``scale=<input size>``,
      ``box_format="xyxy"``, ``score_activation="none"``.

    ``anchors=None`` uses the anchor ``(0, 0, 1, 1)`` for every row (heads of any length).

    Scores: ``score = sigmoid(clip(s, -score_clip, score_clip))`` (``score_clip=None``: no
    clamp), or ``s`` itself with ``score_activation="none"``. With several classes the
    detection takes its best class's score (the lowest class on ties; NaN never counts) and
    records the class in ``class_ids``, as MediaPipe's TensorsToDetections does.

    Kept when ``score >= min_score``; NaN scores and boxes with a negative or NaN width or
    height are dropped.
    """
    return Detections._trusted(
        *_native.decode_detections(
            raw_boxes, raw_scores, anchors, scale, num_keypoints, min_score, score_clip, keypoint_offset, box_format,
            score_activation,
        )
    )


def nms(
    detections: Detections,
    *,
    iou_threshold: float = 0.3,
    method: Literal["weighted", "hard"] = "weighted",
    max_detections: int | None = None,
) -> Detections:
    """Non-maximum suppression; the result is ordered by descending seed score.

    Detections are visited by descending score, equal scores by index (deterministic).
    Two boxes overlap when ``IoU > iou_threshold`` (strictly); IoU is 0 for disjoint or
    empty boxes.

    * ``"hard"``: greedy; a detection is kept unless it overlaps one already kept.
    * ``"weighted"`` (MediaPipe's WEIGHTED): the top remaining detection takes all
      remaining detections overlapping it (itself included) and becomes their
      score-weighted mean box and keypoints, keeping its own score. Like MediaPipe it
      stops at a seed that does not overlap itself (a zero-area box), emitting it as is.
      The means are float32 sums in index order (MediaPipe: score order), equal to
      MediaPipe's within float32 rounding.

    Classes are not kept apart (MediaPipe's default): each output keeps its seed's class id.
    ``max_detections``: stop after that many outputs (``None``: no limit).
    """
    if not isinstance(detections, Detections):
        raise TypeError(f"detections must be an edgevision.Detections, got {type(detections).__name__}")
    return Detections._trusted(
        *_native.nms(
            detections.boxes, detections.keypoints, detections.scores, detections.class_ids, iou_threshold, method,
            max_detections,
        )
    )


class DetectionDecoder:
    """A detector's post-processing configured once and called per frame:
    :func:`decode_detections` then, unless ``nms=None``, :func:`nms`, in one native call
    with no intermediate arrays. Same semantics and arguments as those two functions;
    options are checked here, once.

    ``decoder = DetectionDecoder(anchors, scale=224, num_keypoints=4, min_score=0.5)``
    (MediaPipe pose: weighted NMS at IoU 0.3 by default), then
    ``detections = decoder(raw_boxes, raw_scores)`` per frame. ``anchors`` is copied.
    Calls may run concurrently from several threads.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        anchors: Optional[np.ndarray],
        *,
        scale: float | tuple[float, float, float, float],
        num_keypoints: int,
        min_score: float,
        score_clip: float | None = 100.0,
        keypoint_offset: int = 4,
        box_format: BoxFormat = "xywh",
        score_activation: ScoreActivation = "sigmoid",
        nms: Literal["weighted", "hard"] | None = "weighted",
        iou_threshold: float = 0.3,
        max_detections: int | None = None,
    ) -> None:
        self._native = _native._DetectionDecoder(
            anchors,
            scale,
            num_keypoints,
            min_score,
            score_clip,
            keypoint_offset,
            box_format,
            score_activation,
            nms,
            iou_threshold,
            max_detections,
        )

    @property
    def num_anchors(self) -> int:
        """The number of anchors (rows the heads must have); -1 without anchors (any)."""
        return self._native.num_anchors

    @property
    def anchors(self) -> Optional[np.ndarray]:
        """A copy of the anchors, ``[n, 4]`` float32 (None: the identity anchor per row)."""
        return self._native.anchors

    def __call__(self, raw_boxes: HeadTensor, raw_scores: HeadTensor) -> Detections:
        return Detections._trusted(*self._native.run(raw_boxes, raw_scores))

    def __repr__(self) -> str:
        return f"DetectionDecoder(num_anchors={self.num_anchors})"
