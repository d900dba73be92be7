"""``edgevision models convert | quantize | accuracy`` (registered by ``models/cli.py``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from .calibration import SYNTHETIC


def add_parsers(actions: argparse._SubParsersAction) -> None:
    convert = actions.add_parser("convert", help="convert a .tflite model (zoo name or path) to ONNX")
    convert.add_argument("model", metavar="NAME|PATH", help="a zoo model name or a .tflite file")
    convert.add_argument("-o", "--output", metavar="OUT.onnx",
                         help="where to write (default: the cache for a zoo name, PATH with .onnx otherwise)")
    convert.add_argument("--layout", choices=("nhwc", "nchw"), default="nhwc",
                         help="image inputs/outputs as in TFLite (nhwc, default) or channels-first (nchw)")
    convert.set_defaults(run=_convert)

    quantize = actions.add_parser("quantize", help="static QDQ quantisation (w8a8/w8a16) for the QNN HTP")
    quantize.add_argument("model", metavar="MODEL.onnx|NAME", help="a converted model, or a zoo name (converted first)")
    quantize.add_argument("-o", "--output", metavar="OUT.onnx", help="default: MODEL.<precision>.onnx")
    quantize.add_argument("--calibration", default=SYNTHETIC, metavar="DIR|synthetic",
                          help="a directory of images, or the built-in real frames (default: synthetic)")
    quantize.add_argument("--precision", choices=("w8a8", "w8a16"), default="w8a8",
                          help="8-bit weights, 8- or 16-bit activations (w8a16 keeps segmentation masks)")
    quantize.add_argument("--card", metavar="NAME", help="the zoo card for pre-processing (default: recorded source)")
    quantize.set_defaults(run=_quantize)

    accuracy = actions.add_parser("accuracy", help="cosine similarity and max error against the LiteRT model")
    accuracy.add_argument("model", metavar="MODEL.onnx|NAME", help="a converted/quantised model, or a zoo name")
    accuracy.add_argument("--reference", default="litert", metavar="litert|PATH",
                          help="litert (the source .tflite on LiteRT, default) or another model file")
    accuracy.add_argument("--calibration", default=SYNTHETIC, metavar="DIR|synthetic",
                          help="the frames to compare on (default: synthetic)")
    accuracy.add_argument("--device", default="cpu", help="where MODEL runs: cpu (default), qnn-htp, ...")
    accuracy.add_argument("--card", metavar="NAME", help="the zoo card (default: recorded source)")
    accuracy.set_defaults(run=_accuracy)


def _is_zoo_name(text: str) -> bool:
    return os.sep not in text and not Path(text).suffix and not os.path.exists(text)


def _convert(args: argparse.Namespace) -> int:
    from . import converted, tflite_to_onnx

    try:
        start = time.perf_counter()
        if _is_zoo_name(args.model):
            if args.output:
                from .. import models

                model = tflite_to_onnx(models.fetch(args.model), args.output, layout=args.layout)
                out = Path(args.output)
            else:
                out = converted(args.model, layout=args.layout)
                model = None
        else:
            out = Path(args.output) if args.output else Path(args.model).with_suffix(".onnx")
            model = tflite_to_onnx(args.model, out, layout=args.layout)
        seconds = time.perf_counter() - start
    except (ValueError, OSError, ImportError, RuntimeError) as e:
        print(f"edgevision models convert: {e}", file=sys.stderr)
        return 1
    if model is not None:
        ops = Counter(node.op_type for node in model.graph.node)
        listing = ", ".join(f"{op} {n}" for op, n in ops.most_common())
        print(f"wrote {out} in {seconds:.2f} s: {len(model.graph.node)} nodes ({listing})")
    else:
        print(f"{out}")
    return 0


def _quantize(args: argparse.Namespace) -> int:
    from . import converted, quantize

    try:
        source = converted(args.model) if _is_zoo_name(args.model) else Path(args.model)
        out = Path(args.output) if args.output else source.with_name(f"{source.stem}.{args.precision}.onnx")
        start = time.perf_counter()
        quantize(source, out, calibration=args.calibration, precision=args.precision, card=args.card)
    except (ValueError, OSError, ImportError, RuntimeError) as e:
        print(f"edgevision models quantize: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({args.precision}, calibrated on {args.calibration}) in {time.perf_counter() - start:.1f} s")
    return 0


def _accuracy(args: argparse.Namespace) -> int:
    from . import accuracy

    try:
        report = accuracy(args.model, reference=args.reference, calibration=args.calibration, device=args.device,
                          card=args.card)
    except (ValueError, OSError, ImportError, RuntimeError) as e:
        print(f"edgevision models accuracy: {e}", file=sys.stderr)
        return 1
    print(report.table())
    return 0
