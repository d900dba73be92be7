"""Sam2Predictor on AI Hub's SAM 2 contract as its TFLite export lays it out (LiteRT, NHWC).

AI Hub's TFLite/QNN SAM 2 takes the image channel-last ([1, 1024, 1024, 3]) and returns the
feature maps and the mask channel-last ([1, 256, 256, 1]); the point prompt is encoded inside
the encoder from coordinates normalised to the original image (``../shared/spec``, §3). The
real weights are not reachable here, so the two models are small graphs of that exact I/O whose
outputs are plain functions of their inputs: average pools of the image through 1x1
convolutions for the features and the mask, and the prompt written into the sparse embedding.
NumPy recomputes each from what the predictor must have fed, so the test checks the image
layout, the coordinate normalisation, the label passing, the mask layout and the
post-processing through LiteRT. (The ONNX export of the same contract is checked against
PyTorch SAM 2 in test_sam2_torch.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

import edgevision
from tflite_builders import T, Op, options, write

SIZE = 1024
RNG = np.random.default_rng(11)
W_EMBED = RNG.normal(size=(256, 1, 1, 3)).astype(np.float32)  # OHWI, 3 -> 256 channels
W_HIGH1 = RNG.normal(size=(32, 1, 1, 3)).astype(np.float32)
W_HIGH2 = RNG.normal(size=(64, 1, 1, 3)).astype(np.float32)
W_MASK = RNG.normal(size=(1, 1, 1, 32)).astype(np.float32)
MASK_BIAS = np.array([-0.1], np.float32)


def _pool(size: int):
    return options("Pool2D", padding=1, strideW=size, strideH=size, filterWidth=size, filterHeight=size)


def _conv():
    return options("Conv2D", padding=1, strideW=1, strideH=1)


def build_encoder(path):
    tensors = [
        T("image", (1, SIZE, SIZE, 3)), T("unnorm_coords", (1, 2, 2)), T("labels", (1, 2)),  # 0-2
        T("pool16", (1, 64, 64, 3)), T("w_embed", W_EMBED.shape, data=W_EMBED),  # 3-4
        T("b_embed", (256,), data=np.zeros(256, np.float32)), T("image_embeddings", (1, 64, 64, 256)),  # 5-6
        T("pool4", (1, 256, 256, 3)), T("w_high1", W_HIGH1.shape, data=W_HIGH1),  # 7-8
        T("b_high1", (32,), data=np.zeros(32, np.float32)), T("high_res_features1", (1, 256, 256, 32)),  # 9-10
        T("pool8", (1, 128, 128, 3)), T("w_high2", W_HIGH2.shape, data=W_HIGH2),  # 11-12
        T("b_high2", (64,), data=np.zeros(64, np.float32)), T("high_res_features2", (1, 128, 128, 64)),  # 13-14
        # sparse_embedding row k < 2: (x_k, y_k, label_k, 0, ...); row 2 (padding token): zeros
        T("label_shape", (3,), np.int32, np.array([1, 2, 1], np.int32)), T("labels3", (1, 2, 1)),  # 15-16
        T("prompt", (1, 2, 3)), T("paddings", (3, 2), np.int32, np.array([[0, 0], [0, 1], [0, 253]], np.int32)),  # 17-18
        T("sparse_embedding", (1, 3, 256)),  # 19
    ]
    ops = [
        Op("AVERAGE_POOL_2D", [0], [3], _pool(16)), Op("CONV_2D", [3, 4, 5], [6], _conv()),
        Op("AVERAGE_POOL_2D", [0], [7], _pool(4)), Op("CONV_2D", [7, 8, 9], [10], _conv()),
        Op("AVERAGE_POOL_2D", [0], [11], _pool(8)), Op("CONV_2D", [11, 12, 13], [14], _conv()),
        Op("RESHAPE", [2, 15], [16]), Op("CONCATENATION", [1, 16], [17], options("Concatenation", axis=2)),
        Op("PAD", [17, 18], [19]),
    ]
    return write(path, tensors, ops, [0, 1, 2], [6, 10, 14, 19])


def build_decoder(path):
    tensors = [
        T("image_embeddings", (1, 64, 64, 256)), T("high_res_features1", (1, 256, 256, 32)),  # 0-1
        T("high_res_features2", (1, 128, 128, 64)), T("sparse_embedding", (1, 3, 256)),  # 2-3
        T("w_mask", W_MASK.shape, data=W_MASK), T("b_mask", (1,), data=MASK_BIAS), T("masks", (1, 256, 256, 1)),  # 4-6
        T("axes", (2,), np.int32, np.array([1, 2], np.int32)), T("scores", (1, 1)),  # 7-8
    ]
    ops = [Op("CONV_2D", [1, 4, 5], [6], _conv()), Op("MEAN", [3, 7], [8], options("Reducer", keepDims=False))]
    return write(path, tensors, ops, [0, 1, 2, 3], [6, 8])


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aihub_sam2_tflite")
    return edgevision.Sam2Predictor(build_encoder(folder / "encoder.tflite"), build_decoder(folder / "decoder.tflite"),
                                    runtime="litert")


def block_mean(nhwc: np.ndarray, size: int) -> np.ndarray:
    n, h, w, c = nhwc.shape
    return nhwc.reshape(n, h // size, size, w // size, size, c).mean(axis=(2, 4), dtype=np.float64)


def expected_low_res(image: np.ndarray) -> np.ndarray:
    """The mask logits the decoder computes from what the encoder must have received."""
    tensor = edgevision.kernels.sam2_image_tensor(image).transpose(0, 2, 3, 1)  # NHWC, as the export takes it
    high1 = block_mean(tensor, 4) @ W_HIGH1[:, 0, 0, :].T.astype(np.float64)
    return (high1 @ W_MASK[0, 0, 0, :].astype(np.float64) + MASK_BIAS[0])[0]


def test_layout_and_prompt_reach_the_models(predictor, astronaut):
    image = np.ascontiguousarray(astronaut[:400, :300])  # not square: normalisation per axis shows
    predictor.set_image(image)
    points = np.array([[120.0, 50.0], [30.0, 390.0]])
    result = predictor.predict(points=points, labels=[1, 1])
    low_res = expected_low_res(image)
    assert result.low_res_logits.shape == (256, 256)
    np.testing.assert_allclose(result.low_res_logits, low_res, rtol=0, atol=2e-4)
    # The score is the decoder's mean of the sparse embedding: coordinates normalised to the
    # original image (x / W, y / H), labels as given, nothing else in it.
    prompt_sum = (points[:, 0] / 300).sum() + (points[:, 1] / 400).sum() + 2.0
    assert result.score == pytest.approx(prompt_sum / (3 * 256), abs=1e-6)
    assert result.token == 0
    # The channel-last mask is upsampled to the image and thresholded at 0 like any other.
    expected = edgevision.kernels.sam2_postprocess(result.low_res_logits[None, None], np.array([result.score], np.float32),
                                                   image_size=(300, 400), multimask=False)
    assert result.mask.shape == (400, 300) and result.mask.dtype == bool
    np.testing.assert_array_equal(result.mask, expected.mask)
    assert 0 < result.mask.mean() < 1  # the test image gives a mask that is neither empty nor full


def test_one_point_pads_with_a_minus_one_label(predictor, astronaut):
    predictor.set_image(astronaut)
    result = predictor.predict(points=[[256.0, 128.0]], labels=[1])
    # Second slot: coordinates (0, 0), label -1 (AI Hub's padding point).
    assert result.score == pytest.approx((0.5 + 0.25 + 1.0 - 1.0) / (3 * 256), abs=1e-6)


def test_encoder_runs_once_per_prompt(predictor, astronaut, monkeypatch):
    predictor.set_image(astronaut)
    calls = []
    run = predictor.encoder.run
    monkeypatch.setattr(predictor.encoder, "run", lambda *a, **k: calls.append(1) or run(*a, **k))
    first = predictor.predict(points=[[100.0, 100.0]], labels=[1])
    again = predictor.predict(points=[[100.0, 100.0]], labels=[1])
    other = predictor.predict(points=[[101.0, 100.0]], labels=[1])
    assert len(calls) == 2  # the same clicks reuse the encoded prompt
    assert again.score == first.score and other.score != first.score


def test_contract_limits(predictor, astronaut):
    predictor.set_image(astronaut)
    with pytest.raises(ValueError, match="encodes every point as a positive click"):
        predictor.predict(points=[[10, 10]], labels=[0])
    with pytest.raises(ValueError, match="clicks only"):
        predictor.predict(box=[0, 0, 10, 10])
    with pytest.raises(ValueError, match="at most 2 points"):
        predictor.predict(points=[[1, 1], [2, 2], [3, 3]])
