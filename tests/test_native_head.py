"""The segmentation tail edgevision runs natively (kernels.SegmentationHead) and its split off a
model (runtime.load(native_heads=...), edgevision.runtime.native_head).

References: the layers written out plainly in NumPy (float64), LiteRT running the same layers
in small generated graphs, and BlazePose's own landmark model run whole.
"""

from __future__ import annotations

import numpy as np
import pytest
from edgevision import kernels, runtime
from hypothesis import given, settings
from hypothesis import strategies as st
from tflite_builders import Op, T, options, write

C = 8
RELU, RELU6 = 1, 3  # TFLite's ActivationFunctionType
SAME = 0


def random_head(rng, blocks: int, input_blocks: int = 0, first_level: int | None = None) -> dict:
    """Weights of a head; ``first_level``: the blocks of a level before the last one, which adds
    a skip map (BlazePose's form)."""
    def n(*shape):
        return rng.normal(0.0, 0.4, shape).astype(np.float32)

    weights = {"head": n(3, 3, C), "head_bias": n(1)}
    for prefix, count in (("", blocks), ("input_", input_blocks), ("first_", first_level or 0)):
        weights.update({prefix + "depthwise": n(count, 3, 3, C), prefix + "depthwise_bias": n(count, C),
                        prefix + "pointwise": n(count, C, C), prefix + "pointwise_bias": n(count, C)})
    weights["two_levels"] = first_level is not None
    return weights


def numpy_head(features: np.ndarray, w: dict, skip: np.ndarray | None = None) -> np.ndarray:
    """The layers one by one in float64: blocks, [half-pixel bilinear 2x (clamped) + skip,
    blocks,] half-pixel bilinear 2x, blocks, the 3x3 convolution; SAME zero padding."""

    def upsample_axis(a, axis):
        n = a.shape[axis]
        src = (np.arange(2 * n) + 0.5) / 2 - 0.5
        lo = np.floor(src).astype(int)
        frac = src - lo
        i0, i1 = np.clip(lo, 0, n - 1), np.clip(lo + 1, 0, n - 1)
        shape = [1] * a.ndim
        shape[axis] = 2 * n
        return np.take(a, i0, axis) * (1 - frac).reshape(shape) + np.take(a, i1, axis) * frac.reshape(shape)

    def taps(a):  # the 9 shifted copies of a zero-padded plane: [9, H, W, C]
        p = np.pad(a, ((1, 1), (1, 1), (0, 0)))
        return np.stack([p[dy:dy + a.shape[0], dx:dx + a.shape[1]] for dy in range(3) for dx in range(3)])

    def relu6(v):
        return np.clip(v, 0.0, 6.0)

    def blocks(x, prefix):
        for b in range(len(w[prefix + "depthwise"])):
            d = relu6(np.einsum("thwc,tc->hwc", taps(x), w[prefix + "depthwise"][b].reshape(9, C))
                      + w[prefix + "depthwise_bias"][b])
            x = relu6(x + np.einsum("hwi,oi->hwo", d, w[prefix + "pointwise"][b]) + w[prefix + "pointwise_bias"][b])
        return x

    x = blocks(features.astype(np.float64), "input_")
    if w["two_levels"]:
        x = blocks(upsample_axis(upsample_axis(x, 0), 1) + skip.reshape(-1, skip.shape[-2], C), "first_")
    x = blocks(upsample_axis(upsample_axis(x, 0), 1), "")
    return np.einsum("thwc,tc->hw", taps(x), w["head"].reshape(9, C)) + float(w["head_bias"][0])


def make(w: dict) -> kernels.SegmentationHead:
    before = {k: v for k, v in w.items() if k.startswith("input_")}
    earlier = [{k[len("first_"):]: v for k, v in w.items() if k.startswith("first_")} | {"skip": True}] \
        if w["two_levels"] else []
    return kernels.SegmentationHead(w["depthwise"], w["depthwise_bias"], w["pointwise"], w["pointwise_bias"],
                                    w["head"], w["head_bias"], earlier_levels=earlier, **before)


def assert_close(got, expected, tolerance=2e-5):
    """Float32 rounding against the plane's scale (a logit near 0 may come from large terms)."""
    error = np.abs(got - expected).max() / (1.0 + np.abs(expected).max())
    assert error < tolerance, f"error {error:.2e} of the scale"


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), blocks=st.integers(0, 4), input_blocks=st.integers(0, 4),
       first_level=st.one_of(st.none(), st.integers(0, 2)), pad=st.integers(0, 3), threads=st.sampled_from([1, 2, 4]),
       seed=st.integers(0, 2**31 - 1))
