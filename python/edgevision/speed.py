"""Speed report: edgevision kernels vs. the OpenCV / NumPy chain a user would otherwise write.

Run::

    edgevision speed                            # Markdown table on stdout (or python bench/report.py)
    python -m pytest bench --benchmark-only     # the same cases under pytest-benchmark

Plain ``time.perf_counter`` loops, median per call, OpenCV limited to one thread,
on a 1280x720 RGB frame (``skimage.data.astronaut()`` resized with ``cv2.resize``).
The callables of a case are timed in alternating blocks, so ours and the peer see
the same machine state ("same run").

Reusable from other code (e.g. ``edgevision demo``)::

    rows = measure()            # list of dicts, one per edgevision variant
    print(format_table(rows))

Dependencies are numpy and edgevision only. OpenCV is optional: without it the OpenCV
peers print "n/a" (the NumPy peer of the colour composite still runs), and the frame is
resized with edgevision itself. scikit-image is optional too (synthetic frame without
it). edgevision is imported lazily and nothing here depends on the ``bench`` folder, so
the module can move into the package (e.g. ``edgevision/_speed.py``) unchanged.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

__all__ = [
    "Case",
    "Inputs",
    "build_cases",
    "format_table",
    "letterbox_geometry",
    "make_frame",
    "make_inputs",
    "make_mask",
    "make_pose_detector_outputs",
    "numpy_decode_weighted_nms",
    "measure",
    "missed_targets",
    "main",
]

FRAME_SIZE = (1280, 720)  # (width, height)
TENSOR_SIZE = (256, 256)
BLUR_SIGMA = 8.0
THRESHOLD = 0.5
COLOR = (0, 177, 64)  # green-screen colour for the colour-background composite


# --------------------------------------------------------------------------- imports


def _cv2():
    """``cv2`` or ``None`` when OpenCV is not installed."""
    try:
        import cv2  # noqa: PLC0415
    except ImportError:
        return None
    return cv2


def _kernels():
    import edgevision.kernels as ek  # noqa: PLC0415  (lazy: importable without the build)

    return ek


# ---------------------------------------------------------------------------- inputs


def letterbox_geometry(src_size: tuple[int, int], dst_size: tuple[int, int]):
    """``(new_w, new_h, left, top)`` of the letterbox contract (``cv2.resize`` + centred pad)."""
    (W, H), (w, h) = src_size, dst_size
    s = min(w / W, h / H)
    new_w, new_h = round(W * s), round(H * s)
    return new_w, new_h, (w - new_w) // 2, (h - new_h) // 2


def make_frame(size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """``H x W x 3`` uint8 RGB test frame: the astronaut resized to ``size``.

    ``cv2.resize`` (INTER_LINEAR) when OpenCV is there, else edgevision's own stretch
    (same sampling by contract); a deterministic synthetic frame without scikit-image.
    """
    try:
        from skimage import data  # noqa: PLC0415

        astro = data.astronaut()
    except Exception:  # scikit-image missing (or its data unavailable)
        astro = None
    if astro is not None:
        cv2 = _cv2()
        if cv2 is not None:
            return np.ascontiguousarray(cv2.resize(astro, size))
        tensor, _ = _kernels().letterbox(astro, size, keep_aspect=False, dtype="uint8")
        return np.ascontiguousarray(tensor[0])
    w, h = size
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack(
        [255 * xx / max(w - 1, 1), 255 * yy / max(h - 1, 1), 128 + 100 * np.sin(xx / 37 + yy / 23)],
        axis=-1,
    )
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_mask(
    size: tuple[int, int] = TENSOR_SIZE,
    content: Optional[tuple[float, float, float, float]] = None,
) -> np.ndarray:
    """Smooth person-like blob (head + torso), ``h x w`` float32 in ``[0, 1]``.

    ``content = (x0, y0, cw, ch)`` is where the frame lies in the mask (the letterbox
    content area of a 16:9 frame by default), so the blob sits in the picture and the
    same silhouette can be drawn at tensor or frame resolution.
    """
    w, h = size
    if content is None:
        nw, nh, left, top = letterbox_geometry(FRAME_SIZE, size)
        content = (left, top, nw, nh)
    x0, y0, cw, ch = content
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xx - x0 + 0.5) / cw  # frame-normalised coordinates
    v = (yy - y0 + 0.5) / ch
    head = np.hypot((u - 0.50) / 0.07, (v - 0.30) / 0.16)
    torso = np.hypot((u - 0.50) / 0.22, (v - 0.88) / 0.45)
    r = np.minimum(head, torso)  # < 1 inside the silhouette
    return (1.0 / (1.0 + np.exp(-12.0 * (1.0 - r)))).astype(np.float32)


@dataclass
class Inputs:
    frame: np.ndarray  # H x W x 3 uint8
    mask: np.ndarray  # 256 x 256 float32 model output
    mask_frame: np.ndarray  # H x W float32, the mask at frame resolution
    rect: Any  # edgevision Rect for warp_roi
    letterbox_tf: Any  # Transform of letterbox(frame, TENSOR_SIZE)
    roi_tf: Any  # Transform of warp_roi(frame, rect, TENSOR_SIZE)

    @property
    def frame_size(self) -> tuple[int, int]:
        return (self.frame.shape[1], self.frame.shape[0])


def make_inputs(frame: Optional[np.ndarray] = None) -> Inputs:
    """Frame, masks, ROI and the transforms every case needs (computed once, untimed)."""
    ek = _kernels()
    frame = make_frame() if frame is None else np.ascontiguousarray(frame)
    H, W = frame.shape[:2]
    nw, nh, left, top = letterbox_geometry((W, H), TENSOR_SIZE)
    side = 500.0 * min(W, H) / 720.0  # Rect(640, 360, 500, 500, 0.5) at 720p
    rect = ek.Rect(W / 2.0, H / 2.0, side, side, 0.5)
    _, letterbox_tf = ek.letterbox(frame, TENSOR_SIZE)
    _, roi_tf = ek.warp_roi(frame, rect, TENSOR_SIZE)
    return Inputs(
        frame=frame,
        mask=make_mask(TENSOR_SIZE, (left, top, nw, nh)),
        mask_frame=make_mask((W, H), (0, 0, W, H)),
        rect=rect,
        letterbox_tf=letterbox_tf,
        roi_tf=roi_tf,
    )


# ----------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One comparison: edgevision variants vs. one peer chain, timed together."""

    group: str
    variants: list[tuple[str, Callable[[], Any]]]  # (row label, callable)
    peer_name: str
    peer: Optional[Callable[[], Any]]  # None when the peer's library is missing
    target: Optional[float] = None  # required speed-up (peer median / ours median)


