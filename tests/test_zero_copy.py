"""Zero-copy model runs (``Model.bind`` / ``Binding.run``): the pipelines write LiteRT's input
tensors and read its outputs in place, with exactly the numbers of the copying ``Model.run``
path, and nothing they return aliases the runtime's memory."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import edgevision
from edgevision import kernels, runtime
from backends import needs_onnx
from model_builders import quantized_tflite
from tflite_builders import Op, T, options, write


def models_of(pipeline) -> list:
    if isinstance(pipeline, (edgevision.PoseLandmarker, edgevision.FaceLandmarker)):
        return [pipeline.detector.model, pipeline.landmarker.model]
    return [pipeline.model]


def copying(pipeline):
    """The same pipeline through Model.run's copies (set_tensor / get_tensor)."""
    for model in models_of(pipeline):
        model.zero_copy = False
    return pipeline


def forbid_copies(monkeypatch, pipeline):
    """Makes the LiteRT copy calls fail, so a passing test ran on the zero-copy path."""
    def refuse(*args, **kwargs):
        raise AssertionError("copied a tensor on the zero-copy path")

    for model in models_of(pipeline):
        assert model.zero_copy
        monkeypatch.setattr(model._interpreter, "set_tensor", refuse)
        monkeypatch.setattr(model._interpreter, "get_tensor", refuse)


def aliases_runtime(array: np.ndarray, pipeline) -> bool:
    found = any(np.shares_memory(array, tensor()) for model in models_of(pipeline)
                for tensor in model._input_tensors + model._output_tensors)
    assert all(model._lent_released() for model in models_of(pipeline))
    return found


@pytest.fixture(scope="module")
def frames(astronaut, camera3):
    """Three different frames: the second moves the person, the third has none where it was."""
    return [astronaut, np.ascontiguousarray(np.roll(astronaut, 24, axis=1)), camera3]


def assert_same_poses(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a.landmarks, b.landmarks)
        np.testing.assert_array_equal(a.world_landmarks, b.world_landmarks)
        np.testing.assert_array_equal(a.mask, b.mask)
        assert a.score == b.score and a.roi == b.roi


# ------------------------------------------------------------------ pipelines: same numbers


@pytest.mark.parametrize("mode", ["image", "video"])
def test_pose_with_segmentation_matches_the_copying_path(mode, frames, monkeypatch):
    fast = edgevision.PoseLandmarker(mode=mode, segmentation=True)
    slow = copying(edgevision.PoseLandmarker(mode=mode, segmentation=True))
    forbid_copies(monkeypatch, fast)
    people = 0
    for frame in frames + frames:
        got, expected = fast(frame), slow(frame)
        assert_same_poses(got, expected)
        people += len(got)
        assert fast.timings.inference_ms > 0
    assert people >= 4  # the astronaut is found in both of her frames, each round


@pytest.mark.parametrize("smoothing", [0.0, 0.6])
def test_selfie_matches_the_copying_path(smoothing, frames, monkeypatch):
    fast = edgevision.SelfieSegmenter(smoothing=smoothing)
    slow = copying(edgevision.SelfieSegmenter(smoothing=smoothing))
    forbid_copies(monkeypatch, fast)
    for frame in frames:
        np.testing.assert_array_equal(fast(frame), slow(frame))
        np.testing.assert_array_equal(fast.apply(frame, "blur"), slow.apply(frame, "blur"))
        np.testing.assert_array_equal(fast.apply(frame, (0, 255, 0), threshold=0.5),
                                      slow.apply(frame, (0, 255, 0), threshold=0.5))
        out = np.empty(frame.shape[:2], np.float32)
        assert fast(frame, out=out) is out
        np.testing.assert_array_equal(out, slow(frame))


def test_selfie_inference_time_is_the_runtimes_own(astronaut):
    segmenter = edgevision.SelfieSegmenter()
    segmenter(astronaut)
    timings = segmenter.timings
    assert timings.inference_ms == segmenter.model.invoke_ms > 0
    assert timings.preprocess_ms > 0 and timings.postprocess_ms > 0


