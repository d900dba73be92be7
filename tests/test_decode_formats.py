"""decode_detections box formats and score inputs beyond MediaPipe's XYWH logits: MediaPipe's
box_format XYXY ("ltrb"), corner boxes ("xyxy") with anchors=None and probabilities for AI
Hub's detectors exported with built-in post-processing (aihub spec §2a), MediaPipe's
sigmoid_score: false ("none"). References are written out below from the formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgevision.kernels import DetectionDecoder, decode_detections, nms, ssd_anchors

f32 = np.float32
FACE_ANCHORS = ssd_anchors(input_size=(128, 128), strides=(8, 16, 16, 16), min_scale=0.1484375, max_scale=0.75)
NON_UNIT_ANCHORS = ssd_anchors(
    input_size=(96, 64), strides=(8, 16), min_scale=0.2, max_scale=0.8, fixed_anchor_size=False
)


def head(rng, n, cols, score_mean=0.0):
    raw = rng.normal(0, 20, (n, cols)).astype(np.float32)
    logits = rng.normal(score_mean, 3, n).astype(np.float32)
    return raw, logits


def sigmoid(logits, clip=100.0):
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(logits, np.float64), -clip, clip)))


def keypoints_ref(raw, anchors, xs, ys, offset, k):
    """Keypoints read x first, r / scale * anchor size + anchor centre, float32."""
    kx = raw[:, offset : offset + 2 * k : 2] / xs * anchors[:, 2:3] + anchors[:, 0:1]
    ky = raw[:, offset + 1 : offset + 2 * k : 2] / ys * anchors[:, 3:4] + anchors[:, 1:2]
    return np.stack([kx, ky], axis=2).astype(np.float32)


def ltrb_ref(raw, anchors, scale, k, offset=4):
    """MediaPipe's XYXY: x_center = (-r0 + r2) / 2, w = r2 + r0 (likewise y, h), then the
    XYWH arithmetic, all in float32."""
    xs, ys, ws, hs = (f32(v) for v in scale)
    a = anchors
    xc = (-raw[:, 0] + raw[:, 2]) / f32(2)
    yc = (-raw[:, 1] + raw[:, 3]) / f32(2)
    w = raw[:, 2] + raw[:, 0]
    h = raw[:, 3] + raw[:, 1]
    xc = xc / xs * a[:, 2] + a[:, 0]
    yc = yc / ys * a[:, 3] + a[:, 1]
    w = w / ws * a[:, 2]
    h = h / hs * a[:, 3]
    boxes = np.stack([xc - w / f32(2), yc - h / f32(2), xc + w / f32(2), yc + h / f32(2)], 1).astype(np.float32)
    return boxes, keypoints_ref(raw, a, xs, ys, offset, k)


def corners_ref(raw, anchors, scale, k, offset=4):
    """Corners mapped like keypoints."""
    xs, ys = f32(scale[0]), f32(scale[1])
    a = anchors
    boxes = np.stack(
        [raw[:, 0] / xs * a[:, 2] + a[:, 0], raw[:, 1] / ys * a[:, 3] + a[:, 1],
         raw[:, 2] / xs * a[:, 2] + a[:, 0], raw[:, 3] / ys * a[:, 3] + a[:, 1]], 1
    ).astype(np.float32)
    return boxes, keypoints_ref(raw, a, xs, ys, offset, k)


def kept(boxes, scores, min_score):
    with np.errstate(invalid="ignore"):
        return np.flatnonzero((scores >= min_score) & (boxes[:, 2] - boxes[:, 0] >= 0) & (boxes[:, 3] - boxes[:, 1] >= 0))


@pytest.mark.parametrize("anchors,scale", [(FACE_ANCHORS, (128.0,) * 4), (NON_UNIT_ANCHORS, (96.0, 64.0, 50.0, 40.0))])
@pytest.mark.parametrize("fmt,reference", [("ltrb", ltrb_ref), ("xyxy", corners_ref)])
def test_box_formats_match_reference(rng, anchors, scale, fmt, reference):
    raw, logits = head(rng, len(anchors), 9)
    if fmt == "xyxy":  # mostly valid corners, some inverted (dropped)
        raw[:, 2:4] = raw[:, 0:2] + rng.normal(15, 10, (len(anchors), 2)).astype(np.float32)
    else:
        raw[:, :4] = np.abs(raw[:, :4]) * rng.choice([1, 1, 1, -1], (len(anchors), 4)).astype(np.float32)
    got = decode_detections(raw, logits, anchors, scale=scale, num_keypoints=2, min_score=0.4, keypoint_offset=5,
                            box_format=fmt)
    boxes, kps = reference(raw, anchors, scale, 2, offset=5)
    idx = kept(boxes, sigmoid(logits), 0.4)
    assert 0 < len(idx) < len(anchors) and len(idx) < np.sum(sigmoid(logits) >= 0.4)  # some boxes were dropped
    np.testing.assert_array_equal(got.boxes, boxes[idx])
    np.testing.assert_array_equal(got.keypoints, kps[idx])
    np.testing.assert_allclose(got.scores, sigmoid(logits)[idx], rtol=2e-7, atol=0)


def test_ltrb_is_xywh_of_the_same_box(rng):
    """A box given as edge distances decodes like its centre/size form (equal scales)."""
    raw, logits = head(rng, len(FACE_ANCHORS), 16)
    left, top, right, bottom = (np.abs(raw[:, c]) for c in range(4))
    ltrb = raw.copy()
    ltrb[:, :4] = np.stack([left, top, right, bottom], 1)
    xywh = raw.copy()
    xywh[:, :4] = np.stack([(right - left) / 2, (bottom - top) / 2, right + left, bottom + top], 1)
    a = decode_detections(ltrb, logits, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.5, box_format="ltrb")
    b = decode_detections(xywh, logits, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.5)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)


def ai_hub_postprocessed(raw, logits, anchors, size=128.0):
    """AI Hub's mediapipe_detector_postprocess (aihub spec §2a): per (x, y) pair
    raw * anchor_wh + 128 * anchor_centre (not for the (w, h) pair), box (xc, yc, w, h) to
    corners; scores sigmoid(clamp(logits, +-100)). Pixels of the 128-px input."""
    raw = raw.astype(np.float64)
    a = anchors.astype(np.float64)
    pairs = raw.reshape(len(raw), -1, 2) * a[:, None, 2:4]
    pairs[:, [0] + list(range(2, pairs.shape[1]))] += size * a[:, None, 0:2]
    xc, yc, w, h = pairs[:, 0, 0], pairs[:, 0, 1], pairs[:, 1, 0], pairs[:, 1, 1]
    coords = np.concatenate([np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], 1),
                             pairs[:, 2:].reshape(len(raw), -1)], 1)
    return coords.astype(np.float32)[None], sigmoid(logits).astype(np.float32)[None]


def test_ai_hub_postprocessed_outputs_decode_like_raw_heads(rng):
    """The post-processed export ([1,896,12] corners + 4 keypoints in pixels, [1,896]
    probabilities) decodes with anchors=None to what the raw head decodes to."""
    raw, logits = head(rng, 896, 12, score_mean=0.5)
    raw[:, 2:4] = np.abs(raw[:, 2:4])
    coords, probabilities = ai_hub_postprocessed(raw, logits, FACE_ANCHORS)
    want = nms(decode_detections(raw, logits, FACE_ANCHORS, scale=128, num_keypoints=4, min_score=0.75),
               method="hard")
    got = nms(decode_detections(coords, probabilities, None, scale=128, num_keypoints=4, min_score=0.75,
                                box_format="xyxy", score_activation="none"), method="hard")
    assert len(want) > 3 and len(got) == len(want)
    np.testing.assert_allclose(got.boxes, want.boxes, rtol=0, atol=2e-6)
    np.testing.assert_allclose(got.keypoints, want.keypoints, rtol=0, atol=2e-6)
    np.testing.assert_allclose(got.scores, want.scores, rtol=1e-6)
    decoder = DetectionDecoder(None, scale=128, num_keypoints=4, min_score=0.75, box_format="xyxy",
                               score_activation="none", nms="hard")
    assert decoder.num_anchors == -1 and decoder.anchors is None
    fused = decoder(coords, probabilities)
    np.testing.assert_array_equal(fused.boxes, got.boxes)
    # without anchors the heads may have any length, but must agree with each other
    assert len(decoder(coords[:, :100], probabilities[:, :100])) <= len(got)
    with pytest.raises(ValueError, match="raw_scores"):
        decoder(coords[:, :100], probabilities[:, :99])


def test_identity_anchors_equal_explicit_ones(rng):
    raw, logits = head(rng, 300, 8)
    identity = np.tile(np.array([[0, 0, 1, 1]], np.float32), (300, 1))
    for fmt in ("xywh", "yxhw", "ltrb", "xyxy"):
        a = decode_detections(raw, logits, None, scale=(10, 20, 30, 40), num_keypoints=2, min_score=0.3, box_format=fmt)
        b = decode_detections(raw, logits, identity, scale=(10, 20, 30, 40), num_keypoints=2, min_score=0.3,
                              box_format=fmt)
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.keypoints, b.keypoints)


def test_score_activation_none_thresholds_values_as_given(rng):
    raw, _ = head(rng, len(FACE_ANCHORS), 16)
    raw[:, 2:4] = np.abs(raw[:, 2:4])
    p = rng.uniform(0, 1, len(FACE_ANCHORS)).astype(np.float32)
    p[:5] = [0.5, np.nextafter(f32(0.5), f32(0)), np.nan, 150.0, -3.0]  # not clipped: not logits
    got = decode_detections(raw, p, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.5, score_activation="none")
    want = np.flatnonzero(p >= 0.5)
    np.testing.assert_array_equal(got.scores, p[want])
    assert got.scores[0] == 0.5 and 150.0 in got.scores


@pytest.mark.parametrize("fmt", ["xywh", "ltrb", "xyxy"])
def test_formats_read_strided_rows(rng, fmt):
    raw, logits = head(rng, len(FACE_ANCHORS), 16)
    wide = np.zeros((len(FACE_ANCHORS), 48), np.float32)
    wide[:, ::3] = raw
    view = wide[:, ::3]  # column stride 3
    a = decode_detections(view, logits, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.5, box_format=fmt)
    b = decode_detections(raw, logits, FACE_ANCHORS, scale=128, num_keypoints=6, min_score=0.5, box_format=fmt)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)


@given(
    n=st.integers(0, 40), classes=st.integers(1, 5), cols=st.integers(0, 12), k=st.integers(0, 4),
    fmt=st.sampled_from(["xywh", "yxhw", "ltrb", "xyxy"]), activation=st.sampled_from(["sigmoid", "none"]),
    with_anchors=st.booleans(), seed=st.integers(0, 2**32 - 1),
)
def test_any_format_never_crashes(n, classes, cols, k, fmt, activation, with_anchors, seed):
    rng = np.random.default_rng(seed)
    raw = rng.normal(0, 50, (n, cols)).astype(np.float32)
    raw[rng.uniform(size=raw.shape) < 0.05] = np.nan
    scores = rng.normal(0, 3, (1, n, classes)).astype(np.float32)  # [1, n, c]: n = 1 is unambiguous
    anchors = rng.uniform(-1, 2, (n, 4)).astype(np.float32) if with_anchors else None
    try:
        dets = decode_detections(raw, scores, anchors, scale=16, num_keypoints=k, min_score=0.3, box_format=fmt,
                                 score_activation=activation)
    except ValueError as e:
        assert cols < max(4, 4 + 2 * k) and "raw_boxes" in str(e)
        return
    assert dets.boxes.shape == (len(dets), 4) and dets.keypoints.shape == (len(dets), k, 2)
    assert np.all(dets.scores >= np.float32(0.3)) and np.all((dets.class_ids >= 0) & (dets.class_ids < classes))
    assert np.all(dets.boxes[:, 2] - dets.boxes[:, 0] >= 0) and np.all(dets.boxes[:, 3] - dets.boxes[:, 1] >= 0)
