"""Record MediaPipe 0.10.21's legacy solutions on fixed inputs, as compressed ``.npz`` fixtures.

Usage (with the MediaPipe venv; see README.md)::

    /work/venv-mp/bin/python bench/reference/make_fixtures.py               # write tests/fixtures/mediapipe
    /work/venv-mp/bin/python bench/reference/make_fixtures.py --out /tmp/x  # elsewhere
    /work/venv-mp/bin/python bench/reference/make_fixtures.py --compare /tmp/x [--against DIR]

Each task (solution + options) runs on each of its inputs (``samples.reference_input``); one
file per pair: ``<out>/<task>/<input>.npz`` plus ``<out>/manifest.json``. Every array has a
leading frame axis (1 for a still). Video-mode tasks run one solution over the whole clip.
Image-mode pose/face-mesh tasks build a fresh solution per frame, so no state leaks between
frames (not even the pose graph's always-on auxiliary-landmark filter behind
``roi_from_landmarks``). Selfie segmentation and face detection graphs have no state; they run
one solution per clip.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
from pathlib import Path

import numpy as np

from _mediapipe import REPO, load_samples, traced_solutions

DEFAULT_OUT = REPO / "tests" / "fixtures" / "mediapipe"

STILLS = ("astronaut", "camera", "blank", "background")

_POSE_COMMON = dict(model_complexity=1, min_detection_confidence=0.5, min_tracking_confidence=0.5)
_MESH_COMMON = dict(refine_landmarks=False, min_detection_confidence=0.5, min_tracking_confidence=0.5)

# task -> (solution, options, stateful, inputs)
TASKS: dict[str, tuple[str, dict, bool, tuple[str, ...]]] = {
    "pose_image": ("pose", dict(static_image_mode=True, smooth_landmarks=True, enable_segmentation=True,
                                smooth_segmentation=True, **_POSE_COMMON), False, STILLS),
    # Image mode on every video frame: many poses, no temporal state. No masks (fixture size);
    # enable_segmentation does not change the landmarks.
    "pose_image_noseg": ("pose", dict(static_image_mode=True, smooth_landmarks=True, enable_segmentation=False,
                                      smooth_segmentation=True, **_POSE_COMMON), False, ("orbit",)),
    "pose_video": ("pose", dict(static_image_mode=False, smooth_landmarks=True, enable_segmentation=True,
                                smooth_segmentation=True, **_POSE_COMMON), True, ("orbit", "exit")),
    "selfie_general": ("selfie_segmentation", dict(model_selection=0), False, STILLS + ("orbit",)),
    "selfie_landscape": ("selfie_segmentation", dict(model_selection=1), False, STILLS + ("orbit",)),
    "face_detection": ("face_detection", dict(model_selection=0, min_detection_confidence=0.5), False,
                       STILLS + ("orbit", "exit")),
    "face_mesh_image_1": ("face_mesh", dict(static_image_mode=True, max_num_faces=1, **_MESH_COMMON), False,
                          STILLS + ("orbit",)),
    "face_mesh_image_3": ("face_mesh", dict(static_image_mode=True, max_num_faces=3, **_MESH_COMMON), False,
                          ("astronaut", "camera", "blank")),
    "face_mesh_video": ("face_mesh", dict(static_image_mode=False, max_num_faces=1, **_MESH_COMMON), True,
                        ("orbit", "exit")),
}

# Stateless tasks may keep every n-th frame of a clip (mask-heavy files; ~8 MB fixture budget).
FRAME_STEP = {("selfie_general", "orbit"): 2, ("selfie_landscape", "orbit"): 2}

NUM_POSE_LANDMARKS = 33
NUM_FACE_LANDMARKS = 468
NUM_FACE_KEYPOINTS = 6
NUM_POSE_KEYPOINTS = 4


# ------------------------------------------------------------------------------ helpers


def mask_to_uint8(mask: np.ndarray) -> np.ndarray:
    """MediaPipe's float mask in [0, 1] -> ``round(mask * 255)``; value/255 is within 0.5/255."""
    return np.rint(np.clip(mask, 0.0, 1.0) * 255.0).astype(np.uint8)