def test_kernel_equals_the_layers_in_numpy(h, w, blocks, input_blocks, first_level, pad, threads, seed):
    rng = np.random.default_rng(seed)
    weights = random_head(rng, blocks, input_blocks, first_level)
    padded = rng.uniform(-1, 3, (h, w + pad, C)).astype(np.float32)
    features = padded[:, :w]  # strided rows, read in place
    skips = [rng.uniform(-1, 1, (1, 2 * h, 2 * w, C)).astype(np.float32)] if first_level is not None else []
    got = make(weights)(features, skips=skips, threads=threads)
    scale = 4 if first_level is not None else 2
    assert got.shape == (scale * h, scale * w) and got.dtype == np.float32
    assert_close(got, numpy_head(features, weights, skips[0] if skips else None))
    again = make(weights)(np.ascontiguousarray(features)[None], skips=skips, threads=1)
    assert np.array_equal(got, again)  # threads, layout: same bits


def test_sigmoid_activation_matches_the_exact_sigmoid_of_the_logits():
    rng = np.random.default_rng(5)
    weights = random_head(rng, 2, 1)
    weights["head"] *= 20  # logits far into both tails
    features = rng.uniform(0, 3, (9, 11, C)).astype(np.float32)
    logits = make(weights)(features)
    assert logits.min() < -90 and logits.max() > 90
    probabilities = make(weights)(features, activation="sigmoid", threads=2)
    exact = 0.5 * (np.tanh(0.5 * logits.astype(np.float64)) + 1)
    assert np.abs(probabilities - exact).max() < 3e-7
    assert probabilities.min() > 0 and probabilities.min() >= np.finfo(np.float32).tiny  # never subnormal


def test_kernel_writes_into_out_and_only_there():
    rng = np.random.default_rng(1)
    weights = random_head(rng, 2)
    features = rng.uniform(0, 2, (16, 16, C)).astype(np.float32)
    out = np.full((32, 32), np.nan, np.float32)
    assert make(weights)(features, out=out) is out
    assert np.array_equal(out, make(weights)(features))


# ----------------------------------------------------------------- split off a TFLite graph


def tail_graph(path, weights: dict, h: int, w: int, *, dw_activation=RELU6, half_pixel=True):
    """features [1, h, w, 8] -> blocks -> [RESIZE_BILINEAR 2x + skip (a second input, doubled) ->
    blocks ->] RESIZE_BILINEAR 2x -> blocks -> CONV_2D 3x3 -> logits, plus another output (the
    features doubled) that must survive the split."""
    two = weights["two_levels"]
    H, W = (4 * h, 4 * w) if two else (2 * h, 2 * w)
    tensors = [T("features", [1, h, w, C])]
    ops = []

    def blocks(x: int, prefix: str, height: int, width: int) -> int:
        for b in range(len(weights[prefix + "depthwise"])):
            base, name = len(tensors), f"{prefix}{b}"
            tensors.extend([
                T(f"dw{name}", [1, 3, 3, C], data=weights[prefix + "depthwise"][b][None]),
                T(f"dwb{name}", [C], data=weights[prefix + "depthwise_bias"][b]), T(f"d{name}", [1, height, width, C]),
                T(f"pw{name}", [C, 1, 1, C], data=weights[prefix + "pointwise"][b].reshape(C, 1, 1, C)),
                T(f"pwb{name}", [C], data=weights[prefix + "pointwise_bias"][b]), T(f"p{name}", [1, height, width, C]),
                T(f"x{name}", [1, height, width, C])])
            ops.extend([
                Op("DEPTHWISE_CONV_2D", [x, base, base + 1], [base + 2],
                   options("DepthwiseConv2D", padding=SAME, strideW=1, strideH=1, depthMultiplier=1,
                           dilationWFactor=1, dilationHFactor=1, fusedActivationFunction=dw_activation)),
                Op("CONV_2D", [base + 2, base + 3, base + 4], [base + 5],
                   options("Conv2D", padding=1, strideW=1, strideH=1, dilationWFactor=1, dilationHFactor=1,
                           fusedActivationFunction=0)),
                Op("ADD", [x, base + 5], [base + 6], options("Add", fusedActivationFunction=RELU6))])
            x = base + 6
        return x

    def upsample(x: int, height: int, width: int) -> int:
        base = len(tensors)
        tensors.extend([T(f"size{height}", [2], np.int32, np.array([height, width], np.int32)),
                        T(f"upsampled{height}", [1, height, width, C])])
        ops.append(Op("RESIZE_BILINEAR", [x, base], [base + 1],
                      options("ResizeBilinear", alignCorners=False, halfPixelCenters=half_pixel)))
        return base + 1

    x = blocks(0, "input_", h, w)
    inputs = [0]
    if two:
        base = len(tensors)
        tensors += [T("skip_in", [1, 2 * h, 2 * w, C]), T("skip", [1, 2 * h, 2 * w, C]), T("summed", [1, 2 * h, 2 * w, C])]
        inputs.append(base)
        ops.append(Op("ADD", [base, base], [base + 1], options("Add", fusedActivationFunction=0)))
        up = upsample(x, 2 * h, 2 * w)
        ops.append(Op("ADD", [up, base + 1], [base + 2], options("Add", fusedActivationFunction=0)))
        x = blocks(base + 2, "first_", 2 * h, 2 * w)
    x = blocks(upsample(x, H, W), "", H, W)
    base = len(tensors)
    tensors += [T("head_w", [1, 3, 3, C], data=weights["head"][None]), T("head_b", [1], data=weights["head_bias"]),
                T("logits", [1, H, W, 1]), T("doubled", [1, h, w, C])]
    ops += [Op("CONV_2D", [x, base, base + 1], [base + 2],
               options("Conv2D", padding=SAME, strideW=1, strideH=1, dilationWFactor=1, dilationHFactor=1,
                       fusedActivationFunction=0)),
            Op("ADD", [0, 0], [base + 3], options("Add", fusedActivationFunction=0))]
    return write(path, tensors, ops, inputs, [base + 2, base + 3])