@pytest.mark.parametrize("mode", ["image", "video"])
def test_face_mesh_matches_the_copying_path(mode, frames, monkeypatch):
    fast = edgevision.FaceLandmarker(mode=mode)
    slow = copying(edgevision.FaceLandmarker(mode=mode))
    forbid_copies(monkeypatch, fast)
    faces = 0
    for frame in frames + frames:
        got, expected = fast(frame), slow(frame)
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a.landmarks, b.landmarks)
            assert a.score == b.score and a.roi == b.roi
        faces += len(got)
    assert faces >= 4


def test_face_detection_matches_the_copying_path(frames, monkeypatch):
    fast = edgevision.FaceDetector()
    slow = copying(edgevision.FaceDetector())
    forbid_copies(monkeypatch, fast)
    for frame in frames:
        got, expected = fast.detect(frame), slow.detect(frame)
        for name in ("boxes", "keypoints", "scores", "class_ids"):
            np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
    assert len(fast(frames[0])) == 1


# ----------------------------------------------------- results never alias the runtime


def test_pose_results_stay_valid_after_later_frames(frames):
    pose = edgevision.PoseLandmarker(mode="video", segmentation=True)
    first = pose(frames[0])
    assert first
    kept = [(p.landmarks.copy(), p.world_landmarks.copy(), p.mask.copy()) for p in first]
    for frame in frames[1:] + frames:
        pose(frame)
    for p, (landmarks, world, mask) in zip(first, kept):
        for array, copy in ((p.landmarks, landmarks), (p.world_landmarks, world), (p.mask, mask)):
            np.testing.assert_array_equal(array, copy)
            assert not aliases_runtime(array, pose)


def test_selfie_and_face_results_stay_valid_after_later_frames(frames):
    segmenter = edgevision.SelfieSegmenter()
    mask, composite = segmenter(frames[0]), segmenter.apply(frames[0], "blur")
    mesh = edgevision.FaceLandmarker()
    landmarks = mesh(frames[0])[0].landmarks
    kept = [mask.copy(), composite.copy(), landmarks.copy()]
    for frame in frames[1:]:
        segmenter(frame)
        segmenter.apply(frame, "blur")
        mesh(frame)
    for array, copy in zip((mask, composite, landmarks), kept):
        np.testing.assert_array_equal(array, copy)
    assert not aliases_runtime(mask, segmenter) and not aliases_runtime(composite, segmenter)
    assert not aliases_runtime(landmarks, mesh)


def test_an_error_while_the_outputs_are_lent_does_not_block_later_frames(astronaut, camera3):
    segmenter = edgevision.SelfieSegmenter()
    expected = copying(edgevision.SelfieSegmenter())(camera3)
    # The bad out= fails inside the read callback, with the output tensor in its frames; the
    # kept exception (and its traceback) must not keep that view alive.
    with pytest.raises(ValueError) as caught:
        segmenter(astronaut, out=np.empty((5, 5), np.float32))
    assert caught.traceback and segmenter.model._lent_released()
    np.testing.assert_array_equal(segmenter(camera3), expected)


@pytest.mark.parametrize("make", [edgevision.SelfieSegmenter, edgevision.FaceLandmarker,
                                  lambda: edgevision.PoseLandmarker(segmentation=True)],
                         ids=["selfie", "face mesh", "pose"])
def test_close_releases_the_models_despite_their_bindings(make, astronaut):
    pipeline = make()
    pipeline(astronaut)
    alive = [weakref.ref(model) for model in models_of(pipeline)]
    pipeline.close()
    gc.collect()
    assert [ref() for ref in alive] == [None] * len(alive)
    with pytest.raises(RuntimeError, match="closed"):
        pipeline(astronaut)


# ------------------------------------------------------------------- Binding on its own


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    return quantized_tflite(tmp_path_factory.mktemp("zero_copy") / "quantized.tflite")


