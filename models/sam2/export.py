"""Export SAM 2.1 (any size, via its config) to the ONNX files and prompt parameters edgevision runs.

Needs PyTorch (CPU) and the ``sam2`` package (``pip install edgevision[sam2-export]`` or see
``pyproject.toml``; ``sam2`` installs with ``--no-deps``)::

    python models/sam2/export.py --checkpoint sam2.1_hiera_tiny.pt
    python models/sam2/export.py --random-weights --seed 0 --out-dir /tmp/sam2   # tests
    python models/sam2/export.py --checkpoint sam2.1_hiera_tiny.pt --contract aihub

Files written (``<name>`` defaults to ``sam2_hiera_tiny``; without ``--out-dir`` each goes to the
edgevision cache path of its model card, so ``edgevision.Sam2Predictor()`` finds them):

* ``<name>_encoder.onnx``: ``image`` [1,3,1024,1024] RGB in [0,1] (ImageNet normalisation in
  the graph) -> ``image_embeddings`` [1,256,64,64] (``no_mem_embed`` added),
  ``high_res_features1`` [1,32,256,256], ``high_res_features2`` [1,64,128,128].
* ``<name>_decoder.onnx``: those three + ``sparse_embeddings`` [1,N,256] (N dynamic) +
  ``dense_embeddings`` [1,256,64,64] -> ``low_res_masks`` [1,4,256,256] (all four mask
  tokens, logits), ``iou_predictions`` [1,4], ``object_score_logits`` [1,1]. The dense
  positional encoding is a constant of the graph.
* ``<name>_mask_input.onnx``: ``mask_input`` [1,1,256,256] logits -> ``dense_embeddings``
  (the prompt encoder's ``mask_downscaling``), to feed a previous low-res mask back.
* ``<name>_prompt_encoder.npz``: ``gaussian_matrix`` [2,128], ``point_embeddings`` [4,256],
  ``not_a_point_embed`` [256], ``no_mask_embed`` [256], ``dense_pe`` [256,64,64] (the prompt
  encoder outside the graphs: edgevision computes it natively).

``--contract aihub`` writes instead Qualcomm AI Hub's split (ONNX, NCHW): an encoder that also
takes ``unnorm_coords`` [1,2,2] (normalised to [0,1]) and ``labels`` [1,2] and returns
``sparse_embedding`` [1,3,256] (every non-padding point gets the positive-click embedding), and
a decoder taking 3 sparse tokens that returns ``masks`` [1,1,256,256] and ``scores`` [1,1]
(mask token 0, no mask input).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import warnings
from pathlib import Path
from typing import Optional

DEFAULT_CONFIG = "configs/sam2.1/sam2.1_hiera_t.yaml"
DEFAULT_NAME = "sam2_hiera_tiny"
IMAGE_SIZE = 1024
OPSET = 17
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# build_sam2(apply_postprocessing=True): the single-mask output falls back to the best multimask
# output when unstable. Our decoder graph returns all four tokens and edgevision chooses natively.
POSTPROCESSING_OVERRIDES = [
    "++model.sam_mask_decoder_extra_args.dynamic_multimask_via_stability=true",
    "++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_delta=0.05",
    "++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_thresh=0.98",
]


def script_digest() -> str:
    """sha256 of this file: part of the key of cached exports (a changed script re-exports)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def build_model(config: str = DEFAULT_CONFIG, checkpoint: Optional[str] = None, seed: Optional[int] = None):
    """SAM2Base in eval mode on the CPU, from the sam2 package's config.

    With ``checkpoint`` the weights are loaded as ``sam2.build_sam`` does (``ckpt["model"]``,
    strict). Without it the weights are the modules' own random initialisation after
    ``torch.manual_seed(seed)``: deterministic for a given torch version.
    """
    import torch
    from hydra import compose
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    import sam2  # noqa: F401  (initialises hydra's config module)

    if checkpoint is None and seed is None:
        raise ValueError("give a checkpoint, or a seed for random weights")
    if seed is not None:
        torch.manual_seed(seed)
    cfg = compose(config_name=config, overrides=POSTPROCESSING_OVERRIDES)
    OmegaConf.resolve(cfg)
    model = instantiate(cfg.model, _recursive_=True)
    if checkpoint is not None:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        state = state.get("model", state)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise RuntimeError(f"{checkpoint} does not fit {config}: missing {list(missing)[:5]}, "
                               f"unexpected {list(unexpected)[:5]}")
    return model.eval()


# ------------------------------------------------------------------------------- graphs


