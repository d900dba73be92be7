"""runtime.load(outputs=...): a graph pruned to the outputs its caller reads.

Small graphs check what is kept against NumPy and the operator counts LiteRT / ONNX itself
reports; BlazePose's landmark model checks that the kept outputs are bit-identical to the
whole model's, and that PoseLandmarker without a mask runs the pruned model.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from edgevision import runtime
from tflite_builders import Op, T, write


A = np.array([1.0, -2.0, 3.0, 0.5], np.float32)
B = np.array([2.0, 0.25, -1.0, 4.0], np.float32)
# The last fallback for edited files, when no folder is writable, is Linux's in-memory files.
needs_memfd = pytest.mark.skipif(not hasattr(os, "memfd_create"), reason="in-memory files are Linux's memfd")


@pytest.fixture(scope="module")
def two_heads_tflite(tmp_path_factory):
    """x -> shared = x + a -> kept = shared * b;  x -> side = x + b -> dropped = side * shared."""
    tensors = [T("x", [1, 4]), T("a", [4], data=A), T("b", [4], data=B), T("shared", [1, 4]), T("kept", [1, 4]),
               T("side", [1, 4]), T("dropped", [1, 4])]
    ops = [Op("ADD", [0, 1], [3]), Op("ADD", [0, 2], [5]), Op("MUL", [3, 2], [4]), Op("MUL", [5, 3], [6])]
    return write(tmp_path_factory.mktemp("prune") / "two_heads.tflite", tensors, ops, [0], [4, 6])


@pytest.fixture
def scratch_home(tmp_path, monkeypatch):
    """The small graphs' pruned files go to a scratch cache, not the user's."""
    monkeypatch.setenv("EDGEVISION_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def operator_count(model) -> int:
    """Operators in LiteRT's execution plan, XNNPACK off (so none is folded into a delegate)."""
    return len(model._interpreter._get_ops_details())


def test_tflite_keeps_only_what_the_kept_output_needs(scratch_home, two_heads_tflite, rng):
    whole = runtime.load(two_heads_tflite, options={"xnnpack": False})
    kept = runtime.load(two_heads_tflite, outputs=["kept"], options={"xnnpack": False})
    assert [o.name for o in kept.outputs] == ["kept"]
    assert (operator_count(whole), operator_count(kept)) == (4, 2)
    x = rng.uniform(-3, 3, (1, 4)).astype(np.float32)
    np.testing.assert_array_equal(kept.run([x])[0], (x + A) * B)
    np.testing.assert_array_equal(whole.run([x])[1], (x + B) * (x + A))


def test_tflite_keeps_the_graph_order_and_the_other_head(scratch_home, two_heads_tflite, rng):
    both = runtime.load(two_heads_tflite, outputs=["dropped", "kept"])
    assert [o.name for o in both.outputs] == ["kept", "dropped"]
    dropped = runtime.load(two_heads_tflite, outputs=["dropped"], options={"xnnpack": False})
    assert operator_count(dropped) == 3  # shared, side and their product
    x = rng.uniform(-3, 3, (1, 4)).astype(np.float32)
    np.testing.assert_array_equal(dropped.run([x])[0], (x + B) * (x + A))


def test_pruned_file_is_written_once_and_reused(scratch_home, two_heads_tflite):
    model = runtime.load(two_heads_tflite, outputs=["kept"])
    assert model.path == str(two_heads_tflite)  # the file asked for; the copy is edited_path
    first = Path(model.edited_path)
    stamp = first.stat().st_mtime_ns
    again = Path(runtime.load(two_heads_tflite, outputs=["kept"]).edited_path)
    assert again == first and again.stat().st_mtime_ns == stamp
    assert first.parent == scratch_home / "edited" and first.is_file()


def test_concurrent_loads_write_the_edited_file_once(scratch_home, two_heads_tflite, rng):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(lambda _: runtime.load(two_heads_tflite, outputs=["kept"]), range(8)))
    assert len({m.edited_path for m in models}) == 1
    written = sorted(p.name for p in (scratch_home / "edited").iterdir() if p.suffix != ".lock")
    assert written == [Path(models[0].edited_path).name]  # no partial files left behind
    x = rng.uniform(-3, 3, (1, 4)).astype(np.float32)
    for model in models:
        np.testing.assert_array_equal(model.run([x])[0], (x + A) * B)


