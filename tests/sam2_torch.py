"""SAM 2 with PyTorch for the tests: the random-weight Hiera-tiny model, its cached ONNX export, and
``SAM2ImagePredictor``'s computation spelled out on that model (the reference).

Needs ``torch`` and the ``sam2`` package (``pip install 'edgevision[sam2-export]'`` + ``sam2 --no-deps``);
``missing()`` says what is absent. The export is cached in ``$EDGEVISION_TEST_CACHE`` (default:
``<edgevision cache>/test-cache``) under a key made of the export script's hash, the seed and the
torch/sam2 versions, so it is paid once and reused by later runs (and other processes: a file lock
guards it).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Optional

import numpy as np

REPO = Path(__file__).resolve().parent.parent
EXPORT_SCRIPT = REPO / "models" / "sam2" / "export.py"
SEED = 0
NAME = "sam2_hiera_tiny"
MODULES = ("torch", "sam2", "hydra", "omegaconf", "iopath")


def missing() -> Optional[str]:
    """Why the PyTorch-backed SAM 2 tests cannot run here, or None."""
    absent = [m for m in MODULES if importlib.util.find_spec(m) is None]
    if absent:
        return (f"PyTorch SAM 2 reference unavailable (missing {', '.join(absent)}): pip install "
                "'edgevision[sam2-export]' and 'sam2==1.1.0' --no-deps (see pyproject.toml)")
    if not EXPORT_SCRIPT.is_file():
        return f"{EXPORT_SCRIPT} not found: the SAM 2 export tests run from a source checkout"
    return None


@functools.cache
def export_module():
    spec = importlib.util.spec_from_file_location("edgevision_sam2_export", EXPORT_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def model():
    """SAM 2.1 Hiera-tiny, random weights from the fixed seed, eval mode, CPU."""
    return export_module().build_model(seed=SEED)


def cache_dir() -> Path:
    import torch
    from importlib.metadata import version

    from edgevision import models

    base = Path(os.environ.get("EDGEVISION_TEST_CACHE") or models.cache_home() / "test-cache")
    key = f"{export_module().script_digest()}|seed={SEED}|torch={torch.__version__}|sam2={version('sam2')}"
    return base / f"{NAME}_seed{SEED}_{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def exported(contract: str = "edgevision") -> dict[str, Path]:
    """The ONNX files (and .npz) of ``contract``, exported once into the test cache."""
    from filelock import FileLock

    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    prefix = NAME if contract == "edgevision" else f"{NAME}_aihub"
    roles = {"encoder": ".onnx", "decoder": ".onnx"}
    if contract == "edgevision":
        roles.update(mask_input=".onnx", prompt_encoder=".npz")
    files = {role: directory / f"{prefix}_{role}{suffix}" for role, suffix in roles.items()}
    with FileLock(str(directory / f".{contract}.lock")):
        if not all(p.is_file() for p in files.values()) or not _same_weights(files):
            export_module().export_files(model(), directory, NAME, contract, log=lambda *_: None)
    return files


def _same_weights(files: dict[str, Path]) -> bool:
    """The cached export came from the model rebuilt here (same RNG stream): its prompt parameters match."""
    if "prompt_encoder" not in files:
        return True
    with np.load(files["prompt_encoder"]) as cached:
        fresh = export_module().prompt_parameters(model())
        return all(np.array_equal(cached[k], v) for k, v in fresh.items())


# ---------------------------------------------------------------------------- reference


class Reference:
    """``SAM2ImagePredictor.set_image`` / ``predict`` on the same model, step by step in PyTorch.

    torchvision's ``Resize((1024, 1024))`` + ``Normalize`` (what ``SAM2Transforms`` applies to the
    ``ToTensor`` image) is written as the torch calls it makes: ``interpolate(bilinear,
    antialias=True)`` and ``(x - mean) / std``.
    """

    def __init__(self, sam_model=None):
        self.model = sam_model if sam_model is not None else model()

    def set_image(self, image: np.ndarray) -> None:
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div(255)
        x = F.interpolate(x[None], (1024, 1024), mode="bilinear", align_corners=False, antialias=True)
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        self.tensor = x
        with torch.no_grad():
            backbone = self.model.forward_image((x - mean) / std)
            _, feats, _, _ = self.model._prepare_backbone_features(backbone)
            feats[-1] = feats[-1] + self.model.no_mem_embed
            sizes = [(256, 256), (128, 128), (64, 64)]
            maps = [f.permute(1, 2, 0).view(1, -1, *s) for f, s in zip(feats[::-1], sizes[::-1])][::-1]
        self.features = {"image_embed": maps[-1], "high_res_feats": maps[:-1]}
        self.orig_hw = image.shape[:2]

    def prompt(self, points=None, labels=None, box=None, mask_input=None, image_hw=None):
        """(sparse, dense) embeddings: _prep_prompts + the prompt part of _predict."""
        import torch

        h, w = image_hw or self.orig_hw
        coords = lab = None
        if points is not None:
            coords = torch.as_tensor(np.asarray(points), dtype=torch.float).clone()
            coords[..., 0] = coords[..., 0] / w
            coords[..., 1] = coords[..., 1] / h
            coords = (coords * 1024)[None]
            lab = torch.as_tensor(np.asarray(labels), dtype=torch.int)[None]
        if box is not None:
            b = torch.as_tensor(np.asarray(box), dtype=torch.float).reshape(-1, 2, 2).clone()
            b[..., 0] = b[..., 0] / w
            b[..., 1] = b[..., 1] / h
            b = b * 1024
            box_labels = torch.tensor([[2, 3]], dtype=torch.int).repeat(b.size(0), 1)
            if coords is not None:
                coords, lab = torch.cat([b, coords], dim=1), torch.cat([box_labels, lab], dim=1)
            else:
                coords, lab = b, box_labels
        mask = None
        if mask_input is not None:
            mask = torch.as_tensor(np.asarray(mask_input), dtype=torch.float).reshape(1, 1, 256, 256)
        with torch.no_grad():
            sparse, dense = self.model.sam_prompt_encoder(points=None if coords is None else (coords, lab),
                                                          boxes=None, masks=mask)
        return sparse.detach(), dense.detach()  # the no-mask dense embedding is a view of a parameter

    def predict(self, points=None, labels=None, box=None, mask_input=None, multimask=True) -> dict:
        """What SAM2ImagePredictor.predict returns (masks, iou, low-res logits clamped), plus the
        decoder's four raw tokens and which one the predictor returned."""
        import torch
        import torch.nn.functional as F

        sparse, dense = self.prompt(points, labels, box, mask_input)
        decoder = self.model.sam_mask_decoder
        args = dict(image_embeddings=self.features["image_embed"], image_pe=self.model.sam_prompt_encoder.get_dense_pe(),
                    sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, repeat_image=False,
                    high_res_features=self.features["high_res_feats"])
        with torch.no_grad():
            low_res, iou, _, _ = decoder(multimask_output=multimask, **args)
            raw, raw_iou, _, object_score = decoder.predict_masks(**args)
            masks = F.interpolate(low_res, self.orig_hw, mode="bilinear", align_corners=False) > 0.0
        tokens = [k for k in range(4) if any(torch.equal(low_res[0, j], raw[0, k]) for j in range(low_res.shape[1]))]
        return {"masks": masks[0].numpy(), "iou": iou[0].numpy(), "low_res": torch.clamp(low_res, -32, 32)[0].numpy(),
                "raw": raw[0].numpy(), "raw_iou": raw_iou[0].numpy(), "object_score": float(object_score),
                "tokens": tokens, "sparse": sparse[0].numpy(), "dense": dense.numpy()}