def rect5(rect) -> np.ndarray:
    """NormalizedRect -> ``(x_center, y_center, width, height, rotation)``."""
    return np.array([rect.x_center, rect.y_center, rect.width, rect.height, rect.rotation], np.float32)


def detection_arrays(detection, num_keypoints: int):
    """Detection proto -> (box ``(xmin, ymin, width, height)``, keypoints ``[K, 2]``, score)."""
    box = detection.location_data.relative_bounding_box
    keypoints = [(k.x, k.y) for k in detection.location_data.relative_keypoints]
    if len(keypoints) != num_keypoints:
        raise RuntimeError(f"expected {num_keypoints} keypoints, got {len(keypoints)}")
    return (
        np.array([box.xmin, box.ymin, box.width, box.height], np.float32),
        np.array(keypoints, np.float32),
        np.float32(detection.score[0]),
    )


def nan_array(shape) -> np.ndarray:
    return np.full(shape, np.nan, np.float32)


def pack_detections(per_frame: list[list], num_keypoints: int, prefix: str, width: int | None = None) -> dict:
    """Per-frame lists of Detection protos -> padded arrays (NaN) + a count per frame."""
    frames = len(per_frame)
    width = max([len(d) for d in per_frame] + [0]) if width is None else width
    out = {
        f"{prefix}count": np.array([len(d) for d in per_frame], np.int32),
        f"{prefix}boxes": nan_array((frames, width, 4)),
        f"{prefix}keypoints": nan_array((frames, width, num_keypoints, 2)),
        f"{prefix}scores": nan_array((frames, width)),
    }
    for t, detections in enumerate(per_frame):
        for i, detection in enumerate(detections):
            box, keypoints, score = detection_arrays(detection, num_keypoints)
            out[f"{prefix}boxes"][t, i] = box
            out[f"{prefix}keypoints"][t, i] = keypoints
            out[f"{prefix}scores"][t, i] = score
    return out


def pack_rects(per_frame: list[list], width: int, name: str) -> dict:
    """Per-frame lists of NormalizedRect protos -> ``name`` ``[T, width, 5]`` (NaN pad) + ``name_count``."""
    rects = nan_array((len(per_frame), width, 5))
    for t, frame_rects in enumerate(per_frame):
        for i, rect in enumerate(frame_rects):
            rects[t, i] = rect5(rect)
    return {name: rects, f"{name}_count": np.array([len(r) for r in per_frame], np.int32)}


# ------------------------------------------------------------------------------ runners


def run_pose(make, frames: list[np.ndarray], stateful: bool, segmentation: bool) -> dict:
    n, (h, w) = len(frames), frames[0].shape[:2]
    out = {
        "found": np.zeros(n, bool),
        "landmarks": nan_array((n, NUM_POSE_LANDMARKS, 5)),
        "world_landmarks": nan_array((n, NUM_POSE_LANDMARKS, 5)),
        "has_mask": np.zeros(n, bool),
        "mask": np.zeros((n, h, w), np.uint8),
        "detection_found": np.zeros(n, bool),
        "detection_box": nan_array((n, 4)),
        "detection_keypoints": nan_array((n, NUM_POSE_KEYPOINTS, 2)),
        "detection_score": nan_array(n),
        "roi_from_detection": nan_array((n, 5)),
        "roi_from_landmarks": nan_array((n, 5)),
    }
    solution = make() if stateful else None
    for t, frame in enumerate(frames):
        sol = solution if stateful else make()
        r = sol.process(frame)
        if r.pose_landmarks is not None:
            out["found"][t] = True
            for key, field in (("landmarks", "pose_landmarks"), ("world_landmarks", "pose_world_landmarks")):
                lms = getattr(r, field).landmark
                presence = sol.raw_presence[field]
                out[key][t] = [(lm.x, lm.y, lm.z, lm.visibility, p) for lm, p in zip(lms, presence, strict=True)]
        if segmentation and r.segmentation_mask is not None:
            out["has_mask"][t] = True
            out["mask"][t] = mask_to_uint8(r.segmentation_mask)
        if r.pose_detection is not None:
            out["detection_found"][t] = True
            box, keypoints, score = detection_arrays(r.pose_detection, NUM_POSE_KEYPOINTS)
            out["detection_box"][t], out["detection_keypoints"][t], out["detection_score"][t] = box, keypoints, score
        if r.pose_rect_from_detection is not None:
            out["roi_from_detection"][t] = rect5(r.pose_rect_from_detection)
        if r.pose_rect_from_landmarks is not None:
            out["roi_from_landmarks"][t] = rect5(r.pose_rect_from_landmarks)
        if not stateful:
            sol.close()
    if stateful:
        solution.close()
    if not segmentation:
        del out["has_mask"], out["mask"]
    return out


