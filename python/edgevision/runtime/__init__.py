"""Load and run a model on any supported runtime: ``load(model, runtime=..., device=...)``.

>>> from edgevision import runtime
>>> model = runtime.load("pose_landmark_full")          # a zoo name (fetched, verified) or a path
>>> model.inputs[0]
TensorInfo(name='input_1', shape=(1, 256, 256, 3), dtype=dtype('float32'), scale=None, zero_point=None)
>>> outputs = model.run([tensor])                       # list in output order

Pipelines run without copies through ``model.bind(buffers)`` (:class:`Binding`): the input
written into the runtime's own tensor, the outputs read where it left them (LiteRT).

Runtimes: ``"litert"`` (``.tflite``; ``pip install edgevision[litert]``) and ``"onnxruntime"``
(``.onnx``; ``edgevision[onnx]``, and ``edgevision[qnn]`` for the Qualcomm QNN devices
``"qnn-htp"``/``"qnn-gpu"``). A ``Model`` is not thread-safe: use one per thread.
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from .binding import Binding
from .errors import PlacementError, PlacementWarning, RuntimeNotInstalledError
from .model import Model, TensorInfo

__all__ = ["load", "available_runtimes", "Model", "TensorInfo", "Binding", "RuntimeNotInstalledError", "PlacementError",
           "PlacementWarning", "RUNTIMES", "DEVICES"]

RUNTIMES = ("auto", "litert", "onnxruntime")
DEVICES = ("cpu", "qnn-htp", "qnn-gpu", "qnn-cpu", "gpu", "npu")
_RUNTIME_OF_SUFFIX = {".tflite": "litert", ".onnx": "onnxruntime"}


def load(
    model: Union[str, os.PathLike],
    *,
    runtime: str = "auto",
    device: str = "cpu",
    threads: Optional[int] = None,
    delegate: Any = None,
    options: Optional[Mapping[str, Any]] = None,
    strict: bool = False,
    outputs: Optional[Sequence[str]] = None,
    native_heads: Sequence[str] = (),
) -> Model:
    """Load ``model`` (a ``.tflite``/``.onnx`` path or a model-zoo name) on ``runtime``/``device``.

    * ``runtime``: ``"auto"`` (from the file type), ``"litert"`` or ``"onnxruntime"``. A zoo
      ``.tflite`` model on ``"onnxruntime"`` runs as its ONNX conversion
      (:func:`edgevision.convert.converted`: made once, cached next to the ``.tflite``, same
      tensor names and NHWC shapes, so the card still applies).
    * ``device``: ``"cpu"``; ``"qnn-htp"``/``"qnn-gpu"`` through ONNX Runtime's QNN execution
      provider, or through LiteRT with an external ``delegate``
      (e.g. ``libQnnTFLiteDelegate.so``; ``backend_type`` is set from the device).
    * ``threads``: CPU threads (LiteRT's default is 1, ONNX Runtime's one per core).
    * ``delegate``: LiteRT only: a delegate library path (loaded with
      ``load_delegate(path, options["delegate_options"])``) or loaded delegate object(s).
      Without one, LiteRT runs on the CPU with XNNPACK (``options={"xnnpack": False}`` turns it off).
    * ``options``: LiteRT: ``xnnpack``, ``xnnpack_rewrites`` (below), ``delegate_options``.
      ONNX Runtime: ``provider_options`` (passed to the QNN EP, e.g.
      ``{"htp_performance_mode": "burst"}``; they override
      edgevision's defaults: on the x86-64 HTP simulator
      ``htp_graph_finalization_optimization_mode="1"``, without which it cannot prepare
      pose_detection; ``{"soc_model": "60"}`` makes the simulator compute in fp16 as that SoC's
      HTP does), ``session_config`` (session config entries), ``graph_optimization_level``,
      ``context_cache`` (True or a directory: compile the QNN graph once and reuse the saved
      context in later runs).
    * ``strict``: QNN only: raise :class:`PlacementError` if any node would run on the CPU.
      Without it such nodes are reported with a :class:`PlacementWarning` and in ``model.placement``.
    * ``outputs``: names of the outputs to compute. The runtimes compute every output of a graph
      whether or not it is read; with ``outputs`` the graph is pruned to the operators these
      need (:mod:`edgevision.runtime.edits`: written once into the cache, bit-identical
      results), and the model has only these outputs, in the graph's order. BlazePose's landmark
      model without its segmentation output runs about 40% faster.

    * ``native_heads``: outputs whose segmentation tail (:class:`edgevision.kernels.SegmentationHead`'s
      layers: BlazePose's mask) edgevision should run instead of XNNPACK. On LiteRT's XNNPACK,
      each such tail is cut off the graph (:mod:`edgevision.runtime.native_head`): the output
      then holds the tail's input features, the skip maps its levels add are extra outputs named
      in ``model.native_head_skips[name]``, and ``model.native_heads[name]`` is the kernel that
      finishes it: ``head(features, skips=[...])`` (5 of the pose landmark model's 13 ms become
      ~0.8 ms). Elsewhere, or for an output without such a tail, the model computes it and
      ``model.native_heads`` lacks it.

    On LiteRT's XNNPACK (CPU, no delegate) two layer patterns XNNPACK runs slowly are rewritten
    (the selfie models take 40% less time): transposed convolutions whose kernel equals their
    stride run as a 1x1 convolution + DEPTH_TO_SPACE (:mod:`edgevision.runtime.subpixel`,
    bit-identical), and 1x1 convolutions that read a bilinear upsample run before it, at the
    low resolution (:mod:`edgevision.runtime.resize_order`; the two commute, so results move
    by float32 rounding only). ``options={"xnnpack_rewrites": False}`` loads the file as it
    is; a list of names (``["subpixel"]``) applies only those.

    A zoo model is fetched (sha256-verified) first and its I/O checked against its card
    (``model.card``).
    """
    if not isinstance(runtime, str) or runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {list(RUNTIMES)}, got {runtime!r}")
    if not isinstance(device, str) or device not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}, got {device!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
        raise TypeError(f"threads must be a positive int or None, got {threads!r}")
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    if isinstance(native_heads, str) or not isinstance(native_heads, Sequence) or \
            not all(isinstance(name, str) for name in native_heads):
        raise TypeError(f"native_heads must be a list of output names, got {native_heads!r}")
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")

    path, card = _resolve(model)
    if card is not None and runtime == "onnxruntime" and path.suffix.lower() == ".tflite":
        from ..convert.zoo import converted

        path = converted(card)  # converted to ONNX once, cached next to the .tflite
    suffix = path.suffix.lower()
    if suffix not in _RUNTIME_OF_SUFFIX:
        raise ValueError(f"model: unsupported file type {suffix or '(none)'!r} for {str(path)!r}; "
                         "expected a .tflite (LiteRT) or .onnx (ONNX Runtime) file")
    chosen = _RUNTIME_OF_SUFFIX[suffix] if runtime == "auto" else runtime
    if chosen != _RUNTIME_OF_SUFFIX[suffix]:
        hint = " (convert it first: edgevision models convert PATH -o OUT.onnx)" if suffix == ".tflite" else ""
        raise ValueError(f"runtime {chosen!r} cannot run a {suffix} file; use runtime="
                         f"{_RUNTIME_OF_SUFFIX[suffix]!r} or 'auto'{hint}")
    # Edited copies (cached): pruned to `outputs`; on XNNPACK, layers it runs slowly rewritten.
    # Same results either way (up to float32 rounding for reordered layers).
    on_xnnpack = (chosen == "litert" and device == "cpu" and delegate is None
                  and bool((options or {}).get("xnnpack", True)))
    from .edits import edited

    given = path
    rewrites = _xnnpack_rewrites((options or {}).get("xnnpack_rewrites", True)) if on_xnnpack else ()
    path = edited(path, outputs=outputs, rewrites=rewrites, native_heads=native_heads if on_xnnpack else ())

    loaded: Model
    if chosen == "litert":
        if strict:
            raise ValueError("strict placement applies to QNN on ONNX Runtime; LiteRT delegates report their "
                             "own placement")
        from .litert import LiteRTModel

        loaded = LiteRTModel(path, device=device, threads=threads, delegate=delegate, options=options)
    else:
        if delegate is not None:
            raise ValueError("delegate applies to LiteRT; ONNX Runtime selects its accelerator with device=")
        from .onnxruntime import OnnxRuntimeModel

        loaded = OnnxRuntimeModel(path, device=device, threads=threads, options=options, strict=strict)
    if path != given:  # `path` stays the file asked for (siblings are looked up beside it)
        loaded.path, loaded.edited_path = os.fspath(given), os.fspath(path)
        if native_heads and on_xnnpack:
            from .native_head import heads

            found = heads(path)
            loaded.native_heads = {name: kernel for name, (kernel, _) in found.items()}
            loaded.native_head_skips = {name: skips for name, (_, skips) in found.items()}
    if card is not None:
        card.check_io(loaded, outputs)
        loaded.card = card
    return loaded


def _xnnpack_rewrites(option: Any) -> tuple[str, ...]:
    """``options["xnnpack_rewrites"]``: True (all), False (none) or a list of rewrite names."""
    from .edits import XNNPACK_REWRITES

    if isinstance(option, (bool, np.bool_)):
        return XNNPACK_REWRITES if option else ()
    if isinstance(option, str) or not isinstance(option, Sequence) or \
            any(name not in XNNPACK_REWRITES for name in option):
        raise ValueError(f"options['xnnpack_rewrites'] must be True, False or a list of names from "
                         f"{list(XNNPACK_REWRITES)}, got {option!r}")
    return tuple(name for name in XNNPACK_REWRITES if name in option)


def _resolve(model: Any) -> tuple[Path, Any]:
    """(file path, card or None) for a path or a zoo name."""
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a file path or a model-zoo name, got {type(model).__name__}")
    text = os.fspath(model)
    path = Path(text)
    if path.suffix.lower() in _RUNTIME_OF_SUFFIX or os.sep in text or path.exists():
        if not path.is_file():
            raise FileNotFoundError(f"model: no such file {text!r}")
        return path, None
    from .. import models

    card = models.card(text)  # ValueError naming the known models if it is not one
    return models.fetch(card), card


def available_runtimes() -> dict[str, Optional[str]]:
    """Installed runtime packages and their versions (None when missing)."""
    found: dict[str, Optional[str]] = {}
    for dist in ("ai-edge-litert", "tflite-runtime", "onnxruntime", "onnxruntime-qnn", "onnx"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = None
    return found
