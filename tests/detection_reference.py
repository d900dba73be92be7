"""Plain NumPy / Python references for detector and landmark post-processing.

Written from the formulas in /work/shared/spec (mediapipe_pipelines.md §0.2-0.11, §1-§3,
§5; aihub_and_sam2.md §2), never from edgevision. Where MediaPipe computes in float32 the
reference does too (``np.float32`` scalars, one rounding per operation, in MediaPipe's order),
so exact equality can be asserted; elsewhere it uses float64.
"""

from __future__ import annotations

import math

import numpy as np

f32 = np.float32


# ------------------------------------------------------------------------- anchors (§0.2)


def ssd_anchors(
    input_size,
    strides,
    min_scale,
    max_scale,
    aspect_ratios=(1.0,),
    offset=(0.5, 0.5),
    fixed_anchor_size=True,
    interpolated_scale_aspect_ratio=1.0,
    reduce_boxes_in_lowest_layer=False,
):
    """SsdAnchorsCalculator, loop by loop. Returns float32 [n, 4] (x, y, w, h)."""
    width, height = input_size
    n_strides = len(strides)

    def scale_at(i):
        if n_strides == 1:
            return f32((f32(min_scale) + f32(max_scale)) * f32(0.5))
        # min + (max - min) * 1.0 * i / (n - 1.0f): float difference, double quotient
        return f32(float(f32(min_scale)) + float(f32(max_scale) - f32(min_scale)) * i / float(f32(n_strides) - f32(1)))

    rows = []
    layer = 0
    while layer < n_strides:
        ratios, scales = [], []
        last = layer
        while last < n_strides and strides[last] == strides[layer]:
            s = scale_at(last)
            if last == 0 and reduce_boxes_in_lowest_layer:
                ratios += [f32(1.0), f32(2.0), f32(0.5)]
                scales += [f32(0.1), s, s]
            else:
                for r in aspect_ratios:
                    ratios.append(f32(r))
                    scales.append(s)
                if interpolated_scale_aspect_ratio > 0:
                    nxt = f32(1.0) if last == n_strides - 1 else scale_at(last + 1)
                    scales.append(f32(np.sqrt(f32(s * nxt))))
                    ratios.append(f32(interpolated_scale_aspect_ratio))
            last += 1
        sizes = [(f32(s * f32(np.sqrt(r))), f32(s / f32(np.sqrt(r)))) for s, r in zip(scales, ratios)]
        stride = strides[layer]
        fh = math.ceil(f32(height) / f32(stride))
        fw = math.ceil(f32(width) / f32(stride))
        for y in range(fh):
            for x in range(fw):
                cx = f32(f32(x + f32(offset[0])) / f32(fw))
                cy = f32(f32(y + f32(offset[1])) / f32(fh))
                for w, h in sizes:
                    rows.append((cx, cy, 1.0, 1.0) if fixed_anchor_size else (cx, cy, w, h))
        layer = last
    return np.array(rows, np.float32).reshape(-1, 4)


# --------------------------------------------------------------------------- decode (§0.3)


def sigmoid64(logits, clip=100.0):
    s = np.asarray(logits, np.float64)
    if clip is not None:
        s = np.clip(s, -clip, clip)
    return 1.0 / (1.0 + np.exp(-s))


