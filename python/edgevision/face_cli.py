"""``edgevision face``: face landmarks (or boxes) of an image, a video or a camera, from the shell."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, Callable, Optional

import numpy as np

from .media import classify, default_output, read_image, run_stream, write_image

POINT_COLOUR = (255, 64, 64)  # RGB
BOX_COLOUR = (0, 255, 0)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("face", help="face landmarks of an image, video or camera (Face Mesh, BlazeFace, 3DMM)",
                       description="Find faces in INPUT (an image, a video file, or a camera index such as 0), write "
                                   "the frames with the results drawn, and optionally the results as JSON lines (one "
                                   "line per frame).")
    p.add_argument("input", help="image or video file, or a camera index")
    p.add_argument("--out", help="annotated output (default: INPUT_face.png/.mp4 next to the input; cameras write "
                                 "nothing unless given)")
    p.add_argument("--json", help="write the results here as JSON lines")
    p.add_argument("--model", choices=["mesh", "detect", "3dmm"], default="mesh",
                   help="mesh: MediaPipe Face Mesh, 468 landmarks (default); detect: BlazeFace boxes and 6 "
                        "keypoints; 3dmm: AI Hub facemap_3dmm, 68 landmarks (needs --model-path and --basis-dir)")
    p.add_argument("--max-faces", type=int, default=1, help="faces per frame (default 1)")
    p.add_argument("--min-confidence", type=float, default=0.5, help="detector score threshold (default 0.5)")
    p.add_argument("--model-path", help="3dmm: the facemap_3dmm model file (.tflite or .onnx from AI Hub)")
    p.add_argument("--basis-dir", help="3dmm: directory with meanFace.npy, shapeBasis.npy, blendShape.npy")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames (videos, cameras)")
    p.add_argument("--threads", type=int, default=None, help="inference threads")
    p.set_defaults(run=run)


def _rounded(a) -> list:
    return np.round(np.asarray(a, np.float64), 5).tolist()


def _boxes_and_points(frame, boxes, point_sets, bgr: bool, radius: float):
    from .drawing import draw_boxes, draw_points

    frame = draw_boxes(frame, boxes, colour=BOX_COLOUR)
    for points in point_sets:
        frame = draw_points(frame, points, colour=POINT_COLOUR[::-1] if bgr else POINT_COLOUR, radius=radius)
    return frame


class _Mesh:
    def __init__(self, args, video: bool, channel_order: str):
        from edgevision.pipelines import FaceLandmarker

        self.pipeline = FaceLandmarker(mode="video" if video else "image", max_faces=args.max_faces,
                                       min_detection_confidence=args.min_confidence, threads=args.threads,
                                       channel_order=channel_order)

    def __call__(self, frame):
        return self.pipeline(frame)

    @staticmethod
    def record(face) -> dict:
        r = face.roi
        return {"score": round(face.score, 5), "landmarks": _rounded(face.landmarks),
                "roi": [r.x_center, r.y_center, r.width, r.height, r.rotation]}

    @staticmethod
    def draw(frame, faces, bgr: bool):
        from .drawing import draw_points

        size = (frame.shape[1], frame.shape[0])
        for face in faces:
            frame = draw_points(frame, face.landmarks[:, :2] * size, colour=POINT_COLOUR[::-1] if bgr else POINT_COLOUR)
        return frame


class _Detect:
    def __init__(self, args, video: bool, channel_order: str):
        from edgevision.pipelines import FaceDetector

        self.pipeline = FaceDetector(min_confidence=args.min_confidence, threads=args.threads,
                                     channel_order=channel_order)
        self.max_faces = args.max_faces

    def __call__(self, frame):
        return self.pipeline(frame)[: self.max_faces]

    @staticmethod
    def record(face) -> dict:
        return {"score": round(face.score, 5), "box": _rounded(face.box), "keypoints": _rounded(face.keypoints)}

    @staticmethod
    def draw(frame, faces, bgr: bool):
        size = (frame.shape[1], frame.shape[0])
        return _boxes_and_points(frame, [f.box_pixels(size) for f in faces], [f.keypoints * size for f in faces],
                                 bgr, radius=max(2.0, min(size) / 160))


class _Map3DMM:
    def __init__(self, args, video: bool, channel_order: str):
        from edgevision.pipelines import FaceDetector, FaceMap3DMM

        if not args.model_path or not args.basis_dir:
            raise SystemExit("edgevision face --model 3dmm needs --model-path (facemap_3dmm from AI Hub) and "
                             "--basis-dir (meanFace.npy, shapeBasis.npy, blendShape.npy); see the model card: "
                             "edgevision models info aihub_facemap_3dmm")
        detector = FaceDetector(min_confidence=args.min_confidence, threads=args.threads, channel_order=channel_order)
        self.pipeline = FaceMap3DMM(args.model_path, args.basis_dir, threads=args.threads, detector=detector,
                                    channel_order=channel_order)
        self.max_faces = args.max_faces

    def __call__(self, frame):
        return self.pipeline(frame)[: self.max_faces]

    @staticmethod
    def record(face) -> dict:
        return {"score": None if face.score is None else round(face.score, 5), "box": face.box.tolist(),
                "landmarks": _rounded(face.landmarks), "pitch": face.pitch, "yaw": face.yaw, "roll": face.roll,
                "translation": _rounded(face.translation), "focal": face.focal}

    @staticmethod
    def draw(frame, faces, bgr: bool):
        return _boxes_and_points(frame, [f.box for f in faces], [f.landmarks for f in faces], bgr,
                                 radius=max(1.5, min(frame.shape[:2]) / 240))


MODES: dict[str, Callable] = {"mesh": _Mesh, "detect": _Detect, "3dmm": _Map3DMM}


def run(args: argparse.Namespace) -> int:
    source, is_image = classify(args.input, "face")
    if args.max_faces < 1:
        raise SystemExit("edgevision face: --max-faces must be >= 1")
    if not 0.0 <= args.min_confidence <= 1.0:
        raise SystemExit("edgevision face: --min-confidence must be in [0, 1]")
    bgr = not is_image  # OpenCV frames are BGR
    faces_of = MODES[args.model](args, video=not is_image, channel_order="bgr" if bgr else "rgb")
    json_file = open(args.json, "w") if args.json else None

    def record(faces, index: int, timestamp_ms: Optional[float]) -> None:
        if json_file:
            line = {"frame": index, "timestamp_ms": timestamp_ms, "faces": [faces_of.record(f) for f in faces]}
            json_file.write(json.dumps(line) + "\n")

    try:
        if is_image:
            frame = read_image(args.input)
            start = time.perf_counter()
            faces = faces_of(frame)
            elapsed = (time.perf_counter() - start) * 1e3
            out = args.out or default_output(args.input, "face", ".png")
            write_image(out, faces_of.draw(frame, faces, bgr=False))
            record(faces, 0, None)
            t = faces_of.pipeline.timings
            print(f"{out}: {len(faces)} face(s) in {frame.shape[1]}x{frame.shape[0]}, {elapsed:.1f} ms "
                  f"(models {t.inference_ms:.1f} ms, everything else {t.overhead_ms:.2f} ms)")
            return 0

        def process(frame: np.ndarray, index: int, timestamp_ms: float) -> np.ndarray:
            faces = faces_of(frame)
            record(faces, index, timestamp_ms)
            return faces_of.draw(frame, faces, bgr=True)

        out_path = args.out or default_output(source, "face", ".mp4")
        count = run_stream(source, process, command="face", out_path=out_path, max_frames=args.max_frames)
        runs = getattr(faces_of.pipeline, "detector_runs", None)
        if runs is not None:
            print(f"detector ran on {runs} of {count} frames")
        return 0 if count else 1
    finally:
        if json_file:
            json_file.close()
