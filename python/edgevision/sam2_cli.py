"""``edgevision sam2``: segment the object at some clicks and/or in a box of an image (SAM 2)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("sam2", help="SAM 2: mask of the object at clicks / in a box of an image",
                       description="Segment the object that the clicks (--point) and/or the box (--box) point at "
                                   "in IMAGE with SAM 2, and write the mask as a black-and-white PNG.")
    p.add_argument("image", help="image file")
    p.add_argument("--point", action="append", default=[], type=_point, metavar="X,Y[,LABEL]",
                   help="a click in image pixels; LABEL 1 = object (default), 0 = background; repeatable")
    p.add_argument("--box", type=_box, metavar="X0,Y0,X1,Y1", help="a box around the object, in image pixels")
    p.add_argument("--out", help="mask PNG to write (default: IMAGE_sam2.png next to the image)")
    p.add_argument("--single", action="store_true",
                   help="the single-mask output (with SAM 2's stability fallback) instead of the best of three")
    p.add_argument("--encoder", default="sam2_hiera_tiny_encoder", help="encoder: zoo name or file")
    p.add_argument("--decoder", default="sam2_hiera_tiny_decoder", help="decoder: zoo name or file")
    p.add_argument("--threads", type=int, default=None, help="inference threads")
    p.set_defaults(run=run)


def _numbers(text: str, count: tuple[int, ...], what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in count:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return values


def _point(text: str) -> tuple[float, float, int]:
    values = _numbers(text, (2, 3), "X,Y or X,Y,LABEL")
    label = values[2] if len(values) == 3 else 1
    if label not in (0, 1):
        raise argparse.ArgumentTypeError(f"the label must be 1 (object) or 0 (background), got {text!r}")
    return values[0], values[1], int(label)


def _box(text: str) -> list[float]:
    return _numbers(text, (4,), "X0,Y0,X1,Y1")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .pipelines import Sam2Predictor
    from .segment_cli import read_image, write_image

    if not args.point and args.box is None:
        print("edgevision sam2: give at least one --point or a --box", file=sys.stderr)
        return 2
    image = read_image(args.image)
    predictor = Sam2Predictor(args.encoder, args.decoder, threads=args.threads)
    predictor.set_image(image)
    points = np.array([p[:2] for p in args.point], np.float64).reshape(-1, 2) if args.point else None
    labels = np.array([p[2] for p in args.point], np.int32) if args.point else None
    result = predictor.predict(points=points, labels=labels, box=args.box, multimask=not args.single)
    out = Path(args.out) if args.out else Path(args.image).with_name(Path(args.image).stem + "_sam2.png")
    write_image(out, result.mask.astype(np.uint8) * 255)
    t = predictor.timings
    print(f"mask: token {result.token}, predicted IoU {result.score:.3f}, {100 * result.mask.mean():.1f}% of the "
          f"image; encoder {t.encoder_ms:.0f} ms, decoder {t.decoder_ms:.1f} ms, other {t.predict_ms - t.decoder_ms:.2f} ms")
    print(f"wrote {out}")
    return 0
