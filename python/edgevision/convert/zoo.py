"""Converted zoo models in the cache: ``<cache>/models/<name>/<stem>.onnx`` next to the ``.tflite``.

``converted("selfie_segmentation")`` fetches the TFLite file (sha256-verified), converts it once
and returns the ``.onnx`` path; later calls reuse the file while its recorded converter version,
layout and source checksum still match (otherwise it is converted again). The file is written
under a per-file lock and renamed into place, like the fetched files. This is what
``runtime.load(name, runtime="onnxruntime")`` and so every pipeline's ``runtime="onnxruntime"``
use.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Union

from ..models import ModelCard, all_cards, card, fetch, local_path
from ..models.cache_files import partial_file
from .converter import CONVERTER_VERSION, LAYOUTS, META_CONVERTER, META_LAYOUT, META_SOURCE_SHA256, metadata

_checked: dict[str, tuple[int, int]] = {}  # path -> (size, mtime_ns) found current in this process
_checked_lock = threading.Lock()


def converted_path(model: Union[str, ModelCard], *, layout: str = "nhwc") -> Path:
    """Where the conversion of a zoo model lives (whether or not it exists yet)."""
    c = model if isinstance(model, ModelCard) else card(model)
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")
    suffix = ".onnx" if layout == "nhwc" else f".{layout}.onnx"
    return local_path(c).with_name(Path(c.file_name).stem + suffix)


def converted(model: Union[str, ModelCard], *, layout: str = "nhwc") -> Path:
    """The ONNX conversion of a zoo ``.tflite`` model, made (once) if missing or stale."""
    from filelock import FileLock

    c = model if isinstance(model, ModelCard) else card(model)
    if c.format != "tflite":
        raise ValueError(f"model: {c.name!r} is a {c.format} file; only .tflite zoo models are converted")
    target = converted_path(c, layout=layout)
    if _current(target, c, layout):
        return target
    source = fetch(c)
    with FileLock(str(target.parent / f".{target.name}.lock")):
        if _current(target, c, layout):  # another process converted it while we waited
            return target
        from .converter import tflite_to_onnx

        fd, partial = partial_file(target)
        os.close(fd)
        try:
            tflite_to_onnx(source, partial, layout=layout)
            os.replace(partial, target)
        finally:
            Path(partial).unlink(missing_ok=True)
    return target


def _current(path: Path, c: ModelCard, layout: str) -> bool:
    try:
        stat = path.stat()
    except OSError:
        return False
    key = (stat.st_size, stat.st_mtime_ns)
    with _checked_lock:
        if _checked.get(str(path)) == key:
            return True
    try:
        meta = metadata(path)
    except Exception:  # unreadable: convert again
        return False
    ok = (meta.get(META_CONVERTER) == CONVERTER_VERSION and meta.get(META_LAYOUT) == layout
          and (c.sha256 is None or meta.get(META_SOURCE_SHA256) == c.sha256))
    if ok:
        with _checked_lock:
            _checked[str(path)] = key
    return ok


def card_of(onnx_path: os.PathLike | str) -> ModelCard:
    """The zoo card of the ``.tflite`` an ONNX file was converted (and maybe quantised) from,
    found by the source checksum the converter records. ValueError if there is none."""
    from .converter import META_SOURCE

    meta = metadata(onnx_path)
    sha256 = meta.get(META_SOURCE_SHA256)
    for c in all_cards().values():
        if sha256 and c.sha256 == sha256:
            return c
    source = meta.get(META_SOURCE)
    raise ValueError(f"{os.fspath(onnx_path)!r} was not converted from a zoo model"
                     + (f" (its source {source!r} matches no card's sha256)" if source else
                        " (no edgevision conversion metadata)") + "; name the card (card=... / --card NAME)")
