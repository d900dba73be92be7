"""One run of a landmark model on a region of interest, as its card says.

Crop (rotated ROI, native), model, decode (native: landmarks, heatmap refinement, projection
to the frame, world-landmark rotation), presence check, and on request the segmentation
mask's probabilities. The crop is written into the model's input tensor and the outputs are
decoded where the runtime left them (:class:`edgevision.runtime.Binding`). Buffers are kept
across calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .. import kernels
from .._native import Rect, Transform
from ..landmarks import decode_landmarks, project_landmarks, project_world_landmarks, refine_from_heatmap
from .frames import HelperWake, InputTensor

__all__ = ["LandmarkStage", "StageResult"]


@dataclass
class StageResult:
    landmarks: np.ndarray  # [n, d] normalised to the frame: x, y, z (, visibility, presence)
    world: Optional[np.ndarray]  # [n, 3] metres, rotated into the frame's axes, or None
    presence: float
    rect: Rect  # the ROI as the model saw it (grown to the input's aspect)
    transform: Transform  # tensor pixels -> frame pixels
    # The mask's probabilities [h, w] at model resolution (the stage's buffer: valid until its
    # next call), or None without segmentation.
    segmentation: Optional[np.ndarray]


class LandmarkStage:
    def __init__(self, card, model, *, min_presence: Optional[float] = None, channel_order: str = "rgb",
                 segmentation: bool = False, threads: int = 1):
        params = card.params
        pre, decode = params.get("preprocess", {}), params.get("decode", {})
        self.card = card
        self.model = model
        self.channel_order = channel_order
        self.threads = threads  # for the ROI crop (kernels.warp_roi)
        # The next crop (or the mask) follows the model: helpers awake for it. Hinted after the
        # crop only (no HelperWake.start): the crop runs in the previous frame's window.
        self._wake = HelperWake(threads, model)
        self.input_size: tuple[int, int] = tuple(pre["size"])
        self._input = InputTensor.for_model(model, pre, self.input_size)
        self._binding = model.bind([self._input.buffer])
        self._border = pre.get("border", "replicate")
        self._keep_aspect = bool(pre.get("keep_aspect", False))

        self.num_landmarks = int(decode["num_landmarks"])
        self.kept = int(decode.get("pose_landmarks", self.num_landmarks))  # the first `kept` are returned
        self._decode_size = tuple(decode.get("input_size", self.input_size))
        self._visibility = decode.get("visibility_activation", "sigmoid")
        self._presence_activation = decode.get("presence_activation", "sigmoid")
        self._flag_activation = decode.get("presence_activation_output", "sigmoid")
        self.min_presence = float(decode.get("presence_threshold", 0.5) if min_presence is None else min_presence)
        self._inclusive = bool(decode.get("presence_inclusive", False))
        heatmap = params.get("heatmap")
        self._heatmap = (int(heatmap.get("kernel_size", 7)), float(heatmap.get("min_confidence_to_refine", 0.5))) \
            if heatmap else None

        names = [o.name for o in model.outputs]
        spec_names = [o.name for o in card.outputs]

        def index(role: str) -> Optional[int]:
            name = decode.get(role)
            if name is None:
                return None
            if name in names:
                return names.index(name)
            if name in spec_names and len(spec_names) == len(names):
                return spec_names.index(name)
            raise ValueError(f"model: card {card.name!r} names output {name!r} ({role}), which the model lacks")

        default_landmarks = 0 if "landmarks_output" not in decode else None
        self._landmarks_out = index("landmarks_output") if default_landmarks is None else default_landmarks
        self._presence_out = index("presence_output")
        self._world_out = index("world_output")
        self._heatmap_out = index("heatmap_output") if self._heatmap else None
        # Read only with a mask: without one the model may be pruned of that output.
        self._segmentation_out = index("segmentation_output") if segmentation else None
        if segmentation and self._segmentation_out is None:
            raise ValueError(f"segmentation: the landmark model {card.name!r} has no segmentation output")
        self.segmentation = segmentation
        # The model's own mask head, or the native kernel finishing the features it returns instead.
        self._segmentation_head = getattr(model, "native_heads", {}).get(names[self._segmentation_out]) \
            if segmentation and self._segmentation_out is not None else None
        self._segmentation_skips = [names.index(n) for n in getattr(model, "native_head_skips", {}).get(
            names[self._segmentation_out], [])] if self._segmentation_head is not None else []
        self._mask_activation = params.get("segmentation", {}).get("activation", "sigmoid")
        self._mask_probabilities: Optional[np.ndarray] = None  # reused: valid until the next call

    @property
    def has_world(self) -> bool:
        return self._world_out is not None

    def __call__(self, frame: np.ndarray, rect: Rect, image_size: tuple[int, int]) -> Optional[StageResult]:
        """Landmarks for the ROI ``rect`` (pixels), or None when the model says nothing is there."""
        spec = self._input

        def fill(inputs):
            transform = kernels.warp_roi(
                frame, rect, self.input_size, keep_aspect=self._keep_aspect, value_range=spec.value_range,
                layout=spec.layout, border=self._border, dtype=spec.dtype, channel_order=self.channel_order,
                out=inputs[0], threads=self.threads)[1]
            self._wake.before()
            return transform

        def read(outputs, transform):
            self._wake.after()
            return self._decode(outputs, transform, rect, image_size)

        # The outputs are the runtime's own tensors: everything kept is decoded into new arrays
        # (or the stage's mask buffer) before the binding releases them.
        return self._binding.run(fill, read)

    def _decode(self, outputs, transform: Transform, rect: Rect, image_size) -> Optional[StageResult]:
        presence = 1.0
        if self._presence_out is not None:
            flag = float(outputs[self._presence_out].reshape(-1)[0])
            presence = 1.0 / (1.0 + math.exp(-flag)) if self._flag_activation == "sigmoid" else flag
            if not (presence >= self.min_presence if self._inclusive else presence > self.min_presence):
                return None
        landmarks = decode_landmarks(outputs[self._landmarks_out], self.num_landmarks, input_size=self._decode_size,
                                     visibility_activation=self._visibility,
                                     presence_activation=self._presence_activation)
        if self._heatmap_out is not None:
            kernel, confidence = self._heatmap
            refine_from_heatmap(landmarks, outputs[self._heatmap_out], kernel_size=kernel,
                                min_confidence=confidence, out=landmarks)
        model_rect = self._grown(rect)
        project_landmarks(landmarks, model_rect, image_size, out=landmarks)
        world = None
        if self._world_out is not None:
            world = decode_landmarks(outputs[self._world_out], self.num_landmarks, input_size=None)[: self.kept, :3]
            world = project_world_landmarks(np.ascontiguousarray(world), model_rect)
        mask = self._mask(outputs[self._segmentation_out], self._segmentation_head,
                          [outputs[k] for k in self._segmentation_skips]) if self.segmentation else None
        return StageResult(landmarks, world, presence, model_rect, transform, mask)

    def _mask(self, output: np.ndarray, head, skips: list) -> np.ndarray:
        """The segmentation output's probabilities at model resolution, in the stage's buffer.
        ``head``: the kernel that finishes the output (then features; ``skips``: the maps its
        levels add) natively, if the model's own head was cut off (``model.native_heads``); it
        applies the sigmoid too."""
        sigmoid = self._mask_activation == "sigmoid"
        if head is not None:
            scale = 1 << head.levels
            return head(output, skips=skips, out=self._probabilities((scale * output.shape[-3], scale * output.shape[-2])),
                        threads=self.threads, activation="sigmoid" if sigmoid else "none")
        plane = output.reshape(output.shape[1:3]) if output.ndim == 4 and output.shape[-1] == 1 \
            else output.reshape(output.shape[-2:])
        probabilities = self._probabilities(plane.shape)
        if sigmoid:
            # sigmoid(x) = (tanh(x / 2) + 1) / 2: no overflow for large logits, no allocation.
            np.multiply(plane, 0.5, out=probabilities)
            np.tanh(probabilities, out=probabilities)
            probabilities *= 0.5
            probabilities += 0.5
        else:
            np.copyto(probabilities, plane)
        return probabilities

    def _probabilities(self, shape: tuple[int, int]) -> np.ndarray:
        """The stage's mask buffer, reused while the shape repeats."""
        if self._mask_probabilities is None or self._mask_probabilities.shape != shape:
            self._mask_probabilities = np.empty(shape, np.float32)
        return self._mask_probabilities

    def _grown(self, rect: Rect) -> Rect:
        """The rect the crop really covers: with keep_aspect, grown to the input's aspect ratio
        (MediaPipe's letterbox removal + projection with the original rect is the same map)."""
        if not self._keep_aspect:
            return rect
        w, h = self.input_size
        aspect = h / w
        if rect.height / rect.width > aspect:
            return Rect(rect.x_center, rect.y_center, rect.height / aspect, rect.height, rect.rotation)
        return Rect(rect.x_center, rect.y_center, rect.width, rect.width * aspect, rect.rotation)