def run_selfie(make, frames: list[np.ndarray], stateful: bool) -> dict:
    masks = []
    with make() as solution:  # the graph has no state (no temporal smoothing)
        for frame in frames:
            masks.append(mask_to_uint8(solution.process(frame).segmentation_mask))
    return {"mask": np.stack(masks)}


def run_face_detection(make, frames: list[np.ndarray], stateful: bool) -> dict:
    per_frame = []
    with make() as solution:  # stateless graph
        for frame in frames:
            per_frame.append(list(solution.process(frame).detections or []))
    return pack_detections(per_frame, NUM_FACE_KEYPOINTS, "")


def run_face_mesh(make, frames: list[np.ndarray], stateful: bool, max_faces: int) -> dict:
    n = len(frames)
    faces, detections, from_detections, from_landmarks = [], [], [], []
    solution = make() if stateful else None
    for frame in frames:
        sol = solution if stateful else make()
        r = sol.process(frame)
        faces.append(list(r.multi_face_landmarks or []))
        detections.append(list(r.face_detections or []))
        from_detections.append(list(r.face_rects_from_detections or []))
        from_landmarks.append(list(r.face_rects_from_landmarks or []))
        if not stateful:
            sol.close()
    if stateful:
        solution.close()
    out = {"count": np.array([len(f) for f in faces], np.int32), "landmarks": nan_array((n, max_faces, NUM_FACE_LANDMARKS, 3))}
    for t, frame_faces in enumerate(faces):
        for i, face in enumerate(frame_faces):
            out["landmarks"][t, i] = [(lm.x, lm.y, lm.z) for lm in face.landmark]
    out.update(pack_detections(detections, NUM_FACE_KEYPOINTS, "detection_"))
    out.update(pack_rects(from_detections, max([max_faces] + [len(r) for r in from_detections]), "rects_from_detections"))
    out.update(pack_rects(from_landmarks, max([max_faces] + [len(r) for r in from_landmarks]), "rects_from_landmarks"))
    return out


def run_task(task: str, frames: list[np.ndarray]) -> dict:
    import mediapipe as mp

    solution, options, stateful, _ = TASKS[task]
    traced = traced_solutions()
    if solution == "pose":
        return run_pose(lambda: traced["pose"](**options), frames, stateful, options["enable_segmentation"])
    if solution == "selfie_segmentation":
        return run_selfie(lambda: mp.solutions.selfie_segmentation.SelfieSegmentation(**options), frames, stateful)
    if solution == "face_detection":
        return run_face_detection(lambda: mp.solutions.face_detection.FaceDetection(**options), frames, stateful)
    if solution == "face_mesh":
        return run_face_mesh(lambda: traced["face_mesh"](**options), frames, stateful, options["max_num_faces"])
    raise ValueError(task)


# ------------------------------------------------------------------------------ records


def environment() -> dict:
    import cv2
    import mediapipe as mp
    import skimage

    return {
        "mediapipe": mp.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "scikit-image": skimage.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.system(),
    }


def frame_sha256(frames: list[np.ndarray]) -> np.ndarray:
    """sha256 of each frame's C-order bytes (HxWx3 uint8 RGB)."""
    return np.array([hashlib.sha256(np.ascontiguousarray(f).tobytes()).hexdigest() for f in frames])


def mode_of(task: str) -> str:
    solution, _, stateful, _ = TASKS[task]
    if stateful:
        return "video: one solution over the clip"
    if solution in ("pose", "face_mesh"):
        return "image: a fresh solution per frame"
    return "stateless graph: one solution per clip"


