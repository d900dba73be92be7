"""Bad arguments to the detection, landmark and filter kernels raise ValueError/TypeError
naming the argument (and never crash)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgevision import Detections, Rect
from edgevision.kernels import (
    DetectionDecoder,
    LandmarksSmoother,
    LowPassFilter,
    OneEuroFilter,
    VisibilitySmoother,
    decode_detections,
    decode_landmarks,
    landmarks_box,
    nms,
    project_landmarks,
    project_world_landmarks,
    rect_from_box,
    rect_from_keypoints,
    refine_from_heatmap,
    segmentation_smoothing,
    ssd_anchors,
)

ERRORS = (ValueError, TypeError)
ANCHORS = ssd_anchors(input_size=(128, 128), strides=(8, 16, 16, 16), min_scale=0.1484375, max_scale=0.75)
BOXES = np.zeros((1, 896, 16), np.float32)
SCORES = np.zeros((1, 896, 1), np.float32)
DECODE = dict(scale=128, num_keypoints=6, min_score=0.5)
DETS = Detections(np.zeros((2, 4), np.float32), np.zeros((2, 3, 2), np.float32), np.zeros(2, np.float32))
LM = np.zeros((33, 5), np.float32)
RECT = Rect(10, 10, 5, 5, 0.0)
MASK = np.zeros((8, 8), np.float32)


def decode_with(**changes):
    args = dict(raw_boxes=BOXES, raw_scores=SCORES, anchors=ANCHORS, **DECODE)
    args.update(changes)
    return lambda: decode_detections(args.pop("raw_boxes"), args.pop("raw_scores"), args.pop("anchors"), **args)


def decode_cases():
    bad = {
        "raw_boxes": {
            "float64": BOXES.astype(np.float64),
            "list": BOXES.tolist(),
            "rows_not_anchors": BOXES[:, :500],
            "too_few_columns": BOXES[..., :12],  # 6 keypoints need 16 values
            "4d": BOXES[None],
            "1d": BOXES.reshape(-1),
            "empty_parts": [],
            "parts_columns_differ": [BOXES[0, :500], np.zeros((396, 18), np.float32)],
            "part_float16": [BOXES[0, :500], BOXES[0, 500:].astype(np.float16)],
            "none": None,
        },
        "raw_scores": {
            "no_classes": np.zeros((896, 0), np.float32),
            "parts_classes_differ": [np.zeros((500, 2), np.float32), np.zeros((396, 3), np.float32)],
            "wrong_count": SCORES[:, :895],
            "int32": SCORES.astype(np.int32),
            "batch_of_two": np.zeros((2, 896, 1), np.float32),
            "none": None,
        },
        "anchors": {
            "three_columns": ANCHORS[:, :3],
            "float64": ANCHORS.astype(np.float64),
            "1d": ANCHORS.reshape(-1),
        },
        "scale": {"zero": 0, "negative": -128, "nan": math.nan, "string": "128", "three": (1, 2, 3), "inf": math.inf},
        "num_keypoints": {"negative": -1, "float": 1.5, "bool": True, "too_many": 7},
        "min_score": {"negative": -0.1, "above_one": 1.5, "nan": math.nan, "string": "0.5", "none": None},
        "score_clip": {"negative": -1.0, "nan": math.nan, "string": "100"},
        "keypoint_offset": {"negative": -1, "past_the_end": 6},
        "box_format": {"cxcywh": "cxcywh", "upper": "XYWH", "none": None},
        "score_activation": {"softmax": "softmax", "bool": True},
    }
    for argument, values in bad.items():
        for name, value in values.items():
            yield pytest.param(decode_with(**{argument: value}), argument, id=f"decode-{argument}-{name}")
            if argument not in ("raw_boxes", "raw_scores"):
                kw = dict(DECODE, **{argument: value}) if argument != "anchors" else DECODE
                a = value if argument == "anchors" else ANCHORS
                yield pytest.param(lambda a=a, kw=kw: DetectionDecoder(a, **kw)(BOXES, SCORES), argument,
                                   id=f"decoder-{argument}-{name}")
    yield pytest.param(lambda: DetectionDecoder(ANCHORS, **DECODE, nms="soft"), "method", id="decoder-nms-soft")
    yield pytest.param(lambda: DetectionDecoder(ANCHORS, **DECODE, nms=None, max_detections=2), "max_detections",
                       id="decoder-max-without-nms")
    yield pytest.param(lambda: DetectionDecoder(ANCHORS, **DECODE)(BOXES[:, :5], SCORES), "raw_boxes",
                       id="decoder-call-rows")


def nms_cases():
    for name, value in {"negative": -0.1, "above_one": 1.5, "nan": math.nan, "string": "0.3"}.items():
        yield pytest.param(lambda v=value: nms(DETS, iou_threshold=v), "iou_threshold", id=f"nms-iou-{name}")
    for name, value in {"soft": "soft", "none": None, "upper": "HARD"}.items():
        yield pytest.param(lambda v=value: nms(DETS, method=v), "method", id=f"nms-method-{name}")
    for name, value in {"negative": -1, "float": 2.5, "string": "3"}.items():
        yield pytest.param(lambda v=value: nms(DETS, max_detections=v), "max_detections", id=f"nms-max-{name}")
    yield pytest.param(lambda: nms((DETS.boxes, DETS.keypoints, DETS.scores)), "detections", id="nms-tuple")


def detections_cases():
    b, k, s = DETS.boxes, DETS.keypoints, DETS.scores
    cases = {
        "boxes": [(b.astype(np.float64), k, s), (np.zeros((2, 5), np.float32), k, s), (b.tolist(), k, s)],
        "keypoints": [(b, np.zeros((2, 3), np.float32), s), (b, k.astype(np.float16), s)],
        "scores": [(b, k, np.array([0.1, np.nan], np.float32)), (b, k, s[:, None])],
        "length": [(b, k, s[:1]), (b[:1], k, s)],
    }
    for argument, tuples in cases.items():
        for i, args in enumerate(tuples):
            yield pytest.param(lambda a=args: Detections(*a), argument, id=f"Detections-{argument}-{i}")


def anchor_cases():
    base = dict(input_size=(128, 128), strides=(8, 16), min_scale=0.1, max_scale=0.7)
    bad = {
        "strides": [(), (8, 0), (8, -16), "8", (8.5,)],
        "num_layers": [3, 0],
        "input_size": [(0, 128), (128,), None],
        "min_scale": [-0.1, math.nan],
        "max_scale": [math.inf],
        "aspect_ratios": [(), (0.0,), (-1.0,), "1"],
        "anchor_offset": [(0.5,), (math.nan, 0.5)],
        "fixed_anchor_size": ["yes", 1],
        "reduce_boxes_in_lowest_layer": [None],
    }
    for argument, values in bad.items():
        for i, value in enumerate(values):
            kw = dict(base, **{argument: value})
            yield pytest.param(lambda kw=kw: ssd_anchors(**kw), argument, id=f"anchors-{argument}-{i}")
    yield pytest.param(
        lambda: ssd_anchors(input_size=(32768, 32768), strides=(1,), min_scale=0.1, max_scale=0.2), "anchors",
        id="anchors-too-many",
    )


def roi_cases():
    calls = {
        "center": [lambda: rect_from_keypoints((0.5,), (0.5, 0.5), (64, 64), target_angle=0.0),
                   lambda: rect_from_keypoints("ab", (0.5, 0.5), (64, 64), target_angle=0.0),
                   lambda: rect_from_keypoints((math.nan, 0.5), (0.5, 0.5), (64, 64), target_angle=0.0)],
        "scale_point": [lambda: rect_from_keypoints((0.5, 0.5), None, (64, 64), target_angle=0.0)],
        "image_size": [lambda: rect_from_keypoints((0.5, 0.5), (0.5, 0.4), (0, 64), target_angle=0.0),
                       lambda: rect_from_box((0, 0, 1, 1), 64)],
        "target_angle": [lambda: rect_from_keypoints((0.5, 0.5), (0.5, 0.4), (64, 64), target_angle=math.nan),
                         lambda: rect_from_box((0, 0, 1, 1), (64, 64), target_angle="0")],
        "scale": [lambda: rect_from_keypoints((0.5, 0.5), (0.5, 0.4), (64, 64), target_angle=0.0, scale=0),
                  lambda: rect_from_box((0, 0, 1, 1), (64, 64), scale=(1.0, -1.0))],
        "square_long": [lambda: rect_from_box((0, 0, 1, 1), (64, 64), square_long=1)],
        "box": [lambda: rect_from_box((0, 0, 1), (64, 64)), lambda: rect_from_box((0, 0, 1, math.inf), (64, 64)),
                lambda: rect_from_box((0, 0, 1, 1, 2), (64, 64)), lambda: rect_from_box("0011", (64, 64))],
        "rotation_points": [lambda: rect_from_box((0, 0, 1, 1), (64, 64), rotation_points=((0, 0),)),
                            lambda: rect_from_box((0, 0, 1, 1), (64, 64), rotation_points=((0, 0), (1,)))],
    }
    for argument, fns in calls.items():
        for i, fn in enumerate(fns):
            yield pytest.param(fn, argument, id=f"roi-{argument}-{i}")


def landmark_cases():
    hm = np.zeros((1, 64, 64, 33), np.float32)
    calls = {
        "landmarks": [
            lambda: project_landmarks(LM[:, :1], RECT, (64, 64)),
            lambda: project_landmarks(LM.astype(np.float64), RECT, (64, 64)),
            lambda: project_landmarks(LM[None, None], RECT, (64, 64)),
            lambda: project_world_landmarks(LM.reshape(-1), RECT),
            lambda: refine_from_heatmap(LM.tolist(), hm),
            lambda: landmarks_box(LM[:, 0]),
        ],
        "rect": [lambda: project_landmarks(LM, (10, 10, 5, 5, 0), (64, 64)),
                 lambda: project_world_landmarks(LM, "rect")],
        "image_size": [lambda: project_landmarks(LM, RECT, (64, -1))],
        "out": [lambda: project_landmarks(LM, RECT, (64, 64), out=np.zeros((33, 4), np.float32)),
                lambda: refine_from_heatmap(LM, hm, out=np.zeros((33, 5), np.float64))],
        "heatmap": [lambda: refine_from_heatmap(LM, hm[..., :32]), lambda: refine_from_heatmap(LM, hm[0, 0]),
                    lambda: refine_from_heatmap(LM, hm.astype(np.float64)),
                    lambda: refine_from_heatmap(LM, np.zeros((2, 64, 64, 33), np.float32))],
        "kernel_size": [lambda: refine_from_heatmap(LM, hm, kernel_size=4),
                        lambda: refine_from_heatmap(LM, hm, kernel_size=0),
                        lambda: refine_from_heatmap(LM, hm, kernel_size=7.0)],
        "min_confidence": [lambda: refine_from_heatmap(LM, hm, min_confidence=-0.5),
                           lambda: refine_from_heatmap(LM, hm, min_confidence=math.nan)],
        "raw": [lambda: decode_landmarks(np.zeros((1, 196), np.float32), 39, input_size=(256, 256)),
                lambda: decode_landmarks(np.zeros((39, 10), np.float32)[:, ::2], 39, input_size=(256, 256)),
                lambda: decode_landmarks(np.zeros((1, 195), np.float64), 39, input_size=(256, 256))],
        "num_landmarks": [lambda: decode_landmarks(np.zeros((1, 195), np.float32), 0, input_size=(256, 256))],
        "input_size": [lambda: decode_landmarks(np.zeros((1, 195), np.float32), 39, input_size=(256,))],
        "normalize_z": [lambda: decode_landmarks(np.zeros((1, 195), np.float32), 39, input_size=(8, 8), normalize_z=0)],
        "visibility_activation": [
            lambda: decode_landmarks(np.zeros((1, 195), np.float32), 39, input_size=None, visibility_activation="relu")
        ],
    }
    for argument, fns in calls.items():
        for i, fn in enumerate(fns):
            yield pytest.param(fn, argument, id=f"landmarks-{argument}-{i}")


def filter_cases():
    def applied(filter_, *args, **kwargs):
        return lambda: filter_.apply(*args, **kwargs)

    calls = {
        "min_cutoff": [lambda: OneEuroFilter(min_cutoff=-1.0), lambda: LandmarksSmoother(min_cutoff=math.nan, beta=0)],
        "beta": [lambda: OneEuroFilter(beta=-2.0)],
        "derivate_cutoff": [lambda: OneEuroFilter(derivate_cutoff="1")],
        "frequency": [lambda: OneEuroFilter(frequency=0.0), lambda: LandmarksSmoother(0.1, 1.0, frequency=-30)],
        "alpha": [lambda: LowPassFilter(1.5), lambda: VisibilitySmoother(alpha=-0.1)],
        "values": [applied(OneEuroFilter(), np.zeros(3), 0), applied(LowPassFilter(0.5), [1.0, 2.0])],
        "timestamp_us": [applied(OneEuroFilter(), np.zeros(3, np.float32), -1),
                         applied(OneEuroFilter(), np.zeros(3, np.float32), 1.5),
                         applied(LandmarksSmoother(0.1, 1.0), LM, "0")],
        "value_scale": [applied(OneEuroFilter(), np.zeros(3, np.float32), 0, value_scale=math.inf)],
        "landmarks": [applied(LandmarksSmoother(0.1, 1.0), LM[:, :1], 0),
                      applied(VisibilitySmoother(), LM[:, :3]),
                      applied(LandmarksSmoother(0.1, 1.0), LM.astype(np.float64), 0)],
        "object_scale": [applied(LandmarksSmoother(0.1, 1.0), LM, 0, object_scale=-1.0),
                         applied(LandmarksSmoother(0.1, 1.0), LM, 0, object_scale="big")],
        "image_size": [applied(LandmarksSmoother(0.1, 1.0), LM, 0, image_size=(0, 0))],
        "ratio": [lambda: segmentation_smoothing(MASK, MASK, 1.5), lambda: segmentation_smoothing(MASK, MASK, -0.1)],
        "previous": [lambda: segmentation_smoothing(np.zeros((8, 9), np.float32), MASK),
                     lambda: segmentation_smoothing(MASK.astype(np.float64), MASK)],
        "current": [lambda: segmentation_smoothing(MASK, MASK.astype(np.uint8)), lambda: segmentation_smoothing(MASK, None)],
    }
    for argument, fns in calls.items():
        for i, fn in enumerate(fns):
            yield pytest.param(fn, argument, id=f"filters-{argument}-{i}")


ALL = [*decode_cases(), *nms_cases(), *detections_cases(), *anchor_cases(), *roi_cases(), *landmark_cases(),
       *filter_cases()]


@pytest.mark.parametrize("call,argument", ALL)
def test_rejected_with_argument_named(call, argument):
    with pytest.raises(ERRORS, match=argument):
        call()


arrays = st.builds(
    lambda shape, dtype, seed: np.random.default_rng(seed).normal(0, 50, shape).astype(dtype),
    st.lists(st.integers(0, 20), min_size=0, max_size=4).map(tuple),
    st.sampled_from([np.float32, np.float32, np.float64, np.int32]),
    st.integers(0, 2**32 - 1),
)


@given(raw_boxes=arrays, raw_scores=arrays, anchors=arrays, k=st.integers(-1, 8), offset=st.integers(-1, 8))
def test_decode_never_crashes(raw_boxes, raw_scores, anchors, k, offset):
    try:
        dets = decode_detections(raw_boxes, raw_scores, anchors, scale=16, num_keypoints=k, min_score=0.3,
                                 keypoint_offset=offset)
    except ERRORS:
        return
    assert dets.boxes.shape == (len(dets), 4) and dets.keypoints.shape == (len(dets), k, 2)
    assert np.all(dets.scores >= np.float32(0.3))
    assert np.all(dets.boxes[:, 2] - dets.boxes[:, 0] >= 0) and np.all(dets.boxes[:, 3] - dets.boxes[:, 1] >= 0)


@given(boxes=arrays, keypoints=arrays, scores=arrays)
def test_nms_never_crashes(boxes, keypoints, scores):
    try:
        dets = Detections(boxes, keypoints, scores)
    except ERRORS:
        return
    for method in ("weighted", "hard"):
        out = nms(dets, method=method)
        assert len(out) <= len(dets)