# ----------------------------------------------------------- detector post-processing

POSE_ANCHORS = dict(input_size=(224, 224), strides=(8, 16, 32, 32, 32), min_scale=0.1484375, max_scale=0.75)
POSE_PEOPLE = ((0.35, 0.45, 0.12), (0.7, 0.5, 0.1))  # (x, y, radius of confident anchors)


def make_pose_detector_outputs(seed: int = 0):
    """``(raw_boxes [1,2254,12], raw_scores [1,2254,1], anchors [2254,4])`` like MediaPipe's
    pose detector on a frame with two people: anchors near each person score high (logits
    ~N(2.5, 1.5), a few hundred above 0.5 in all) and regress jittered copies of the same
    face box and keypoints; background anchors score low and regress small random boxes."""
    ek = _kernels()
    anchors = ek.ssd_anchors(**POSE_ANCHORS)
    rng = np.random.default_rng(seed)
    n = len(anchors)
    ax, ay = anchors[:, 0].astype(np.float64), anchors[:, 1].astype(np.float64)
    logits = rng.normal(-9, 2.5, n)
    raw = np.zeros((n, 12))
    raw[:, 0:2] = rng.normal(0, 4, (n, 2))
    raw[:, 2:4] = rng.uniform(5, 40, (n, 2))
    raw[:, 4:] = rng.normal(0, 20, (n, 8))
    for px, py, r in POSE_PEOPLE:
        near = np.hypot(ax - px, ay - py) < 1.5 * r
        m = int(near.sum())
        logits[near] = rng.normal(2.5, 1.5, m)
        raw[near, 0] = (px - ax[near]) * 224 + rng.normal(0, 2, m)
        raw[near, 1] = (py - 0.15 - ay[near]) * 224 + rng.normal(0, 2, m)
        raw[near, 2:4] = 0.08 * 224 * (1 + rng.normal(0, 0.05, (m, 2)))
        for k, (kx, ky) in enumerate([(0, 0.2), (0, 0.45), (0, -0.05), (0, -0.25)]):
            raw[near, 4 + 2 * k] = (px + kx - ax[near]) * 224 + rng.normal(0, 3, m)
            raw[near, 5 + 2 * k] = (py + ky - ay[near]) * 224 + rng.normal(0, 3, m)
    return raw.astype(np.float32)[None], logits.astype(np.float32)[None, :, None], anchors


