"""Qualcomm QNN execution provider for ONNX Runtime: registration, devices, context cache, placement.

``onnxruntime-qnn`` 2.x is a plugin wheel next to a stock ``onnxruntime``: it ships
``libonnxruntime_providers_qnn.so`` and the QNN backends (``libQnnHtp.so``, ``libQnnGpu.so``,
...). The EP library is registered once per process, then the session is given the QNN EP
devices with ``backend_path`` naming the backend library. Older ``onnxruntime-qnn`` wheels (1.x)
replaced ``onnxruntime`` itself with a build that lists ``QNNExecutionProvider`` directly;
that arrangement is used when the plugin package is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from .errors import PlacementError, PlacementWarning, RuntimeNotInstalledError

EP_NAME = "QNNExecutionProvider"
BACKENDS = {"qnn-htp": "QnnHtp", "qnn-gpu": "QnnGpu", "qnn-cpu": "QnnCpu"}
_DEVICE_TYPES = {"qnn-htp": "NPU", "qnn-gpu": "GPU", "qnn-cpu": "CPU"}

_register_lock = threading.Lock()


def _plugin() -> Any:
    try:
        import onnxruntime_qnn

        return onnxruntime_qnn if hasattr(onnxruntime_qnn, "get_library_path") else None
    except ImportError:
        return None


def backend_library(device: str) -> str:
    """Path (plugin wheel) or file name (legacy build, resolved by ORT) of the device's backend."""
    plugin = _plugin()
    name = BACKENDS[device]
    if plugin is None:
        return f"lib{name}.so"
    path = os.path.join(os.path.dirname(plugin.get_library_path()), f"lib{name}.so")
    if not os.path.exists(path):
        available = sorted(k for k, v in BACKENDS.items()
                           if os.path.exists(os.path.join(os.path.dirname(path), f"lib{v}.so")))
        raise ValueError(f"device: the installed onnxruntime-qnn has no {name} backend ({path}); "
                         f"available: {available}")
    return path


def _ensure_registered(ort: Any) -> bool:
    """Register the plugin EP library once. False when ORT has QNN built in (legacy wheels)."""
    plugin = _plugin()
    if plugin is None:
        if EP_NAME in ort.get_available_providers():
            return False
        raise RuntimeNotInstalledError("The QNN execution provider", "qnn", "onnxruntime-qnn")
    with _register_lock:
        if not any(d.ep_name == EP_NAME for d in ort.get_ep_devices()):
            ort.register_execution_provider_library(EP_NAME, plugin.get_library_path())
    return True


def emulated() -> bool:
    """True on x86-64 hosts, where the QNN HTP backend is Qualcomm's simulator, not an NPU."""
    return platform.machine().lower() in ("x86_64", "amd64")


def default_options(device: str) -> dict[str, str]:
    """Provider options edgevision sets unless the caller gives them.

    On the x86-64 HTP simulator, ``htp_graph_finalization_optimization_mode=1``: at the
    default mode the simulator (no ``soc_model`` given) cannot finalise some float graphs
    (pose_detection: ``QNN_COMMON_ERROR_MEM_ALLOC``); mode 1 prepares all six MediaPipe models
    1.5-2x faster, with the same outputs. On a device QNN's own default stands.
    """
    if device == "qnn-htp" and emulated():
        return {"htp_graph_finalization_optimization_mode": "1"}
    return {}


def provider_options(device: str, user_options: Mapping[str, Any], strict: bool) -> dict[str, str]:
    options = {"backend_path": backend_library(device), **default_options(device)}
    if strict:
        # By default the EP hands a QDQ graph's input Quantize / output Dequantize to the CPU EP;
        # strict placement keeps them on QNN too (the caller can still override it).
        options["offload_graph_io_quantization"] = "0"
    options.update({str(k): str(v) for k, v in user_options.items()})
    return options