@pytest.mark.parametrize("input_blocks, blocks, first_level", [(0, 0, None), (0, 1, None), (2, 2, None), (1, 0, None),
                                                               (4, 4, None), (0, 2, 2), (1, 1, 0)])
def test_split_graph_plus_kernel_equals_the_graph(tmp_path, input_blocks, blocks, first_level):
    rng = np.random.default_rng(blocks)
    weights = random_head(rng, blocks, input_blocks, first_level)
    path = tail_graph(tmp_path / f"tail{input_blocks}{blocks}{first_level}.tflite", weights, 9, 13)
    features = rng.uniform(0, 2, (1, 9, 13, C)).astype(np.float32)
    inputs = [features] + ([rng.uniform(-1, 1, (1, 18, 26, C)).astype(np.float32)] if first_level is not None else [])
    whole = runtime.load(path)
    split = runtime.load(path, native_heads=["logits"])
    assert whole.native_heads == {} and set(split.native_heads) == {"logits"}
    head = split.native_heads["logits"]
    assert (head.input_blocks, head.blocks, head.levels) == (input_blocks, blocks, 2 if first_level is not None else 1)
    skip_names = ["logits/skip0"] if first_level is not None else []
    assert split.native_head_skips["logits"] == skip_names
    assert [o.name for o in split.outputs] == ["logits", "doubled"] + skip_names  # the skip map: an output too
    assert split.outputs[0].shape == (1, 9, 13, C)  # the tail's input, under the output's name
    logits, doubled = whole.run(inputs)
    features_out, doubled_split, *skips = split.run(inputs)
    np.testing.assert_array_equal(doubled_split, doubled)
    np.testing.assert_array_equal(features_out, features)
    assert_close(head(features_out, skips=skips), logits[0, :, :, 0])
    skip = 2 * inputs[1] if first_level is not None else None
    assert_close(logits[0, :, :, 0], numpy_head(features[0], weights, skip))


@pytest.mark.parametrize("change", ["relu_depthwise", "align_corners"])
def test_a_different_tail_is_left_to_the_model(tmp_path, change):
    rng = np.random.default_rng(7)
    weights = random_head(rng, 1)
    path = tail_graph(tmp_path / f"{change}.tflite", weights, 4, 4,
                      dw_activation=RELU if change == "relu_depthwise" else RELU6,
                      half_pixel=change != "align_corners")
    model = runtime.load(path, native_heads=["logits"])
    assert model.native_heads == {} and model.outputs[0].shape == (1, 8, 8, 1)


def test_other_runtimes_keep_the_models_head(tmp_path):
    weights = random_head(np.random.default_rng(3), 1)
    path = tail_graph(tmp_path / "tail.tflite", weights, 4, 4)
    assert runtime.load(path, native_heads=["logits"], options={"xnnpack": False}).native_heads == {}
    with pytest.raises(TypeError, match="native_heads"):
        runtime.load(path, native_heads="logits")


