"""ssd_anchors against SsdAnchorsCalculator's formulas written plainly (spec §0.2)."""

from __future__ import annotations

import numpy as np
import pytest

import detection_reference as ref
from edgevision.kernels import ssd_anchors

POSE = dict(input_size=(224, 224), strides=(8, 16, 32, 32, 32), min_scale=0.1484375, max_scale=0.75)
FACE = dict(input_size=(128, 128), strides=(8, 16, 16, 16), min_scale=0.1484375, max_scale=0.75)


def reference(options):
    o = dict(options)
    return ref.ssd_anchors(
        o.pop("input_size"),
        o.pop("strides"),
        o.pop("min_scale"),
        o.pop("max_scale"),
        o.pop("aspect_ratios", (1.0,)),
        o.pop("anchor_offset", (0.5, 0.5)),
        o.pop("fixed_anchor_size", True),
        o.pop("interpolated_scale_aspect_ratio", 1.0),
        o.pop("reduce_boxes_in_lowest_layer", False),
    )


def test_pose_detector_gives_2254_anchors():
    anchors = ssd_anchors(**POSE)
    assert anchors.shape == (2254, 4) and anchors.dtype == np.float32
    np.testing.assert_array_equal(anchors, reference(POSE))
    # stride 8: 28x28 cells x 2, stride 16: 14x14 x 2, stride 32 (3 layers merged): 7x7 x 6
    assert np.all(anchors[:, 2:] == 1.0)
    np.testing.assert_array_equal(anchors[0], [np.float32(0.5) / np.float32(28)] * 2 + [1, 1])
    np.testing.assert_array_equal(anchors[1568], [np.float32(0.5) / np.float32(14)] * 2 + [1, 1])
    np.testing.assert_array_equal(anchors[1568 + 392 : 1568 + 392 + 6, :2], [[np.float32(0.5) / np.float32(7)] * 2] * 6)


def test_blazeface_short_range_gives_896_anchors():
    anchors = ssd_anchors(**FACE, num_layers=4)
    assert anchors.shape == (896, 4)
    np.testing.assert_array_equal(anchors, reference(FACE))


def test_ai_hub_blazepose_layout():
    """anchors_pose.npy of AI Hub's 128-px BlazePose detector (aihub spec §2a): rows 0-511 a
    16x16 grid with 2 anchors per cell, rows 512-895 an 8x8 grid with 6, x fastest,
    centres (i + 0.5) / grid, w = h = 1."""
    expected = []
    for grid, per_cell in ((16, 2), (8, 6)):
        for y in range(grid):
            for x in range(grid):
                expected += [((x + 0.5) / grid, (y + 0.5) / grid, 1.0, 1.0)] * per_cell
    anchors = ssd_anchors(**FACE)
    np.testing.assert_allclose(anchors, np.array(expected), rtol=0, atol=1e-7)
    np.testing.assert_array_equal(anchors[:4, :2], [[0.03125, 0.03125]] * 2 + [[0.09375, 0.03125]] * 2)


@pytest.mark.parametrize(
    "options",
    [
        dict(input_size=(300, 200), strides=(8, 16, 16, 32), min_scale=0.2, max_scale=0.95, fixed_anchor_size=False),
        dict(
            input_size=(320, 320),
            strides=(16, 32, 64),
            min_scale=0.1,
            max_scale=0.9,
            aspect_ratios=(1.0, 2.0, 0.5),
            fixed_anchor_size=False,
            reduce_boxes_in_lowest_layer=True,
        ),
        dict(
            input_size=(97, 61),
            strides=(8, 8, 24),
            min_scale=0.3,
            max_scale=0.6,
            aspect_ratios=(1.5,),
            anchor_offset=(0.0, 0.25),
            interpolated_scale_aspect_ratio=0.0,
            fixed_anchor_size=False,
        ),
        dict(input_size=(64, 48), strides=(16,), min_scale=0.2, max_scale=0.4, fixed_anchor_size=False),
    ],
    ids=["sizes", "reduced_lowest_layer", "odd_grid_no_interpolated", "one_layer"],
)
def test_general_options_match_reference(options):
    np.testing.assert_array_equal(ssd_anchors(**options), reference(options))
