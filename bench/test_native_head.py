"""BlazePose's mask tail: edgevision's native kernel (kernels.SegmentationHead) against XNNPACK
running the same layers (LiteRT, the tail cut out of pose_landmark_full as a model of its own:
the 64x64x8 features and the 128x128x8 skip map in, the 256x256 logits out).

Run::

    python -m pytest bench/test_native_head.py --benchmark-only -s

Both sides on one thread (LiteRT's default); ours also on two, as the pose landmarker runs it.
The features are the real model's on the astronaut crop. Target: 2x (ours 1.3 ms against
XNNPACK's ~4.5 ms here on one thread).
"""

from __future__ import annotations

import numpy as np
import pytest

OUTPUT = "Identity_2"


def bench(group: str):
    return pytest.mark.benchmark(group=group, max_time=1.0, min_rounds=20, warmup=True, warmup_iterations=10)


@pytest.fixture(scope="module")
def tail():
    """(features, skip map, our head, an interpreter running the tail's layers alone)."""
    import cv2
    import flatbuffers
    import skimage.data
    from ai_edge_litert.interpreter import Interpreter

    from edgevision import models, runtime
    from edgevision.convert.flatbuffer import schema, schema_ints, schema_text
    from edgevision.runtime import native_head

    split = runtime.load("pose_landmark_full", native_heads=[OUTPUT])
    crop = cv2.resize(skimage.data.astronaut(), (256, 256)).astype(np.float32)[None] / 255
    outputs, names = split.run([crop]), [o.name for o in split.outputs]
    (skip_name,) = split.native_head_skips[OUTPUT]
    features, skip = outputs[names.index(OUTPUT)], outputs[names.index(skip_name)]

    data = models.fetch(models.card("pose_landmark_full")).read_bytes()
    model = schema().ModelT.InitFromPackedBuf(data, 0)
    assert native_head.split(model, OUTPUT) == [skip_name]
    graph = model.subgraphs[0]
    tensor = {schema_text(t.name): k for k, t in enumerate(graph.tensors)}
    starts, end = (tensor[OUTPUT], tensor[skip_name]), tensor[OUTPUT + "/native_head"]
    producers = {int(t): op for op in graph.operators for t in schema_ints(op.outputs, keep_missing=False)}
    keep, todo = set(), [end]
    while todo:  # the ops between the features and the logits
        op = producers.get(todo.pop())
        if op is None or id(op) in keep:
            continue
        keep.add(id(op))
        todo.extend(t for t in schema_ints(op.inputs, keep_missing=False) if t not in starts)
    graph.operators = [op for op in graph.operators if id(op) in keep]
    graph.inputs, graph.outputs = np.array(starts, np.int32), np.array([end], np.int32)
    builder = flatbuffers.Builder(len(data))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    interpreter = Interpreter(model_content=bytes(builder.Output()), num_threads=1)
    interpreter.allocate_tensors()
    for detail, value in zip(interpreter.get_input_details(), (features, skip)):
        interpreter.set_tensor(detail["index"], value)
    return features, skip, split.native_heads[OUTPUT], interpreter


@bench("pose mask tail 64x64x8 + 128x128x8 skip -> 256x256")
def test_tail_xnnpack(benchmark, tail):
    interpreter = tail[-1]
    benchmark.extra_info.update(role="peer", chain="LiteRT/XNNPACK, the tail's layers (1 thread)")
    benchmark(interpreter.invoke)


@bench("pose mask tail 64x64x8 + 128x128x8 skip -> 256x256")
def test_tail_edgevision(benchmark, tail):
    features, skip, head, interpreter = tail
    benchmark.extra_info.update(role="edgevision", target=2.0)
    out = np.empty((256, 256), np.float32)
    logits = benchmark(head, features, skips=[skip], out=out, threads=1)
    interpreter.invoke()
    reference = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0, :, :, 0]
    assert np.abs(logits - reference).max() <= 1e-5 * np.abs(reference).max()  # the same work


@bench("pose mask tail 64x64x8 + 128x128x8 skip -> 256x256")
def test_tail_edgevision_2_threads(benchmark, tail):
    features, skip, head, _ = tail
    benchmark.extra_info.update(role="edgevision")
    out = np.empty((256, 256), np.float32)
    benchmark(head, features, skips=[skip], out=out, threads=2)