def test_blazepose_mask_head_runs_natively():
    """The pose landmark model: its 256x256 mask tail is cut off; every other output stays
    bit-identical, and the kernel's logits match the whole model's."""
    import cv2
    import skimage.data

    crop = cv2.resize(skimage.data.astronaut(), (256, 256)).astype(np.float32)[None] / 255
    whole = runtime.load("pose_landmark_full")
    split = runtime.load("pose_landmark_full", native_heads=["Identity_2"])
    head = split.native_heads.get("Identity_2")
    # 64x64x8 features, the 128x128x8 skip map, two blocks per level.
    assert head is not None and (head.levels, head.input_blocks, head.blocks) == (2, 0, 2)
    assert split.native_head_skips["Identity_2"] == ["Identity_2/skip0"]
    expected, got = whole.run([crop]), split.run([crop])
    names = [o.name for o in split.outputs]
    for name, a in zip([o.name for o in whole.outputs], expected):
        if name != "Identity_2":
            np.testing.assert_array_equal(got[names.index(name)], a)
    logits = head(got[names.index("Identity_2")], skips=[got[names.index("Identity_2/skip0")]], threads=2)
    reference = expected[2][0, :, :, 0]
    # The head sums products of logits in the hundreds: float32 rounding against that scale.
    assert np.abs(logits - reference).max() <= 1e-5 * np.abs(reference).max()
    def sigmoid(v):
        return 0.5 * (np.tanh(0.5 * v.astype(np.float64)) + 1)

    assert np.abs(sigmoid(logits) - sigmoid(reference)).max() < 5e-4


# ------------------------------------------------------------------------------ bad input


def bad_calls():
    w = random_head(np.random.default_rng(0), 1)
    head = make(w)
    good = np.zeros((4, 4, C), np.float32)
    yield (lambda: make({**w, "depthwise": w["depthwise"][0]}), ValueError, "depthwise")
    yield (lambda: make({**w, "input_depthwise": w["depthwise"]}), ValueError, "input_depthwise")  # without its peers
    two = random_head(np.random.default_rng(1), 1, 2)
    yield (lambda: make({**two, "input_pointwise": two["input_pointwise"][:1]}), ValueError, "input_pointwise")
    yield (lambda: make({**w, "depthwise": np.zeros((5, 3, 3, C), np.float32)}), ValueError, "depthwise")
    yield (lambda: make({**w, "pointwise": np.zeros((1, C, 4), np.float32)}), ValueError, "pointwise")
    yield (lambda: make({**w, "head": np.full((3, 3, C), np.nan, np.float32)}), ValueError, "head")
    yield (lambda: make({**w, "head_bias": np.array([1, 2], np.float32)}), ValueError, "head_bias")
    yield (lambda: make({**w, "depthwise_bias": [0.0] * 8}), TypeError, "depthwise_bias")
    yield (lambda: make({**w, "pointwise_bias": np.zeros((1, C), np.int32)}), TypeError, "pointwise_bias")
    yield (lambda: head(good.astype(np.float64)), TypeError, "features")
    yield (lambda: head(np.zeros((4, 4, 3), np.float32)), ValueError, "features")
    yield (lambda: head(np.zeros((0, 4, C), np.float32)), ValueError, "features")
    yield (lambda: head(np.zeros((4, 8, C), np.float32)[:, ::2]), ValueError, "features")
    yield (lambda: head(np.zeros((4, 4, 2 * C), np.float32)[:, :, ::2]), ValueError, "features")
    yield (lambda: head(good, out=np.zeros((8, 9), np.float32)), ValueError, "out")
    yield (lambda: head(good, out=np.zeros((8, 8), np.float64)), TypeError, "out")
    yield (lambda: head(good, threads=0), ValueError, "threads")
    yield (lambda: head(good, activation="softmax"), ValueError, "activation")
    yield (lambda: head(good, activation=None), TypeError, "activation")
    yield (lambda: head([[0.0] * C]), TypeError, "features")
    yield (lambda: head(good, skips=[good]), ValueError, "skips")  # this head adds none
    yield (lambda: head(good, skips=good), TypeError, "skips")
    two_level = make(random_head(np.random.default_rng(2), 1, 0, 1))
    yield (lambda: two_level(good), ValueError, "skips")  # its map missing
    yield (lambda: two_level(good, skips=[np.zeros((4, 4, C), np.float32)]), ValueError, "skips")  # 8x8 expected
    yield (lambda: two_level(good, skips=[np.zeros((8, 8, C), np.float64)]), TypeError, "skips")
    yield (lambda: make({**w, "two_levels": False}) and kernels.SegmentationHead(
        w["depthwise"], w["depthwise_bias"], w["pointwise"], w["pointwise_bias"], w["head"], w["head_bias"],
        earlier_levels=[{"depthwise": w["depthwise"]}]), ValueError, "earlier_levels")
    yield (lambda: kernels.SegmentationHead(
        w["depthwise"], w["depthwise_bias"], w["pointwise"], w["pointwise_bias"], w["head"], w["head_bias"],
        earlier_levels=[{}, {}]), ValueError, "earlier_levels")


@pytest.mark.parametrize("call, error, name", list(bad_calls()))
def test_bad_input_names_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()