def test_edited_files_get_the_default_permissions(scratch_home, two_heads_tflite):
    umask = os.umask(0o022)
    os.umask(umask)
    model = runtime.load(two_heads_tflite, outputs=["kept"])
    plain = scratch_home / "plain"
    plain.write_bytes(b"")  # what open() gives under this process's umask
    assert Path(model.edited_path).stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o666 & ~umask


def test_unused_edited_files_are_deleted_when_the_next_is_written(scratch_home, two_heads_tflite):
    import time

    from edgevision.runtime import edits

    folder = scratch_home / "edited"
    old_copy = Path(runtime.load(two_heads_tflite, outputs=["kept"]).edited_path)
    recent_copy = Path(runtime.load(two_heads_tflite, outputs=["dropped"]).edited_path)
    dead_partial = folder / ".gone.tflite.1234.part"
    dead_partial.write_bytes(b"half a model")
    month = (edits.UNUSED_DAYS + 1) * 86400
    for path in (old_copy, dead_partial, folder / f".{old_copy.name}.lock"):
        os.utime(path, (time.time() - month, time.time() - month))
    two_days_ago = time.time() - 2 * 86400
    os.utime(recent_copy, (two_days_ago, two_days_ago))

    assert Path(runtime.load(two_heads_tflite, outputs=["dropped"]).edited_path) == recent_copy
    assert recent_copy.stat().st_mtime > two_days_ago + 86400  # a load marks its file used
    assert old_copy.exists()  # nothing is deleted until a new file is written
    newest = Path(runtime.load(two_heads_tflite, outputs=["kept", "dropped"]).edited_path)
    left = {p.name for p in folder.iterdir()}
    assert newest.name in left and recent_copy.name in left
    assert not {old_copy.name, dead_partial.name, f".{old_copy.name}.lock"} & left
    assert Path(runtime.load(two_heads_tflite, outputs=["kept"]).edited_path).is_file()  # made again


