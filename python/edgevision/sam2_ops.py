"""SAM 2 outside its ONNX graphs: the encoder's image tensor, the prompt encoder, mask post-processing.

Each function reproduces what ``facebookresearch/sam2``'s ``SAM2ImagePredictor`` computes in
PyTorch (SAM 2.1; numbers from ``/work/shared/spec/aihub_and_sam2.md`` §3), natively and with
the GIL released. Coordinates are image pixels; sizes are ``(width, height)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Optional

import numpy as np

from . import _native

__all__ = ["Sam2Mask", "sam2_image_tensor", "sam2_prompt_encode", "sam2_dense_positional_encoding", "sam2_postprocess"]

Size = tuple[int, int]


@dataclass(frozen=True)
class Sam2Mask:
    """One mask chosen from the decoder's outputs, at image size.

    ``mask``: ``H x W`` bool. ``token``: the decoder mask token it came from (0 is the
    single-mask output, 1-3 the multimask outputs). ``score``: its predicted IoU.
    ``stability_score``: ``#(logit > delta) / #(logit > -delta)`` of its low-resolution logits.
    ``low_res_logits``: those logits clamped to ``[-32, 32]`` (``h x w`` float32, e.g. 256 x 256),
    ready to be fed back as the next prompt's mask input.
    """

    mask: np.ndarray
    token: int
    score: float
    stability_score: float
    low_res_logits: np.ndarray


def sam2_image_tensor(
    image: np.ndarray,
    *,
    size: Size = (1024, 1024),
    channel_order: Literal["rgb", "bgr"] = "rgb",
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """The SAM 2 encoder's input: ``[1, 3, h, w]`` float32 RGB in ``[0, 1]``.

    ``image`` (``H x W x 3`` or ``x 4`` uint8, any positive strides) is stretched to
    ``size`` without keeping its aspect ratio, exactly as ``SAM2Transforms`` does before
    normalising: ``ToTensor`` (``p / 255``) then ``Resize`` on the tensor, i.e. PyTorch's
    ``interpolate(mode="bilinear", align_corners=False, antialias=True)``. Upscaling is plain
    bilinear; downscaling widens the triangle filter by the scale factor (no aliasing).
    ImageNet mean/std normalisation is not applied (the exported encoder does it).
    """
    return _native.sam2_image_tensor(image, size, channel_order, out)


def sam2_prompt_encode(
    points: Optional[np.ndarray],
    labels: Optional[np.ndarray],
    *,
    boxes: Optional[np.ndarray] = None,
    image_size: Size,
    params: Mapping[str, np.ndarray],
) -> np.ndarray:
    """Sparse prompt embeddings ``[N_total, 256]`` float32, as the decoder takes them.

    * ``points``: ``[N, 2]`` (x, y) in pixels of an image of ``image_size = (width, height)``
      (any real dtype, converted to float32 like the reference); ``labels``: ``[N]``
      integers, 1 positive click, 0 negative click, 2/3 box top-left/bottom-right corner,
      -1 padding. Points outside the image are allowed (they encode like the reference).
    * ``boxes``: ``[B, 4]`` or ``[4]`` (x0, y0, x1, y1) in pixels: each becomes two corner
      tokens (labels 2 and 3) placed before the points, as ``SAM2ImagePredictor`` does.
    * ``params``: the prompt encoder's parameters, a mapping with ``gaussian_matrix``
      ``[2, 128]``, ``point_embeddings`` ``[4, 256]`` and ``not_a_point_embed`` ``[256]``
      (all float32; the ``.npz`` written by ``models/sam2/export.py`` loads as one).

    Per token: ``x / W * 1024 + 0.5`` (pixel centre), ``/ 1024``, ``2c - 1``,
    ``angles = 2 pi (c @ gaussian_matrix)``, ``[sin(angles), cos(angles)]`` plus the label's
    embedding (``not_a_point_embed`` replaces it for -1). A padding token is always appended,
    so ``N_total = 2 B + N + 1``. ValueError for an empty prompt or non-finite coordinates.
    """
    return _native.sam2_prompt_encode(points, labels, boxes, image_size, params)


def sam2_dense_positional_encoding(gaussian_matrix: np.ndarray, size: Size = (64, 64)) -> np.ndarray:
    """The positional encoding of a ``size`` grid of cell centres, ``[256, h, w]`` float32.

    Cell ``(i, j)`` is encoded at ``((j + 0.5) / w, (i + 0.5) / h)`` like a point: the
    decoder's ``image_pe`` (``PromptEncoder.get_dense_pe``) for the 64 x 64 embedding grid.
    """
    return _native.sam2_dense_positional_encoding(gaussian_matrix, size)


def sam2_postprocess(
    low_res_logits: np.ndarray,
    iou: np.ndarray,
    *,
    image_size: Size,
    multimask: bool,
    threshold: float = 0.0,
    stability_delta: float = 0.05,
    stability_threshold: float = 0.98,
    threads: int = 1,
    out: Optional[np.ndarray] = None,
) -> Sam2Mask:
    """Choose the decoder's output mask and bring it to ``image_size`` as a bool mask.

    ``low_res_logits``: ``[1, K, h, w]``, ``[K, h, w]`` or ``[h, w]`` float32 (any strides);
    ``iou``: the K predicted IoUs (``[1, K]`` or ``[K]``). With K = 4 (token 0 = single-mask
    output, 1-3 = multimask outputs): ``multimask=True`` picks the multimask output with the
    highest IoU; ``multimask=False`` keeps token 0 unless its stability score is below
    ``stability_threshold``, in which case the same best multimask output replaces it (SAM 2's
    ``dynamic_multimask_via_stability``). With K = 1 that token is used.

    The chosen logits are upsampled bilinearly to ``image_size`` (PyTorch's
    ``interpolate(align_corners=False)``) and thresholded (``> threshold``) in one pass.
    ``threads``: share a large output's rows among up to this many threads, the caller and
    shared helper threads (at most 4 and the cores; the result is identical). ``out``: an ``H x W`` bool or uint8 C-contiguous array to write the
    mask into.
    """
    mask, token, score, stability, low_res = _native.sam2_postprocess(
        low_res_logits, iou, image_size, multimask, threshold, stability_delta, stability_threshold, threads, out)
    if mask.dtype != np.bool_:
        mask = mask.view(np.bool_)
    return Sam2Mask(mask=mask, token=int(token), score=float(score), stability_score=float(stability),
                    low_res_logits=low_res)


def load_prompt_params(source: Any) -> dict[str, np.ndarray]:
    """The prompt encoder parameters as a dict of C-contiguous float32 arrays, from a path to the
    ``.npz`` or a mapping (checked by the kernels on use)."""
    if isinstance(source, Mapping):
        items = dict(source)
    else:
        with np.load(source) as data:
            items = {key: data[key] for key in data.files}
    return {key: np.ascontiguousarray(value, dtype=np.float32) if isinstance(value, np.ndarray) else value
            for key, value in items.items()}
