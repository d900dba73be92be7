"""Plain NumPy references for the SAM 2 kernels (no edgevision, no PyTorch).

The formulas are SAM 2's (``/work/shared/spec/aihub_and_sam2.md`` §3) and PyTorch's bilinear
``interpolate``, written out element by element in the precision the reference computes in.
"""

from __future__ import annotations

import math

import numpy as np

f32 = np.float32
F32_EPS = float(np.finfo(np.float32).eps)


def random_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Prompt-encoder parameters shaped like the exported ``.npz``."""
    return {
        "gaussian_matrix": rng.standard_normal((2, 128)).astype(np.float32),
        "point_embeddings": rng.standard_normal((4, 256)).astype(np.float32),
        "not_a_point_embed": rng.standard_normal(256).astype(np.float32),
        "no_mask_embed": rng.standard_normal(256).astype(np.float32),
    }


def fourier(cx: np.ndarray, cy: np.ndarray, gaussian: np.ndarray) -> np.ndarray:
    """[sin, cos] of 2 pi (c @ G) for positions already in [-1, 1], float64 trigonometry."""
    angles = (np.float64(f32(2 * math.pi)) *
              (cx[:, None].astype(np.float64) * gaussian[0] + cy[:, None].astype(np.float64) * gaussian[1]))
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def prompt_encode(points, labels, boxes, image_size, params) -> np.ndarray:
    """SAM2ImagePredictor's sparse embeddings: box corners (labels 2, 3), points, padding point."""
    width, height = image_size
    coords, all_labels = [], []
    if boxes is not None:
        for x0, y0, x1, y1 in np.asarray(boxes, np.float32).reshape(-1, 4):
            coords += [(x0, y0), (x1, y1)]
            all_labels += [2, 3]
    if points is not None:
        coords += [tuple(p) for p in np.asarray(points, np.float32)]
        all_labels += [int(v) for v in labels]
    xy = np.array(coords, np.float32).reshape(-1, 2)
    # x / W * 1024 + 0.5, / 1024, 2c - 1: each step rounded to float32 like the reference.
    cx = f32(2) * ((xy[:, 0] / f32(width) * f32(1024) + f32(0.5)) / f32(1024)) - f32(1)
    cy = f32(2) * ((xy[:, 1] / f32(height) * f32(1024) + f32(0.5)) / f32(1024)) - f32(1)
    pe = fourier(cx, cy, params["gaussian_matrix"])
    out = []
    for k, label in enumerate(all_labels):
        out.append(params["not_a_point_embed"].astype(np.float64) if label == -1
                   else pe[k] + params["point_embeddings"][label])
    out.append(params["not_a_point_embed"].astype(np.float64))
    return np.array(out)


def dense_positional_encoding(gaussian: np.ndarray, size) -> np.ndarray:
    w, h = size
    xs = (np.arange(w, dtype=np.float32) + f32(0.5)) / f32(w)
    ys = (np.arange(h, dtype=np.float32) + f32(0.5)) / f32(h)
    gx, gy = np.meshgrid(xs, ys)
    pe = fourier(f32(2) * gx.ravel() - f32(1), f32(2) * gy.ravel() - f32(1), gaussian)
    return pe.T.reshape(256, h, w)


def interpolate_taps(in_size: int, out_size: int):
    """PyTorch's bilinear taps (align_corners=False) in float32: (i0, i1, w0, w1) per output."""
    scale = f32(in_size) / f32(out_size)
    src = scale * (np.arange(out_size, dtype=np.float32) + f32(0.5)) - f32(0.5)
    src = np.maximum(src, f32(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0.astype(np.float32), f32(0), f32(1)).astype(np.float32)
    i1 = np.where(i0 < in_size - 1, i0 + 1, i0)
    return i0, i1, (f32(1) - lam).astype(np.float32), lam


def upsample(logits: np.ndarray, size) -> np.ndarray:
    """Bilinear upsample of an ``h x w`` float32 plane to ``size``, horizontal then vertical, float32."""
    w, h = size
    x0, x1, wx0, wx1 = interpolate_taps(logits.shape[1], w)
    y0, y1, wy0, wy1 = interpolate_taps(logits.shape[0], h)
    rows = logits[:, x0] * wx0 + logits[:, x1] * wx1
    return rows[y0] * wy0[:, None] + rows[y1] * wy1[:, None]


def stability(logits: np.ndarray, delta: float = 0.05) -> float:
    above = int(np.count_nonzero(logits > f32(delta)))
    union = int(np.count_nonzero(logits > -f32(delta)))
    return float(f32(above) / f32(union)) if union else 1.0


def select(logits: np.ndarray, iou: np.ndarray, multimask: bool, delta=0.05, threshold=0.98) -> int:
    """The token SAM 2's predictor returns: best multimask output by IoU, or token 0 when stable."""
    if len(iou) == 1:
        return 0
    best = 1 + int(np.argmax(iou[1:]))
    if multimask:
        return best
    return 0 if stability(logits[0], delta) >= threshold else best


def antialias_weights(in_size: int, out_size: int) -> np.ndarray:
    """``out x in`` matrix of PyTorch's antialiased bilinear interpolate (torchvision's Resize)."""
    scale = in_size / out_size
    support = scale if scale >= 1 else 1.0
    inv = 1 / scale if scale >= 1 else 1.0
    m = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_size)
        for j in range(lo, hi):
            m[i, j] = max(0.0, 1 - abs((j - center + 0.5) * inv))
        m[i] /= m[i].sum()
    return m


def image_tensor(image: np.ndarray, size, channel_order="rgb") -> np.ndarray:
    rgb = image[..., :3]
    if channel_order == "bgr":
        rgb = rgb[..., ::-1]
    x = rgb.astype(np.float64) / 255.0
    wy = antialias_weights(image.shape[0], size[1])
    wx = antialias_weights(image.shape[1], size[0])
    return np.stack([wy @ x[..., c] @ wx.T for c in range(3)])[None]
