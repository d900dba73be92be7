"""``edgevision pose``: body landmarks of an image, a video or a camera, from the shell."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, Optional

import numpy as np

from .media import classify, default_output, read_image, run_stream, write_image

MASK_COLOUR = (40, 120, 255)  # RGB


def add_parser(sub: Any) -> None:
    p = sub.add_parser("pose", help="body landmarks of an image, video or camera (MediaPipe BlazePose)",
                       description="Find people in INPUT (an image, a video file, or a camera index such as 0), "
                                   "write the frames with their skeletons drawn, and optionally the landmarks as "
                                   "JSON lines (one line per frame).")
    p.add_argument("input", help="image or video file, or a camera index")
    p.add_argument("--out", help="annotated output (default: INPUT_pose.png/.mp4 next to the input; cameras write "
                                 "nothing unless given)")
    p.add_argument("--json", help="write the landmarks here as JSON lines")
    p.add_argument("--segmentation", action="store_true", help="also compute and overlay each person's mask")
    p.add_argument("--num-poses", type=int, default=1, help="people to track (default 1)")
    p.add_argument("--no-smoothing", action="store_true", help="videos: do not smooth the landmarks")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames (videos, cameras)")
    p.add_argument("--threads", type=int, default=None, help="inference threads")
    p.set_defaults(run=run)


def pose_record(poses, index: int, timestamp_ms: Optional[float]) -> dict:
    """One JSON line: the frame's people with landmarks, world landmarks, score and ROI."""
    def rounded(a: Optional[np.ndarray]):
        return None if a is None else np.round(a.astype(np.float64), 5).tolist()

    return {"frame": index, "timestamp_ms": timestamp_ms, "poses": [
        {"score": round(float(p.score), 5), "landmarks": rounded(p.landmarks),
         "world_landmarks": rounded(p.world_landmarks),
         "roi": [p.roi.x_center, p.roi.y_center, p.roi.width, p.roi.height, p.roi.rotation]} for p in poses]}


def annotate(frame: np.ndarray, poses, *, bgr: bool) -> np.ndarray:
    from .drawing import draw_skeleton, tint

    out = frame
    for pose in poses:
        if pose.mask is not None:
            out = tint(out, pose.mask, MASK_COLOUR[::-1] if bgr else MASK_COLOUR)
    for pose in poses:
        out = draw_skeleton(out, pose.landmarks)
    return out


def run(args: argparse.Namespace) -> int:
    from edgevision.pipelines import PoseLandmarker

    source, is_image = classify(args.input, "pose")
    if args.num_poses < 1:
        raise SystemExit("edgevision pose: --num-poses must be >= 1")
    bgr = not is_image  # OpenCV frames are BGR
    landmarker = PoseLandmarker(mode="image" if is_image else "video", num_poses=args.num_poses,
                                smooth_landmarks=not args.no_smoothing, segmentation=args.segmentation,
                                threads=args.threads, channel_order="bgr" if bgr else "rgb")
    json_file = open(args.json, "w") if args.json else None
    try:
        if is_image:
            frame = read_image(args.input)
            start = time.perf_counter()
            poses = landmarker(frame)
            elapsed = (time.perf_counter() - start) * 1e3
            out = args.out or default_output(args.input, "pose", ".png")
            write_image(out, annotate(frame, poses, bgr=False))
            if json_file:
                json_file.write(json.dumps(pose_record(poses, 0, None)) + "\n")
            t = landmarker.timings
            print(f"{out}: {len(poses)} pose(s) in {frame.shape[1]}x{frame.shape[0]}, {elapsed:.1f} ms "
                  f"(models {t.inference_ms:.1f} ms, everything else {t.overhead_ms:.2f} ms)")
            return 0

        def process(frame: np.ndarray, index: int, timestamp_ms: float) -> np.ndarray:
            poses = landmarker(frame, timestamp_ms=timestamp_ms)
            if json_file:
                json_file.write(json.dumps(pose_record(poses, index, timestamp_ms)) + "\n")
            return annotate(frame, poses, bgr=True)

        out_path = args.out or default_output(source, "pose", ".mp4")
        count = run_stream(source, process, command="pose", out_path=out_path, max_frames=args.max_frames)
        print(f"detector ran on {landmarker.detector_runs} of {count} frames")
        return 0 if count else 1
    finally:
        if json_file:
            json_file.close()
