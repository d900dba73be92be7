"""Frames for calibration and accuracy reports, and the model input tensors made from them.

``"synthetic"`` is a fixed set of real frames: skimage's astronaut and camera photos (the zoo's
``astronaut``/``camera`` assets, so scikit-image is not needed), 16 frames of
``samples.synthetic_video(astronaut)`` and 8 of ``samples.exit_and_reenter_video(astronaut)``
(640x480: the person turns, scales, drifts, leaves and comes back). A directory gives its images
in name order. Tensors are made as the model's card says (``[preprocess]``: size, letterbox or
stretch, value range, border, sampling): the whole frame, as the pipelines feed detectors and
segmenters.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from ..models import ModelCard

SYNTHETIC = "synthetic"
ORBIT_FRAMES = 16
EXIT_FRAMES = 8
VIDEO_SIZE = (640, 480)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")

FrameSource = Union[str, os.PathLike, Sequence[np.ndarray]]


def frames(source: FrameSource = SYNTHETIC) -> list[np.ndarray]:
    """RGB uint8 frames: ``"synthetic"``, a directory of images, or the frames themselves."""
    if isinstance(source, (list, tuple)):
        for k, frame in enumerate(source):
            if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
                raise ValueError(f"calibration frame {k} must be an H x W x 3 uint8 array, got "
                                 f"{getattr(frame, 'shape', type(frame).__name__)}")
        if not source:
            raise ValueError("calibration: no frames given")
        return list(source)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError("calibration must be 'synthetic', a directory or a list of frames, got "
                        f"{type(source).__name__}")
    if os.fspath(source) == SYNTHETIC:
        return _synthetic()
    directory = Path(source)
    if not directory.is_dir():
        raise ValueError(f"calibration: expected 'synthetic' or a directory of images, got {os.fspath(source)!r}")
    paths = sorted(p for p in directory.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ValueError(f"calibration: no images ({', '.join(IMAGE_SUFFIXES)}) in {str(directory)!r}")
    from ..segment_cli import read_image

    return [read_image(p) for p in paths]


def _synthetic() -> list[np.ndarray]:
    from .. import models, samples
    from ..segment_cli import read_image

    astronaut = read_image(models.fetch("astronaut"))
    camera = read_image(models.fetch("camera"))  # grey, as RGB
    return [astronaut, camera, *samples.synthetic_video(astronaut, frames=ORBIT_FRAMES, size=VIDEO_SIZE),
            *samples.exit_and_reenter_video(astronaut, frames=EXIT_FRAMES, size=VIDEO_SIZE)]


def input_tensors(images: Sequence[np.ndarray], card: ModelCard, *, layout: str = "nhwc") -> list[np.ndarray]:
    """One input tensor per frame, prepared as ``card`` describes (float32, ``layout``)."""
    from .. import kernels

    pre = card.params.get("preprocess", {})
    spec = card.inputs[0] if card.inputs else None
    if not pre.get("size") and spec is None:
        raise ValueError(f"card {card.name!r} describes neither [preprocess] size nor its input shape")
    size = tuple(pre.get("size") or (spec.shape[2], spec.shape[1]))
    value_range = tuple(pre.get("value_range") or (spec.value_range if spec and spec.value_range else (0.0, 1.0)))
    return [kernels.letterbox(frame, size, keep_aspect=bool(pre.get("keep_aspect", False)), value_range=value_range,
                              layout=layout, border=pre.get("border", "zero"),
                              sampling=pre.get("sampling", "opencv"))[0]
            for frame in images]
