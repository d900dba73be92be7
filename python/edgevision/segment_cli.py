"""``edgevision segment``: selfie segmentation of an image, a video or a camera, from the shell.

Still images go through Pillow (a core dependency); videos and cameras through OpenCV
(``pip install edgevision[video]``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from .media import classify, default_output, read_image, run_stream, write_image

COLOURS = {"black": (0, 0, 0), "white": (255, 255, 255), "green": (0, 177, 64), "blue": (0, 71, 187),
           "red": (255, 0, 0), "gray": (128, 128, 128), "grey": (128, 128, 128)}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("segment", help="person segmentation of an image, video or camera (selfie models)",
                       description="Segment the person in INPUT (an image, a video file, or a camera index such "
                                   "as 0) and write the composited frames or the mask.")
    p.add_argument("input", help="image or video file, or a camera index")
    p.add_argument("--out", help="output file (default: INPUT_segmented.png/.mp4 next to the input; "
                                 "cameras write nothing unless given)")
    p.add_argument("--background", default="blur",
                   help="'blur' (default), a colour ('green', '#00ff00', '0,255,0') or an image file")
    p.add_argument("--blur-sigma", type=float, default=8.0, help="blur strength in pixels (default 8)")
    p.add_argument("--model", choices=["general", "landscape"], default="general")
    p.add_argument("--resize", choices=["stretch", "letterbox"], default=None,
                   help="stretch (MediaPipe, default) or letterbox (aspect kept)")
    p.add_argument("--smoothing", type=float, default=0.0, help="temporal smoothing ratio for videos (0..1)")
    p.add_argument("--threshold", type=float, default=None, help="hard cut at this probability instead of blending")
    p.add_argument("--mask-only", action="store_true", help="write the mask (0..255 gray) instead of a composite")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames (videos, cameras)")
    p.add_argument("--threads", type=int, default=None, help="inference threads")
    p.set_defaults(run=run)


def parse_colour(text: str) -> tuple[int, int, int]:
    """'green', '#00ff00' or '0,255,0' -> an RGB triple."""
    t = text.strip().lower()
    if t in COLOURS:
        return COLOURS[t]
    if t.startswith("#") and len(t) == 7:
        try:
            return tuple(int(t[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
        except ValueError:
            pass
    parts = t.split(",")
    if len(parts) == 3 and all(p.strip().isdigit() and 0 <= int(p) <= 255 for p in parts):
        return tuple(int(p) for p in parts)  # type: ignore[return-value]
    raise ValueError(f"--background: not 'blur', a colour name ({', '.join(sorted(COLOURS))}), '#rrggbb', "
                     f"'r,g,b' or an existing image file: {text!r}")


def mask_to_gray(mask: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(mask, 0.0, 1.0) * 255.0).astype(np.uint8)


def _background(text: str, bgr: bool):
    if text == "blur":
        return "blur"
    if Path(text).is_file():
        image = read_image(text)
        return np.ascontiguousarray(image[..., ::-1]) if bgr else image
    colour = parse_colour(text)
    return colour[::-1] if bgr else colour


def run(args: argparse.Namespace) -> int:
    from edgevision.pipelines import SelfieSegmenter

    source, is_image = classify(args.input, "segment")
    bgr = not is_image  # OpenCV frames are BGR
    try:
        background = None if args.mask_only else _background(args.background, bgr)
    except ValueError as e:
        raise SystemExit(f"edgevision segment: {e}") from None
    segmenter = SelfieSegmenter(model=args.model, resize=args.resize, smoothing=args.smoothing,
                                threads=args.threads, channel_order="bgr" if bgr else "rgb")
    if is_image:
        return _run_image(args, segmenter, background)
    out_path = args.out or default_output(source, "segmented", ".mp4")
    count = run_stream(source, lambda frame, index, ms: _process(args, segmenter, frame, background),
                       command="segment", out_path=out_path, max_frames=args.max_frames, colour=not args.mask_only)
    return 0 if count else 1


def _process(args, segmenter, frame, background):
    if args.mask_only:
        return mask_to_gray(segmenter(frame))
    return segmenter.apply(frame, background, blur_sigma=args.blur_sigma, threshold=args.threshold)


def _run_image(args, segmenter, background) -> int:
    frame = read_image(args.input)
    start = time.perf_counter()
    result = _process(args, segmenter, frame, background)
    elapsed = (time.perf_counter() - start) * 1e3
    out = args.out or default_output(args.input, "segmented", ".png")
    write_image(out, result)
    t = segmenter.timings
    print(f"{out}: {frame.shape[1]}x{frame.shape[0]} in {elapsed:.1f} ms (model {t.inference_ms:.1f} ms, "
          f"pre {t.preprocess_ms:.2f} ms, post {t.postprocess_ms:.2f} ms)")
    return 0
