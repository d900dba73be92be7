"""Selfie (person/background) segmentation: MediaPipe's SelfieSegmentation, end to end.

Reproduces MediaPipe 0.10.21's legacy ``SelfieSegmentation`` graph (``model_selection`` 0/1):
the whole frame stretched into the model's input with MediaPipe's ImageToTensor sampling, the
model's own sigmoid output taken as is, and ``cv2.resize``-style bilinear upsampling to the
frame size. ``resize="letterbox"`` instead pads the frame to the input's aspect ratio (AI Hub's
``mediapipe_selfie`` app) and undoes the padding exactly when mapping the mask back.

Everything model-specific (input size, layout, value range, sampling, which output, the
default resize mode) comes from the model card (``models/<name>.toml``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable, Literal, Optional, Sequence, TypeVar, Union

import numpy as np

from .. import kernels
from .._native import Transform
from .frames import HelperWake, InputTensor, ModelPipeline
from .frames import check_frame as _check_frame

__all__ = ["SelfieSegmenter", "SelfieTimings", "MODELS"]

# Short names of the two MediaPipe models; any zoo card with task "segmentation" works too.
MODELS = {"general": "selfie_segmentation", "landscape": "selfie_segmentation_landscape"}
RESIZE_MODES = ("stretch", "letterbox")

Background = Union[Sequence[int], np.ndarray, Literal["blur"]]
Result = TypeVar("Result")


@dataclass
class SelfieTimings:
    """Wall-clock milliseconds of the last call: frame to tensor (``preprocess_ms``), the
    runtime's own invoke time (``inference_ms``), and the rest (``postprocess_ms``: mask to the
    frame, composite, handing tensors to and from the runtime); ``total_ms`` is the whole call."""

    preprocess_ms: float = 0.0
    inference_ms: float = 0.0
    postprocess_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.preprocess_ms + self.inference_ms + self.postprocess_ms


class SelfieSegmenter(ModelPipeline):
    """Person probability masks for RGB frames.

    >>> segmenter = SelfieSegmenter()                 # MediaPipe's general (256x256) model
    >>> mask = segmenter(frame)                       # H x W float32 in [0, 1]
    >>> out = segmenter.apply(frame, "blur")          # background blurred

    * ``model``: ``"general"`` (square 256x256) or ``"landscape"`` (256x144), or the name of
      another segmentation card in the model zoo (e.g. ``"aihub_mediapipe_selfie"``).
    * ``resize``: ``"stretch"`` (MediaPipe: the whole frame squeezed into the input) or
      ``"letterbox"`` (aspect kept, zero padding, the padding cut off again when the mask is
      mapped back); ``None`` takes the card's default (stretch for the MediaPipe models).
    * ``smoothing``: for video, ``0 < smoothing <= 1`` blends each mask with the previous
      one using MediaPipe's SegmentationSmoothingCalculator weighting
      (``combine_with_previous_ratio``), at the model's output resolution; uncertain pixels
      follow the previous frame more. ``reset()`` forgets the previous frame.
    * ``runtime``, ``device``, ``threads``: as :func:`edgevision.runtime.load`; ``threads``
      also caps the threads that share the frame-size work (the input resize, the mask
      upsampling and the composite: the calling thread and shared helper threads; default: the
      cores, at most 4; ``threads=1`` keeps everything on the calling thread).
      ``runtime="onnxruntime"`` runs the card's model converted to ONNX (:mod:`edgevision.convert`,
      converted once and cached), e.g. with ``device="qnn-htp"``.
    * ``model_path``: a local model file (``.tflite`` or ``.onnx``, e.g. a quantised conversion)
      to use instead of fetching the card's file (its pre/post-processing still comes from
      ``model``'s card).
    * ``channel_order``: ``"bgr"`` for OpenCV frames.

    Not thread-safe (it reuses its input tensor and keeps the previous mask): use one per thread.
    ``timings`` holds the last call's :class:`SelfieTimings`.
    """

    def __init__(
        self,
        *,
        model: str = "general",
        resize: Optional[Literal["stretch", "letterbox"]] = None,
        smoothing: float = 0.0,
        runtime: str = "auto",
        device: str = "cpu",
        threads: Optional[int] = None,
        model_path: Union[str, os.PathLike, None] = None,
        channel_order: Literal["rgb", "bgr"] = "rgb",
    ):
        from .. import models
        from .. import runtime as runtime_module

        if not isinstance(model, str):
            raise TypeError(f"model must be 'general', 'landscape' or a zoo card name, got {type(model).__name__}")
        card_name = MODELS.get(model, model)
        try:
            card = models.card(card_name)
        except (KeyError, ValueError, models.CardError) as e:
            raise ValueError(f"model must be one of {sorted(MODELS)} or a segmentation card name, got {model!r} ({e})") from None
        if card.task != "segmentation" or card.kind != "model":
            raise ValueError(f"model: card {card.name!r} is a {card.task} {card.kind}, not a segmentation model")
        pre = card.params.get("preprocess", {})
        if resize is None:
            resize = "letterbox" if pre.get("keep_aspect", False) else "stretch"
        if resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {list(RESIZE_MODES)} or None, got {resize!r}")
        if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)):
            raise TypeError(f"smoothing must be a number in [0, 1], got {type(smoothing).__name__}")
        if not 0.0 <= float(smoothing) <= 1.0:
            raise ValueError(f"smoothing must be in [0, 1], got {smoothing}")
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")

        self.card = card
        self.resize = resize
        self.smoothing = float(smoothing)
        self.channel_order = channel_order
        source = card.name if model_path is None else model_path
        self.model = runtime_module.load(source, runtime=runtime, device=device, threads=threads)
        self._frame_threads = threads if threads is not None else 4  # the kernels cap it at the cores
        self._wake = HelperWake(self._frame_threads, self.model)  # the mask upsampling follows the model

        spec = card.inputs[0] if card.inputs else None
        self.input_size: tuple[int, int] = tuple(pre.get("size") or (spec.shape[2], spec.shape[1]))  # (w, h)
        value_range = pre.get("value_range") or (spec.value_range if spec else (0.0, 1.0))
        self._input = InputTensor.for_model(self.model, {"value_range": value_range}, self.input_size)
        self._binding = self.model.bind([self._input.buffer])
        self._border = pre.get("border", "zero")
        self._sampling = pre.get("sampling", "opencv")
        out_name = card.outputs[0].name if card.outputs else None
        names = [o.name for o in self.model.outputs]
        self._output_index = names.index(out_name) if out_name in names else 0
        self._previous: Optional[np.ndarray] = None  # last smoothed model-resolution mask
        self._spare: Optional[np.ndarray] = None  # the other buffer of the smoothing ping-pong
        self._background: Optional[np.ndarray] = None  # resized background image, reused
        self._blurred: Optional[kernels.BlurredBackground] = None  # the blur started ahead, reused
        self.timings = SelfieTimings()

    # ------------------------------------------------------------------------------- API

    def __call__(self, frame: np.ndarray, *, out: Optional[np.ndarray] = None) -> np.ndarray:
        """The person probability, ``H x W`` float32 in ``[0, 1]``, for an ``H x W x 3`` uint8 frame.

        Returns a new array unless ``out`` (a C-contiguous ``H x W`` float32 array, reused
        across frames to save the allocation) is given.
        """
        start = time.perf_counter()
        height, width = _check_frame(frame)
        mask = self._infer(frame, lambda small, transform: self._to_frame(small, transform, (width, height), None, out))
        self._time_postprocess(start)
        return mask

    def apply(
        self,
        frame: np.ndarray,
        background: Background,
        *,
        blur_sigma: float = 8.0,
        threshold: Optional[float] = None,
        out: Optional[np.ndarray] = None,
    ) -> np.ndarray:
        """The frame with its background replaced: ``round(bg + (frame - bg) * mask)``.

        ``background``: a colour (one value per channel, in the frame's channel order), an
        image of any size (resized natively to the frame, stretched), or ``"blur"`` (the frame
        blurred with a Gaussian of ``blur_sigma`` pixels). ``threshold``: a hard cut
        (person where the probability is ``> threshold``) instead of soft blending.
        Returns a new ``H x W x 3`` uint8 array unless ``out`` is given.
        """
        start = time.perf_counter()
        height, width = _check_frame(frame)
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
            raise TypeError(f"threshold must be a number or None, got {type(threshold).__name__}")
        bg = self._prepare_background(background, (width, height))
        start_blur = None
        if isinstance(bg, str):  # "blur": computed on a helper thread while the model runs
            def start_blur():
                self._blurred = kernels.blurred_background(frame, blur_sigma, threads=self._frame_threads,
                                                           out=self._blurred)
        # Fused: the blend upsamples the model-resolution mask row by row (exactly as
        # __call__'s mask), so the frame-size mask is never written.
        letterboxed = self.resize == "letterbox"
        result = self._infer(frame, lambda small, transform: kernels.composite(
            frame, small, self._blurred if start_blur else bg, blur_sigma=blur_sigma, threshold=threshold,
            transform=transform if letterboxed else None, out=out, threads=self._frame_threads),
            before_inference=start_blur)
        self._time_postprocess(start)
        return result

    def reset(self) -> None:
        """Forget the previous frame (start of a new video)."""
        self._previous = None

    def __repr__(self) -> str:
        w, h = self.input_size
        return (f"<SelfieSegmenter {self.card.name} {w}x{h} resize={self.resize!r} smoothing={self.smoothing} "
                f"on {getattr(self.model, 'runtime', '?')}/{getattr(self.model, 'device', '?')}>")

    # -------------------------------------------------------------------------- internals

    def _infer(self, frame: np.ndarray, use: Callable[[np.ndarray, Transform], Result],
               before_inference: Optional[Callable[[], None]] = None) -> Result:
        """Runs the model on ``frame`` and returns ``use(mask, transform)``: ``mask`` is the
        model-resolution person probability (``h x w`` float32; smoothed when ``smoothing``),
        ``transform`` maps tensor pixels to frame pixels. Without smoothing ``mask`` is the
        runtime's own output tensor, valid only inside ``use``: ``use`` finishes with it and
        returns new arrays or our own buffers (smoothing keeps its own copy).
        ``before_inference``: called once the input is filled, just before the model runs (to
        start work that overlaps it)."""
        if self.model is None:
            raise RuntimeError("this SelfieSegmenter is closed")
        timings = self.timings

        def fill(inputs):
            start = time.perf_counter()
            transform = kernels.letterbox(
                frame, self.input_size, keep_aspect=self.resize == "letterbox", value_range=self._input.value_range,
                layout=self._input.layout, border=self._border, sampling=self._sampling, dtype=self._input.dtype,
                channel_order=self.channel_order, out=inputs[0], threads=self._frame_threads)[1]
            timings.preprocess_ms = (time.perf_counter() - start) * 1e3
            if before_inference is not None:
                before_inference()
            self._wake.before()
            return transform

        def read(outputs, transform):
            self._wake.after()
            small = outputs[self._output_index]  # the kernels take the model's output shape as is
            if self.smoothing > 0.0:
                small = self._smooth(_plane(small))
            return use(small, transform)

        self._wake.start()
        result = self._binding.run(fill, read)
        timings.inference_ms = self.model.invoke_ms
        return result

    def _time_postprocess(self, start: float) -> None:
        """Post-processing is the rest of the call (mask to the frame, composite, the binding)."""
        timings = self.timings
        elapsed = (time.perf_counter() - start) * 1e3
        timings.postprocess_ms = elapsed - timings.preprocess_ms - timings.inference_ms

    def _smooth(self, current: np.ndarray) -> np.ndarray:
        previous = self._previous
        if previous is not None and previous.shape != current.shape:
            previous = None
        if previous is None:
            self._previous = np.array(current, np.float32, copy=True, order="C")
        else:
            # Two buffers in turn: no allocation per frame, and `out` never aliases `previous`.
            spare = self._spare if self._spare is not None and self._spare.shape == previous.shape else None
            if spare is None:
                spare = np.empty_like(previous)
            self._spare = previous
            self._previous = kernels.segmentation_smoothing(previous, current, self.smoothing, out=spare)
        return self._previous

    def _to_frame(self, small, transform, size, threshold, out):
        if self.resize == "letterbox":
            return kernels.resize_mask(small, size, transform=transform, threshold=threshold, out=out,
                                       threads=self._frame_threads)
        # MediaPipe: cv2.resize(INTER_LINEAR) of the whole mask to the frame size.
        return kernels.resize_mask(small, size, threshold=threshold, out=out, threads=self._frame_threads)

    def _prepare_background(self, background: Background, size: tuple[int, int]):
        if isinstance(background, str):
            if background != "blur":
                raise ValueError(f"background must be a colour, an image or 'blur', got {background!r}")
            return background
        if isinstance(background, np.ndarray) and background.ndim == 3:
            if background.dtype != np.uint8 or background.shape[2] not in (3, 4) or 0 in background.shape:
                raise ValueError("background: expected an H x W x 3 (or 4) uint8 image, got shape "
                                 f"{background.shape} dtype {background.dtype}")
            width, height = size
            if background.shape[:2] == (height, width):
                return background
            # Native bilinear resize (cv2.resize semantics): a stretched 'letterbox' into uint8.
            buffer = self._background
            if buffer is None or buffer.shape != (1, height, width, 3):
                buffer = np.empty((1, height, width, 3), np.uint8)
            resized, _ = kernels.letterbox(background, size, keep_aspect=False, dtype="uint8", out=buffer)
            self._background = resized
            return resized[0]
        return background  # a colour: the kernel checks it


def _plane(mask: np.ndarray) -> np.ndarray:
    """A model output ``[1, h, w, 1]`` / ``[1, 1, h, w]`` / ``[1, h, w]`` as ``h x w``."""
    return mask.reshape(mask.shape[-2:] if mask.shape[-1] != 1 else mask.shape[-3:-1])
