"""Plausibility checks of the MediaPipe fixtures, and that their inputs regenerate bit-exactly.

Needs numpy and scikit-image only (no MediaPipe, no edgevision build), so it runs in either
venv::

    python bench/reference/check_fixtures.py [--fixtures tests/fixtures/mediapipe]

Prints one line per check; exits 1 if any fails. These are sanity checks of what MediaPipe
returned (a person where there is one, none on empty frames, coordinates consistent with the
known camera path, smooth tracking), not parity tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from _mediapipe import REPO, load_samples

NOSE, LEFT_SHOULDER, RIGHT_SHOULDER = 0, 11, 12
MESH_NOSE_TIP, MESH_RIGHT_EYE_OUTER, MESH_LEFT_EYE_OUTER = 1, 33, 263

failures: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    if not ok:
        failures.append(name)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0


def to_source(samples, points: np.ndarray, size, frame_poses) -> np.ndarray:
    """Normalised frame coordinates ``[T, 2]`` -> astronaut-photo pixels, through the camera path."""
    width, height = size
    out = np.full_like(points, np.nan, dtype=np.float64)
    for t, (x, y) in enumerate(points):
        matrix = samples.inverse_matrix((512, 512), size, frame_poses[t])
        out[t] = matrix @ np.array([x * width, y * height, 1.0])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixtures", type=Path, default=REPO / "tests" / "fixtures" / "mediapipe")
    root = parser.parse_args().fixtures
    samples = load_samples()
    manifest = json.loads((root / "manifest.json").read_text())

    def load(task, name):
        with np.load(root / task / f"{name}.npz") as data:
            return {k: data[k] for k in data.files}

    # Inputs: regenerated here (this venv's numpy), compared with what MediaPipe was given.
    inputs = {name: samples.reference_input(name) for name in manifest["inputs"]}
    for name, frames in inputs.items():
        digests = [hashlib.sha256(np.ascontiguousarray(f).tobytes()).hexdigest() for f in frames]
        check(f"input {name} regenerates bit-exactly", digests == manifest["inputs"][name]["sha256"])
    for path in sorted(root.glob("*/*.npz")):
        with np.load(path) as data:
            expected = [manifest["inputs"][path.stem]["sha256"][i] for i in data["frame_index"]]
            if list(data["frame_sha256"]) != expected:
                check(f"{path.relative_to(root)} frame hashes", False)
            meta = json.loads(str(data["meta"]))
            if meta["environment"]["mediapipe"] != "0.10.21":
                check(f"{path.relative_to(root)} mediapipe version", False, meta["environment"]["mediapipe"])

    # Stills: a person and a face on the photos, nothing on empty frames.
    pose = load("pose_image", "astronaut")
    face = load("face_detection", "astronaut")
    lm = pose["landmarks"][0]
    xmin, ymin, w, h = face["boxes"][0, 0]
    check("pose on astronaut", bool(pose["found"][0]) and lm[NOSE, 3] > 0.9, f"nose visibility {lm[NOSE, 3]:.3f}")
    check("pose nose inside the face box", xmin < lm[NOSE, 0] < xmin + w and ymin < lm[NOSE, 1] < ymin + h)
    check("shoulders below the nose", lm[LEFT_SHOULDER, 1] > lm[NOSE, 1] and lm[RIGHT_SHOULDER, 1] > lm[NOSE, 1])
    check("subject's right shoulder on the image left", lm[RIGHT_SHOULDER, 0] < lm[LEFT_SHOULDER, 0])
    mask = pose["mask"][0]
    nose_px = (int(lm[NOSE, 1] * 512), int(lm[NOSE, 0] * 512))
    check("pose mask on the person, not the backdrop", mask[nose_px] > 200 and mask[:40, 440:].max() < 30,
          f"at nose {mask[nose_px]}, top-right corner max {mask[:40, 440:].max()}")
    check("one face on astronaut and camera", face["count"][0] == 1 and load("face_detection", "camera")["count"][0] == 1,
          f"astronaut score {face['scores'][0, 0]:.3f}")
    kp = face["keypoints"][0, 0]
    check("face keypoints inside the box, right eye on the image left",
          bool(np.all((kp[:4, 0] > xmin) & (kp[:4, 0] < xmin + w) & (kp[:4, 1] > ymin) & (kp[:4, 1] < ymin + h)))
          and kp[0, 0] < kp[1, 0])
    mesh1, mesh3 = load("face_mesh_image_1", "astronaut"), load("face_mesh_image_3", "astronaut")
    check("face mesh: one face, eye corners the right way round",
          mesh1["count"][0] == 1 and mesh1["landmarks"][0, 0, MESH_RIGHT_EYE_OUTER, 0] < mesh1["landmarks"][0, 0, MESH_LEFT_EYE_OUTER, 0])
    check("face mesh max_num_faces=3 finds the same single face",
          mesh3["count"][0] == 1 and np.array_equal(mesh3["landmarks"][0, :1], mesh1["landmarks"][0]))
    for still in ("blank", "background"):
        check(f"no pose / face / mesh on {still}",
              not load("pose_image", still)["found"][0] and load("face_detection", still)["count"][0] == 0
              and load("face_mesh_image_1", still)["count"][0] == 0)
        person = max((load(t, still)["mask"] >= 128).mean() for t in ("selfie_general", "selfie_landscape"))
        check(f"selfie masks (almost) empty on {still}", person < 0.01, f"{100 * person:.2f}% of pixels >= 0.5")
    selfie = load("selfie_general", "astronaut")["mask"][0] >= 128
    check("selfie and pose masks agree on astronaut", iou(selfie, mask >= 128) > 0.6, f"IoU {iou(selfie, mask >= 128):.3f}")

    # Orbit video: landmarks follow the known camera path back to the same photo point.
    frame_poses = samples.orbit_path(90, samples.REFERENCE_VIDEO_SIZE)
    for task in ("pose_image_noseg", "pose_video"):
        video = load(task, "orbit")
        back = to_source(samples, video["landmarks"][:, NOSE, :2], samples.REFERENCE_VIDEO_SIZE, frame_poses)
        dist = np.linalg.norm(back - lm[NOSE, :2] * 512, axis=1)
        check(f"{task}: pose on every orbit frame, nose maps back to the photo's nose",
              bool(video["found"].all()) and dist.mean() < 8 and dist.max() < 20,
              f"mean {dist.mean():.1f} px, max {dist.max():.1f} px")
    video = load("pose_video", "orbit")
    check("pose_video: detector runs on the first frame only (tracking after)",
          video["detection_found"].tolist() == [True] + [False] * 89)
    masks = video["mask"] >= 128
    ious = [iou(a, b) for a, b in zip(masks, masks[1:])]
    check("pose_video: masks change smoothly", min(ious) > 0.6 and np.mean(ious) > 0.85,
          f"IoU of successive masks min {min(ious):.3f}, mean {np.mean(ious):.3f}")
    for task in ("face_mesh_image_1", "face_mesh_video"):
        mesh = load(task, "orbit")
        found = mesh["count"] == 1
        back = to_source(samples, mesh["landmarks"][:, 0, MESH_NOSE_TIP, :2], samples.REFERENCE_VIDEO_SIZE, frame_poses)
        dist = np.linalg.norm(back - mesh1["landmarks"][0, 0, MESH_NOSE_TIP, :2] * 512, axis=1)[found]
        check(f"{task}: nose tip maps back to the photo's", found.mean() > 0.8 and dist.mean() < 4 and dist.max() < 12,
              f"{found.sum()}/90 frames, mean {dist.mean():.1f} px, max {dist.max():.1f} px")
    detections = load("face_detection", "orbit")
    check("face_detection: a face on most orbit frames, never two", (detections["count"] == 1).mean() > 0.8
          and detections["count"].max() == 1, f"missed frames {np.flatnonzero(detections['count'] == 0).tolist()}")

    # Exit and re-enter: lost while out of frame, re-detected on return.
    exit_video = load("pose_video", "exit")
    found = exit_video["found"]
    check("exit: pose lost while out, found again on return", found[:3].all() and not found[10:20].any() and found[-3:].all(),
          f"found {found.astype(int).tolist()}")
    redetect = np.flatnonzero(exit_video["detection_found"])
    check("exit: the detector re-runs on the way back", len(redetect) == 2 and redetect[0] == 0 and redetect[1] > 20,
          f"detector hits at frames {redetect.tolist()}")
    check("exit: masks only with a pose", np.array_equal(exit_video["has_mask"], found))

    print(f"{len(failures)} failed" if failures else "all checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
