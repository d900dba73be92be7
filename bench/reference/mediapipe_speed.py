"""Frames per second of MediaPipe 0.10.21's legacy solutions on 1280x720 synthetic video.

Run with the MediaPipe venv; prints one JSON object on stdout (everything else goes to stderr)::

    /work/venv-mp/bin/python bench/reference/mediapipe_speed.py [--frames 60] [--warmup 10] [--case pose_video ...]

edgevision's bench runs this through ``subprocess`` when ``EDGEVISION_MEDIAPIPE_PYTHON`` names
that venv's python. Each case gets a fresh solution, ``--warmup`` untimed frames, then
``--frames`` timed ``process()`` calls (wall clock per call, the clip continues across the
warm-up and loops if needed). ``fps`` is ``1000 / median_ms``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

from _mediapipe import load_samples

FRAME_SIZE = (1280, 720)
CLIP_FRAMES = 90

# case -> (solution, options); video mode wherever the solution has one.
CASES = {
    "pose_video": ("pose", dict(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                                enable_segmentation=False)),
    "pose_video_segmentation": ("pose", dict(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                                             enable_segmentation=True, smooth_segmentation=True)),
    "selfie_general": ("selfie_segmentation", dict(model_selection=0)),
    "selfie_landscape": ("selfie_segmentation", dict(model_selection=1)),
    "face_mesh_video": ("face_mesh", dict(static_image_mode=False, max_num_faces=1, refine_landmarks=False)),
}


def make_solution(solution: str, options: dict):
    import mediapipe as mp

    factory = {
        "pose": mp.solutions.pose.Pose,
        "selfie_segmentation": mp.solutions.selfie_segmentation.SelfieSegmentation,
        "face_mesh": mp.solutions.face_mesh.FaceMesh,
    }[solution]
    return factory(**options)


def time_case(solution: str, options: dict, frames: list, warmup: int, timed: int) -> dict:
    times_ms, found = [], 0
    with make_solution(solution, options) as sol:
        for k in range(warmup + timed):
            frame = frames[k % len(frames)]
            start = time.perf_counter()
            result = sol.process(frame)
            elapsed = (time.perf_counter() - start) * 1e3
            if k >= warmup:
                times_ms.append(elapsed)
                found += any(getattr(result, f, None) is not None
                             for f in ("pose_landmarks", "segmentation_mask", "multi_face_landmarks"))
    median = statistics.median(times_ms)
    return {
        "fps": round(1e3 / median, 2),
        "median_ms": round(median, 3),
        "min_ms": round(min(times_ms), 3),
        "mean_ms": round(statistics.fmean(times_ms), 3),
        "frames_with_output": found,
        "options": options,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=60, help="timed frames per case")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames first")
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="only these cases (repeatable)")
    args = parser.parse_args()
    if args.frames < 1 or args.warmup < 0:
        parser.error("--frames must be >= 1 and --warmup >= 0")

    # Keep stdout for the JSON alone: native code (glog, TFLite) may write to fd 1.
    stdout_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        import mediapipe as mp
        import skimage.data

        samples = load_samples()
        frames = list(samples.synthetic_video(skimage.data.astronaut(), frames=CLIP_FRAMES, size=FRAME_SIZE))
        results = {}
        for case in args.case or list(CASES):
            solution, options = CASES[case]
            results[case] = time_case(solution, options, frames, args.warmup, args.frames)
            print(f"{case}: {results[case]['fps']} frames/s", file=sys.stderr)
    finally:
        sys.stdout.flush()
        os.dup2(stdout_fd, 1)
        os.close(stdout_fd)
    report = {
        "mediapipe": mp.__version__,
        "frame_size": list(FRAME_SIZE),
        "input": f"samples.synthetic_video(astronaut, frames={CLIP_FRAMES}, size={FRAME_SIZE})",
        "warmup": args.warmup,
        "frames": args.frames,
        "cpu_count": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "machine": platform.machine(),
        "python": platform.python_version(),
        "results": results,
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