def add_provider(ort: Any, session_options: Any, device: str, options: Mapping[str, str]) -> Optional[list]:
    """Put the QNN EP on ``session_options`` (plugin) or return the ``providers`` list (legacy)."""
    if not _ensure_registered(ort):
        return [(EP_NAME, dict(options)), "CPUExecutionProvider"]
    devices = [d for d in ort.get_ep_devices() if d.ep_name == EP_NAME]
    # On a Snapdragon the HTP is an NPU device and the Adreno a GPU device; the x86-64 wheel
    # offers one host device and runs the backend as a simulator.
    wanted = [d for d in devices if d.device.type.name == _DEVICE_TYPES[device]]
    session_options.add_provider_for_devices(wanted or devices, dict(options))
    return None


def record_placement(session_options: Any) -> None:
    session_options.add_session_config_entry("session.record_ep_graph_assignment_info", "1")


def placement(session: Any) -> Optional[dict[str, list[tuple[str, str]]]]:
    """``{execution provider: [(node name, op type), ...]}``; None if this ORT cannot tell."""
    if not hasattr(session, "get_provider_graph_assignment_info"):
        return None
    result: dict[str, list[tuple[str, str]]] = {}
    for subgraph in session.get_provider_graph_assignment_info():
        result.setdefault(subgraph.ep_name, []).extend((n.name, n.op_type) for n in subgraph.get_nodes())
    return result


def check_placement(nodes: Optional[dict[str, list[tuple[str, str]]]], path: str, device: str, strict: bool) -> None:
    """Strict: raise unless every node is on QNN. Otherwise warn with the nodes that are not."""
    if nodes is None:
        return
    fallback = [node for ep, ep_nodes in nodes.items() if ep != EP_NAME for node in ep_nodes]
    if not fallback:
        return
    on_qnn = len(nodes.get(EP_NAME, []))
    listing = ", ".join(f"{name} ({op})" for name, op in fallback[:20]) + (" ..." if len(fallback) > 20 else "")
    message = (f"{len(fallback)} node(s) of {os.path.basename(path)} would run on the CPU instead of {device} "
               f"({on_qnn} on QNN): {listing}")
    if strict:
        raise PlacementError(message, fallback)
    warnings.warn(message, PlacementWarning, stacklevel=4)


# ----------------------------------------------------------------------------- context cache


def context_cache_path(model_path: str, device: str, provider_options: Mapping[str, Any], cache: Any) -> Path:
    """Where the compiled QNN context of this model/device/options/versions is kept.

    ``cache`` is True (``$EDGEVISION_HOME/qnn_context``) or a directory. The key covers the model
    file's identity (path, size, mtime), the device and provider options, and the ORT and QNN
    versions, so any change compiles afresh.
    """
    if cache is True:
        from ..models.fetch import cache_home

        directory = cache_home() / "qnn_context"
    else:
        directory = Path(os.fspath(cache))
    stat = os.stat(model_path)
    plugin = _plugin()
    import onnxruntime

    key = json.dumps({
        "model": os.path.abspath(model_path), "size": stat.st_size, "mtime": stat.st_mtime_ns,
        "device": device, "options": {str(k): str(v) for k, v in sorted(provider_options.items())},
        "ort": onnxruntime.__version__,
        "qnn": getattr(plugin, "__version__", "builtin"),
    }, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return directory / f"{Path(model_path).stem}-{device}-{digest}_ctx.onnx"


def cached_session(make_session: Callable[[str, Mapping[str, str]], Any], model_path: str, ctx_path: Path) -> Any:
    """Load the compiled context if present, else compile ``model_path`` and save the context.

    ``make_session(path, extra_config)`` builds a session. The context is written under a
    temporary name and renamed, under a file lock, so a crash or a concurrent process never
    leaves a partial file in its place; an unreadable context is compiled again.
    """
    from filelock import FileLock

    ctx_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(ctx_path) + ".lock"):
        if ctx_path.exists():
            try:
                return make_session(str(ctx_path), {})
            except Exception:
                ctx_path.unlink(missing_ok=True)
        partial = ctx_path.with_name(f".{ctx_path.stem}.{os.getpid()}.partial.onnx")
        try:
            session = make_session(model_path, {
                "ep.context_enable": "1",
                "ep.context_embed_mode": "1",  # one self-contained file, safe to rename
                "ep.context_file_path": str(partial),
            })
            if partial.exists():
                os.replace(partial, ctx_path)
        finally:
            partial.unlink(missing_ok=True)
        return session