def decode(raw_boxes, raw_scores, anchors, scale, num_keypoints, min_score, clip=100.0, kp_offset=4, fmt="xywh"):
    """TensorsToDetections: boxes and keypoints in float32 (MediaPipe's operations), scores
    in float64; kept where score >= min_score and the box has a non-negative, non-NaN size.
    Returns (boxes [n,4] xmin ymin xmax ymax, keypoints [n,k,2], scores64 [n], anchor idx)."""
    raw = np.asarray(raw_boxes, np.float32).reshape(len(anchors), -1)
    xs, ys, ws, hs = (f32(scale),) * 4 if np.ndim(scale) == 0 else tuple(f32(v) for v in scale)
    score = sigmoid64(np.asarray(raw_scores, np.float32).reshape(-1), clip)
    a = anchors.astype(np.float32)
    if fmt == "xywh":
        rx, ry, rw, rh = raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3]
        kx = raw[:, kp_offset : kp_offset + 2 * num_keypoints : 2]
        ky = raw[:, kp_offset + 1 : kp_offset + 2 * num_keypoints : 2]
    else:
        ry, rx, rh, rw = raw[:, 0], raw[:, 1], raw[:, 2], raw[:, 3]
        ky = raw[:, kp_offset : kp_offset + 2 * num_keypoints : 2]
        kx = raw[:, kp_offset + 1 : kp_offset + 2 * num_keypoints : 2]
    xc = rx / xs * a[:, 2] + a[:, 0]
    yc = ry / ys * a[:, 3] + a[:, 1]
    w = rw / ws * a[:, 2]
    h = rh / hs * a[:, 3]
    two = f32(2)
    boxes = np.stack([xc - w / two, yc - h / two, xc + w / two, yc + h / two], axis=1).astype(np.float32)
    kps = np.stack([kx / xs * a[:, 2:3] + a[:, 0:1], ky / ys * a[:, 3:4] + a[:, 1:2]], axis=2).astype(np.float32)
    with np.errstate(invalid="ignore"):
        ok = (score >= min_score) & (boxes[:, 2] - boxes[:, 0] >= 0) & (boxes[:, 3] - boxes[:, 1] >= 0)
    idx = np.flatnonzero(ok)
    return boxes[idx], kps[idx], score[idx], idx


# ------------------------------------------------------------------------------ NMS (§0.4)


def _rect(box):
    """MediaPipe's Rectangle_f from a Detection (xmin, ymin, width, height) in float32."""
    x0, y0 = f32(box[0]), f32(box[1])
    return x0, y0, f32(x0 + f32(f32(box[2]) - x0)), f32(y0 + f32(f32(box[3]) - y0))


def iou(a, b):
    """OverlapSimilarity(a, b), IoU, float32; 0 when disjoint or empty."""
    ax0, ay0, ax1, ay1 = _rect(a)
    bx0, by0, bx1, by1 = _rect(b)
    if ax0 > ax1 or ay0 > ay1 or bx0 > bx1 or by0 > by1:  # empty
        return f32(0)
    if bx1 < ax0 or ax1 < bx0 or by1 < ay0 or ay1 < by0:  # disjoint
        return f32(0)
    if any(math.isnan(v) for v in (ax0, ay0, ax1, ay1, bx0, by0, bx1, by1)):
        return f32(0)
    inter = f32(f32(min(ax1, bx1) - max(ax0, bx0)) * f32(min(ay1, by1) - max(ay0, by0)))
    area_a = f32(f32(ax1 - ax0) * f32(ay1 - ay0))
    area_b = f32(f32(bx1 - bx0) * f32(by1 - by0))
    norm = f32(f32(area_a + area_b) - inter)
    return f32(inter / norm) if norm > 0 else f32(0)


def score_order(scores):
    """Descending score, ties by index (MediaPipe leaves ties unordered; we fix them)."""
    return sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))


