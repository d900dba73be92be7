"""How far MediaPipe 0.10.21 moves from its own fixture outputs when every input pixel gets
uniform integer noise in [-1, 1] grey levels (invisible; smaller than JPEG or resampling
differences). Any implementation that is not bit-exact with MediaPipe's arithmetic lands
in this range too, so the parity tests allow, per frame, the larger of the issue's threshold
and this floor.

Usage (MediaPipe venv, see README.md)::

    /work/venv-mp/bin/python bench/reference/noise_floor.py   # writes tests/fixtures/mediapipe/noise_floor.json

For each (task, input) and each of ``SEEDS``: per frame, the mean 2D landmark distance in
percent of the image diagonal (landmarks the fixture marks visible, > 0.5; all for face
mesh) and, for pose, the mean world-landmark distance in cm. The file keeps the per-frame
maximum over seeds.
"""

from __future__ import annotations

import json

import numpy as np

from _mediapipe import REPO, load_samples
from make_fixtures import TASKS

SEEDS = (1, 2, 3)
FIXTURES = REPO / "tests" / "fixtures" / "mediapipe"
CASES = (("pose_image", "astronaut"), ("pose_image", "camera"), ("pose_image_noseg", "orbit"),
         ("pose_video", "orbit"), ("pose_video", "exit"),
         ("face_mesh_image_1", "astronaut"), ("face_mesh_image_1", "orbit"),
         ("face_mesh_video", "orbit"), ("face_mesh_video", "exit"))


def _landmarks(result, solution: str):
    if solution == "pose":
        if result.pose_landmarks is None:
            return None, None
        lm = np.array([[p.x, p.y] for p in result.pose_landmarks.landmark], np.float64)
        world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks.landmark], np.float64)
        return lm, world
    if not result.multi_face_landmarks:
        return None, None
    return np.array([[p.x, p.y] for p in result.multi_face_landmarks[0].landmark], np.float64), None


def run_case(mp, samples, task: str, name: str, seed: int) -> tuple[list, list]:
    solution, options, stateful, _ = TASKS[task]
    frames = samples.reference_input(name)
    ref = np.load(FIXTURES / task / f"{name}.npz")
    factory = {"pose": mp.solutions.pose.Pose, "face_mesh": mp.solutions.face_mesh.FaceMesh}[solution]
    rng = np.random.default_rng(seed)
    shared = factory(**options) if stateful else None
    distances, world_cm = [], []
    for t, frame in enumerate(frames):
        noisy = np.clip(frame.astype(np.int16) + rng.integers(-1, 2, frame.shape), 0, 255).astype(np.uint8)
        solver = shared or factory(**options)
        lm, world = _landmarks(solver.process(noisy), solution)
        if shared is None:
            solver.close()
        height, width = frame.shape[:2]
        reference = ref["landmarks"][t] if solution == "pose" else ref["landmarks"][t, 0]
        if lm is None or np.isnan(reference).all():
            distances.append(None)
            world_cm.append(None)
            continue
        visible = reference[:, 3] > 0.5 if solution == "pose" else np.ones(len(reference), bool)
        d = np.hypot((lm[:, 0] - reference[:, 0]) * width, (lm[:, 1] - reference[:, 1]) * height)
        distances.append(float(d[visible].mean() / np.hypot(width, height) * 100))
        world_cm.append(float(np.linalg.norm(world - ref["world_landmarks"][t][:, :3], axis=1).mean() * 100)
                        if world is not None else None)
    if shared is not None:
        shared.close()
    return distances, world_cm


def _max(runs: list[list]) -> list:
    return [None if any(v is None for v in values) else max(values) for values in zip(*runs)]


def main() -> None:
    import mediapipe as mp

    samples = load_samples()
    out = {"about": __doc__.split("\n\n")[0], "mediapipe": mp.__version__, "seeds": list(SEEDS), "cases": {}}
    for task, name in CASES:
        runs = [run_case(mp, samples, task, name, seed) for seed in SEEDS]
        entry = {"distance_percent": _max([r[0] for r in runs])}
        if TASKS[task][0] == "pose":
            entry["world_cm"] = _max([r[1] for r in runs])
        out["cases"][f"{task}/{name}"] = entry
        values = [v for v in entry["distance_percent"] if v is not None]
        print(f"{task}/{name}: max {max(values):.3f}% mean {np.mean(values):.3f}%", flush=True)
    (FIXTURES / "noise_floor.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
