"""Interactive SAM 2 segmentation: encode an image once, then prompt it with clicks and boxes.

Reproduces ``facebookresearch/sam2``'s ``SAM2ImagePredictor`` (``set_image`` / ``predict``)
with the image encoder and mask decoder on a runtime (ONNX Runtime or LiteRT) and everything
around them in native kernels: the 1024 x 1024 input tensor, the prompt encoder, the choice of
the output mask and its upsampling to the image. Two model contracts are accepted:

* edgevision's export (``models/sam2/export.py``; cards ``sam2_hiera_tiny_*``): the encoder
  takes only the image; the decoder takes any number of prompt tokens and returns all four
  mask tokens; prompts are encoded natively from the exported ``.npz``; a previous low-res
  mask can be fed back through the mask-input model. Several prompts against one image cost
  only the decoder.
* Qualcomm AI Hub's split (cards ``aihub_sam2_encoder`` / ``aihub_sam2_decoder``): the point
  encoding is inside the encoder (two normalised points, all encoded as positive clicks) and
  the decoder returns mask token 0 only, so every new prompt runs the encoder again, and
  negative clicks, boxes, mask input and multimask output are not available.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence, Union

import numpy as np

from .. import sam2_ops
from .frames import ModelPipeline

__all__ = ["Sam2Predictor", "Sam2Prediction", "Sam2Timings"]

ModelSource = Union[str, os.PathLike]
MASK_INPUT_SIZE = (256, 256)
LOW_RES_CLAMP = 32.0


@dataclass(frozen=True)
class Sam2Prediction:
    """The mask for one prompt.

    ``mask``: ``H x W`` bool at image size. ``score``: its predicted IoU. ``token``: the decoder
    mask token it came from (0 = single-mask output, 1-3 = multimask outputs).
    ``stability_score``: of its low-res logits. ``low_res_logits``: ``256 x 256`` float32 in
    ``[-32, 32]``, to pass as ``mask_input`` when refining. ``iou_predictions``: every token's
    predicted IoU. ``object_score_logit``: the decoder's object-presence logit (None for AI Hub).
    """

    mask: np.ndarray
    score: float
    token: int
    stability_score: float
    low_res_logits: np.ndarray
    iou_predictions: np.ndarray
    object_score_logit: Optional[float] = None


@dataclass
class Sam2Timings:
    """Wall-clock milliseconds: ``set_image`` (tensor + encoder) and the last ``predict``."""

    image_tensor_ms: float = 0.0
    encoder_ms: float = 0.0
    prompt_ms: float = 0.0
    decoder_ms: float = 0.0
    postprocess_ms: float = 0.0
    predict_ms: float = 0.0


@dataclass
class _Contract:
    aihub: bool
    layout: str  # of the encoder's image input
    image_size: tuple[int, int]  # (w, h) of the encoder input
    encoder_inputs: dict[str, int] = field(default_factory=dict)
    encoder_outputs: dict[str, int] = field(default_factory=dict)
    decoder_inputs: dict[str, int] = field(default_factory=dict)
    decoder_outputs: dict[str, int] = field(default_factory=dict)
    num_points: int = 0  # AI Hub: points baked into the encoder


class Sam2Predictor(ModelPipeline):
    """SAM 2 on an image: ``set_image`` once, then ``predict`` per prompt.

    >>> predictor = Sam2Predictor()                     # the sam2_hiera_tiny_* export in the cache
    >>> predictor.set_image(image)                      # H x W x 3 uint8 RGB
    >>> result = predictor.predict(points=[[500, 375]], labels=[1])
    >>> result.mask                                      # H x W bool
    >>> again = predictor.predict(points=[[500, 375], [600, 300]], labels=[1, 0],
    ...                           mask_input=result.low_res_logits, multimask=False)

    * ``encoder``, ``decoder``: model-zoo names or ``.onnx``/``.tflite`` paths.
    * ``prompt_encoder``: the prompt encoder parameters (a zoo name, an ``.npz`` path or a
      mapping of arrays). Default: the decoder card's ``[sam2] prompt_encoder``, or for a
      decoder path ``X_decoder.onnx`` the file ``X_prompt_encoder.npz`` beside it.
    * ``mask_input``: the mask-input model (zoo name or path), found the same way
      (``X_mask_input.onnx``); optional, needed only for ``predict(mask_input=...)``.
    * ``runtime``, ``device``, ``threads``: as :func:`edgevision.runtime.load`; ``threads`` also
      caps the threads of the mask upsampling (default: the cores, at most 4).
    * ``channel_order``: ``"bgr"`` for OpenCV images.

    Not thread-safe (it keeps the current image's features): use one per thread.
    """

    def __init__(
        self,
        encoder: ModelSource = "sam2_hiera_tiny_encoder",
        decoder: ModelSource = "sam2_hiera_tiny_decoder",
        *,
        prompt_encoder: Union[ModelSource, Mapping[str, np.ndarray], None] = None,
        mask_input: Optional[ModelSource] = None,
        runtime: str = "auto",
        device: str = "cpu",
        threads: Optional[int] = None,
        channel_order: Literal["rgb", "bgr"] = "rgb",
    ):
        from .. import runtime as runtime_module

        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        self.channel_order = channel_order
        self.encoder = runtime_module.load(encoder, runtime=runtime, device=device, threads=threads)
        # ONNX Runtime's idle workers spin after each run by default; the mask upsampling that follows
        # the decoder wants those cores (the decoder's own time is unchanged without spinning).
        options = {"session_config": {"session.intra_op.allow_spinning": "0"}} if _is_onnx(decoder) else None
        self.decoder = runtime_module.load(decoder, runtime=runtime, device=device, threads=threads, options=options)
        self._contract = _contract(self.encoder, self.decoder)
        post = getattr(self.decoder.card, "params", {}).get("postprocess", {}) if self.decoder.card else {}
        self.mask_threshold = float(post.get("mask_threshold", 0.0))
        self._stability = (float(post.get("stability_delta", 0.05)), float(post.get("stability_threshold", 0.98)))
        # The mask upsampling runs after the decoder, on the cores its inference used (the kernel
        # caps the threads at the cores and 4).
        self._post_threads = threads if threads is not None else 4

        self._params: Optional[dict[str, np.ndarray]] = None
        self._mask_model = None
        self._no_mask: Optional[np.ndarray] = None
        if not self._contract.aihub:
            self._params = sam2_ops.load_prompt_params(_companion(self.decoder, "prompt_encoder", ".npz", prompt_encoder,
                                                                  required=True))
            missing = [k for k in ("gaussian_matrix", "point_embeddings", "not_a_point_embed", "no_mask_embed")
                       if k not in self._params]
            if missing:
                raise ValueError(f"prompt_encoder: the parameters lack {missing}")
            dense = self.decoder.inputs[self._contract.decoder_inputs["dense_embeddings"]].shape
            no_mask = self._params["no_mask_embed"].reshape(-1)
            if dense[1] != no_mask.size:
                raise ValueError(f"prompt_encoder: no_mask_embed has {no_mask.size} values, the decoder's dense "
                                 f"input {list(dense)} has {dense[1]} channels")
            self._no_mask = np.ascontiguousarray(np.broadcast_to(no_mask[None, :, None, None], dense), np.float32)
            mask_path = _companion(self.decoder, "mask_input", ".onnx", mask_input, required=mask_input is not None)
            if mask_path is not None:
                self._mask_model = runtime_module.load(mask_path, runtime=runtime, device=device, threads=threads)

        w, h = self._contract.image_size
        shape = (1, 3, h, w)
        self._tensor = np.empty(shape, np.float32)
        self._features: Optional[list[np.ndarray]] = None
        self._image_size: Optional[tuple[int, int]] = None
        self._aihub_cache: Optional[tuple[bytes, list[np.ndarray]]] = None
        self.timings = Sam2Timings()

    # ----------------------------------------------------------------------------- API

    def set_image(self, image: np.ndarray) -> None:
        """Encode ``image`` (``H x W x 3`` uint8) for the following ``predict`` calls."""
        height, width = _check_image(image)
        self._features = self._image_size = None  # nothing half-set if the encoder fails
        start = time.perf_counter()
        sam2_ops.sam2_image_tensor(image, size=self._contract.image_size, channel_order=self.channel_order,
                                   out=self._tensor)
        tensor = self._tensor if self._contract.layout == "nchw" else np.ascontiguousarray(self._tensor.transpose(0, 2, 3, 1))
        mid = time.perf_counter()
        self.timings.image_tensor_ms = (mid - start) * 1e3
        self._image_size = (width, height)
        self._aihub_cache = None
        if self._contract.aihub:
            self._features = [tensor]  # the encoder runs with the points, in predict
            self.timings.encoder_ms = 0.0
            return
        outputs = self.encoder.run([tensor])
        c = self._contract.encoder_outputs
        self._features = [outputs[c["image_embeddings"]], outputs[c["high_res_features1"]],
                          outputs[c["high_res_features2"]]]
        self.timings.encoder_ms = (time.perf_counter() - mid) * 1e3

    def predict(
        self,
        points: Optional[Any] = None,
        labels: Optional[Any] = None,
        box: Optional[Any] = None,
        mask_input: Optional[np.ndarray] = None,
        multimask: bool = True,
    ) -> Sam2Prediction:
        """The mask for a prompt on the current image.

        * ``points``: ``[N, 2]`` (x, y) in image pixels; ``labels``: ``[N]``, 1 = foreground
          click, 0 = background click (default: all 1).
        * ``box``: ``(x0, y0, x1, y1)`` in image pixels.
        * ``mask_input``: ``256 x 256`` low-res logits of an earlier prediction
          (``result.low_res_logits``).
        * ``multimask``: choose among the three multimask outputs by predicted IoU (best for
          a single ambiguous click); ``False``: the single-mask output, replaced by the best
          multimask output when unstable (as SAM 2's predictor does).

        ``mask_input`` alone (no point, no box) is a prompt too, as in SAM 2's predictor: it
        refines that mask without clicks. ValueError for an empty prompt (no point, box or
        mask_input) or non-finite coordinates.
        """
        if not isinstance(multimask, (bool, np.bool_)):
            raise TypeError(f"multimask must be True or False, got {multimask!r}")
        start = time.perf_counter()
        pts, lbl, boxes = self._prompt(points, labels, box, mask_input)
        if self._contract.aihub:
            return self._predict_aihub(pts, lbl, boxes, mask_input, start)
        low_res, iou, object_score, t_prompt, t_decoder = self._decode(pts, lbl, boxes, mask_input)
        chosen = self._postprocess(low_res, iou, multimask)
        end = time.perf_counter()
        self._record(start, t_prompt, t_decoder, end)
        return _prediction(chosen, iou, object_score)

    def predict_candidates(
        self,
        points: Optional[Any] = None,
        labels: Optional[Any] = None,
        box: Optional[Any] = None,
        mask_input: Optional[np.ndarray] = None,
    ) -> list[Sam2Prediction]:
        """Every multimask output for a prompt, best predicted IoU first (what SAM 2's predictor
        returns with ``multimask_output=True``, for a UI that lets the user pick): three
        :class:`Sam2Prediction` (tokens 1-3), each upsampled to the image. Arguments as
        :meth:`predict`. The AI Hub export has a single output: a list of one.
        """
        start = time.perf_counter()
        pts, lbl, boxes = self._prompt(points, labels, box, mask_input)
        if self._contract.aihub:
            return [self._predict_aihub(pts, lbl, boxes, mask_input, start)]
        low_res, iou, object_score, t_prompt, t_decoder = self._decode(pts, lbl, boxes, mask_input)
        logits = low_res.reshape((-1,) + low_res.shape[-2:])
        scores = np.asarray(iou, np.float32).reshape(-1)
        tokens = range(1, len(scores)) if len(scores) > 1 else range(1)
        results = []
        for token in sorted(tokens, key=lambda k: -scores[k]):  # stable: the lower token first on ties
            one = self._postprocess(logits[token:token + 1], scores[token:token + 1], False)
            results.append(_prediction(replace(one, token=token), iou, object_score))
        self._record(start, t_prompt, t_decoder, time.perf_counter())
        return results

    def close(self) -> None:
        self.encoder = self.decoder = self._mask_model = None
        self._features = None

    def __repr__(self) -> str:
        kind = "AI Hub" if self._contract.aihub else "edgevision"
        return (f"<Sam2Predictor {kind} contract, encoder {os.path.basename(getattr(self.encoder, 'path', '?'))}, "
                f"decoder {os.path.basename(getattr(self.decoder, 'path', '?'))}>")

    # -------------------------------------------------------------------------- internals

    def _prompt(self, points, labels, box, mask_input):
        if self._features is None or self._image_size is None:
            raise RuntimeError("call set_image(image) before predict()")
        pts, lbl, boxes = _prompt_arrays(points, labels, box)
        if pts is None and boxes is None and mask_input is None:
            raise ValueError("empty prompt: give at least one point (with its label), a box or a mask_input")
        return pts, lbl, boxes

    def _decode(self, pts, lbl, boxes, mask_input):
        """The decoder's four low-res masks, IoUs and object score for a prompt (edgevision's export)."""
        if pts is None and boxes is None:  # a mask-only prompt: no sparse tokens, as SAM 2's predictor
            sparse = np.zeros((0, self._params["no_mask_embed"].shape[-1]), np.float32)
        else:
            sparse = sam2_ops.sam2_prompt_encode(pts, lbl, boxes=boxes, image_size=self._image_size,
                                                 params=self._params)
        dense = self._no_mask if mask_input is None else self._dense_from_mask(mask_input)
        t_prompt = time.perf_counter()
        c = self._contract.decoder_inputs
        inputs: list[Optional[np.ndarray]] = [None] * len(c)
        inputs[c["image_embeddings"]], inputs[c["high_res_features1"]], inputs[c["high_res_features2"]] = self._features
        inputs[c["sparse_embeddings"]] = sparse[None]
        inputs[c["dense_embeddings"]] = dense
        outputs = self.decoder.run(inputs)
        t_decoder = time.perf_counter()
        o = self._contract.decoder_outputs
        object_score = float(outputs[o["object_score_logits"]].reshape(-1)[0]) if "object_score_logits" in o else None
        return outputs[o["low_res_masks"]], outputs[o["iou_predictions"]], object_score, t_prompt, t_decoder

    def _postprocess(self, low_res: np.ndarray, iou: np.ndarray, multimask: bool) -> sam2_ops.Sam2Mask:
        if low_res.ndim == 4 and low_res.shape[-1] == 1 and low_res.shape[1] != 1:  # NHWC single mask (LiteRT)
            low_res = low_res.transpose(0, 3, 1, 2)
        delta, stable = self._stability
        return sam2_ops.sam2_postprocess(low_res, iou.reshape(-1), image_size=self._image_size, multimask=bool(multimask),
                                         threshold=self.mask_threshold, stability_delta=delta,
                                         stability_threshold=stable, threads=self._post_threads)

    def _dense_from_mask(self, mask_input: Any) -> np.ndarray:
        if self._mask_model is None:
            raise ValueError("mask_input needs the mask-input model (sam2_hiera_tiny_mask_input, or "
                             "X_mask_input.onnx beside the decoder, or Sam2Predictor(mask_input=...))")
        if not isinstance(mask_input, np.ndarray):
            raise TypeError(f"mask_input must be a numpy.ndarray of low-res logits, got {type(mask_input).__name__}")
        h, w = MASK_INPUT_SIZE
        if mask_input.size != h * w or mask_input.shape[-2:] != (h, w):
            raise ValueError(f"mask_input must be {h} x {w} low-res logits (a previous result's low_res_logits), "
                             f"got shape {mask_input.shape}")
        if not np.isfinite(mask_input).all():
            raise ValueError("mask_input must be finite")
        tensor = np.ascontiguousarray(mask_input, dtype=np.float32).reshape(1, 1, h, w)
        return self._mask_model.run([tensor])[0]

    def _predict_aihub(self, pts, lbl, boxes, mask_input, start: float) -> Sam2Prediction:
        if boxes is not None or mask_input is not None:
            raise ValueError("the AI Hub SAM2 export takes clicks only: boxes and mask_input need edgevision's export "
                             "(models/sam2/export.py)")
        if pts is None:
            raise ValueError("empty prompt: give at least one point (with its label) or a box")
        n = self._contract.num_points
        if not np.isfinite(pts).all():
            raise ValueError("points must be finite")
        if (lbl == 0).any() or ((lbl != 1) & (lbl != -1)).any():
            raise ValueError("the AI Hub SAM2 encoder encodes every point as a positive click: labels must be 1 "
                             "(or -1 for padding); negative clicks need edgevision's export")
        if len(pts) > n:
            raise ValueError(f"the AI Hub SAM2 encoder takes at most {n} points, got {len(pts)}")
        width, height = self._image_size
        coords = np.zeros((1, n, 2), np.float32)
        labels = np.full((1, n), -1.0, np.float32)
        coords[0, :len(pts), 0] = pts[:, 0] / width
        coords[0, :len(pts), 1] = pts[:, 1] / height
        labels[0, :len(pts)] = lbl
        key = coords.tobytes() + labels.tobytes()
        if self._aihub_cache is not None and self._aihub_cache[0] == key:
            features = self._aihub_cache[1]
        else:
            c = self._contract.encoder_inputs
            inputs: list[Optional[np.ndarray]] = [None] * 3
            inputs[c["image"]], inputs[c["unnorm_coords"]], inputs[c["labels"]] = self._features[0], coords, labels
            outputs = self.encoder.run(inputs)
            o = self._contract.encoder_outputs
            features = [outputs[o[name]] for name in ("image_embeddings", "high_res_features1", "high_res_features2",
                                                      "sparse_embedding")]
            self._aihub_cache = (key, features)
        t_prompt = time.perf_counter()
        c = self._contract.decoder_inputs
        inputs = [None] * len(c)
        for k, name in enumerate(("image_embeddings", "high_res_features1", "high_res_features2", "sparse_embedding")):
            inputs[c[name]] = features[k]
        outputs = self.decoder.run(inputs)
        t_decoder = time.perf_counter()
        o = self._contract.decoder_outputs
        iou = outputs[o["scores"]]
        chosen = self._postprocess(outputs[o["masks"]], iou, False)
        end = time.perf_counter()
        self._record(start, t_prompt, t_decoder, end)
        return _prediction(chosen, iou, None)

    def _record(self, start: float, t_prompt: float, t_decoder: float, end: float) -> None:
        t = self.timings
        t.prompt_ms = (t_prompt - start) * 1e3
        t.decoder_ms = (t_decoder - t_prompt) * 1e3
        t.postprocess_ms = (end - t_decoder) * 1e3
        t.predict_ms = (end - start) * 1e3


def _prediction(chosen: sam2_ops.Sam2Mask, iou: np.ndarray, object_score: Optional[float]) -> Sam2Prediction:
    return Sam2Prediction(mask=chosen.mask, score=chosen.score, token=chosen.token,
                          stability_score=chosen.stability_score, low_res_logits=chosen.low_res_logits,
                          iou_predictions=np.array(iou, np.float32).reshape(-1), object_score_logit=object_score)


def _prompt_arrays(points, labels, box):
    """numpy arrays for the kernels (lists accepted here, at the API); shapes are checked natively."""
    pts = lbl = boxes = None
    if points is not None:
        pts = np.asarray(points)
        if pts.ndim == 1 and pts.size == 2:
            pts = pts.reshape(1, 2)
        if labels is None:
            lbl = np.ones(pts.shape[:1], np.int32)
        else:
            lbl = np.asarray(labels)
            if lbl.ndim == 0:
                lbl = lbl.reshape(1)
        if pts.size == 0:  # an empty point list is no points
            pts = lbl = None
    elif labels is not None:
        raise ValueError("labels given without points")
    if box is not None:
        boxes = np.asarray(box)
        if boxes.shape not in ((4,), (1, 4)):
            raise ValueError(f"box must be (x0, y0, x1, y1), got shape {boxes.shape}")
    for name, a in (("points", pts), ("box", boxes)):
        if a is not None and a.dtype.kind not in "fiu":
            raise TypeError(f"{name} must be numbers, got dtype {a.dtype}")
    if lbl is not None and lbl.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {lbl.dtype}")
    return pts, lbl, boxes


def _index(names: Sequence[str], wanted: Sequence[str], what: str) -> dict[str, int]:
    found = {}
    for name in wanted:
        if name not in names:
            raise ValueError(f"{what} has tensors {list(names)}; expected {list(wanted)}")
        found[name] = list(names).index(name)
    return found


def _contract(encoder, decoder) -> _Contract:
    enc_in = [i.name for i in encoder.inputs]
    enc_out = [o.name for o in encoder.outputs]
    dec_in = [i.name for i in decoder.inputs]
    dec_out = [o.name for o in decoder.outputs]
    aihub = len(enc_in) == 3
    image = encoder.inputs[enc_in.index("image") if "image" in enc_in else 0]
    shape = tuple(image.shape)
    if len(shape) != 4 or None in shape or not (shape[1] == 3 or shape[3] == 3):
        raise ValueError(f"encoder: image input {image.name!r} has shape {list(shape)}; expected a fixed [1,3,h,w] "
                         "or [1,h,w,3]")
    layout = "nchw" if shape[1] == 3 else "nhwc"
    h, w = (shape[2], shape[3]) if layout == "nchw" else (shape[1], shape[2])
    features = ["image_embeddings", "high_res_features1", "high_res_features2"]
    if aihub:
        c = _Contract(True, layout, (w, h), _index(enc_in, ["image", "unnorm_coords", "labels"], "encoder"),
                      _index(enc_out, features + ["sparse_embedding"], "encoder"),
                      _index(dec_in, features + ["sparse_embedding"], "decoder"),
                      _index(dec_out, ["masks", "scores"], "decoder"))
        c.num_points = int(encoder.inputs[c.encoder_inputs["unnorm_coords"]].shape[1] or 2)
        return c
    return _Contract(False, layout, (w, h), _index(enc_in, ["image"], "encoder"), _index(enc_out, features, "encoder"),
                     _index(dec_in, features + ["sparse_embeddings", "dense_embeddings"], "decoder"),
                     _index(dec_out, ["low_res_masks", "iou_predictions"] +
                            (["object_score_logits"] if "object_score_logits" in dec_out else []), "decoder"))


def _companion(decoder, role: str, suffix: str, given: Any, required: bool):
    """The prompt-encoder parameters / mask-input model that go with the decoder."""
    from .. import models

    if isinstance(given, Mapping):
        return given
    if given is not None:
        text = os.fspath(given)
        path = Path(text)
        if path.suffix.lower() in (".npz", ".onnx", ".tflite") or os.sep in text or path.exists():
            if not path.is_file():
                raise FileNotFoundError(f"{role}: no such file {text!r}")
            return path
        return models.fetch(text)
    card = decoder.card
    if card is not None:
        name = card.params.get("sam2", {}).get(role)
        if name is None:
            if required:
                raise ValueError(f"decoder card {card.name!r} names no [sam2] {role}")
            return None
        if not required and not models.is_cached(name):
            return None
        return models.fetch(name)
    path = Path(decoder.path)
    stem = path.stem[:-len("decoder")] if path.stem.endswith("decoder") else path.stem + "_"
    candidate = path.with_name(f"{stem}{role}{suffix}")
    if candidate.is_file():
        return candidate
    if required:
        raise FileNotFoundError(f"{role}: {candidate} not found beside the decoder; pass {role}=... "
                                "(models/sam2/export.py writes it next to the decoder)")
    return None


def _is_onnx(source: ModelSource) -> bool:
    from .. import models

    text = os.fspath(source)
    if Path(text).suffix.lower() in (".onnx", ".tflite") or os.sep in text:
        return Path(text).suffix.lower() == ".onnx"
    try:
        return models.card(text).format == "onnx"
    except ValueError:
        return False


def _check_image(image) -> tuple[int, int]:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy.ndarray (H x W x 3 uint8), got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"image must be an H x W x 3 colour image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise TypeError(f"image must have dtype uint8, got {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty: shape {image.shape}")
    return image.shape[0], image.shape[1]