def test_read_only_cache_falls_back_to_a_temp_folder(tmp_path, monkeypatch, two_heads_tflite, rng):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache should be")  # mkdir under it fails, even as root
    monkeypatch.setenv("EDGEVISION_HOME", str(blocked))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    model = runtime.load(two_heads_tflite, outputs=["kept"])
    assert Path(model.edited_path).is_relative_to(tmp_path / "tmp")
    x = rng.uniform(-3, 3, (1, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.run([x])[0], (x + A) * B)
    private = Path(model.edited_path).parent.parent
    assert private.parent == tmp_path / "tmp" and private.stat().st_mode & 0o777 == 0o700  # shared /tmp: ours alone


@needs_memfd
@pytest.mark.parametrize("suffix", [".tflite", ".onnx"])
def test_no_writable_folder_edits_in_memory(tmp_path, monkeypatch, two_heads_tflite, rng, suffix):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache and the temp folder should be")
    monkeypatch.setenv("EDGEVISION_HOME", str(blocked))
    monkeypatch.setattr("tempfile.tempdir", str(blocked))  # a read-only container
    source = two_heads_tflite if suffix == ".tflite" else _two_heads_onnx(tmp_path / "two_heads.onnx")
    model = runtime.load(source, outputs=["kept"])
    assert model.edited_path.startswith("/proc/self/fd/") and model.path == str(source)
    assert [o.name for o in model.outputs] == ["kept"]
    x = rng.uniform(-3, 3, (1, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.run([x])[0], (x + A) * B)
    assert runtime.load(source, outputs=["kept"]).edited_path == model.edited_path  # made once


@needs_memfd
def test_temp_folder_of_another_user_is_not_used(tmp_path, monkeypatch, two_heads_tflite, rng):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache should be")
    monkeypatch.setenv("EDGEVISION_HOME", str(blocked))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    planted = tmp_path / f"edgevision-{os.getuid()}"
    planted.mkdir(mode=0o777)
    if os.getuid() == 0:
        os.chown(planted, 65534, 65534)  # someone else's
    else:
        planted.rmdir()
        (tmp_path / "elsewhere").mkdir()
        planted.symlink_to(tmp_path / "elsewhere")  # a link planted by someone: not our folder either
    model = runtime.load(two_heads_tflite, outputs=["kept"])
    assert model.edited_path.startswith("/proc/self/fd/")  # in memory, not in their folder
    assert not any(planted.iterdir())
    x = rng.uniform(-3, 3, (1, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.run([x])[0], (x + A) * B)


@pytest.mark.parametrize("outputs, error, words", [
    (["kept", "nope"], ValueError, "no output(s) ['nope']"),
    ([], ValueError, "at least one"),
    ("kept", TypeError, "list of output names"),
    (["kept", "kept"], ValueError, "twice"),
    ([3], TypeError, "(str)"),
])
def test_bad_outputs_are_named(scratch_home, two_heads_tflite, outputs, error, words):
    with pytest.raises(error, match="outputs") as info:
        runtime.load(two_heads_tflite, outputs=outputs)
    assert words in str(info.value)


def _two_heads_onnx(path: Path) -> Path:
    """The ONNX twin of two_heads_tflite, with one more initializer ("c") for the dropped head only."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "a"], ["shared"]), helper.make_node("Mul", ["shared", "b"], ["kept"]),
         helper.make_node("Mul", ["x", "c"], ["side"]), helper.make_node("Relu", ["side"], ["dropped"])],
        "two_heads", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("kept", TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info("dropped", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(A, "a"), numpy_helper.from_array(B, "b"), numpy_helper.from_array(B * 3, "c")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    return path


def test_onnx_keeps_only_what_the_kept_output_needs(scratch_home, tmp_path, rng):
    import onnx

    path = _two_heads_onnx(tmp_path / "two_heads.onnx")
    model = runtime.load(path, outputs=["kept"])
    assert [o.name for o in model.outputs] == ["kept"]
    saved = onnx.load(model.edited_path)
    assert [n.op_type for n in saved.graph.node] == ["Add", "Mul"]
    assert sorted(t.name for t in saved.graph.initializer) == ["a", "b"]  # "c" fed only the dropped head
    x = rng.uniform(-3, 3, (1, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.run([x])[0], (x + A) * B)


# ------------------------------------------------------------------ the real model


POSE_OUTPUTS = ["Identity", "Identity_1", "Identity_3", "Identity_4"]  # all but the segmentation


@pytest.fixture(scope="module")
def pose_landmark_models():
    return runtime.load("pose_landmark_full", threads=1), runtime.load("pose_landmark_full", threads=1,
                                                                      outputs=POSE_OUTPUTS)


def test_pose_landmark_model_without_its_mask_gives_the_same_outputs(pose_landmark_models, rng):
    whole, pruned = pose_landmark_models
    assert [o.name for o in pruned.outputs] == POSE_OUTPUTS
    assert operator_count(pruned) < operator_count(whole)
    x = rng.uniform(0, 1, (1, 256, 256, 3)).astype(np.float32)
    every = dict(zip([o.name for o in whole.outputs], whole.run([x])))
    for name, value in zip(POSE_OUTPUTS, pruned.run([x])):
        np.testing.assert_array_equal(value, every[name], err_msg=name)


def test_pose_landmarker_prunes_the_mask_head_only_without_segmentation(astronaut):
    import edgevision

    plain = edgevision.PoseLandmarker(threads=1)
    masked = edgevision.PoseLandmarker(threads=1, segmentation=True)
    assert "Identity_2" not in [o.name for o in plain.model.outputs]
    assert "Identity_2" in [o.name for o in masked.model.outputs]
    (a,), (b,) = plain(astronaut), masked(astronaut)
    np.testing.assert_array_equal(a.landmarks, b.landmarks)
    np.testing.assert_array_equal(a.world_landmarks, b.world_landmarks)
    assert a.mask is None and b.mask.shape == astronaut.shape[:2]