def numpy_decode(raw_boxes, raw_scores, anchors, scale, num_keypoints, min_score, clip=100.0):
    """MediaPipe's TensorsToDetections in vectorised NumPy (the peer of decode_detections)."""
    r = raw_boxes.reshape(len(anchors), -1)
    score = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1), -clip, clip)))
    keep = np.flatnonzero(score >= min_score)
    r, a = r[keep], anchors[keep]
    xc = r[:, 0] / scale * a[:, 2] + a[:, 0]
    yc = r[:, 1] / scale * a[:, 3] + a[:, 1]
    w, h = r[:, 2] / scale * a[:, 2], r[:, 3] / scale * a[:, 3]
    boxes = np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], axis=1)
    kps = r[:, 4 : 4 + 2 * num_keypoints].reshape(-1, num_keypoints, 2) / scale * a[:, None, 2:4] + a[:, None, :2]
    ok = (boxes[:, 2] >= boxes[:, 0]) & (boxes[:, 3] >= boxes[:, 1])
    return boxes[ok], kps[ok], score[keep][ok]


def numpy_weighted_nms(boxes, keypoints, scores, iou_threshold=0.3):
    """MediaPipe's weighted NMS in NumPy: one vectorised IoU sweep per output detection."""
    order = np.argsort(-scores, kind="stable")
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    remaining = np.arange(len(scores))
    out_b, out_k, out_s = [], [], []
    while remaining.size:
        seed = remaining[0]
        b = boxes[remaining]
        iw = np.minimum(b[:, 2], boxes[seed, 2]) - np.maximum(b[:, 0], boxes[seed, 0])
        ih = np.minimum(b[:, 3], boxes[seed, 3]) - np.maximum(b[:, 1], boxes[seed, 1])
        inter = np.where((iw >= 0) & (ih >= 0), iw * ih, 0.0)
        union = area[remaining] + area[seed] - inter
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
        cluster = remaining[iou > iou_threshold]
        if cluster.size == 0:
            out_b.append(boxes[seed]), out_k.append(keypoints[seed]), out_s.append(scores[seed])
            break
        w = scores[cluster]
        out_b.append((boxes[cluster] * w[:, None]).sum(0) / w.sum())
        out_k.append((keypoints[cluster] * w[:, None, None]).sum(0) / w.sum())
        out_s.append(scores[seed])
        remaining = remaining[iou <= iou_threshold]
    return np.array(out_b), np.array(out_k), np.array(out_s)


def numpy_decode_weighted_nms(raw_boxes, raw_scores, anchors, scale=224.0, num_keypoints=4, min_score=0.5):
    """The NumPy chain a user would write for MediaPipe's pose detector post-processing."""
    return numpy_weighted_nms(*numpy_decode(raw_boxes, raw_scores, anchors, scale, num_keypoints, min_score))


