"""Fixtures for the edgevision benchmark suite.

Run::

    python -m pytest bench --benchmark-only      # speed: edgevision vs. the OpenCV/NumPy chain
    python -m pytest bench -m memory             # memory stays flat over a 300-frame video
    python bench/report.py                       # same measurements without pytest (Markdown)

OpenCV runs single-threaded for the whole session. Inputs (1280x720 astronaut frame,
smooth 256x256 person mask, ...) come from ``edgevision.speed`` so both harnesses time the
same data. After the pytest-benchmark tables a short section prints, per group, the
median speed-up of each edgevision variant over the peer and whether it meets its target.
"""

from __future__ import annotations


import pytest



from edgevision import speed as report  # noqa: E402  (shared with `edgevision speed`)


def pytest_configure(config):
    config.addinivalue_line("markers", "memory: memory stays flat over a long video (select with -m memory)")


# ------------------------------------------------------------------------- libraries


@pytest.fixture(scope="session", autouse=True)
def _opencv_single_thread():
    """Every timing, ours and the peer's, is single-threaded."""
    cv2 = report._cv2()
    if cv2 is None:
        yield
        return
    prev = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(prev)


@pytest.fixture(scope="session")
def ek():
    """``edgevision.kernels``; skips (not errors) only when the package is not installed."""
    return pytest.importorskip("edgevision.kernels", exc_type=ModuleNotFoundError)


@pytest.fixture(scope="session")
def cv2():
    return pytest.importorskip("cv2")


# ---------------------------------------------------------------------------- inputs


@pytest.fixture(scope="session")
def frame():
    """1280x720 RGB uint8: ``cv2.resize(skimage.data.astronaut(), (1280, 720))``."""
    return report.make_frame(report.FRAME_SIZE)


@pytest.fixture(scope="session")
def geometry():
    """``(new_w, new_h, left, top)`` of the 1280x720 -> 256x256 letterbox: (256, 144, 0, 56)."""
    return report.letterbox_geometry(report.FRAME_SIZE, report.TENSOR_SIZE)


@pytest.fixture(scope="session")
def mask(geometry):
    """256x256 float32 model output in [0, 1]: a smooth person blob inside the letterbox content."""
    new_w, new_h, left, top = geometry
    return report.make_mask(report.TENSOR_SIZE, (left, top, new_w, new_h))


@pytest.fixture(scope="session")
def mask720():
    """1280x720 float32 foreground weight in [0, 1] (the same silhouette at frame resolution)."""
    w, h = report.FRAME_SIZE
    return report.make_mask((w, h), (0, 0, w, h))


@pytest.fixture(scope="session")
def tf(ek, frame):
    """Transform of ``letterbox(frame, (256, 256))``."""
    _, transform = ek.letterbox(frame, report.TENSOR_SIZE)
    return transform


@pytest.fixture(scope="session")
def rect(ek):
    return ek.Rect(640, 360, 500, 500, 0.5)


@pytest.fixture(scope="session")
def roi_tf(ek, frame, rect):
    """Transform of ``warp_roi(frame, rect, (256, 256))``."""
    _, transform = ek.warp_roi(frame, rect, report.TENSOR_SIZE)
    return transform


# ------------------------------------------------------------------- speed-up summary


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's tables
def pytest_terminal_summary(terminalreporter, config):
    """Per group: peer median / edgevision median, against the target in extra_info."""
    session = getattr(config, "_benchmarksession", None)
    benches = [b for b in getattr(session, "benchmarks", []) or [] if b and not b.has_error]
    if not benches:
        return
    groups: dict = {}
    for b in benches:
        groups.setdefault(b.group, []).append(b)
    lines = []
    missed = []
    for group, members in groups.items():
        peers = [b for b in members if b.extra_info.get("role") == "peer"]
        ours = [b for b in members if b.extra_info.get("role") == "edgevision"]
        if len(peers) != 1 or not ours:
            continue
        peer = peers[0]
        for b in ours:
            budget = b.extra_info.get("overhead_budget_us")
            if budget is not None:  # a wrapper: its cost over the bare call, in microseconds
                overhead = (b.stats.median - peer.stats.median) * 1e6
                ok = overhead < budget
                if not ok:
                    missed.append(b.name)
                lines.append(f"{group:<22} {b.name:<42} overhead {overhead:7.2f} us per call"
                             f"  budget < {budget:g} us: {'ok' if ok else 'MISSED'}")
                continue
            speedup = peer.stats.median / b.stats.median
            target = b.extra_info.get("target")
            verdict = ""
            if target is not None:
                ok = speedup >= target
                verdict = f"target >= {target:g}x: {'ok' if ok else 'MISSED'}"
                if not ok:
                    missed.append(b.name)
            limit = b.extra_info.get("budget_us")  # an absolute target, per call
            if limit is not None:
                ok = b.stats.median * 1e6 <= limit
                verdict += f"  <= {limit:g} us: {'ok' if ok else 'MISSED'}"
                if not ok:
                    missed.append(b.name)
            lines.append(
                f"{group:<22} {b.name:<42} {b.stats.median * 1e3:8.3f} ms vs {peer.stats.median * 1e3:8.3f} ms"
                f"  {speedup:5.1f}x  {verdict}"
            )
    if not lines:
        return
    terminalreporter.write_sep("-", "edgevision speed-up over the peer (medians, same run)")
    for line in lines:
        terminalreporter.write_line(line)
    if missed:
        terminalreporter.write_line(f"missed targets: {', '.join(missed)}", red=True)