def write_task(out_dir: Path, task: str, inputs: dict[str, list[np.ndarray]], env: dict) -> dict:
    solution, options, stateful, names = TASKS[task]
    (out_dir / task).mkdir(parents=True, exist_ok=True)
    entries = {}
    for name in names:
        step = FRAME_STEP.get((task, name), 1)
        if step != 1 and stateful:
            raise ValueError(f"{task}: a stateful task must see every frame")
        frame_index = np.arange(0, len(inputs[name]), step, dtype=np.int32)
        frames = [inputs[name][i] for i in frame_index]
        arrays = run_task(task, frames)
        h, w = frames[0].shape[:2]
        meta = {
            "task": task, "solution": f"mediapipe.solutions.{solution}", "options": options,
            "mode": mode_of(task),
            "input": name, "frames": len(frames), "frame_step": step, "image_size": [w, h], "environment": env,
        }
        arrays["frame_index"] = frame_index
        arrays["frame_sha256"] = frame_sha256(frames)
        arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
        path = out_dir / task / f"{name}.npz"
        np.savez_compressed(path, **arrays)
        entries[name] = {"file": f"{task}/{name}.npz", "bytes": path.stat().st_size, "frames": len(frames), "frame_step": step}
        print(f"{task}/{name}: {len(frames)} frames, {path.stat().st_size / 1024:.0f} KiB", file=sys.stderr)
    return {"solution": f"mediapipe.solutions.{solution}", "options": options, "mode": mode_of(task), "files": entries}


def make(out_dir: Path, tasks: list[str]) -> None:
    samples = load_samples()
    names = sorted({name for task in tasks for name in TASKS[task][3]})
    inputs = {name: samples.reference_input(name) for name in names}
    env = environment()
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["environment"] = env
    manifest.setdefault("inputs", {})
    for name in names:
        h, w = inputs[name][0].shape[:2]
        manifest["inputs"][name] = {
            "frames": len(inputs[name]), "image_size": [w, h],
            "sha256": frame_sha256(inputs[name]).tolist(),
        }
    manifest.setdefault("tasks", {})
    for task in tasks:
        manifest["tasks"][task] = write_task(out_dir, task, inputs, env)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


# ------------------------------------------------------------------------------ compare


def compare(new_dir: Path, old_dir: Path) -> bool:
    """Print every difference between two fixture trees; True if the arrays are identical."""
    identical = True
    for old_path in sorted(old_dir.glob("*/*.npz")):
        new_path = new_dir / old_path.relative_to(old_dir)
        if not new_path.exists():
            continue
        with np.load(old_path) as old, np.load(new_path) as new:
            for key in sorted(set(old.files) | set(new.files)):
                if key == "meta":
                    continue
                if key not in old.files or key not in new.files or old[key].shape != new[key].shape:
                    print(f"{old_path.relative_to(old_dir)}:{key}: missing or different shape")
                    identical = False
                    continue
                a, b = old[key], new[key]
                if a.dtype.kind in "fiu":
                    same_nan = np.array_equal(np.isnan(a), np.isnan(b)) if a.dtype.kind == "f" else True
                    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
                    worst = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else 0.0
                    if worst > 0 or not same_nan:
                        identical = False
                        print(f"{old_path.relative_to(old_dir)}:{key}: max |diff| {worst:.3g}, "
                              f"{int(np.count_nonzero(diff > 0))} values differ, NaN pattern {'same' if same_nan else 'DIFFERS'}")
                elif not np.array_equal(a, b):
                    identical = False
                    print(f"{old_path.relative_to(old_dir)}:{key}: differs")
    print("identical" if identical else "differences found")
    return identical


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture directory to write")
    parser.add_argument("--task", action="append", choices=sorted(TASKS), help="only these tasks (repeatable)")
    parser.add_argument("--compare", type=Path, help="regenerate into this directory and compare with --against")
    parser.add_argument("--against", type=Path, default=DEFAULT_OUT, help="fixtures to compare with")
    args = parser.parse_args()
    tasks = args.task or list(TASKS)
    if args.compare:
        make(args.compare, tasks)
        sys.exit(0 if compare(args.compare, args.against) else 1)
    make(args.out, tasks)


if __name__ == "__main__":
    main()