def test_binding_quantises_float_buffers_and_dequantises_outputs(quantized, rng, monkeypatch):
    model = runtime.load(quantized["path"])
    x = rng.uniform(-1, 5, quantized["shape"]).astype(np.float32)
    q = rng.integers(0, 256, quantized["shape"], dtype=np.uint8)
    expected_float, expected_raw = model.run([x])[0], model.run([q], dequantize=False)[0]
    expected_from_q = model.run([q])[0]
    monkeypatch.setattr(model._interpreter, "set_tensor", None)  # the zero-copy path does not copy
    monkeypatch.setattr(model._interpreter, "get_tensor", None)

    floats = model.bind([np.empty(quantized["shape"], np.float32)])
    got = floats.run(lambda inputs: np.copyto(inputs[0], x), lambda outputs, _: outputs[0].copy())
    np.testing.assert_array_equal(got, expected_float)
    assert got.dtype == np.float32

    pixels = model.bind([np.empty(quantized["shape"], np.uint8)])
    np.testing.assert_array_equal(pixels.run(lambda inputs: np.copyto(inputs[0], q),
                                             lambda outputs, _: outputs[0].copy()), expected_from_q)
    raw = model.bind([np.empty(quantized["shape"], np.uint8)], dequantize=False)
    got = raw.run(lambda inputs: np.copyto(inputs[0], q), lambda outputs, _: outputs[0].copy())
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, expected_raw)


def test_fill_writes_the_runtimes_tensor_and_read_sees_its_outputs(quantized):
    model = runtime.load(quantized["path"])
    binding = model.bind([np.empty(quantized["shape"], np.uint8)], dequantize=False)

    def fill(inputs):
        assert np.shares_memory(inputs[0], model._input_tensors[0]())
        assert not np.shares_memory(inputs[0], binding.buffers[0])
        inputs[0].fill(12)
        return "state"

    def read(outputs, state):
        assert state == "state" and np.shares_memory(outputs[0], model._output_tensors[0]())
        return int(outputs[0].reshape(-1)[0])

    # uint8 12 -> 0.02 * (12 - 10) = 0.04, doubled 0.08 -> int8 round(0.08 / 0.05) - 3 = -1
    assert binding.run(fill, read) == -1
    assert model._lent_released()


def test_a_kept_view_raises_at_once_and_the_model_recovers(quantized):
    model = runtime.load(quantized["path"])
    binding = model.bind([np.zeros(quantized["shape"], np.uint8)])
    zeros = lambda inputs: inputs[0].fill(0)  # noqa: E731
    with pytest.raises(RuntimeError, match=r"fill\(\) kept a view"):
        binding.run(lambda inputs: inputs[0], lambda outputs, _: None)
    kept = []
    with pytest.raises(RuntimeError, match=r"read\(\) kept a view"):
        raw = model.bind([np.zeros(quantized["shape"], np.uint8)], dequantize=False)
        raw.run(zeros, lambda outputs, _: kept.append(outputs[0]))
    with pytest.raises(RuntimeError, match="still referenced"):
        binding.run(zeros, lambda outputs, _: None)
    kept.clear()
    expected = model.run([np.zeros(quantized["shape"], np.uint8)])[0]
    np.testing.assert_array_equal(binding.run(zeros, lambda outputs, _: outputs[0].copy()), expected)


def test_a_dequantised_read_that_returns_the_outputs_is_not_an_alias_error(quantized):
    """Only the runtime's own memory is policed: a dequantised output is the binding's buffer."""
    model = runtime.load(quantized["path"])
    binding = model.bind([np.zeros(quantized["shape"], np.uint8)])
    first = binding.run(lambda inputs: inputs[0].fill(0), lambda outputs, _: outputs[0])
    assert not np.shares_memory(first, model._output_tensors[0]())


@pytest.mark.parametrize("where", ["fill", "read"])
def test_errors_in_callbacks_release_the_views(quantized, where):
    model = runtime.load(quantized["path"])
    binding = model.bind([np.zeros(quantized["shape"], np.uint8)], dequantize=False)  # outputs: views

    def fill(inputs):
        view = inputs[0]
        if where == "fill":
            raise KeyError(view.shape)
        view.fill(10)

    def read(outputs, _):
        view = outputs[0]
        if where == "read":
            raise KeyError(view.shape)
        return view.copy()

    with pytest.raises(KeyError) as caught:  # kept: its traceback holds the callbacks' frames
        binding.run(fill, read)
    assert caught.value.__traceback__ is not None and model._lent_released()
    where = None
    expected = model.run([np.full(quantized["shape"], 10, np.uint8)], dequantize=False)[0]
    np.testing.assert_array_equal(binding.run(fill, read), expected)


