"""Pose landmarks: MediaPipe's BlazePose (detector + full landmark model), end to end.

Reproduces MediaPipe 0.10.21's legacy ``Pose`` solution (model_complexity=1): the detector
on the whole frame when nothing is tracked, a rotated crop around the person for the
landmark model, heatmap refinement, projection back to the frame, and in video mode the
next crop from the smoothed auxiliary landmarks, one-euro smoothing of landmarks, world
landmarks and tracking points, and segmentation smoothing. Every model-specific number
comes from the model cards, so AI Hub's 128-px upper-body BlazePose runs through the same
code (``models={"detector": "aihub_mediapipe_pose_detector", "landmarks":
"aihub_mediapipe_pose_landmark"}``, files supplied by the user).

Beyond MediaPipe: ``num_poses > 1`` tracks several people (the detector re-runs while fewer
are tracked; new detections overlapping a tracked ROI are dropped, MediaPipe's
association rule from its face graph).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal, Mapping, Optional

import numpy as np

from .. import kernels
from .._native import Rect
from ..filters import LandmarksSmoother, VisibilitySmoother, segmentation_smoothing
from .arguments import check_choice, check_count, check_flag, check_probability, stage_specs
from .detector import SsdDetector
from .frames import ModelPipeline, StageTimings, check_frame
from .landmark_stage import LandmarkStage, StageResult
from .loading import ModelSpec, load_stage
from .roi_rules import RoiRule, rect_iou

__all__ = ["PoseLandmarker", "Pose", "DEFAULT_MODELS"]

DEFAULT_MODELS = {"detector": "pose_detection", "landmarks": "pose_landmark_full"}
FRAME_INTERVAL_US = 33333  # MediaPipe's Python solutions stamp frame k at k * 33333 us
ASSOCIATION_IOU = 0.5  # a detection whose ROI overlaps a tracked one more than this is the same person


@dataclass(eq=False)
class Pose:
    """One person. ``landmarks`` ``[33, 5]``: x, y normalised to the frame, z (same scale as
    x, smaller is nearer), visibility, presence; ``world_landmarks`` ``[33, 3]`` metres,
    origin between the hips (None for models without them); ``score`` the landmark model's
    presence; ``roi`` the crop (pixels, radians); ``mask`` ``H x W`` float32 when
    segmentation is on."""

    landmarks: np.ndarray
    world_landmarks: Optional[np.ndarray]
    score: float
    roi: Rect
    mask: Optional[np.ndarray] = None


class _Track:
    """One tracked person's state: next ROI, filters and last mask. The visibility and world
    filters survive a loss (MediaPipe does not reset them); landmark filters do not."""

    def __init__(self, smoothing: Mapping, smooth_landmarks: bool):
        self.roi: Optional[Rect] = None
        self.mask: Optional[np.ndarray] = None
        frequency = float(smoothing.get("frequency", 30.0))
        min_scale = float(smoothing.get("min_allowed_object_scale", 1e-6))
        alpha = float(smoothing.get("visibility_alpha", 0.1))

        def one_euro(key: str) -> Optional[LandmarksSmoother]:
            o = smoothing.get(key)
            if o is None:
                return None
            return LandmarksSmoother(o["min_cutoff"], o["beta"], o.get("derivate_cutoff", 1.0), frequency,
                                     not o.get("value_scaling", True), min_scale)

        self.landmarks = one_euro("landmarks") if smooth_landmarks else None
        self.world = one_euro("world_landmarks") if smooth_landmarks else None
        self.auxiliary = one_euro("auxiliary_landmarks")  # always on: it drives the next ROI
        self.visibility = [VisibilitySmoother(alpha) for _ in range(3)]  # landmarks, world, auxiliary

    def lose(self) -> None:
        self.roi = None
        for f in (self.landmarks, self.auxiliary):
            if f is not None:
                f.reset()


class PoseLandmarker(ModelPipeline):
    """33 body landmarks per person in RGB frames.

    >>> pose = PoseLandmarker(mode="video")
    >>> for frame in frames:
    ...     people = pose(frame)              # list of Pose, empty when nobody is there

    * ``mode``: ``"image"`` (every frame on its own: detector, landmarks, no smoothing) or
      ``"video"`` (frames of one stream at 30 fps, or at ``timestamp_ms``: the detector runs
      only when fewer than ``num_poses`` people are tracked).
    * ``min_detection_confidence``: detector score threshold; ``min_tracking_confidence``:
      the landmark model's presence threshold (below it the person is lost).
    * ``smooth_landmarks``: one-euro smoothing of landmarks and world landmarks (video mode).
    * ``segmentation``: also return each person's mask (``H x W`` float32, 0 outside the crop).
    * ``smooth_segmentation``: video mode: blend each mask with the previous one where it is
      uncertain (MediaPipe's SegmentationSmoothing, ratio 0.7 from the card). Off by default
      because MediaPipe 0.10.21 itself returns unsmoothed masks: its masks are identical with
      ``smooth_segmentation`` True and False (checked on the orbit clip), so parity means off.
    * ``runtime``, ``device``, ``threads``: as :func:`edgevision.runtime.load` (both models);
      ``threads`` also caps the threads that share the frame-size work (the input crops and
      the mask: the calling thread and shared helper threads; default: the cores, at most 4;
      ``threads=1`` keeps everything on the calling thread).
    * ``models``: ``{"detector": ..., "landmarks": ...}``, each a card name, a model path or
      a ``(card name, path)`` pair (default: MediaPipe's pose_detection and pose_landmark_full).
    * ``channel_order``: ``"bgr"`` for OpenCV frames.

    A frame of another size than the previous one starts a new stream (as :meth:`reset`).
    Not thread-safe (it keeps per-stream state and reuses buffers): one per thread.
    ``timings`` holds the last call's :class:`StageTimings`; ``detector_runs`` counts the
    detector's invocations since construction.
    """

    def __init__(
        self,
        *,
        mode: Literal["image", "video"] = "image",
        num_poses: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        smooth_landmarks: bool = True,
        segmentation: bool = False,
        smooth_segmentation: bool = False,
        runtime: str = "auto",
        device: str = "cpu",
        threads: Optional[int] = None,
        models: Optional[Mapping[str, ModelSpec]] = None,
        channel_order: Literal["rgb", "bgr"] = "rgb",
    ):
        check_choice("mode", mode, ("image", "video"))
        check_count("num_poses", num_poses)
        min_detection_confidence = check_probability("min_detection_confidence", min_detection_confidence)
        min_tracking_confidence = check_probability("min_tracking_confidence", min_tracking_confidence)
        for name, value in (("smooth_landmarks", smooth_landmarks), ("segmentation", segmentation),
                            ("smooth_segmentation", smooth_segmentation)):
            check_flag(name, value)
        check_choice("channel_order", channel_order, ("rgb", "bgr"))
        specs = stage_specs(models, DEFAULT_MODELS)

        load = dict(runtime=runtime, device=device, threads=threads)
        detector_card, detector_model = load_stage(specs["detector"], "pose_detection", "models['detector']", **load)
        # Without a mask the landmark model is pruned of its segmentation head (~40% of its time).
        landmark_card, landmark_model = load_stage(specs["landmarks"], "pose_landmarks", "models['landmarks']",
                                                   unused_roles=() if segmentation else ("segmentation_output",),
                                                   native_head_roles=("segmentation_output",) if segmentation else (),
                                                   **load)
        self.mode = mode
        self.num_poses = num_poses
        self.smooth_landmarks = smooth_landmarks and mode == "video"
        self.channel_order = channel_order
        # Frame-size work (input crops, the mask) is shared with helper threads up to this cap.
        self._frame_threads = threads if threads is not None else 4  # the kernels cap it at the cores
        self.detector = SsdDetector(detector_card, detector_model, min_score=float(min_detection_confidence),
                                    channel_order=channel_order, threads=self._frame_threads)
        self.landmarker = LandmarkStage(landmark_card, landmark_model, min_presence=float(min_tracking_confidence),
                                        channel_order=channel_order, segmentation=segmentation,
                                        threads=self._frame_threads)
        self.model = landmark_model
        self.segmentation = segmentation
        self.smooth_segmentation = smooth_segmentation and mode == "video"
        params = landmark_card.params
        self._detection_roi = RoiRule.from_card(detector_card.params["roi"], start_key="start_keypoint",
                                                end_key="end_keypoint")
        tracking = params.get("tracking_roi")
        self._tracking_roi = RoiRule.from_card(tracking, start_key="start_landmark", end_key="end_landmark") \
            if tracking else None
        self._auxiliary = list(params["decode"].get("auxiliary_landmarks", ()))
        self._smoothing = params.get("smoothing", {})
        self._mask_ratio = float(params.get("segmentation", {}).get("combine_with_previous_ratio", 0.7))
        self.timings = StageTimings()
        self.detector_runs = 0
        self.reset()

    # ------------------------------------------------------------------------------- API

    def __call__(self, frame: np.ndarray, timestamp_ms: Optional[float] = None) -> list[Pose]:
        """The people in ``frame`` (``H x W x 3`` uint8), best tracked first."""
        if self.detector is None:
            raise RuntimeError("this PoseLandmarker is closed")
        start = time.perf_counter()
        height, width = check_frame(frame)
        size = (width, height)
        inference = 0.0
        detector_runs = 0
        if self.mode == "image":
            rois = []
            poses: list[Pose] = []
            detections = self.detector(frame)
            inference += self.detector.model.invoke_ms
            detector_runs = 1
            for k in range(min(len(detections), self.num_poses)):
                rois.append(self._detection_roi.from_points(detections.keypoints[k], detections.boxes[k], size))
            for roi in rois:
                result = self.landmarker(frame, roi, size)
                inference += self.landmarker.model.invoke_ms
                if result is not None:
                    poses.append(self._pose(result, None, frame.shape, size, 0))
        else:
            if size != self._size:
                if self._size is not None:
                    self.reset()  # a new stream: filters and ROIs do not carry over
                self._size = size
            timestamp_us = self._timestamp(timestamp_ms)
            tracked = [t for t in self._tracks if t.roi is not None]
            if len(tracked) < self.num_poses:
                detections = self.detector(frame)
                inference += self.detector.model.invoke_ms
                detector_runs = 1
                taken = [t.roi for t in tracked]
                idle = [t for t in self._tracks if t.roi is None]
                for k in range(len(detections)):
                    if not idle:
                        break
                    roi = self._detection_roi.from_points(detections.keypoints[k], detections.boxes[k], size)
                    if any(rect_iou(roi, other) > ASSOCIATION_IOU for other in taken):
                        continue
                    track = idle.pop(0)
                    track.roi = roi
                    taken.append(roi)
            found: list[tuple[_Track, Pose]] = []
            for track in self._tracks:
                if track.roi is None:
                    continue
                roi = track.roi
                result = self.landmarker(frame, roi, size)
                inference += self.landmarker.model.invoke_ms
                if result is None:
                    track.lose()
                    continue
                found.append((track, self._pose(result, track, frame.shape, size, timestamp_us)))
                if self._tracking_roi is None:
                    track.roi = None  # no tracking rule: the detector runs on every frame
            poses = self._drop_duplicates(found)
        self.detector_runs += detector_runs
        self.timings = StageTimings((time.perf_counter() - start) * 1e3, inference, detector_runs)
        return poses

    def reset(self) -> None:
        """Start a new stream: forget tracked people, filters and masks."""
        self._tracks = [_Track(self._smoothing, self.smooth_landmarks) for _ in range(self.num_poses)]
        self._size: Optional[tuple[int, int]] = None
        self._frame_count = 0
        self._last_timestamp_us: Optional[int] = None

    def close(self) -> None:
        super().close()
        self.detector = None
        self.landmarker = None

    def __repr__(self) -> str:
        if self.detector is None:
            return "<PoseLandmarker (closed)>"
        model = self.landmarker.model
        return (f"<PoseLandmarker {self.detector.card.name} + {self.landmarker.card.name} mode={self.mode!r} "
                f"num_poses={self.num_poses} on {model.runtime}/{model.device}>")

    # -------------------------------------------------------------------------- internals

    def _timestamp(self, timestamp_ms: Optional[float]) -> int:
        if timestamp_ms is None:
            timestamp_us = self._frame_count * FRAME_INTERVAL_US
        else:
            if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, (int, float, np.integer, np.floating)):
                raise TypeError(f"timestamp_ms must be a number, got {type(timestamp_ms).__name__}")
            if not math.isfinite(timestamp_ms):
                raise ValueError(f"timestamp_ms must be finite, got {timestamp_ms}")
            timestamp_us = int(round(float(timestamp_ms) * 1000.0))
            if self._last_timestamp_us is not None and timestamp_us <= self._last_timestamp_us:
                raise ValueError(f"timestamp_ms must increase from frame to frame: got {timestamp_ms} after "
                                 f"{self._last_timestamp_us / 1000.0}")
        self._frame_count += 1
        self._last_timestamp_us = timestamp_us
        return timestamp_us

    def _pose(self, result: StageResult, track: Optional[_Track], shape, size, timestamp_us: int) -> Pose:
        stage = self.landmarker
        landmarks = result.landmarks
        world = result.world
        if track is not None:
            landmarks, world = self._smooth(track, landmarks, world, size, timestamp_us)
        mask = self._mask(result, track, shape) if self.segmentation else None
        return Pose(np.ascontiguousarray(landmarks[: stage.kept]), world, result.presence, result.rect, mask)

    def _smooth(self, track: _Track, landmarks: np.ndarray, world, size, timestamp_us: int):
        aux = self._auxiliary
        kept = self.landmarker.kept
        object_scale = None
        if len(aux) == 2:
            # MediaPipe's OBJECT_SCALE_ROI: the unscaled alignment box of the raw auxiliary points.
            p0, p1 = landmarks[aux[0]], landmarks[aux[1]]
            object_scale = 2.0 * math.hypot((p1[0] - p0[0]) * size[0], (p1[1] - p0[1]) * size[1])
        vis_landmarks, vis_world, vis_aux = track.visibility
        out = landmarks
        if track.landmarks is not None:
            main = track.landmarks.apply(vis_landmarks.apply(landmarks[:kept]), timestamp_us, image_size=size,
                                         object_scale=object_scale)
            out = np.concatenate([main, landmarks[kept:]]) if kept < len(landmarks) else main
        if track.auxiliary is not None and aux:
            filtered_aux = track.auxiliary.apply(vis_aux.apply(landmarks[aux]), timestamp_us, image_size=size,
                                                 object_scale=object_scale)
            if out is landmarks:
                out = landmarks.copy()
            out[aux] = filtered_aux
        if world is not None and track.world is not None:
            world5 = np.concatenate([world, landmarks[:kept, 3:5]], axis=1)
            world = track.world.apply(vis_world.apply(world5), timestamp_us)[:, :3].copy()
        if self._tracking_roi is not None:
            track.roi = self._tracking_roi.from_points(out, None, size)
        return out, world

    def _mask(self, result: StageResult, track: Optional[_Track], shape) -> np.ndarray:
        probabilities = result.segmentation  # the stage's buffer: used up before its next call
        height, width = shape[:2]
        if track is None or not self.smooth_segmentation:
            return kernels.resize_mask(probabilities, (width, height), transform=result.transform, border="zero",
                                       threads=self._frame_threads)
        previous = track.mask if track.mask is not None and track.mask.shape == (height, width) else None
        # The model-resolution mask is unwarped to the frame and smoothed in one pass.
        mask = segmentation_smoothing(previous, probabilities, self._mask_ratio, size=(width, height),
                                      transform=result.transform, border="zero", threads=self._frame_threads)
        track.mask = mask
        return mask

    @staticmethod
    def _drop_duplicates(found: list[tuple[_Track, Pose]]) -> list[Pose]:
        """Two tracks that converged on one person (num_poses > 1): keep the more confident."""
        kept: list[tuple[_Track, Pose]] = []
        for track, pose in sorted(found, key=lambda item: -item[1].score):
            if track.roi is not None and any(rect_iou(track.roi, other.roi) > ASSOCIATION_IOU
                                             for other, _ in kept if other.roi is not None):
                track.lose()
                continue
            kept.append((track, pose))
        return [pose for _, pose in kept]