def weighted_nms(boxes, keypoints, scores, threshold=0.3, max_detections=None):
    """NonMaxSuppressionCalculator, WEIGHTED: seeds in score order, clusters by float32 IoU,
    score-weighted means computed exactly (float64) and rounded to float32."""
    thr = f32(threshold)
    remaining = score_order(scores)
    out_b, out_k, out_s = [], [], []
    k = keypoints.shape[1]
    while remaining:
        if max_detections is not None and len(out_s) >= max_detections:
            break
        seed = remaining[0]
        candidates = [r for r in remaining if iou(boxes[r], boxes[seed]) > thr]
        rest = [r for r in remaining if not iou(boxes[r], boxes[seed]) > thr]
        if candidates:
            w = np.asarray(scores, np.float64)[candidates]
            rects = np.array([_rect(boxes[c]) for c in candidates], np.float64)
            kps = np.asarray(keypoints, np.float64)[candidates]
            with np.errstate(invalid="ignore", divide="ignore"):  # all-zero scores: NaN, as MediaPipe
                out_b.append((rects * w[:, None]).sum(0) / w.sum())
                out_k.append((kps * w[:, None, None]).sum(0) / w.sum())
        else:
            out_b.append(boxes[seed])
            out_k.append(keypoints[seed])
        out_s.append(scores[seed])
        if len(rest) == len(remaining):
            break
        remaining = rest
    n = len(out_s)
    return (
        np.array(out_b, np.float32).reshape(n, 4),
        np.array(out_k, np.float32).reshape(n, k, 2),
        np.array(out_s, np.float32).reshape(n),
    )


def hard_nms(boxes, scores, threshold=0.3, max_detections=None):
    """Greedy NMS: indices kept, in visiting order."""
    thr = f32(threshold)
    kept = []
    for i in score_order(scores):
        if max_detections is not None and len(kept) >= max_detections:
            break
        if all(not iou(boxes[k], boxes[i]) > thr for k in kept):
            kept.append(i)
    return kept


# ------------------------------------------------------------------- letterbox (§0.1, §0.5)


def letterbox_padding(image_size, tensor_size):
    """ImageToTensor's LETTERBOX_PADDING (left, top, right, bottom) for the whole image."""
    (W, H), (tw, th) = image_size, tensor_size
    ta, ra = th / tw, H / W
    if ta > ra:
        v = (1 - ra / ta) / 2
        return (0.0, v, 0.0, v)
    h = (1 - ta / ra) / 2
    return (h, 0.0, h, 0.0)


def remove_letterbox(boxes, keypoints, padding):
    """DetectionLetterboxRemovalCalculator on (xmin, ymin, xmax, ymax) boxes, float64."""
    l, t, r, b = padding
    sx, sy = 1 - l - r, 1 - t - b
    boxes = np.asarray(boxes, np.float64)
    kps = np.asarray(keypoints, np.float64)
    out_b = np.stack(
        [(boxes[:, 0] - l) / sx, (boxes[:, 1] - t) / sy, (boxes[:, 2] - l) / sx, (boxes[:, 3] - t) / sy], axis=1
    )
    out_k = np.stack([(kps[..., 0] - l) / sx, (kps[..., 1] - t) / sy], axis=-1)
    return out_b, out_k


def roi_matrix(center, size, rotation, image_size):
    """ImageToTensor's MATRIX (§0.1.6): normalised tensor (u, v) -> normalised image."""
    (e, f), (a, b) = center, size
    c, d = math.cos(rotation), math.sin(rotation)
    g, h = 1 / image_size[0], 1 / image_size[1]
    return np.array(
        [
            [a * c * g, -b * d * g, (-a * c / 2 + b * d / 2 + e) * g],
            [a * d * h, b * c * h, (-b * c / 2 - a * d / 2 + f) * h],
            [0, 0, 1],
        ]
    )


