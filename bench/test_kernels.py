"""edgevision kernels vs. the OpenCV / NumPy chain a user would otherwise write.

Run::

    python -m pytest bench --benchmark-only          # tables per group + speed-up summary
    python bench/report.py                           # same cases, Markdown table, no pytest

Single-threaded OpenCV (see conftest), 1280x720 RGB astronaut frame. Each benchmark
``group`` holds the edgevision variants (with and without ``out=``) next to the peer
chain; ``extra_info`` carries the role and the speed-up target (peer median / ours)
that conftest's summary checks. Each edgevision test also checks, untimed, that the
kernel produced what the peer produces (so the two sides do the same work).
"""

from __future__ import annotations

import numpy as np
import pytest


def bench(group: str):
    """Same group for ours and the peer; 0.5 s per benchmark keeps the suite around a minute."""
    return pytest.mark.benchmark(group=group, max_time=0.5, min_rounds=10, warmup=True, warmup_iterations=20)


def _ours(benchmark, target):
    benchmark.extra_info.update(role="edgevision", target=target)


def _peer(benchmark, chain):
    benchmark.extra_info.update(role="peer", chain=chain)


def _close(ours, ref, *, atol, what, mean_atol=None):
    """Untimed check that ours and the peer did the same work (exactness is tests/' job)."""
    ours = np.asarray(ours)
    ours = ours.reshape(ours.shape[1:]) if ours.ndim == ref.ndim + 1 and ours.shape[0] == 1 else ours
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != peer {ref.shape}"
    assert ours.dtype == ref.dtype, f"{what}: dtype {ours.dtype} != peer {ref.dtype}"
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    assert diff.max() <= atol, f"{what}: max |ours - peer| = {diff.max():g} > {atol:g}"
    if mean_atol is not None:
        assert diff.mean() <= mean_atol, f"{what}: mean |ours - peer| = {diff.mean():g} > {mean_atol:g}"


# ---------------------------------------------------------------- 1. letterbox -> 256x256


def _peer_letterbox(cv2, frame):
    resized = cv2.resize(frame, (256, 144))
    padded = cv2.copyMakeBorder(resized, 56, 56, 0, 0, cv2.BORDER_CONSTANT)
    return padded.astype(np.float32) / 255


@bench("letterbox 1280x720->256x256 f32")
def test_letterbox_edgevision_out(benchmark, ek, frame):
    _ours(benchmark, 3.0)
    buf = np.empty((1, 256, 256, 3), np.float32)
    tensor, _ = benchmark(ek.letterbox, frame, (256, 256), out=buf)
    assert np.shares_memory(tensor, buf), "out= was not used"


@bench("letterbox 1280x720->256x256 f32")
def test_letterbox_edgevision(benchmark, ek, frame, cv2):
    _ours(benchmark, 3.0)
    tensor, _ = benchmark(ek.letterbox, frame, (256, 256))
    assert tensor.shape == (1, 256, 256, 3)
    _close(tensor, _peer_letterbox(cv2, frame), atol=2 / 255, what="letterbox")


@bench("letterbox 1280x720->256x256 f32")
def test_letterbox_peer(benchmark, cv2, frame):
    _peer(benchmark, "cv2.resize + cv2.copyMakeBorder + astype(f32)/255")
    benchmark(_peer_letterbox, cv2, frame)


# ------------------------------------------------------------ 2. rotated ROI -> 256x256


@pytest.fixture(scope="module")
def roi_matrix(roi_tf):
    """The sampling map of our warp_roi call (tensor px -> image px), computed once."""
    return np.ascontiguousarray(np.asarray(roi_tf.matrix, dtype=np.float64)[:2])


