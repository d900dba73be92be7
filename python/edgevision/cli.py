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
    _pose_demo(args.out_dir)
    _selfie_demo(args.out_dir)
    _face_demo(args.out_dir)
    print("Kernels on a built-in 1280x720 frame, single-threaded, median ms per call:\n")
    rows = speed.measure(budget_s=args.budget, peers=not args.no_peers)
    print(speed.format_table(rows))
    return 0


def _median_timings(pipeline, frame, runs: int, *fields):
    """``pipeline(frame)`` ``runs`` times: the last result, and the medians of the wall time
    (ms) and of each ``field(pipeline.timings)``."""
    import time

    rows = []
    for _ in range(runs):
        start = time.perf_counter()
        result = pipeline(frame)
        rows.append([(time.perf_counter() - start) * 1e3] + [field(pipeline.timings) for field in fields])
    return result, [sorted(column)[runs // 2] for column in zip(*rows)]


def _pose_demo(out_dir: str) -> None:
    """Pose landmarks on the built-in astronaut: annotated image + timings."""
    from pathlib import Path

    from edgevision import models
    from edgevision.media import read_image, write_image
    from edgevision.pipelines import PoseLandmarker
    from edgevision.pose_cli import annotate

    try:
        frame = read_image(models.fetch("astronaut"))
        landmarker = PoseLandmarker(segmentation=True)
    except Exception as e:  # no network, no runtime: the rest of the demo still runs
        print(f"pose skipped: {type(e).__name__}: {e}\n")
        return
    runs = 5
    poses, (total, model) = _median_timings(landmarker, frame, runs, lambda t: t.inference_ms)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_image(out / "pose.png", annotate(frame, poses, bgr=False))
    print(f"Pose ({landmarker.detector.card.name} + {landmarker.landmarker.card.name}, "
          f"{landmarker.landmarker.model.runtime}) on the 512x512 astronaut: {len(poses)} person, median of "
          f"{runs}: {total:.2f} ms = models {model:.2f} ms + everything else {total - model:.2f} ms "
          f"(image mode: detector + landmarks + mask)")
    print(f"wrote {out / 'pose.png'}\n")


def _selfie_demo(out_dir: str) -> None:
    """Selfie segmentation (general model) on the built-in astronaut: mask + blurred background."""
    from pathlib import Path

    from edgevision import models
    from edgevision.pipelines import SelfieSegmenter
    from edgevision.media import read_image, write_image
    from edgevision.segment_cli import mask_to_gray

    try:
        frame = read_image(models.fetch("astronaut"))
        segmenter = SelfieSegmenter(model="general")
    except Exception as e:  # no network, no runtime: the kernel table still runs
        print(f"selfie segmentation skipped: {type(e).__name__}: {e}\n")
        return
    runs = 10
    mask, (total, model, prepost) = _median_timings(segmenter, frame, runs, lambda t: t.inference_ms,
                                                    lambda t: t.preprocess_ms + t.postprocess_ms)
    composite = segmenter.apply(frame, "blur")
    blend_ms = segmenter.timings.postprocess_ms
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_image(out / "selfie_mask.png", mask_to_gray(mask))
    write_image(out / "selfie_blur.png", composite)
    print(f"Selfie segmentation ({segmenter.card.name}, {segmenter.model.runtime}) on the 512x512 astronaut, "
          f"median of {runs}: {total:.2f} ms per frame = model {model:.2f} ms + pre/post {prepost:.2f} ms; "
          f"mask + blurred-background composite {blend_ms:.2f} ms")
    print(f"wrote {out / 'selfie_mask.png'} and {out / 'selfie_blur.png'}\n")


def _face_demo(out_dir: str) -> None:
    """Face Mesh on the built-in astronaut: 468 landmarks drawn + timings."""
    from pathlib import Path

    from edgevision import models
    from edgevision.face_cli import _Mesh
    from edgevision.media import read_image, write_image
    from edgevision.pipelines import FaceLandmarker

    try:
        frame = read_image(models.fetch("astronaut"))
        mesh = FaceLandmarker()
    except Exception as e:  # no network, no runtime: the rest of the demo still runs
        print(f"face mesh skipped: {type(e).__name__}: {e}\n")
        return
    runs = 10
    faces, (total, model) = _median_timings(mesh, frame, runs, lambda t: t.inference_ms)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_image(out / "face.png", _Mesh.draw(frame, faces, bgr=False))
    print(f"Face Mesh ({mesh.detector.card.name} + {mesh.landmarker.card.name}, {mesh.model.runtime}) on the "
          f"512x512 astronaut: {len(faces)} face, 468 landmarks, median of {runs}: {total:.2f} ms = models "
          f"{model:.2f} ms + everything else {total - model:.2f} ms (image mode: detector + landmarks)")
    print(f"wrote {out / 'face.png'}\n")


def _speed(args: argparse.Namespace) -> int:
    from edgevision import speed

    return speed.main(args.rest)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="edgevision", description="On-device vision models with native kernels.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="pose, selfie segmentation and face landmarks on a built-in photo (annotated images "
                          "and timings), then the kernels' timings on a built-in frame")
    demo.add_argument("--budget", type=float, default=0.3, help="seconds of timing per kernel (default 0.3)")
    demo.add_argument("--no-peers", action="store_true", help="skip the OpenCV/NumPy comparisons")
    demo.add_argument("--out-dir", default=".", help="where the result images go (default .)")
    demo.set_defaults(run=_demo)
    speed = sub.add_parser("speed", help="the full speed report (see bench/)", add_help=False)
    speed.add_argument("rest", nargs=argparse.REMAINDER)
    speed.set_defaults(run=_speed)
    from edgevision.models import cli as models_cli

    models_cli.add_parser(sub)
    from edgevision import face_cli, pose_cli, segment_cli

    pose_cli.add_parser(sub)
    segment_cli.add_parser(sub)
    face_cli.add_parser(sub)
    from edgevision import sam2_cli

    sam2_cli.add_parser(sub)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
