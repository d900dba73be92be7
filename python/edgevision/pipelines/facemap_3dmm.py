"""68 face landmarks from Qualcomm AI Hub's facemap_3dmm model, end to end.

Per face: the face box of the frame (given in pixels, or from a :class:`FaceDetector`,
enlarged as AI Hub's evaluation crops) stretched to the model's 128x128 input (``cv2.resize``
INTER_LINEAR semantics, values in ``[0, 1]``), the model's 265 3DMM parameters, and the
native decode into landmarks in frame pixels (``aihub_and_sam2.md`` §4). The model and the
basis files are the user's (AI Hub downloads); where they come from is in the model card
(``models/aihub_facemap_3dmm.toml``), which also holds every number used here.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Literal, Optional, Sequence, Union

import numpy as np

from .. import kernels
from ..face_3dmm import FaceMap3DMMBasis, facemap_3dmm_decode
from .face_detection import FaceDetector
from .frames import InputTensor, ModelPipeline, StageTimings, check_frame

__all__ = ["FaceMap3DMM", "Face3DMM", "CARD"]

CARD = "aihub_facemap_3dmm"
OUTPUT_NAMES = ("parameters_3dmm", "3dmm_parameters")  # the latter: AI Hub v0.15.0 to v0.16.1 exports

Boxes = Union[Sequence[float], Sequence[Sequence[float]], np.ndarray]


@dataclass(eq=False, slots=True)
class Face3DMM:
    """One face's landmarks and 3DMM parameters (de-normalised).

    * ``landmarks``: float32 ``[68, 2]`` ``(x, y)`` in frame pixels (iBUG-68 order).
    * ``box``: int64 ``[4]`` ``(x0, y0, x1, y1)``, the inclusive pixel box that was cropped.
    * ``identity`` float32 ``[219]``, ``expression`` float32 ``[39]``: the basis coefficients.
    * ``pitch``, ``yaw``, ``roll``: radians; ``translation``: float32 ``[2]`` ``(tx, ty)``;
      ``focal``: the focal length of the projection.
    * ``score``: the detector's score when the box came from the detector, else None.
    """

    landmarks: np.ndarray
    box: np.ndarray
    identity: np.ndarray
    expression: np.ndarray
    pitch: float
    yaw: float
    roll: float
    translation: np.ndarray
    focal: float
    score: Optional[float] = None


class FaceMap3DMM(ModelPipeline):
    """Face landmarks (68 points) and 3DMM parameters with AI Hub's facemap_3dmm.

    >>> landmarker = FaceMap3DMM("facemap_3dmm.tflite", "facemap_basis/", detector=FaceDetector())
    >>> faces = landmarker(frame)                 # one Face3DMM per detected face
    >>> landmarker(frame, boxes=(x0, y0, x1, y1))  # or for given pixel boxes

    * ``model_path``: the exported model (``.tflite`` NHWC ``[1, 128, 128, 3]`` or ``.onnx``
      NCHW ``[1, 3, 128, 128]``, float32 in ``[0, 1]`` or quantised uint8; output
      ``parameters_3dmm`` ``[1, 265]``).
    * ``basis_dir``: the directory with ``meanFace.npy``, ``shapeBasis.npy`` and
      ``blendShape.npy`` (see :class:`~edgevision.kernels.FaceMap3DMMBasis`).
    * ``detector``: a :class:`FaceDetector` used when no boxes are given; its boxes are
      enlarged by 10% of their size on each side when that fits in the frame (AI Hub's
      evaluation crop). Without a detector and boxes, the whole frame is the face box (AI
      Hub's demo default).
    * ``runtime``, ``device``, ``threads``: as :func:`edgevision.runtime.load`.
    * ``channel_order``: ``"bgr"`` for OpenCV frames (a detector must use the same order).

    Boxes are ``(x0, y0, x1, y1)`` pixels, inclusive, rounded to whole pixels and clipped to
    the frame. Not thread-safe (it reuses its input tensor): use one per thread.
    ``timings`` holds the last call's :class:`StageTimings` (inference: the detector's and
    every face's model run).
    """

    def __init__(
        self,
        model_path: Union[str, os.PathLike],
        basis_dir: Union[str, os.PathLike],
        *,
        runtime: str = "auto",
        device: str = "cpu",
        threads: Optional[int] = None,
        detector: Optional[FaceDetector] = None,
        channel_order: Literal["rgb", "bgr"] = "rgb",
    ):
        from .. import models
        from .. import runtime as runtime_module

        if detector is not None and not isinstance(detector, FaceDetector):
            raise TypeError(f"detector must be an edgevision.FaceDetector or None, got {type(detector).__name__}")
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if detector is not None and detector.channel_order != channel_order:
            raise ValueError(f"detector reads {detector.channel_order!r} frames but channel_order is {channel_order!r}")
        card = models.card(CARD)
        self.card = card
        self.detector = detector
        self.channel_order = channel_order
        self.basis = _load_basis(basis_dir, card)
        self.model = runtime_module.load(model_path, runtime=runtime, device=device, threads=threads)

        pre = card.params["preprocess"]
        self.input_size: tuple[int, int] = tuple(pre["size"])
        w, h = self.input_size
        if (w, h) != (self.basis.crop_size, self.basis.crop_size):
            raise ValueError(f"card {card.name!r}: input size {w}x{h} but crop_size {self.basis.crop_size}")
        value_range = tuple(pre.get("value_range", (0.0, 1.0)))
        self._sampling = pre.get("sampling", "opencv")
        crop = card.params.get("crop", {})
        self._enlarge = float(crop.get("enlarge", 0.0))
        self._enlarge_only_inside = bool(crop.get("only_if_inside", True))
        info = self.model.inputs[0]
        if len(self.model.inputs) != 1:
            raise ValueError(f"model: expected one image input, got {len(self.model.inputs)}")
        if info.accepts_shape((1, 3, h, w)):
            layout = "nchw"
        elif info.accepts_shape((1, h, w, 3)):
            layout = "nhwc"
        else:
            raise ValueError(f"model: input {info.name!r} has shape {list(info.shape)}; expected [1, 3, {h}, {w}] "
                             f"(NCHW) or [1, {h}, {w}, 3] (NHWC)")
        raw = info.dtype == np.uint8 and info.takes_raw_pixels(value_range)
        shape = (1, 3, h, w) if layout == "nchw" else (1, h, w, 3)
        self._input = InputTensor(layout, value_range, "uint8" if raw else "float32",
                                  np.empty(shape, np.uint8 if raw else np.float32))
        self._output = _parameters_output(self.model, self.basis.num_parameters)
        self.timings = StageTimings()

    # ------------------------------------------------------------------------------- API

    def __call__(self, frame: np.ndarray, boxes: Optional[Boxes] = None) -> list[Face3DMM]:
        """One :class:`Face3DMM` per face box: ``boxes`` (``[4]`` or ``[n, 4]`` pixels,
        inclusive), else the detector's faces (best first), else the whole frame."""
        start = time.perf_counter()
        height, width = check_frame(frame)
        if self.model is None:
            raise RuntimeError("this FaceMap3DMM is closed")
        inference, detector_runs = 0.0, 0
        scores: list[Optional[float]]
        if boxes is not None:
            pixel_boxes = _check_boxes(boxes)
            scores = [None] * len(pixel_boxes)
        elif self.detector is not None:
            faces = self.detector(frame)
            pixel_boxes = [self._enlarged(face.box, (width, height)) for face in faces]
            scores = [face.score for face in faces]
            inference, detector_runs = self.detector.timings.inference_ms, 1
        else:
            pixel_boxes = [np.array([0, 0, width - 1, height - 1], np.int64)]
            scores = [None]
        results = []
        for box, score in zip(pixel_boxes, scores):
            clipped = _clip(box, (width, height))
            if clipped is None:
                raise ValueError(f"boxes: {list(box)} lies outside the {width}x{height} frame")
            results.append(self._fit(frame, clipped, score))
            inference += self.model.invoke_ms
        self.timings = StageTimings((time.perf_counter() - start) * 1e3, inference, detector_runs)
        return results

    def __repr__(self) -> str:
        return (f"<FaceMap3DMM {os.path.basename(getattr(self.model, 'path', '?'))} {self._input.layout} "
                f"basis={self.basis.num_landmarks} landmarks detector={self.detector is not None}>")

    # -------------------------------------------------------------------------- internals

    def _enlarged(self, box: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """A normalised detector box as an inclusive pixel box, grown by `enlarge` of its
        size on each side if that fits in the frame (integer arithmetic as AI Hub's dataset)."""
        width, height = size
        x0, y0 = round(float(box[0]) * width), round(float(box[1]) * height)
        x1, y1 = round(float(box[2]) * width) - 1, round(float(box[3]) * height) - 1
        bw, bh = x1 - x0 + 1, y1 - y0 + 1
        if self._enlarge > 0 and bw > 0 and bh > 0:
            ax0, ay0 = x0 - int(bw * self._enlarge), y0 - int(bh * self._enlarge)
            aw, ah = int(bw * (1 + 2 * self._enlarge)), int(bh * (1 + 2 * self._enlarge))
            inside = ax0 >= 0 and ay0 >= 0 and ax0 + aw - 1 < width and ay0 + ah - 1 < height
            if inside or not self._enlarge_only_inside:
                x0, y0, x1, y1 = ax0, ay0, ax0 + aw - 1, ay0 + ah - 1
        return np.array([x0, y0, x1, y1], np.int64)

    def _fit(self, frame: np.ndarray, box: np.ndarray, score: Optional[float]) -> Face3DMM:
        x0, y0, x1, y1 = (int(v) for v in box)
        spec = self._input
        tensor, _ = kernels.letterbox(
            frame[y0:y1 + 1, x0:x1 + 1], self.input_size, keep_aspect=False, value_range=spec.value_range,
            layout=spec.layout, sampling=self._sampling, dtype=spec.dtype, channel_order=self.channel_order,
            out=spec.buffer,
        )
        params = self.model.run(tensor)[self._output]
        basis = self.basis
        parameters = np.empty(basis.num_parameters, np.float32)
        landmarks = facemap_3dmm_decode(params.reshape(1, -1), basis, (x0, y0, x1, y1), parameters_out=parameters)
        i, e = basis.num_identity, basis.num_expression
        pose = parameters[i + e:]
        face = Face3DMM(
            landmarks=landmarks, box=box, identity=parameters[:i], expression=parameters[i:i + e],
            pitch=float(pose[0]), yaw=float(pose[1]), roll=float(pose[2]), translation=pose[3:5],
            focal=float(pose[5]), score=score,
        )
        return face


def _load_basis(basis_dir, card) -> FaceMap3DMMBasis:
    """The basis with the card's scaling; the card's parameter layout must match its sizes."""
    decode = card.params["decode"]
    files = {key: spec["file"] for key, spec in card.params.get("basis", {}).items() if isinstance(spec, dict)}
    basis = FaceMap3DMMBasis.load(
        basis_dir,
        files=files,
        identity_scale=decode["identity"]["scale"],
        identity_offset=decode["identity"].get("offset", 0.0),
        expression_scale=decode["expression"]["scale"],
        expression_offset=decode["expression"].get("offset", 0.0),
        angle_scale=decode["pitch"]["scale"],
        translation_scale=decode["tx"]["scale"],
        focal_scale=decode["focal"]["scale"],
        focal_offset=decode["focal"].get("offset", 0.0),
        tz=decode["tz"],
        crop_size=decode["crop_size"],
    )
    i, e = basis.num_identity, basis.num_expression
    layout = {"identity": [0, i], "expression": [i, i + e]}
    indices = {name: i + e + k for k, name in enumerate(("pitch", "yaw", "roll", "tx", "ty", "focal"))}
    wrong = [k for k, v in layout.items() if list(decode[k]["range"]) != v]
    wrong += [k for k, v in indices.items() if decode[k]["index"] != v]
    same_scale = decode["yaw"]["scale"] == decode["roll"]["scale"] == decode["pitch"]["scale"] and \
        decode["ty"]["scale"] == decode["tx"]["scale"]
    if wrong or not same_scale or basis.num_landmarks != decode.get("num_landmarks", basis.num_landmarks):
        raise ValueError(f"basis_dir: the basis ({basis.num_landmarks} landmarks, {i} identity and {e} expression "
                         f"coefficients) does not fit card {card.name!r}'s parameter layout ({', '.join(wrong) or 'scales'})")
    return basis


def _parameters_output(model, num_parameters: int) -> int:
    """Index of the parameters output: by name, else the only output; it must hold the
    basis's parameters (plus the unused last one)."""
    names = [o.name for o in model.outputs]
    index = next((names.index(n) for n in OUTPUT_NAMES if n in names), None)
    if index is None:
        if len(names) != 1:
            raise ValueError(f"model: no output named {OUTPUT_NAMES[0]!r} among {names}")
        index = 0
    size = math.prod(d or 0 for d in model.outputs[index].shape)
    if size not in (num_parameters, num_parameters + 1):
        raise ValueError(f"model: output {names[index]!r} has shape {list(model.outputs[index].shape)}; the basis "
                         f"needs {num_parameters + 1} parameters ([1, {num_parameters + 1}])")
    return index


def _check_boxes(boxes) -> list[np.ndarray]:
    try:
        array = np.asarray(boxes, dtype=object if isinstance(boxes, str) else None)
    except ValueError:  # ragged
        raise ValueError(f"boxes must have shape [4] or [n, 4] (x0, y0, x1, y1 pixels), got {boxes!r}") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(f"boxes must be numbers: (x0, y0, x1, y1) or a list of them, got {boxes!r}")
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"boxes must have shape [4] or [n, 4] (x0, y0, x1, y1 pixels), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("boxes must be finite")
    rounded = np.rint(array).astype(np.int64)
    bad = (rounded[:, 2] < rounded[:, 0]) | (rounded[:, 3] < rounded[:, 1])
    if bad.any():
        raise ValueError(f"boxes must have x1 >= x0 and y1 >= y0, got {array[bad][0].tolist()}")
    return list(rounded)


def _clip(box: np.ndarray, size: tuple[int, int]) -> Optional[np.ndarray]:
    width, height = size
    clipped = np.array([max(box[0], 0), max(box[1], 0), min(box[2], width - 1), min(box[3], height - 1)], np.int64)
    return None if clipped[2] < clipped[0] or clipped[3] < clipped[1] else clipped