def _peer_warp(cv2, frame, M):
    crop = cv2.warpAffine(
        frame, M, (256, 256), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    return crop.astype(np.float32) / 255


@bench("warp_roi rotated->256x256 f32")
def test_warp_roi_edgevision_out(benchmark, ek, frame, rect):
    _ours(benchmark, 5.0)
    buf = np.empty((1, 256, 256, 3), np.float32)
    tensor, _ = benchmark(ek.warp_roi, frame, rect, (256, 256), out=buf)
    assert np.shares_memory(tensor, buf), "out= was not used"


@bench("warp_roi rotated->256x256 f32")
def test_warp_roi_edgevision(benchmark, ek, frame, rect, cv2, roi_matrix):
    _ours(benchmark, 5.0)
    tensor, _ = benchmark(ek.warp_roi, frame, rect, (256, 256))
    # warpAffine snaps sample positions to 1/32 px (INTER_BITS=5): small mean, larger max.
    _close(tensor, _peer_warp(cv2, frame, roi_matrix), atol=8 / 255, mean_atol=1 / 255, what="warp_roi")


@bench("warp_roi rotated->256x256 f32")
def test_warp_roi_peer(benchmark, cv2, frame, roi_matrix):
    _peer(benchmark, "cv2.warpAffine(INTER_LINEAR|WARP_INVERSE_MAP, BORDER_REPLICATE) + astype(f32)/255")
    benchmark(_peer_warp, cv2, frame, roi_matrix)


# -------------------------------------------- 3. mask 256x256 -> 1280x720, undo letterbox


def _peer_resize_mask(cv2, mask):
    return cv2.resize(mask[56:200], (1280, 720), interpolation=cv2.INTER_LINEAR)


def _peer_resize_mask_threshold(cv2, mask):
    return (cv2.resize(mask[56:200], (1280, 720), interpolation=cv2.INTER_LINEAR) > 0.5).astype(np.uint8)


@bench("resize_mask 256x256->1280x720")
def test_resize_mask_edgevision_out(benchmark, ek, mask, tf):
    _ours(benchmark, 1.5)
    buf = np.empty((720, 1280), np.float32)
    result = benchmark(ek.resize_mask, mask, (1280, 720), transform=tf, out=buf)
    assert np.shares_memory(result, buf), "out= was not used"


@bench("resize_mask 256x256->1280x720")
def test_resize_mask_edgevision(benchmark, ek, mask, tf, cv2):
    _ours(benchmark, 1.5)
    result = benchmark(ek.resize_mask, mask, (1280, 720), transform=tf)
    _close(result, _peer_resize_mask(cv2, mask), atol=1e-3, what="resize_mask")


@bench("resize_mask 256x256->1280x720")
def test_resize_mask_peer(benchmark, cv2, mask):
    _peer(benchmark, "cv2.resize(mask[56:200], (1280, 720), INTER_LINEAR)")
    benchmark(_peer_resize_mask, cv2, mask)


@bench("resize_mask threshold=0.5 ->u8")
def test_resize_mask_threshold_edgevision_out(benchmark, ek, mask, tf):
    _ours(benchmark, 2.0)
    buf = np.empty((720, 1280), np.uint8)
    result = benchmark(ek.resize_mask, mask, (1280, 720), transform=tf, threshold=0.5, out=buf)
    assert np.shares_memory(result, buf), "out= was not used"


@bench("resize_mask threshold=0.5 ->u8")
def test_resize_mask_threshold_edgevision(benchmark, ek, mask, tf, cv2):
    _ours(benchmark, 2.0)
    result = benchmark(ek.resize_mask, mask, (1280, 720), transform=tf, threshold=0.5)
    ref = _peer_resize_mask_threshold(cv2, mask)
    assert result.shape == ref.shape and result.dtype == np.uint8
    # Only pixels whose value is within float rounding of the threshold may differ.
    assert np.mean(result != ref) < 1e-3, "thresholded mask differs from the peer"


@bench("resize_mask threshold=0.5 ->u8")
def test_resize_mask_threshold_peer(benchmark, cv2, mask):
    _peer(benchmark, "(cv2.resize(mask[56:200], (1280, 720)) > 0.5).astype(uint8)")
    benchmark(_peer_resize_mask_threshold, cv2, mask)


# --------------------------------- 3b. mask 256x256 -> 1280x720 through a rotated ROI (pose)

# A person's crop: upright (most frames) and leaning by half a radian.
ROTATED_MASK_ROIS = {"upright": (640, 400, 640, 640, 0.05), "leaning": (640, 360, 500, 500, 0.5)}


def _mask_roi_tf(ek, frame, name):
    return ek.warp_roi(frame, ek.Rect(*ROTATED_MASK_ROIS[name]), (256, 256))[1]


def _peer_resize_mask_rotated(cv2, mask, roi_tf):
    frame_to_mask = np.asarray(roi_tf.inverse().matrix, np.float64)[:2]
    return cv2.warpAffine(mask, frame_to_mask, (1280, 720), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _rotated_mask_ours(benchmark, ek, cv2, frame, mask, name):
    _ours(benchmark, 1.0)
    roi_tf = _mask_roi_tf(ek, frame, name)
    buf = np.empty((720, 1280), np.float32)
    result = benchmark(ek.resize_mask, mask, (1280, 720), transform=roi_tf, border="zero", out=buf)
    assert np.shares_memory(result, buf), "out= was not used"
    # warpAffine snaps positions to 1/32 px: close, not equal.
    _close(result, _peer_resize_mask_rotated(cv2, mask, roi_tf), atol=0.05, mean_atol=2e-3,
           what="resize_mask rotated")


def _rotated_mask_peer(benchmark, ek, cv2, frame, mask, name):
    _peer(benchmark, "cv2.warpAffine(mask, inverse ROI map, (1280, 720), INTER_LINEAR, BORDER_CONSTANT)")
    benchmark(_peer_resize_mask_rotated, cv2, mask, _mask_roi_tf(ek, frame, name))


@bench("resize_mask upright ROI ->1280x720")
def test_resize_mask_upright_edgevision_out(benchmark, ek, cv2, frame, mask):
    _rotated_mask_ours(benchmark, ek, cv2, frame, mask, "upright")


@bench("resize_mask upright ROI ->1280x720")
def test_resize_mask_upright_peer(benchmark, ek, cv2, frame, mask):
    _rotated_mask_peer(benchmark, ek, cv2, frame, mask, "upright")


@bench("resize_mask leaning ROI ->1280x720")
def test_resize_mask_leaning_edgevision_out(benchmark, ek, cv2, frame, mask):
    _rotated_mask_ours(benchmark, ek, cv2, frame, mask, "leaning")


@bench("resize_mask leaning ROI ->1280x720")
def test_resize_mask_leaning_peer(benchmark, ek, cv2, frame, mask):
    _rotated_mask_peer(benchmark, ek, cv2, frame, mask, "leaning")


# ------------------------------------------------------ 4. composite at 1280x720


def _peer_composite_blur(cv2, frame, m):
    bg = cv2.GaussianBlur(frame, (0, 0), 8)
    return cv2.blendLinear(frame, bg, m, 1 - m)


@bench("composite blur sigma=8 1280x720")
def test_composite_blur_edgevision_out(benchmark, ek, frame, mask720):
    _ours(benchmark, 5.0)
    buf = np.empty_like(frame)
    result = benchmark(ek.composite, frame, mask720, "blur", blur_sigma=8, out=buf)
    assert np.shares_memory(result, buf), "out= was not used"


@bench("composite blur sigma=8 1280x720")
def test_composite_blur_edgevision(benchmark, ek, frame, mask720, cv2):
    _ours(benchmark, 5.0)
    result = benchmark(ek.composite, frame, mask720, "blur", blur_sigma=8)
    ref = _peer_composite_blur(cv2, frame, mask720)
    assert result.shape == ref.shape and result.dtype == np.uint8
    # The blur is approximate by contract (<= 2/255 mean abs difference to GaussianBlur).
    mad = np.mean(np.abs(result.astype(np.int16) - ref.astype(np.int16)))
    assert mad <= 2.5, f"composite blur: mean |ours - peer| = {mad:.2f} levels"


@bench("composite blur sigma=8 1280x720")
def test_composite_blur_peer(benchmark, cv2, frame, mask720):
    _peer(benchmark, "cv2.GaussianBlur(frame, (0,0), 8) + cv2.blendLinear(frame, bg, m, 1-m)")
    benchmark(_peer_composite_blur, cv2, frame, mask720)


COLOR = (0, 177, 64)


def _peer_composite_color(frame, m, color=np.array(COLOR, np.float32)):
    m3 = m[..., None]
    return (frame * m3 + color * (1 - m3)).astype(np.uint8)


@bench("composite colour 1280x720")
def test_composite_color_edgevision_out(benchmark, ek, frame, mask720):
    _ours(benchmark, None)
    buf = np.empty_like(frame)
    result = benchmark(ek.composite, frame, mask720, COLOR, out=buf)
    assert np.shares_memory(result, buf), "out= was not used"


@bench("composite colour 1280x720")
def test_composite_color_edgevision(benchmark, ek, frame, mask720):
    _ours(benchmark, None)
    result = benchmark(ek.composite, frame, mask720, COLOR)
    # ours rounds, the NumPy chain truncates: about one level apart.
    _close(result, _peer_composite_color(frame, mask720), atol=2, what="composite colour")


@bench("composite colour 1280x720")
def test_composite_color_peer(benchmark, frame, mask720):
    _peer(benchmark, "(frame*m[...,None] + color*(1-m[...,None])).astype(uint8)")
    benchmark(_peer_composite_color, frame, mask720)


# --------------------- 5. the selfie post-processing: model mask -> blurred composite, fused


def _peer_mask_composite_blur(cv2, frame, mask):
    # What a user writes: crop the letterbox padding, resize the mask, blur, blend.
    return _peer_composite_blur(cv2, frame, _peer_resize_mask(cv2, mask))


@bench("256x256 mask -> blur composite 1280x720")
def test_mask_composite_blur_edgevision_out(benchmark, ek, frame, mask, tf, cv2):
    _ours(benchmark, None)
    buf = np.empty_like(frame)
    result = benchmark(ek.composite, frame, mask, "blur", transform=tf, out=buf)
    assert np.shares_memory(result, buf), "out= was not used"
    np.testing.assert_array_equal(result, ek.composite(frame, ek.resize_mask(mask, (1280, 720), transform=tf), "blur"))


@bench("256x256 mask -> blur composite 1280x720")
def test_mask_composite_blur_peer(benchmark, cv2, frame, mask, tf):
    _peer(benchmark, "crop + cv2.resize(mask) + cv2.GaussianBlur + cv2.blendLinear")
    benchmark(_peer_mask_composite_blur, cv2, frame, mask)
