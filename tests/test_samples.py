"""edgevision.samples: deterministic synthetic videos (inputs of the MediaPipe fixtures)."""

from __future__ import annotations

import inspect

import cv2
import numpy as np
import pytest

from edgevision import samples


def _mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_synthetic_video_count_shape_dtype(astronaut):
    frames = list(samples.synthetic_video(astronaut, frames=12, size=(320, 240)))
    assert len(frames) == 12
    for frame in frames:
        assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8 and frame.flags.c_contiguous


def test_synthetic_video_defaults_to_90_frames_of_640x480(astronaut):
    assert inspect.signature(samples.synthetic_video).parameters["frames"].default == 90
    assert next(samples.synthetic_video(astronaut)).shape == (480, 640, 3)


def test_synthetic_video_is_deterministic(astronaut):
    first = list(samples.synthetic_video(astronaut, frames=10, size=(200, 150)))
    second = list(samples.synthetic_video(astronaut.copy(), frames=10, size=(200, 150)))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_camera_path_stays_in_documented_ranges():
    path = samples.orbit_path(90, (640, 480))
    scales = np.array([p.scale for p in path])
    angles = np.array([p.angle_deg for p in path])
    shifts = np.array([p.shift for p in path])
    assert scales.min() >= 0.8 - 1e-12 and scales.max() <= 1.1 + 1e-12
    assert np.abs(angles).max() <= 15 + 1e-12 and np.abs(angles).max() > 14
    assert np.abs(shifts[:, 0]).max() <= 0.06 * 640 + 1e-9 and np.abs(shifts[:, 1]).max() <= 0.04 * 480 + 1e-9
    # Smooth and looping: steps between neighbours (including last -> first) are small.
    for values, step in ((scales, 0.025), (angles, 1.1), (shifts[:, 0], 2.7), (shifts[:, 1], 2.7)):
        assert np.abs(np.diff(np.append(values, values[0]))).max() < step


def test_successive_frames_differ_smoothly(astronaut):
    # Blurred, so a sub-pixel move of a sharp edge counts as small, as it should.
    video = samples.synthetic_video(astronaut, frames=90, size=(240, 180))
    frames = [cv2.GaussianBlur(f, (0, 0), 4) for f in video]
    steps = [_mean_abs_diff(a, b) for a, b in zip(frames, frames[1:] + frames[:1])]
    far = _mean_abs_diff(frames[0], frames[45])
    assert min(steps) > 0  # the camera never stops
    assert max(steps) < far / 4  # neighbours (and last -> first) are much closer than half a loop apart


def test_render_identity_returns_the_image(astronaut):
    out = samples.render(astronaut, (512, 512), samples.Pose2D())
    np.testing.assert_array_equal(out, astronaut)


@pytest.mark.parametrize("size", [(64, 64), (65, 65)])
def test_render_positive_angle_turns_counter_clockwise(rng, size):
    image = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    out = samples.render(image, size, samples.Pose2D(angle_deg=90.0))
    np.testing.assert_array_equal(out, np.rot90(image))


def test_render_shift_moves_content_and_fills_border_grey(rng):
    image = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    out = samples.render(image, (60, 40), samples.Pose2D(shift=(7.0, -3.0)))
    np.testing.assert_array_equal(out[:37, 7:], image[3:, :53])
    assert (out[:, :7] == samples.BORDER_RGB).all() and (out[37:] == samples.BORDER_RGB).all()


def test_warp_matches_opencv_warp_affine(astronaut):
    """Bit-identical to OpenCV 4.x; OpenCV 5 rounds differently (a few grey levels, few pixels)."""
    for size in [(640, 480), (333, 517)]:
        for pose in samples.orbit_path(90, size)[::11] + [samples.Pose2D(1.3, -33.0, (10.5, -7.25))]:
            matrix = samples.inverse_matrix((512, 512), size, pose)
            expected = cv2.warpAffine(
                astronaut, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT, borderValue=samples.BORDER_RGB,
            )
            diff = np.abs(samples.render(astronaut, size, pose).astype(np.int16) - expected)
            if cv2.__version__.startswith("4."):
                assert diff.max() == 0
            else:
                assert diff.max() <= 8 and (diff > 0).mean() < 0.1


def test_exit_and_reenter_leaves_then_returns(astronaut):
    frames = list(samples.exit_and_reenter_video(astronaut, frames=30, size=(320, 240)))
    assert len(frames) == 30
    empty = [bool((f == samples.BORDER_RGB).all()) for f in frames]
    assert not empty[0] and not empty[-1]
    assert all(empty[10:20])  # the middle third shows no person at all
    np.testing.assert_array_equal(frames[0], frames[-1])
    np.testing.assert_array_equal(frames[3], frames[-4])  # the return mirrors the exit


def test_to_rgb(rng):
    gray = rng.integers(0, 256, (7, 9), dtype=np.uint8)
    rgb = samples.to_rgb(gray)
    assert rgb.shape == (7, 9, 3) and rgb.flags.c_contiguous
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], gray)
    np.testing.assert_array_equal(samples.to_rgb(gray[..., None]), rgb)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda img: samples.to_rgb(np.zeros((4, 4), np.float32)), "gray"),
        (lambda img: samples.to_rgb(np.zeros((4, 4, 3), np.uint8)), "gray"),
        (lambda img: list(samples.synthetic_video(img[..., 0])), "image"),
        (lambda img: list(samples.synthetic_video(img.astype(np.float32))), "image"),
        (lambda img: list(samples.synthetic_video(img, frames=0)), "frames"),
        (lambda img: list(samples.synthetic_video(img, frames=2.0)), "frames"),
        (lambda img: list(samples.synthetic_video(img, size=(0, 10))), "size"),
        (lambda img: list(samples.synthetic_video(img, size=640)), "size"),
        (lambda img: list(samples.exit_and_reenter_video(img, frames=-1)), "frames"),
        (lambda img: samples.warp_affine_linear(img, np.eye(3), (8, 8)), "matrix"),
    ],
)
def test_bad_input_names_the_argument(astronaut, call, argument):
    with pytest.raises(ValueError, match=argument):
        call(astronaut)
