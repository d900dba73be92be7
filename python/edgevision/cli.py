"""The `edgevision` command: `edgevision demo` (the main job on a built-in frame), `edgevision speed`."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


def _demo(args: argparse.Namespace) -> int:
    import edgevision
    from edgevision import speed

    info = edgevision.build_info()
    print(f"edgevision {info['version']}: native core on {info['architecture']}, SIMD path '{info['isa']}' "
          f"(supported: {', '.join(info['supported_isas'])}; {info['compiler']}, {info['build_type']} build)")
    _selfie_demo(args.out_dir)
    print("Kernels on a built-in 1280x720 frame, single-threaded, median ms per call:\n")
    rows = speed.measure(budget_s=args.budget, peers=not args.no_peers)
    print(speed.format_table(rows))
    return 0


def _selfie_demo(out_dir: str) -> None:
    """Selfie segmentation (general model) on the built-in astronaut: mask + blurred background."""
    import time
    from pathlib import Path

    from edgevision import models
    from edgevision.pipelines import SelfieSegmenter
    from edgevision.segment_cli import mask_to_gray, read_image, write_image

    try:
        frame = read_image(models.fetch("astronaut"))
        segmenter = SelfieSegmenter(model="general")
    except Exception as e:  # no network, no runtime: the kernel table still runs
        print(f"selfie segmentation skipped: {type(e).__name__}: {e}\n")
        return
    runs = []
    for _ in range(10):
        start = time.perf_counter()
        mask = segmenter(frame)
        runs.append(((time.perf_counter() - start) * 1e3, segmenter.timings.inference_ms,
                     segmenter.timings.preprocess_ms + segmenter.timings.postprocess_ms))
    composite = segmenter.apply(frame, "blur")
    blend_ms = segmenter.timings.postprocess_ms
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_image(out / "selfie_mask.png", mask_to_gray(mask))
    write_image(out / "selfie_blur.png", composite)
    total, model, prepost = (sorted(r[i] for r in runs)[len(runs) // 2] for i in range(3))
    print(f"Selfie segmentation ({segmenter.card.name}, {segmenter.model.runtime}) on the 512x512 astronaut, "
          f"median of {len(runs)}: {total:.2f} ms per frame = model {model:.2f} ms + pre/post {prepost:.2f} ms; "
          f"mask + blurred-background composite {blend_ms:.2f} ms")
    print(f"wrote {out / 'selfie_mask.png'} and {out / 'selfie_blur.png'}\n")


def _speed(args: argparse.Namespace) -> int:
    from edgevision import speed

    return speed.main(args.rest)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="edgevision", description="On-device vision models with native kernels.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the kernels on a built-in frame and print build info and timings")
    demo.add_argument("--budget", type=float, default=0.3, help="seconds of timing per kernel (default 0.3)")
    demo.add_argument("--no-peers", action="store_true", help="skip the OpenCV/NumPy comparisons")
    demo.add_argument("--out-dir", default=".", help="where the selfie mask and composite PNGs go (default .)")
    demo.set_defaults(run=_demo)
    speed = sub.add_parser("speed", help="the full speed report (see bench/)", add_help=False)
    speed.add_argument("rest", nargs=argparse.REMAINDER)
    speed.set_defaults(run=_speed)
    from edgevision.models import cli as models_cli

    models_cli.add_parser(sub)
    from edgevision import segment_cli

    segment_cli.add_parser(sub)
    from edgevision import sam2_cli

    sam2_cli.add_parser(sub)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
