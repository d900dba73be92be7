"""Qualcomm AI Hub facemap_3dmm post-processing: 3DMM parameters to 68 face landmarks.

The model (``parameters_3dmm``, 265 values per face crop) predicts normalised 3DMM
parameters; with the basis files (``meanFace.npy``, ``shapeBasis.npy``, ``blendShape.npy``)
they give the face's 3D landmarks, which are rotated, projected and mapped back into the
crop's box. Formulas: ``/work/shared/spec/aihub_and_sam2.md`` §4 (AI Hub's
``facemap_3dmm/utils.py``); computed natively.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import numpy as np

from . import _native

__all__ = ["FaceMap3DMMBasis", "facemap_3dmm_decode", "BASIS_FILES"]

# File names in AI Hub's asset store (facemap_3dmm, asset version 1).
BASIS_FILES = {"mean_face": "meanFace.npy", "shape_basis": "shapeBasis.npy", "blend_shape": "blendShape.npy"}

Box = Union[Sequence[float], np.ndarray]


def _basis_array(name: str, value) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(value).__name__}")
    if value.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {value.dtype}")
    # Read in C order, like numpy's reshape: any on-disk layout that reshapes to the spec's works.
    return np.ascontiguousarray(value, dtype=np.float32)


def _native_property(name: str, doc: str) -> property:
    return property(lambda self: getattr(self._native, name), doc=doc)


class FaceMap3DMMBasis:
    """The 3DMM basis and parameter scaling, copied once into native memory.

    * ``mean_face``: ``3n`` values (n landmarks, ``x, y, z`` interleaved; any shape, read in
      C order: AI Hub's reshapes it to ``(204, 1)``, n = 68).
    * ``shape_basis``: ``3n x I`` identity columns (``(204, 219)``), ``blend_shape``:
      ``3n x E`` expression columns (``(204, 39)``); float32 or float64.
    * Scaling (``real = value * scale + offset`` per group), AI Hub's by default:
      ``identity_scale=3``, ``expression_scale=0.5, expression_offset=0.5``, angles
      ``angle_scale=pi/2``, ``translation_scale=60`` (tx, ty), ``focal_scale=150,
      focal_offset=450``, the constant depth ``tz=500``, and ``crop_size=128`` (the model
      input the landmarks are relative to).

    A model output then holds ``I + E + 6`` parameters (identity, expression, pitch, yaw,
    roll, tx, ty, focal) plus one unused value. Immutable; safe to share between threads.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        mean_face: np.ndarray,
        shape_basis: np.ndarray,
        blend_shape: np.ndarray,
        *,
        identity_scale: float = 3.0,
        identity_offset: float = 0.0,
        expression_scale: float = 0.5,
        expression_offset: float = 0.5,
        angle_scale: float = math.pi / 2,
        translation_scale: float = 60.0,
        focal_scale: float = 150.0,
        focal_offset: float = 450.0,
        tz: float = 500.0,
        crop_size: int = 128,
    ) -> None:
        scaling = dict(
            identity_scale=identity_scale, identity_offset=identity_offset, expression_scale=expression_scale,
            expression_offset=expression_offset, angle_scale=angle_scale, translation_scale=translation_scale,
            focal_scale=focal_scale, focal_offset=focal_offset, tz=tz, crop_size=crop_size,
        )
        self._native = _native._FaceMap3DMMBasis(
            _basis_array("mean_face", mean_face), _basis_array("shape_basis", shape_basis),
            _basis_array("blend_shape", blend_shape), scaling,
        )

    @classmethod
    def load(
        cls, basis_dir: Union[str, os.PathLike], *, files: Optional[Mapping[str, str]] = None, **scaling
    ) -> "FaceMap3DMMBasis":
        """From a directory holding AI Hub's ``meanFace.npy``, ``shapeBasis.npy`` and
        ``blendShape.npy`` (``files`` maps ``mean_face``/``shape_basis``/``blend_shape`` to
        other names); ``scaling`` as for the constructor."""
        if not isinstance(basis_dir, (str, os.PathLike)):
            raise TypeError(f"basis_dir must be a directory path, got {type(basis_dir).__name__}")
        folder = Path(basis_dir)
        if not folder.is_dir():
            raise FileNotFoundError(f"basis_dir: no such directory {str(folder)!r}")
        names = {**BASIS_FILES, **(files or {})}
        arrays = {}
        for key in BASIS_FILES:
            path = folder / names[key]
            if not path.is_file():
                raise FileNotFoundError(f"basis_dir: {names[key]} is missing from {str(folder)!r} (the facemap_3dmm "
                                        f"basis files are {', '.join(names[k] for k in BASIS_FILES)})")
            arrays[key] = np.load(path, allow_pickle=False)
        return cls(**arrays, **scaling)

    num_landmarks = _native_property("num_landmarks", "Landmarks per face (68 for AI Hub's basis).")
    num_identity = _native_property("num_identity", "Identity (shape) coefficients.")
    num_expression = _native_property("num_expression", "Expression (blend-shape) coefficients.")
    num_parameters = _native_property(
        "num_parameters", "De-normalised parameters per face: identity, expression, pitch, yaw, roll, tx, ty, focal."
    )
    crop_size = _native_property("crop_size", "Side of the square model input the landmarks are relative to.")
    scaling = _native_property("scaling", "The de-normalisation constants, as a dict.")

    def __repr__(self) -> str:
        return (f"FaceMap3DMMBasis(landmarks={self.num_landmarks}, identity={self.num_identity}, "
                f"expression={self.num_expression})")


def facemap_3dmm_decode(
    params: np.ndarray,
    basis: FaceMap3DMMBasis,
    box: Box,
    *,
    out: np.ndarray | None = None,
    parameters_out: np.ndarray | None = None,
) -> np.ndarray:
    """68 (``basis.num_landmarks``) landmarks, float32 ``[n, 2]`` image pixels, from one face's
    model output.

    ``params``: float32 ``[1, 265]`` (the model's ``parameters_3dmm``) or ``[264]``/``[265]``.
    ``box``: the crop the model saw, ``(x0, y0, x1, y1)`` in pixels, inclusive (the crop was
    ``image[y0:y1+1, x0:x1+1]`` stretched to ``crop_size`` squared). With ``a`` the
    de-normalised parameters::

        V = mean + shape_basis @ identity + blend_shape @ expression      (n x 3)
        R = Ry(-yaw) @ Rx(-pitch) @ Rx(-pi) @ Rz(-roll)
        p = (V @ R.T + (tx, ty, tz))[:, :2] * focal / tz
        x = (p_x + crop/2) * (x1 - x0 + 1) / crop + x0,  y likewise

    ``Rz(a) = [[cos a, -sin a, 0], [sin a, cos a, 0], [0, 0, 1]]``, ``Ry(a) = [[cos a, 0,
    sin a], [0, 1, 0], [-sin a, 0, cos a]]``, ``Rx(a) = [[1, 0, 0], [0, cos a, -sin a], [0,
    sin a, cos a]]``. The basis combination is float32 (as AI Hub's PyTorch code), the rest
    double. ``parameters_out`` (float32 ``[basis.num_parameters]``) receives the de-normalised
    parameters; ``out`` (float32 ``[n, 2]``) the landmarks.
    """
    if not isinstance(basis, FaceMap3DMMBasis):
        raise TypeError(f"basis must be an edgevision.kernels.FaceMap3DMMBasis, got {type(basis).__name__}")
    return _native.facemap_3dmm_decode(params, basis._native, box, out, parameters_out)[0]