def project_detections(boxes, keypoints, m):
    """DetectionProjectionCalculator: keypoints through m, boxes as bounds of the corners."""
    def apply(x, y):
        return m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]

    boxes = np.asarray(boxes, np.float64)
    out_b = []
    for x0, y0, x1, y1 in boxes:
        pts = [apply(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        out_b.append([min(xs), min(ys), max(xs), max(ys)])
    kx, ky = apply(np.asarray(keypoints, np.float64)[..., 0], np.asarray(keypoints, np.float64)[..., 1])
    return np.array(out_b).reshape(-1, 4), np.stack([kx, ky], axis=-1)


# ------------------------------------------------------------------------ ROI (§0.6, §0.7)


def normalize_radians(a):
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def alignment_rect(p0, p1, image_size, target_angle, scale=1.25, square_long=True):
    """AlignmentPointsRects + RectTransformation -> (cx, cy, w, h, rotation) in pixels."""
    W, H = image_size
    x0, y0, x1, y1 = p0[0] * W, p0[1] * H, p1[0] * W, p1[1] * H
    box = 2 * math.hypot(x1 - x0, y1 - y0)
    rotation = normalize_radians(target_angle - math.atan2(-(y1 - y0), x1 - x0))
    w_n, h_n = box / W, box / H
    if square_long:
        long_side = max(w_n * W, h_n * H)
        w_n, h_n = long_side / W, long_side / H
    return x0, y0, w_n * scale * W, h_n * scale * H, rotation


def box_rect(box, image_size, points=None, target_angle=0.0, scale=1.5, square_long=True):
    """DetectionsToRects (box mode) + RectTransformation -> (cx, cy, w, h, rotation) px."""
    W, H = image_size
    xmin, ymin, xmax, ymax = box
    w_n, h_n = xmax - xmin, ymax - ymin
    cx, cy = xmin + w_n / 2, ymin + h_n / 2
    rotation = 0.0
    if points is not None:
        (ax, ay), (bx, by) = points
        rotation = normalize_radians(target_angle - math.atan2(-(by - ay) * H, (bx - ax) * W))
    if square_long:
        long_side = max(w_n * W, h_n * H)
        w_n, h_n = long_side / W, long_side / H
    return cx * W, cy * H, w_n * scale * W, h_n * scale * H, rotation


def landmarks_box(landmarks):
    """LandmarksToDetection's bounds, maxima starting at FLT_MIN (§0.8)."""
    x0 = y0 = float(np.finfo(np.float32).max)
    x1 = y1 = float(np.finfo(np.float32).tiny)
    for x, y in np.asarray(landmarks, np.float64)[:, :2]:
        x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
    return np.array([x0, y0, x1, y1])


# ----------------------------------------------------------------- landmarks (§0.9, §3.3)


def decode_landmarks(raw, num_landmarks, input_size, normalize_z=1.0, sigmoid_vis=True, sigmoid_pres=True):
    v = np.asarray(raw, np.float64).reshape(num_landmarks, -1)[:, :5].copy()
    if input_size is not None:
        w, h = input_size
        v[:, 0] /= w
        if v.shape[1] > 1:
            v[:, 1] /= h
        if v.shape[1] > 2:
            v[:, 2] = v[:, 2] / w / normalize_z
    if v.shape[1] > 3 and sigmoid_vis:
        v[:, 3] = 1 / (1 + np.exp(-v[:, 3]))
    if v.shape[1] > 4 and sigmoid_pres:
        v[:, 4] = 1 / (1 + np.exp(-v[:, 4]))
    return v


def project_landmarks(landmarks, rect, image_size):
    """LandmarkProjection with a NORM_RECT; rect = (cx, cy, w, h, rotation) in pixels."""
    cx, cy, w, h, theta = rect
    W, H = image_size
    lm = np.asarray(landmarks, np.float64).copy()
    x, y = lm[:, 0] - 0.5, lm[:, 1] - 0.5
    c, s = math.cos(theta), math.sin(theta)
    out = lm.copy()
    out[:, 0] = (c * x - s * y) * (w / W) + cx / W
    out[:, 1] = (s * x + c * y) * (h / H) + cy / H
    if lm.shape[1] > 2:
        out[:, 2] = lm[:, 2] * (w / W)
    return out


def rotate_world(landmarks, theta):
    lm = np.asarray(landmarks, np.float64)
    out = lm.copy()
    c, s = math.cos(theta), math.sin(theta)
    out[:, 0] = c * lm[:, 0] - s * lm[:, 1]
    out[:, 1] = s * lm[:, 0] + c * lm[:, 1]
    return out


def refine_from_heatmap(landmarks, heatmap, kernel_size=7, min_confidence=0.5, presence=False, visibility=False):
    """RefineLandmarksFromHeatmap (§3.3), float64. heatmap is [h, w, n] logits.

    Kept quirk of MediaPipe's range check (verified in its source): the column is compared
    with the height instead of the row, so rows at or below the map are not skipped; their
    window is clipped to the map. refine_presence / refine_visibility: whenever the window
    is not empty, presence (column 4) / visibility (column 3) become min(value, peak)."""
    hm_h, hm_w, _ = heatmap.shape
    off = (kernel_size - 1) // 2
    out = np.asarray(landmarks, np.float64).copy()
    for k in range(len(out)):
        fx, fy = np.float32(out[k, 0]) * np.float32(hm_w), np.float32(out[k, 1]) * np.float32(hm_h)
        if not (math.isfinite(fx) and math.isfinite(fy)):
            continue
        col, row = int(fx), int(fy)  # truncation toward zero
        if col < 0 or col >= hm_w or row < 0 or col >= hm_h:
            continue
        rows = range(max(0, row - off), min(hm_h, row + off + 1))
        cols = range(max(0, col - off), min(hm_w, col + off + 1))
        total = wc = wr = peak = 0.0
        for r in rows:
            for c in cols:
                conf = 1 / (1 + math.exp(-float(heatmap[r, c, k])))
                total += conf
                peak = max(peak, conf)
                wc += c * conf
                wr += r * conf
        if peak >= min_confidence and total > 0:
            out[k, 0] = wc / hm_w / total
            out[k, 1] = wr / hm_h / total
        if presence and total > 0:
            out[k, 4] = min(out[k, 4], peak)
        if visibility and total > 0:
            out[k, 3] = min(out[k, 3], peak)
    return out


# -------------------------------------------------------------------- filters (§0.10-0.11)


class LowPass:
    """LowPassFilter: float32 state, (1 - alpha) in double as MediaPipe writes it."""

    def __init__(self, alpha=None):
        self.alpha = alpha
        self.initialized = False
        self.raw = f32(0)
        self.stored = f32(0)

    def apply(self, value, alpha=None):
        alpha = f32(self.alpha if alpha is None else alpha)
        value = f32(value)
        if self.initialized:
            result = f32(float(f32(alpha * value)) + (1.0 - float(alpha)) * float(self.stored))
        else:
            result = value
            self.initialized = True
        self.raw, self.stored = value, result
        return result


class OneEuro:
    """OneEuroFilter.Apply(t, value_scale, value) for one value (§0.10)."""

    def __init__(self, frequency, min_cutoff, beta, derivate_cutoff):
        self.frequency, self.min_cutoff, self.beta, self.dcut = frequency, min_cutoff, beta, derivate_cutoff
        self.x, self.dx = LowPass(), LowPass()
        self.last_t = -1

    def alpha(self, cutoff):
        te = 1.0 / self.frequency
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def apply(self, t_ns, value_scale, value):
        if self.last_t >= t_ns:
            return value
        if self.last_t != 0 and t_ns != 0:
            self.frequency = 1.0 / ((t_ns - self.last_t) * 1e-9)
        self.last_t = t_ns
        dvalue = (value - float(self.x.raw)) * value_scale * self.frequency if self.x.initialized else 0.0
        edvalue = float(self.dx.apply(dvalue, self.alpha(self.dcut)))
        cutoff = self.min_cutoff + self.beta * abs(edvalue)
        return float(self.x.apply(value, self.alpha(cutoff)))


class Smoother:
    """LandmarksSmoothingCalculator (one-euro) on normalised landmarks (§0.10)."""

    def __init__(self, min_cutoff, beta, derivate_cutoff=1.0, frequency=30.0, disable_value_scaling=False,
                 min_allowed_object_scale=1e-6):
        self.args = (frequency, min_cutoff, beta, derivate_cutoff)
        self.disable = disable_value_scaling
        self.min_scale = min_allowed_object_scale
        self.filters = None

    def apply(self, landmarks, t_us, image_size=None, object_scale=None):
        lm = np.asarray(landmarks, np.float32)
        if len(lm) == 0:
            self.filters = None
            return lm.copy()
        axes = min(lm.shape[1], 3)
        W, H = image_size if image_size is not None else (1, 1)
        scale = [f32(W), f32(H), f32(W)]
        px = [[f32(lm[i, a] * scale[a]) if image_size is not None else lm[i, a] for a in range(axes)]
              for i in range(len(lm))]
        if self.filters is None:
            self.filters = [[OneEuro(*self.args) for _ in range(3)] for _ in range(len(lm))]
        value_scale = 1.0
        if not self.disable:
            if object_scale is None:
                xs = [p[0] for p in px]
                ys = [p[1] for p in px]
                object_scale = f32(f32(f32(max(xs) - min(xs)) + f32(max(ys) - min(ys))) / f32(2))
            if f32(object_scale) < f32(self.min_scale):
                return lm.copy()
            value_scale = float(f32(1) / f32(object_scale))
        out = lm.copy()
        for i in range(len(lm)):
            for a in range(axes):
                v = f32(self.filters[i][a].apply(t_us * 1000, value_scale, float(px[i][a])))
                out[i, a] = v / scale[a] if image_size is not None else v
        return out


def segmentation_smoothing(prev, cur, ratio):
    """SegmentationSmoothingCalculator (CPU), float32 in MediaPipe's order (§0.11)."""
    c1, c2, c3, c4, c5 = (f32(v) for v in (5.68842, -0.748699, -57.8051, 291.309, -624.717))
    p = np.asarray(cur, np.float32)
    q = np.asarray(prev, np.float32)
    t = p - f32(0.5)
    x = t * t
    u = f32(1) - np.minimum(f32(1), x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5)))))
    return p + (q - p) * (u * f32(ratio))


