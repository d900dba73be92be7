"""An SSD detector run as its model card says: frame -> tensor -> model -> detections.

The whole frame is letterboxed into the input (MediaPipe's ImageToTensor sampling for the
MediaPipe models), the raw heads decoded against the card's anchors with sigmoid scores,
non-maximum suppression applied, and the result mapped back to the frame (letterbox
removal), all in native kernels.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

from .. import kernels
from ..detections import DetectionDecoder, Detections, ssd_anchors
from .frames import InputTensor

__all__ = ["SsdDetector", "anchors_from_card"]


class SsdDetector:
    """``detector(frame)`` -> :class:`Detections` normalised to the frame, best first.

    ``card``/``model``: a detection card and its loaded model. ``min_score`` overrides the
    card's threshold; ``max_detections`` keeps the best ones.
    """

    def __init__(self, card, model, *, min_score: Optional[float] = None, max_detections: Optional[int] = None,
                 channel_order: str = "rgb", threads: int = 1):
        params = card.params
        pre, decode, nms = params.get("preprocess", {}), params.get("decode", {}), params.get("nms", {})
        self.card = card
        self.model = model
        self.channel_order = channel_order
        self.threads = threads  # for the input letterbox (kernels.letterbox)
        self.input_size: tuple[int, int] = tuple(pre["size"])
        w, h = self.input_size
        self._input = InputTensor.for_model(model, pre, self.input_size)
        self._binding = model.bind([self._input.buffer])
        self._sampling = pre.get("sampling", "opencv")
        self._border = pre.get("border", "zero")
        self._keep_aspect = bool(pre.get("keep_aspect", True))
        if min_score is None:
            min_score = float(decode.get("min_score_thresh", 0.5))
        if nms.get("max_detections") is not None:
            cap = int(nms["max_detections"])
            max_detections = cap if max_detections is None else min(cap, max_detections)
        scale = decode.get("scale", (w, h, w, h))
        self._decoder = DetectionDecoder(
            anchors_from_card(params["anchors"]), scale=tuple(float(s) for s in scale),
            num_keypoints=int(decode.get("num_keypoints", 0)), min_score=min_score,
            score_clip=decode.get("score_clipping_thresh", 100.0),
            keypoint_offset=int(decode.get("keypoint_coord_offset", 4)),
            box_format=decode.get("box_format", "xywh"), nms=nms.get("algorithm", "weighted"),
            iou_threshold=float(nms.get("min_suppression_threshold", 0.3)), max_detections=max_detections)
        self._boxes, self._scores = _head_indices(card, model)
        self.min_score = min_score

    def __call__(self, frame: np.ndarray) -> Detections:
        spec = self._input

        def fill(inputs):
            return kernels.letterbox(
                frame, self.input_size, keep_aspect=self._keep_aspect, value_range=spec.value_range,
                layout=spec.layout, border=self._border, sampling=self._sampling, dtype=spec.dtype,
                channel_order=self.channel_order, out=inputs[0], threads=self.threads)[1]

        def read(outputs, transform):
            boxes = [outputs[k] for k in self._boxes]
            scores = [outputs[k] for k in self._scores]
            detections = self._decoder(boxes if len(boxes) > 1 else boxes[0], scores if len(scores) > 1 else scores[0])
            return detections.to_image(transform) if len(detections) else detections

        # The model's tensors are written and read in place; Detections are new arrays.
        return self._binding.run(fill, read)


def anchors_from_card(table: Mapping[str, Any]) -> np.ndarray:
    """The card's ``[anchors]``: MediaPipe SsdAnchors options, or (AI Hub) ``strides`` with
    ``anchors_per_cell`` for fixed-size anchors (two per layer, so ``n / 2`` layers a stride)."""
    strides = list(table["strides"])
    if "anchors_per_cell" in table:
        per_cell = list(table["anchors_per_cell"])
        if len(per_cell) != len(strides) or any(n % 2 for n in per_cell):
            raise ValueError("anchors: anchors_per_cell must give an even count for every stride")
        strides = [s for s, n in zip(strides, per_cell) for _ in range(n // 2)]
    anchors = ssd_anchors(
        input_size=tuple(table["input_size"]), strides=strides, num_layers=len(strides),
        min_scale=float(table.get("min_scale", 0.1484375)), max_scale=float(table.get("max_scale", 0.75)),
        aspect_ratios=tuple(table.get("aspect_ratios", (1.0,))),
        anchor_offset=tuple(table.get("anchor_offset", (0.5, 0.5))),
        fixed_anchor_size=bool(table.get("fixed_anchor_size", True)),
        interpolated_scale_aspect_ratio=float(table.get("interpolated_scale_aspect_ratio", 1.0)),
        reduce_boxes_in_lowest_layer=bool(table.get("reduce_boxes_in_lowest_layer", False)))
    if "count" in table and len(anchors) != int(table["count"]):
        raise ValueError(f"anchors: the card's options give {len(anchors)} anchors, not {table['count']}")
    return anchors


def _head_indices(card, model) -> tuple[list[int], list[int]]:
    """Output indices of the box and score heads: named in the card (several each for split
    heads, in order), matched to the model's outputs by name, else by position."""
    names = [o.name for o in model.outputs]
    specs = list(card.outputs)
    if len(specs) != len(names):
        raise ValueError(f"model: {len(names)} outputs, but card {card.name!r} describes {len(specs)}")
    position = {spec.name: (names.index(spec.name) if spec.name in names else k) for k, spec in enumerate(specs)}
    boxes = [position[s.name] for s in specs if s.shape[-1] > 2]
    scores = [position[s.name] for s in specs if s.shape[-1] <= 2]
    if not boxes or len(boxes) != len(scores):
        raise ValueError(f"card {card.name!r}: cannot tell its box and score outputs apart")
    return boxes, scores