def test_resizable_inputs_are_resized_for_the_binding(tmp_path, rng):
    spec = quantized_tflite(tmp_path / "dynamic.tflite", dynamic_batch=True)
    model = runtime.load(spec["path"])
    binding = model.bind([np.empty((3, 4, 4, 3), np.uint8)], dequantize=False)
    for batch in (2, 3, 1):
        q = rng.integers(0, 256, (3, 4, 4, 3), dtype=np.uint8)
        other = rng.integers(0, 256, (batch, 4, 4, 3), dtype=np.uint8)
        expected_other = model.run([other], dequantize=False)[0]  # resizes the interpreter to `batch`
        got = binding.run(lambda inputs: np.copyto(inputs[0], q), lambda outputs, _: outputs[0].copy())
        assert got.shape == (3, 4, 4, 3)
        np.testing.assert_array_equal(got, model.run([q], dequantize=False)[0])
        np.testing.assert_array_equal(model.run([other], dequantize=False)[0], expected_other)


def test_litert_falls_back_to_copying_when_it_cannot_lend_a_tensor(quantized, rng):
    model = runtime.load(quantized["path"])

    def no_buffer():
        raise ValueError("Tensor data is null")  # what LiteRT says for a delegate-owned tensor

    model._input_tensors = [no_buffer]
    buffer = np.empty(quantized["shape"], np.float32)
    binding = model.bind([buffer])
    x = rng.uniform(0, 4, quantized["shape"]).astype(np.float32)
    seen = []
    got = binding.run(lambda inputs: seen.append(inputs[0] is buffer) or np.copyto(inputs[0], x),
                      lambda outputs, _: outputs[0])
    assert seen == [True] and not model.zero_copy
    np.testing.assert_array_equal(got, model.run([x])[0])


@needs_onnx
def test_onnxruntime_runs_bindings_through_its_copies(tmp_path, rng):
    from model_builders import conv_relu_add

    spec = conv_relu_add(tmp_path / "conv.onnx", rng)
    model = runtime.load(spec["path"])
    info = model.inputs[0]
    buffer = np.empty(info.shape, np.float32)
    x = rng.standard_normal(info.shape).astype(np.float32)
    seen = []
    got = model.bind([buffer]).run(lambda inputs: seen.append(inputs[0] is buffer) or np.copyto(inputs[0], x),
                                   lambda outputs, _: outputs)
    assert seen == [True] and not model.zero_copy
    for a, b in zip(got, model.run([x])):
        np.testing.assert_array_equal(a, b)


BAD_BUFFERS = {
    "not a list": (lambda shape: np.zeros(shape, np.uint8), ValueError, "list of 1 numpy arrays"),
    "two buffers": (lambda shape: [np.zeros(shape, np.uint8)] * 2, ValueError, r"list of 1 numpy arrays .*got list of 2"),
    "not an array": (lambda shape: [[0]], TypeError, "must be a numpy.ndarray"),
    "wrong shape": (lambda shape: [np.zeros((1, 4, 4, 4), np.uint8)], ValueError, r"shape \[1, 4, 4, 3\]"),
    "float64": (lambda shape: [np.zeros(shape)], TypeError, "float32 buffers are quantised"),
    "int8 for uint8": (lambda shape: [np.zeros(shape, np.int8)], TypeError, "is uint8"),
    "strided": (lambda shape: [np.zeros((1, 4, 4, 6), np.uint8)[..., ::2]], ValueError, "C-contiguous"),
    "read-only": (lambda shape: [read_only(np.zeros(shape, np.uint8))], ValueError, "writable"),
}


def read_only(array):
    array.flags.writeable = False
    return array


