"""Reading and writing frames for the command-line tools.

Still images go through Pillow (a core dependency); videos and cameras through OpenCV
(``pip install edgevision[video]``), whose frames are BGR.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}

Source = Union[str, int]


def read_image(path: os.PathLike | str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def write_image(path: os.PathLike | str, array: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(array).save(path)


def classify(source: str, command: str) -> tuple[Source, bool]:
    """``(source, is_image)``: a camera index (int) or a path; exits with a message if missing."""
    if source.isdigit() and not Path(source).exists():
        return int(source), False
    if not Path(source).exists():
        raise SystemExit(f"edgevision {command}: no such file: {source}")
    return source, Path(source).suffix.lower() in IMAGE_SUFFIXES


def default_output(source: Source, suffix: str, extension: str) -> Optional[str]:
    """``INPUT_<suffix>.<extension>`` next to a file; None for a camera."""
    if isinstance(source, int):
        return None
    path = Path(source)
    return str(path.with_name(f"{path.stem}_{suffix}{extension}"))


def opencv(command: str):
    try:
        import cv2
    except ImportError:
        raise SystemExit(f"edgevision {command}: videos and cameras need OpenCV: pip install 'edgevision[video]'") \
            from None
    return cv2


def run_stream(source: Source, process: Callable[[np.ndarray, int, float], Optional[np.ndarray]], *,
               command: str, out_path: Optional[str], max_frames: Optional[int], colour: bool = True) -> int:
    """Feed every BGR frame of a video or camera to ``process(frame, index, timestamp_ms)``
    and write what it returns (BGR, or gray when ``colour`` is False) to ``out_path`` at the
    input's frame rate, with a progress bar showing frames/s. Returns the frame count."""
    cv2 = opencv(command)
    from tqdm import tqdm

    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        raise SystemExit(f"edgevision {command}: cannot open {'camera' if isinstance(source, int) else 'video'} "
                         f"{source}")
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    if max_frames is not None:
        total = min(total or max_frames, max_frames)
    fps_in = capture.get(cv2.CAP_PROP_FPS) or 30.0
    writer = None
    count, started = 0, time.perf_counter()
    bar = tqdm(total=total, unit="frame", desc=command)
    try:
        while max_frames is None or count < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            result = process(frame, count, count * 1000.0 / fps_in)
            if out_path is not None and result is not None:
                if writer is None:
                    h, w = frame.shape[:2]
                    writer = cv2.VideoWriter(out_path, cv2.VideoWriter_fourcc(*"mp4v"), fps_in, (w, h), colour)
                writer.write(result)
            count += 1
            bar.update(1)
            bar.set_postfix(fps=f"{count / (time.perf_counter() - started):.1f}", refresh=False)
    except KeyboardInterrupt:
        pass
    finally:
        bar.close()
        capture.release()
        if writer is not None:
            writer.release()
    elapsed = time.perf_counter() - started
    print(f"{count} frames in {elapsed:.2f} s: {count / max(elapsed, 1e-9):.1f} frames/s"
          + (f" -> {out_path}" if out_path and count else ""))
    return count