def detection_cases(*, peers: bool = True) -> list[Case]:
    """Pose-detector decode + weighted NMS vs NumPy; hard NMS over 2254 boxes vs OpenCV."""
    ek = _kernels()
    cv2 = _cv2() if peers else None
    raw_boxes, raw_scores, anchors = make_pose_detector_outputs()
    decoder = ek.DetectionDecoder(anchors, scale=224, num_keypoints=4, min_score=0.5)
    cases = [
        Case(
            group="decode_nms",
            variants=[
                (
                    "decode_detections + nms, 2254 pose anchors",
                    lambda: ek.nms(
                        ek.decode_detections(raw_boxes, raw_scores, anchors, scale=224, num_keypoints=4, min_score=0.5)
                    ),
                ),
                ("DetectionDecoder, 2254 pose anchors", lambda: decoder(raw_boxes, raw_scores)),
            ],
            peer_name="numpy decode + weighted NMS",
            peer=(lambda: numpy_decode_weighted_nms(raw_boxes, raw_scores, anchors)) if peers else None,
            target=20.0,
        )
    ]
    every = ek.decode_detections(raw_boxes, raw_scores, anchors, scale=224, num_keypoints=4, min_score=0.0)
    xywh = np.concatenate([every.boxes[:, :2], every.boxes[:, 2:] - every.boxes[:, :2]], axis=1)
    peer = None
    if cv2 is not None:

        def peer():
            return cv2.dnn.NMSBoxes(xywh, every.scores, 0.0, 0.3)

    cases.append(
        Case(
            group="nms_hard",
            variants=[(f"nms hard, {len(every)} boxes", lambda: ek.nms(every, method="hard"))],
            peer_name="cv2.dnn.NMSBoxes",
            peer=peer,
            target=5.0,
        )
    )
    return cases


def build_cases(inputs: Inputs, *, peers: bool = True) -> list[Case]:
    ek = _kernels()
    cv2 = _cv2() if peers else None
    frame, mask, m = inputs.frame, inputs.mask, inputs.mask_frame
    W, H = inputs.frame_size
    tw, th = TENSOR_SIZE
    nw, nh, left, top = letterbox_geometry((W, H), TENSOR_SIZE)
    res = f"{W}x{H}"
    tres = f"{tw}x{th}"
    cases: list[Case] = []

    # 1. letterbox ------------------------------------------------------------------
    t_buf = np.empty((1, th, tw, 3), np.float32)
    peer = None
    if cv2 is not None:

        def peer():
            r = cv2.resize(frame, (nw, nh))
            r = cv2.copyMakeBorder(r, top, th - nh - top, left, tw - nw - left, cv2.BORDER_CONSTANT)
            return r.astype(np.float32) / 255

    cases.append(
        Case(
            group="letterbox",
            variants=[
                (f"letterbox {res} -> {tres} f32 (out=)", lambda: ek.letterbox(frame, TENSOR_SIZE, out=t_buf)),
                (f"letterbox {res} -> {tres} f32", lambda: ek.letterbox(frame, TENSOR_SIZE)),
            ],
            peer_name="cv2 resize+copyMakeBorder+astype/255",
            peer=peer,
            target=3.0,
        )
    )

    # 2. rotated ROI crop -------------------------------------------------------------
    r_buf = np.empty((1, th, tw, 3), np.float32)
    rect = inputs.rect
    peer = None
    if cv2 is not None:
        M = np.ascontiguousarray(np.asarray(inputs.roi_tf.matrix, dtype=np.float64)[:2])
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP

        def peer():
            roi = cv2.warpAffine(frame, M, TENSOR_SIZE, flags=flags, borderMode=cv2.BORDER_REPLICATE)
            return roi.astype(np.float32) / 255

    cases.append(
        Case(
            group="warp_roi",
            variants=[
                (f"warp_roi rotated -> {tres} f32 (out=)", lambda: ek.warp_roi(frame, rect, TENSOR_SIZE, out=r_buf)),
                (f"warp_roi rotated -> {tres} f32", lambda: ek.warp_roi(frame, rect, TENSOR_SIZE)),
            ],
            peer_name="cv2 warpAffine+astype/255",
            peer=peer,
            target=5.0,
        )
    )

    # 3. mask back to the frame, undoing the letterbox --------------------------------
    tf = inputs.letterbox_tf
    m_buf = np.empty((H, W), np.float32)
    crop = (slice(top, top + nh), slice(left, left + nw))
    peer = None
    if cv2 is not None:

        def peer():
            return cv2.resize(mask[crop], (W, H), interpolation=cv2.INTER_LINEAR)

    cases.append(
        Case(
            group="resize_mask",
            variants=[
                (
                    f"resize_mask {tres} -> {res} undo letterbox (out=)",
                    lambda: ek.resize_mask(mask, (W, H), transform=tf, out=m_buf),
                ),
                (
                    f"resize_mask {tres} -> {res} undo letterbox",
                    lambda: ek.resize_mask(mask, (W, H), transform=tf),
                ),
            ],
            peer_name="cv2 crop+resize",
            peer=peer,
            target=1.5,
        )
    )

    u_buf = np.empty((H, W), np.uint8)
    peer = None
    if cv2 is not None:

        def peer():
            up = cv2.resize(mask[crop], (W, H), interpolation=cv2.INTER_LINEAR)
            return (up > THRESHOLD).astype(np.uint8)

    cases.append(
        Case(
            group="resize_mask_threshold",
            variants=[
                (
                    f"resize_mask {tres} -> {res} threshold={THRESHOLD:g} (out=)",
                    lambda: ek.resize_mask(mask, (W, H), transform=tf, threshold=THRESHOLD, out=u_buf),
                ),
                (
                    f"resize_mask {tres} -> {res} threshold={THRESHOLD:g}",
                    lambda: ek.resize_mask(mask, (W, H), transform=tf, threshold=THRESHOLD),
                ),
            ],
            peer_name="cv2 crop+resize+(>t).astype(u8)",
            peer=peer,
            target=2.0,
        )
    )

    # 4. composite ----------------------------------------------------------------------
    c_buf = np.empty_like(frame)
    peer = None
    if cv2 is not None:

        def peer():
            bg = cv2.GaussianBlur(frame, (0, 0), BLUR_SIGMA)
            return cv2.blendLinear(frame, bg, m, 1 - m)

    cases.append(
        Case(
            group="composite_blur",
            variants=[
                (
                    f"composite {res} blur sigma={BLUR_SIGMA:g} (out=)",
                    lambda: ek.composite(frame, m, "blur", blur_sigma=BLUR_SIGMA, out=c_buf),
                ),
                (
                    f"composite {res} blur sigma={BLUR_SIGMA:g}",
                    lambda: ek.composite(frame, m, "blur", blur_sigma=BLUR_SIGMA),
                ),
            ],
            peer_name="cv2 GaussianBlur+blendLinear",
            peer=peer,
            target=5.0,
        )
    )

    color = np.array(COLOR, np.float32)
    k_buf = np.empty_like(frame)

    def numpy_peer():  # NumPy only: available without OpenCV
        m3 = m[..., None]
        return (frame * m3 + color * (1 - m3)).astype(np.uint8)

    cases.append(
        Case(
            group="composite_color",
            variants=[
                (f"composite {res} colour (out=)", lambda: ek.composite(frame, m, COLOR, out=k_buf)),
                (f"composite {res} colour", lambda: ek.composite(frame, m, COLOR)),
            ],
            peer_name="numpy blend+astype(u8)",
            peer=numpy_peer if peers else None,
            target=None,
        )
    )
    cases += detection_cases(peers=peers)
    return cases