# ------------------------------------------------------------- facemap_3dmm (aihub §4)


def facemap_3dmm_rotation(pitch, yaw, roll):
    """R = Ry(-yaw) Rx(-pitch) Rx(-pi) Rz(-roll), float64."""
    def rx(a):
        return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])

    def ry(a):
        return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])

    def rz(a):
        return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])

    return ry(-yaw) @ rx(-pitch) @ rx(-math.pi) @ rz(-roll)


def facemap_3dmm(params, mean, shape, blend, box):
    """AI Hub's project_landmark + transform_landmark_coordinates, float64: 265 normalised
    parameters, basis (3n,), (3n, 219), (3n, 39), inclusive pixel box (x0, y0, x1, y1) ->
    (landmarks [n, 2] pixels, de-normalised groups)."""
    p = np.asarray(params, np.float64).reshape(-1)
    identity, expression = shape.shape[1], blend.shape[1]
    k = identity + expression
    alpha_id = p[:identity] * 3
    alpha_exp = p[identity:k] * 0.5 + 0.5
    pitch, yaw, roll = p[k:k + 3] * math.pi / 2
    tx, ty = p[k + 3:k + 5] * 60
    focal = p[k + 5] * 150 + 450
    vertices = (np.reshape(mean, (-1, 1)) + shape @ alpha_id[:, None] + blend @ alpha_exp[:, None]).reshape(-1, 3)
    moved = vertices @ facemap_3dmm_rotation(pitch, yaw, roll).T + np.array([tx, ty, 500.0])
    projected = moved[:, :2] * focal / 500
    x0, y0, x1, y1 = box
    x = (projected[:, 0] + 64) * (x1 - x0 + 1) / 128 + x0
    y = (projected[:, 1] + 64) * (y1 - y0 + 1) / 128 + y0
    groups = dict(identity=alpha_id, expression=alpha_exp, pitch=pitch, yaw=yaw, roll=roll,
                  translation=np.array([tx, ty]), focal=focal)
    return np.stack([x, y], axis=1), groups
