"""The TFLite -> ONNX converter: conversion time per model, and ONNX Runtime (CPU) against LiteRT
(XNNPACK) on each converted MediaPipe model at the same thread count.

Run::

    python -m pytest bench/test_convert.py --benchmark-only

Groups ``convert <model>`` time ``edgevision.convert.tflite_to_onnx`` (read, translate, check;
not the file write). Groups ``infer <model> <n>t`` run one inference on a real frame (the
astronaut, prepared as the card says) with LiteRT + XNNPACK (the peer, what MediaPipe uses) and
with ONNX Runtime's CPU provider on the converted model, both with ``n`` intra-op threads; the
summary prints LiteRT's median over ONNX Runtime's, whichever is faster.
"""

from __future__ import annotations

import pytest

MODELS = ["pose_detection", "pose_landmark_full", "selfie_segmentation", "selfie_segmentation_landscape",
          "face_detection_short_range", "face_landmark"]
THREADS = [1, 2]

pytest.importorskip("onnx", reason="install edgevision[onnx]")
pytest.importorskip("onnxruntime", reason="install edgevision[onnx]")


@pytest.fixture(scope="module")
def zoo():
    from edgevision import models

    try:
        return {name: models.fetch(name) for name in MODELS}
    except Exception as e:  # no cache and no network
        pytest.skip(f"MediaPipe models unavailable: {e}")


@pytest.fixture(scope="module")
def converted(zoo, tmp_path_factory):
    from edgevision import convert

    directory = tmp_path_factory.mktemp("converted")
    paths = {}
    for name, path in zoo.items():
        paths[name] = directory / f"{name}.onnx"
        convert.tflite_to_onnx(path, paths[name])
    return paths


@pytest.fixture(scope="module")
def frame_tensors():
    import skimage.data

    from edgevision import models
    from edgevision.convert.calibration import input_tensors

    astronaut = skimage.data.astronaut()
    return {name: input_tensors([astronaut], models.card(name))[0] for name in MODELS}


@pytest.mark.parametrize("name", MODELS)
def test_conversion_time(benchmark, zoo, name):
    from edgevision import convert

    benchmark.group = f"convert {name}"
    model = benchmark.pedantic(convert.tflite_to_onnx, args=(zoo[name],), rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(nodes=len(model.graph.node), tflite_bytes=zoo[name].stat().st_size)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("side", ["litert", "onnxruntime"])
def test_inference(benchmark, zoo, converted, frame_tensors, name, threads, side):
    from edgevision import runtime

    model = runtime.load(zoo[name] if side == "litert" else converted[name], threads=threads)
    x = frame_tensors[name]
    benchmark.group = f"infer {name} {threads}t"
    benchmark.extra_info.update(role="peer" if side == "litert" else "edgevision", threads=threads)
    benchmark.pedantic(model.run, args=([x],), rounds=40, iterations=1, warmup_rounds=5)