# ---------------------------------------------------------------------------- timing


def _time_together(
    fns: Sequence[Callable[[], Any]], budget_s: float, min_runs: int, blocks: int = 5
) -> list[list[float]]:
    """Per-call times (s) of each callable, run in alternating blocks of ~budget_s/blocks."""
    for fn in fns:  # warm-up: first-touch page faults, caches, lazy init
        for _ in range(3):
            fn()
    samples: list[list[float]] = [[] for _ in fns]
    per_block = budget_s / blocks
    runs_per_block = max(1, -(-min_runs // blocks))
    clock = time.perf_counter
    for b in range(blocks):
        order = range(len(fns)) if b % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            fn, out = fns[i], samples[i]
            end = clock() + per_block
            n = 0
            while True:
                t0 = clock()
                fn()
                t1 = clock()
                out.append(t1 - t0)
                n += 1
                if n >= runs_per_block and t1 >= end:
                    break
    return samples


def measure(
    frame: Optional[np.ndarray] = None,
    *,
    budget_s: float = 0.5,
    min_runs: int = 20,
    peers: bool = True,
    single_thread: bool = True,
) -> list[dict]:
    """Time every case; one row per edgevision variant.

    ``frame``: any ``H x W x 3`` uint8 frame (default: the 1280x720 astronaut).
    ``budget_s``: seconds per callable per case (a median over at least ``min_runs``).
    ``peers=False`` skips the peer chains. OpenCV runs on one thread while measuring
    (``single_thread``); its previous thread count is restored afterwards.

    Row keys: ``kernel``, ``group``, ``edgevision_ms``, ``runs``, ``peer``, ``peer_ms``
    (``None`` if unavailable), ``speedup`` (peer / ours, ``None`` if no peer), ``target``
    (``None`` if none), ``met`` (``None`` if not applicable).
    """
    cv2 = _cv2()
    prev_threads = cv2.getNumThreads() if cv2 is not None else None
    if cv2 is not None and single_thread:
        cv2.setNumThreads(1)
    try:
        cases = build_cases(make_inputs(frame), peers=peers)
        rows: list[dict] = []
        for case in cases:
            fns = [fn for _, fn in case.variants] + ([case.peer] if case.peer is not None else [])
            samples = _time_together(fns, budget_s, min_runs)
            peer_ms = statistics.median(samples[-1]) * 1e3 if case.peer is not None else None
            for (label, _), s in zip(case.variants, samples):
                ours_ms = statistics.median(s) * 1e3
                speedup = peer_ms / ours_ms if peer_ms is not None and ours_ms > 0 else None
                met = None
                if case.target is not None and speedup is not None:
                    met = speedup >= case.target
                rows.append(
                    {
                        "kernel": label,
                        "group": case.group,
                        "edgevision_ms": ours_ms,
                        "runs": len(s),
                        "peer": case.peer_name,
                        "peer_ms": peer_ms,
                        "speedup": speedup,
                        "target": case.target,
                        "met": met,
                    }
                )
        return rows
    finally:
        if cv2 is not None and prev_threads is not None:
            cv2.setNumThreads(prev_threads)


# ---------------------------------------------------------------------------- output


def _ms(v: Optional[float]) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3f}" if v < 10 else f"{v:.2f}"


def format_table(rows: Sequence[dict]) -> str:
    """Markdown table: | kernel | edgevision (ms) | peer | peer (ms) | speed-up | target |."""
    lines = [
        "| kernel | edgevision (ms) | peer | peer (ms) | speed-up | target |",
        "|---|---:|---|---:|---:|---|",
    ]
    for r in rows:
        speed = "n/a" if r["speedup"] is None else f"{r['speedup']:.1f}x"
        if r["target"] is None:
            target = "-"
        else:
            target = f">= {r['target']:g}x"
            if r["met"] is False:
                target += " (missed)"
        peer_ms = _ms(r["peer_ms"]) if r["peer_ms"] is not None else "n/a"
        lines.append(f"| {r['kernel']} | {_ms(r['edgevision_ms'])} | {r['peer']} | {peer_ms} | {speed} | {target} |")
    return "\n".join(lines)


def missed_targets(rows: Sequence[dict]) -> list[dict]:
    return [r for r in rows if r["met"] is False]


def _header() -> str:
    import platform  # noqa: PLC0415

    import edgevision  # noqa: PLC0415

    cv2 = _cv2()
    try:
        build = edgevision.build_info()
    except Exception as exc:  # build_info is informative only
        build = f"build_info() failed: {exc!r}"
    ocv = f"OpenCV {cv2.__version__} (1 thread)" if cv2 is not None else "OpenCV not installed"
    return (
        f"edgevision {getattr(edgevision, '__version__', '?')}: {build}\n"
        f"{ocv}, NumPy {np.__version__}, Python {platform.python_version()}, {platform.machine()}; "
        "median ms per call"
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse  # noqa: PLC0415
    import json  # noqa: PLC0415

    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--budget", type=float, default=0.5, help="seconds per callable per case (default 0.5)")
    ap.add_argument("--min-runs", type=int, default=20, help="minimum timed calls per callable (default 20)")
    ap.add_argument("--no-peers", action="store_true", help="time edgevision only")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    ap.add_argument("--strict", action="store_true", help="exit with status 1 if a target is missed")
    args = ap.parse_args(argv)

    rows = measure(budget_s=args.budget, min_runs=args.min_runs, peers=not args.no_peers)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(_header())
        print()
        print(format_table(rows))
        missed = missed_targets(rows)
        print()
        if missed:
            for r in missed:
                print(f"MISSED: {r['kernel']}: {r['speedup']:.2f}x < {r['target']:g}x vs {r['peer']}")
        elif any(r["met"] is not None for r in rows):
            print("All targets met.")
    return 1 if args.strict and missed_targets(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