def _modules():
    import torch

    class Encoder(torch.nn.Module):
        """Image in [0,1] -> the three feature maps SAM2ImagePredictor.set_image keeps."""

        def __init__(self, model):
            super().__init__()
            self.model = model
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

        def forward(self, image):
            backbone = self.model.forward_image((image - self.mean) / self.std)
            _, feats, _, sizes = self.model._prepare_backbone_features(backbone)
            feats[-1] = feats[-1] + self.model.no_mem_embed
            maps = [f.permute(1, 2, 0).reshape(1, -1, h, w) for f, (h, w) in zip(feats, sizes)]
            return maps[2], maps[0], maps[1]

    class Decoder(torch.nn.Module):
        """The mask decoder on all four mask tokens (selection happens outside)."""

        def __init__(self, model):
            super().__init__()
            self.decoder = model.sam_mask_decoder
            self.register_buffer("image_pe", model.sam_prompt_encoder.get_dense_pe().detach().clone())

        def forward(self, image_embeddings, high_res_features1, high_res_features2, sparse_embeddings,
                    dense_embeddings):
            masks, iou, _, object_score = self.decoder.predict_masks(
                image_embeddings=image_embeddings, image_pe=self.image_pe,
                sparse_prompt_embeddings=sparse_embeddings, dense_prompt_embeddings=dense_embeddings,
                repeat_image=False, high_res_features=[high_res_features1, high_res_features2])
            return masks, iou, object_score

    class MaskInput(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.mask_downscaling = model.sam_prompt_encoder.mask_downscaling

        def forward(self, mask_input):
            return self.mask_downscaling(mask_input)

    class AihubEncoder(torch.nn.Module):
        """AI Hub's SAM2Encoder contract: the image encoder plus positive-only point encoding."""

        def __init__(self, model):
            super().__init__()
            self.encoder = Encoder(model)
            pe = model.sam_prompt_encoder
            self.register_buffer("gaussian", pe.pe_layer.positional_encoding_gaussian_matrix.detach().clone())
            self.register_buffer("positive", pe.point_embeddings[1].weight.detach().clone())
            self.register_buffer("not_a_point", pe.not_a_point_embed.weight.detach().clone())

        def forward(self, image, unnorm_coords, labels):
            embeddings, feat1, feat2 = self.encoder(image)
            # p in [0,1] -> 2 * (p * 1024 + 0.5) / 1024 - 1, then the padding point (0, 0).
            coords = 2 * unnorm_coords + (-1 + 2 * 0.5 / IMAGE_SIZE)
            coords = torch.cat([coords, torch.zeros_like(coords[:, :1])], dim=1)
            labels = torch.cat([labels, -torch.ones_like(labels[:, :1])], dim=1).unsqueeze(-1)
            angles = 2 * math.pi * (coords @ self.gaussian)
            pe = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
            point = (labels != -1).to(pe.dtype)
            sparse = (pe + self.positive) * point + self.not_a_point * (1 - point)
            return embeddings, feat1, feat2, sparse

    class AihubDecoder(torch.nn.Module):
        """AI Hub's SAM2Decoder contract: no mask input, mask token 0 only."""

        def __init__(self, model):
            super().__init__()
            self.decoder = Decoder(model)
            no_mask = model.sam_prompt_encoder.no_mask_embed.weight.detach().clone().reshape(1, -1, 1, 1)
            self.register_buffer("no_mask", no_mask.expand(1, -1, *model.sam_prompt_encoder.image_embedding_size).clone())

        def forward(self, image_embeddings, high_res_features1, high_res_features2, sparse_embedding):
            masks, iou, _ = self.decoder(image_embeddings, high_res_features1, high_res_features2, sparse_embedding,
                                         self.no_mask)
            return masks[:, :1], iou[:, :1]

    return Encoder, Decoder, MaskInput, AihubEncoder, AihubDecoder


def prompt_parameters(model) -> dict:
    """The prompt encoder's parameters as float32 numpy arrays (the ``.npz`` contents)."""
    import numpy as np
    import torch

    pe = model.sam_prompt_encoder
    with torch.no_grad():
        params = {
            "gaussian_matrix": pe.pe_layer.positional_encoding_gaussian_matrix,
            "point_embeddings": torch.cat([e.weight for e in pe.point_embeddings], dim=0),
            "not_a_point_embed": pe.not_a_point_embed.weight[0],
            "no_mask_embed": pe.no_mask_embed.weight[0],
            "dense_pe": pe.get_dense_pe()[0],
        }
        return {k: np.ascontiguousarray(v.detach().cpu().numpy(), dtype=np.float32) for k, v in params.items()}


def _export(module, args, path: Path, inputs, outputs, dynamic_axes=None) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow on static shapes
        torch.onnx.export(module.eval(), args, str(tmp), dynamo=False, input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True)
    tmp.replace(path)
    return path


def export_files(model, out_dir: Optional[Path] = None, name: str = DEFAULT_NAME, contract: str = "edgevision",
                 *, log=print) -> dict[str, Path]:
    """Write the files of ``contract`` (``"edgevision"`` or ``"aihub"``); returns {role: path}."""
    import numpy as np
    import torch

    Encoder, Decoder, MaskInput, AihubEncoder, AihubDecoder = _modules()
    image = torch.rand(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    embed_hw = model.sam_prompt_encoder.image_embedding_size
    embeddings = torch.zeros(1, 256, *embed_hw)
    feat1 = torch.zeros(1, 32, 4 * embed_hw[0], 4 * embed_hw[1])
    feat2 = torch.zeros(1, 64, 2 * embed_hw[0], 2 * embed_hw[1])

    def target(role: str, suffix: str) -> Path:
        file_name = f"{name}_{role}{suffix}"
        if out_dir is not None:
            return Path(out_dir) / file_name
        return _cache_path(f"{name}_{role}", file_name)

    written: dict[str, Path] = {}
    if contract == "aihub":
        log("exporting the AI Hub-style encoder (image + 2 points)...")
        written["encoder"] = _export(
            AihubEncoder(model), (image, torch.rand(1, 2, 2), torch.ones(1, 2)), target("aihub_encoder", ".onnx"),
            ["image", "unnorm_coords", "labels"],
            ["image_embeddings", "high_res_features1", "high_res_features2", "sparse_embedding"])
        log("exporting the AI Hub-style decoder (3 sparse tokens, mask token 0)...")
        written["decoder"] = _export(
            AihubDecoder(model), (embeddings, feat1, feat2, torch.randn(1, 3, 256)), target("aihub_decoder", ".onnx"),
            ["image_embeddings", "high_res_features1", "high_res_features2", "sparse_embedding"], ["masks", "scores"])
        return written
    if contract != "edgevision":
        raise ValueError(f"contract must be 'edgevision' or 'aihub', got {contract!r}")
    log("exporting the encoder...")
    written["encoder"] = _export(Encoder(model), (image,), target("encoder", ".onnx"), ["image"],
                                 ["image_embeddings", "high_res_features1", "high_res_features2"])
    log("exporting the decoder...")
    written["decoder"] = _export(
        Decoder(model), (embeddings, feat1, feat2, torch.randn(1, 3, 256), torch.randn(1, 256, *embed_hw)),
        target("decoder", ".onnx"),
        ["image_embeddings", "high_res_features1", "high_res_features2", "sparse_embeddings", "dense_embeddings"],
        ["low_res_masks", "iou_predictions", "object_score_logits"],
        dynamic_axes={"sparse_embeddings": {1: "num_tokens"}})
    log("exporting the mask input encoder...")
    written["mask_input"] = _export(MaskInput(model), (torch.randn(1, 1, 4 * embed_hw[0], 4 * embed_hw[1]),),
                                    target("mask_input", ".onnx"), ["mask_input"], ["dense_embeddings"])
    params_path = target("prompt_encoder", ".npz")
    params_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = params_path.with_name(f".{params_path.name}.part.npz")
    np.savez(tmp, **prompt_parameters(model))
    tmp.replace(params_path)
    written["prompt_encoder"] = params_path
    return written


def _cache_path(card_name: str, file_name: str) -> Path:
    """The cache location of a card's file (or of a file named like one, for other model sizes)."""
    from edgevision import models

    try:
        return models.local_path(card_name)
    except ValueError:
        return models.cache_home() / "models" / card_name / file_name


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    weights = parser.add_mutually_exclusive_group(required=True)
    weights.add_argument("--checkpoint", help="a SAM 2 / 2.1 checkpoint (.pt, e.g. sam2.1_hiera_tiny.pt)")
    weights.add_argument("--random-weights", action="store_true", help="random weights (tests; use --seed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights (default 0)")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=f"sam2 package config (default {DEFAULT_CONFIG})")
    parser.add_argument("--name", default=DEFAULT_NAME, help=f"file name prefix (default {DEFAULT_NAME})")
    parser.add_argument("--out-dir", type=Path, help="directory for the files (default: the edgevision cache)")
    parser.add_argument("--contract", choices=("edgevision", "aihub"), default="edgevision")
    args = parser.parse_args(argv)
    model = build_model(args.config, args.checkpoint, None if args.checkpoint else args.seed)
    for role, path in export_files(model, args.out_dir, args.name, args.contract).items():
        print(f"{role}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
