"""How close a converted (or quantised) model's outputs are to a reference model's, over real frames.

Per output: the cosine similarity (over all frames together, and the lowest per frame, leaving
out frames where the reference output is ~0: below 1e-3 of the largest frame's norm), the
largest absolute difference and the reference's value range (max - min over all frames), the
numbers published model cards give for their exports. The reference is the LiteRT float model
the ONNX file was converted from (``"litert"``), or any other model file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional, Union

import numpy as np

from ..models import ModelCard
from .calibration import SYNTHETIC, FrameSource, frames, input_tensors
from .converter import META_LAYOUT, metadata

REFERENCES = ("litert",)


@dataclass(frozen=True)
class OutputAccuracy:
    """One output's agreement with the reference over the frames."""

    name: str
    shape: tuple[int, ...]
    cosine: float  # all frames' values as one vector
    cosine_min: float  # lowest per-frame cosine, over frames where the reference is not ~0 (see below)
    max_abs_error: float
    reference_range: float  # max - min of the reference output over all frames

    @property
    def relative_error(self) -> float:
        """``max_abs_error`` relative to the reference range (NaN for a constant output)."""
        return self.max_abs_error / self.reference_range if self.reference_range > 0 else math.nan


@dataclass(frozen=True)
class AccuracyReport:
    model: str
    reference: str
    device: str
    frames: int
    outputs: tuple[OutputAccuracy, ...]

    def table(self) -> str:
        """A Markdown table, one row per output."""
        lines = [f"{os.path.basename(self.model)} on {self.device} vs {self.reference}, {self.frames} frames",
                 "",
                 "| output | shape | cosine | min cosine (frame) | max abs error | reference range | error / range |",
                 "| --- | --- | --- | --- | --- | --- | --- |"]
        for o in self.outputs:
            lines.append(f"| {o.name} | {list(o.shape)} | {o.cosine:.6f} | {o.cosine_min:.6f} | {o.max_abs_error:.3g} "
                         f"| {o.reference_range:.4g} | {o.relative_error:.2e} |")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def accuracy(
    model: Union[str, os.PathLike],
    *,
    reference: Union[str, os.PathLike] = "litert",
    calibration: FrameSource = SYNTHETIC,
    device: str = "cpu",
    card: Optional[Union[ModelCard, str]] = None,
    threads: Optional[int] = None,
) -> AccuracyReport:
    """Compare ``model`` (an ``.onnx`` file, or a zoo name for its cached conversion) with
    ``reference`` (``"litert"``: the zoo ``.tflite`` it came from; or a model file path) on the
    frames of ``calibration`` (as in :func:`quantize`). ``device``: where ``model`` runs
    (``"cpu"``, ``"qnn-htp"``, ...); the reference runs on the CPU.
    """
    from .. import models, runtime
    from .zoo import card_of, converted

    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be an .onnx path or a zoo name, got {type(model).__name__}")
    path = os.fspath(model)
    if not path.lower().endswith(".onnx") and os.sep not in path and not os.path.exists(path):
        path = os.fspath(converted(path))
    model_card = card_of(path) if card is None else card if isinstance(card, ModelCard) else models.card(card)
    if isinstance(reference, str) and reference in REFERENCES:
        reference_path, reference_name = os.fspath(models.fetch(model_card)), f"LiteRT ({model_card.file_name})"
    elif isinstance(reference, (str, os.PathLike)) and os.path.isfile(reference):
        reference_path, reference_name = os.fspath(reference), os.path.basename(os.fspath(reference))
    else:
        raise ValueError(f"reference must be one of {list(REFERENCES)} or a model file, got {reference!r}")

    tested = runtime.load(path, device=device, threads=threads)
    baseline = runtime.load(reference_path, threads=threads)
    images = frames(calibration)
    layouts = {"model": _layout(path, tested), "reference": _layout(reference_path, baseline)}
    tensors = {role: input_tensors(images, model_card, layout=layout) for role, layout in layouts.items()}
    by_name = {info.name: k for k, info in enumerate(tested.outputs)}
    missing = [info.name for info in baseline.outputs if info.name not in by_name]
    if missing:
        raise ValueError(f"{path}: outputs {missing} of the reference are missing (it has {sorted(by_name)})")
    got: list[list[np.ndarray]] = [[] for _ in baseline.outputs]
    want: list[list[np.ndarray]] = [[] for _ in baseline.outputs]
    for x_model, x_reference in zip(tensors["model"], tensors["reference"]):
        outputs, expected = tested.run([x_model]), baseline.run([x_reference])
        for k, info in enumerate(baseline.outputs):
            got[k].append(_to_nhwc(outputs[by_name[info.name]], layouts["model"]))
            want[k].append(_to_nhwc(expected[k], layouts["reference"]))
    rows = []
    for k, info in enumerate(baseline.outputs):
        a, b = np.stack(want[k]).astype(np.float64), np.stack(got[k]).astype(np.float64)
        if a.shape != b.shape:
            raise ValueError(f"output {info.name!r}: shape {list(b.shape[1:])} differs from the reference's "
                             f"{list(a.shape[1:])}")
        # A frame whose reference output is ~0 (a mask with no person) has no meaningful direction.
        norms = np.linalg.norm(a.reshape(len(a), -1), axis=1)
        per_frame = [_cosine(x.ravel(), y.ravel()) for x, y, n in zip(a, b, norms) if n > 1e-3 * norms.max()]
        rows.append(OutputAccuracy(info.name, tuple(a.shape[1:]), _cosine(a.ravel(), b.ravel()), min(per_frame),
                                   float(np.abs(a - b).max()), float(a.max() - a.min())))
    return AccuracyReport(path, reference_name, device, len(images), tuple(rows))


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 and nb == 0.0:
        return 1.0
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(a @ b / (na * nb))


def _layout(path: str, loaded) -> str:
    if path.lower().endswith(".onnx"):
        try:
            layout = metadata(path).get(META_LAYOUT)
        except Exception:
            layout = None
        if layout:
            return layout
        shape = loaded.inputs[0].shape
        if len(shape) == 4 and shape[1] == 3 and shape[3] != 3:
            return "nchw"
    return "nhwc"


def _to_nhwc(array: np.ndarray, layout: str) -> np.ndarray:
    return np.transpose(array, (0, 2, 3, 1)) if layout == "nchw" and array.ndim == 4 else array