@pytest.mark.parametrize("case", list(BAD_BUFFERS))
def test_bad_buffers_raise_clear_errors(quantized, case):
    model = runtime.load(quantized["path"])
    make, error, words = BAD_BUFFERS[case]
    with pytest.raises(error, match=words):
        model.bind(make(quantized["shape"]))


# ------------------------------------------------------------ quantised pipeline models


def quantized_segmenter(path, input_dtype):
    """A selfie-shaped model with 8-bit I/O: mask = mean of the RGB values in [0, 1]. int8 input
    (scale 1/255, zero point -128) takes float32 pixels quantised by the binding; uint8 (1/255, 0)
    takes raw pixels."""
    zero = -128 if input_dtype == np.int8 else 0
    tensors = [T("image", (1, 256, 256, 3), input_dtype, quant=([1 / 255], [zero], 0)),
               T("real", (1, 256, 256, 3)), T("axis", (1,), np.int32, np.array([3], np.int32)),
               T("mean", (1, 256, 256, 1)), T("mask", (1, 256, 256, 1), np.int8, quant=([1 / 255], [-128], 0))]
    ops = [Op("DEQUANTIZE", [0], [1]), Op("MEAN", [1, 2], [3], options("Reducer", keepDims=True)),
           Op("QUANTIZE", [3], [4])]
    return write(path, tensors, ops, [0], [4])


@pytest.mark.parametrize("input_dtype", [np.int8, np.uint8], ids=["int8-float-pixels", "uint8-raw-pixels"])
def test_quantised_segmenter_matches_the_copying_path_and_numpy(tmp_path, frames, input_dtype, monkeypatch):
    path = quantized_segmenter(tmp_path / "mean.tflite", input_dtype)
    fast = edgevision.SelfieSegmenter(model_path=path)
    slow = copying(edgevision.SelfieSegmenter(model_path=path))
    assert fast._input.dtype == ("uint8" if input_dtype == np.uint8 else "float32")
    forbid_copies(monkeypatch, fast)
    for frame in frames:
        np.testing.assert_array_equal(fast(frame), slow(frame))
        np.testing.assert_array_equal(fast.apply(frame, "blur"), slow.apply(frame, "blur"))
    # The model-resolution mask against the model's arithmetic in NumPy.
    frame = frames[0]
    small = fast._infer(frame, lambda mask, transform: mask.copy())  # the output's own shape
    tensor, _ = kernels.letterbox(frame, (256, 256), keep_aspect=False, value_range=(0.0, 1.0),
                                  sampling=fast._sampling, border=fast._border)
    zero = -128 if input_dtype == np.int8 else 0
    step = np.float32(1 / 255)
    q = np.clip(np.rint(tensor / step) + zero, -128 if zero else 0, 127 if zero else 255)
    mean = ((q - zero) * step).mean(axis=-1)[0]
    expected = (np.clip(np.rint(mean / step) - 128, -128, 127) + 128) * step
    assert small.shape == (1, 256, 256, 1) and small.dtype == np.float32
    small = small[0, :, :, 0]
    np.testing.assert_allclose(small, expected, rtol=0, atol=step * 1.01)
    assert np.mean(small == expected.astype(np.float32)) > 0.99


# ---------------------------------------------------------------------------- threads


def test_pipelines_one_per_thread_match_sequential_runs(frames):
    def work(pose, segmenter):
        return [(pose(frame), segmenter(frame)) for frame in frames + frames]

    expected = work(edgevision.PoseLandmarker(mode="video", segmentation=True),
                    edgevision.SelfieSegmenter(smoothing=0.5))
    pipelines = [(edgevision.PoseLandmarker(mode="video", segmentation=True), edgevision.SelfieSegmenter(smoothing=0.5))
                 for _ in range(3)]
    results: list = [None] * len(pipelines)
    barrier = threading.Barrier(len(pipelines))

    def run(k):
        barrier.wait()
        results[k] = work(*pipelines[k])

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(pipelines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        for (poses, mask), (expected_poses, expected_mask) in zip(result, expected):
            assert_same_poses(poses, expected_poses)
            np.testing.assert_array_equal(mask, expected_mask)
