"""Model files edited for speed before a runtime loads them, with the same results.

* pruning to the outputs the caller reads (:mod:`.prune`; ``runtime.load(outputs=...)``);
  bit-identical;
* for LiteRT on XNNPACK (``XNNPACK_REWRITES``): transposed convolutions whose kernel equals
  their stride as a 1x1 convolution + DEPTH_TO_SPACE (:mod:`.subpixel`, bit-identical), and
  1x1 convolutions that read a bilinear upsample run before it (:mod:`.resize_order`, equal
  up to float32 rounding);
* on request, segmentation tails cut off for edgevision's native kernel (:mod:`.native_head`:
  the output then holds the tail's input features, its weights ride along as metadata).

An edited file is written once into the cache (``<cache>/edited/``; a private folder under the
system's temp folder when the cache is read-only; an in-memory file, on Linux, when neither is
writable), named by the source's sha256 and the edits, under a file lock and renamed into place
like fetched files; later loads find it there. When no edit applies, the source file is used
as it is. Edited files are derived data: one unused for ``UNUSED_DAYS`` is deleted when the
next file is written there (a load marks its file used).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional, Sequence

from ..models.cache_files import file_sha256, partial_file
from .prune import check_names, prune_onnx, prune_tflite

EDITS_VERSION = "6"  # part of the cache key: bump when an edit's output changes
XNNPACK_REWRITES = ("subpixel", "resize_order")  # modules of this package, applied in this order
_HEAD_EDIT = "native_head:"  # + an output name: that output's tail cut off (native_head.split)
UNUSED_DAYS = 30  # edited files (and their locks, markers, partial files) unused this long are deleted
_DAY_S = 86400.0

# path -> (size, mtime_ns, value), this process: the file's sha256; the rewrites it has candidates for
_digests: dict[str, tuple[int, int, str]] = {}
_candidates: dict[str, tuple[int, int, tuple[str, ...]]] = {}
_memory_files: dict[str, Path] = {}  # edited file name -> its in-memory file, when no folder is writable
_lock = threading.Lock()


def edited(path: os.PathLike | str, *, outputs: Optional[Sequence[str]] = None,
           rewrites: Sequence[str] = (), native_heads: Sequence[str] = ()) -> Path:
    """``path`` with its edits applied (cached), or ``path`` itself when there is nothing to do.

    ``outputs``: keep only these outputs and what they need (ValueError naming the model's
    outputs if one is unknown). ``rewrites``: names from ``XNNPACK_REWRITES`` to apply
    (``.tflite`` only; each skipped when the file has nothing it applies to; runtime.load
    checks the names). ``native_heads``: outputs whose segmentation tail is cut off for the
    native kernel (:mod:`.native_head`; ``.tflite`` only; an output without such a tail stays).
    """
    source = Path(path)
    names = check_names(outputs) if outputs is not None else None
    tflite = source.suffix.lower() == ".tflite"
    chosen = tuple(r for r in _rewrites_with_candidates(source) if r in rewrites) if tflite and rewrites else ()
    if tflite:  # first, so the tails are matched as the file has them
        chosen = tuple(_HEAD_EDIT + name for name in sorted(set(native_heads))) + chosen
    if names is None and not chosen:
        return source
    recipe = [EDITS_VERSION, _sha256(source), "outputs=" + ",".join(sorted(names)) if names else "",
              "+".join(chosen)]
    key = hashlib.sha256("\n".join(recipe).encode()).hexdigest()[:20]
    name = f"{source.stem}.{key}{source.suffix.lower()}"
    from ..models.fetch import cache_home

    try:
        return _edited_in(cache_home() / "edited" / name, source, names, chosen)
    except OSError:  # a read-only cache (a deployment may ship one): loading must still work
        pass
    try:
        return _edited_in(_private_temp_folder() / "edited" / name, source, names, chosen)
    except OSError as error:  # a read-only temp folder too (a hardened container)
        return _in_memory(name, source, names, chosen, error)


def _in_memory(name: str, source: Path, names: Optional[Sequence[str]], rewrites: Sequence[str],
               why: OSError) -> Path:
    """The edited file as an anonymous in-memory file (Linux ``memfd``; its ``/proc/self/fd``
    path opens like any file), kept for the process's lifetime and shared by later loads."""
    with _lock:
        if name in _memory_files:
            return _memory_files[name]
    if not hasattr(os, "memfd_create"):
        raise OSError(f"no writable folder for edited model files ({why}); set EDGEVISION_HOME to a writable "
                      "folder") from why
    data = _edit(source, names, rewrites)
    if data is None:
        return source
    fd = os.memfd_create(name, getattr(os, "MFD_CLOEXEC", 0))
    with _lock:
        if name in _memory_files:  # another thread made it meanwhile
            os.close(fd)
            return _memory_files[name]
        try:
            _write_all(fd, data)
        except OSError:
            os.close(fd)
            raise
        path = Path(f"/proc/self/fd/{fd}")
        _memory_files[name] = path  # the descriptor stays open: the path stays valid
        return path


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)  # os.write may write less than asked
    while view:
        view = view[os.write(fd, view):]


def _private_temp_folder() -> Path:
    """This user's folder under the system's temp folder, readable by this user alone (the
    edited copies of a user's models are theirs), refused if someone else owns it."""
    user = getattr(os, "getuid", lambda: "user")()
    folder = Path(tempfile.gettempdir()) / f"edgevision-{user}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if hasattr(os, "getuid"):
        status = folder.lstat()  # the folder itself, not where a planted symlink points
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid():
            raise OSError(f"cannot write edited model files: {folder} is not a folder of this user")
        if status.st_mode & 0o077:
            folder.chmod(0o700)
    return folder


def _edited_in(target: Path, source: Path, names: Optional[Sequence[str]], rewrites: Sequence[str]) -> Path:
    unchanged = target.with_suffix(".unchanged")  # marks a file none of whose layers qualified
    if _use(target):  # written only after its edits succeeded (names checked)
        return target
    if _use(unchanged):
        return source
    target.parent.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(target.parent / f".{target.name}.lock")):
        if target.is_file() or unchanged.is_file():  # another process did the work while we waited
            return target if target.is_file() else source
        data = _edit(source, names, rewrites)
        if data is None:
            unchanged.touch()
            _delete_unused(target.parent)
            return source
        fd, partial = partial_file(target)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(partial, target)
        finally:
            Path(partial).unlink(missing_ok=True)
    _delete_unused(target.parent)
    return target


def _use(path: Path) -> bool:
    """True if ``path`` exists; marks it used (its mtime, refreshed at most daily)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return False
    if time.time() - mtime > _DAY_S:
        try:
            os.utime(path)
        except OSError:  # a read-only cache: it is kept, nothing here deletes from it
            pass
    return True


def _delete_unused(folder: Path) -> None:
    """Deletes what nobody used for UNUSED_DAYS: edited files, markers, locks, partial files of
    killed processes. (A lock deleted while held costs at most a second process editing the same
    file; both write identical bytes and rename atomically.)"""
    oldest = time.time() - UNUSED_DAYS * _DAY_S
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < oldest:
                os.unlink(entry.path)
        except OSError:  # gone already, or not ours to delete
            pass


def _edit(source: Path, names: Optional[Sequence[str]], rewrites: Sequence[str]) -> Optional[bytes]:
    """The edited file's bytes, or None when there was nothing to edit."""
    if source.suffix.lower() == ".tflite":
        return _edit_tflite(source, names, rewrites)
    return prune_onnx(source, names)


def _edit_tflite(source: Path, names: Optional[Sequence[str]], rewrites: Sequence[str]) -> Optional[bytes]:
    """The edited flatbuffer, or None when there was nothing to edit."""
    import flatbuffers

    from ..convert.flatbuffer import schema

    data = source.read_bytes()
    try:
        model = schema().ModelT.InitFromPackedBuf(data, 0)
    except Exception as e:  # a corrupt flatbuffer fails anywhere inside the bindings
        raise ValueError(f"model: cannot parse {str(source)!r} as a TFLite model to edit it: "
                         f"{type(e).__name__}: {e}") from None
    rewritten = 0
    for name in rewrites:
        if name.startswith(_HEAD_EDIT):
            from .native_head import split

            added = split(model, name[len(_HEAD_EDIT):])  # the outputs for its skip maps
            if added is not None:
                rewritten += 1
                names = None if names is None else list(names) + added
        else:
            rewritten += _rewrite_module(name).rewrite(model)
    if names is None and rewritten == 0:
        return None
    prune_tflite(model, names)  # also drops what the rewritten layers no longer read
    builder = flatbuffers.Builder(len(data) + 65536)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _rewrite_module(name: str):
    import importlib

    return importlib.import_module(f"{__package__}.{name}")


def _rewrites_with_candidates(source: Path) -> tuple[str, ...]:
    """The XNNPACK rewrites the file has something for (a quick look at its operator codes)."""
    def look() -> tuple[str, ...]:
        from ..convert.flatbuffer import operator_codes

        builtins, customs = operator_codes(source.read_bytes())
        return tuple(name for name in XNNPACK_REWRITES if _rewrite_module(name).has_candidates(builtins, customs))

    return _per_file(_candidates, source, look)


def _sha256(path: Path) -> str:
    return _per_file(_digests, path, lambda: file_sha256(path))


def _per_file(memo: dict, path: Path, compute):
    """``compute()`` for ``path``, remembered in ``memo`` while its size and mtime stay."""
    status = path.stat()
    with _lock:
        known = memo.get(str(path))
    if known is not None and known[:2] == (status.st_size, status.st_mtime_ns):
        return known[2]
    value = compute()
    with _lock:
        memo[str(path)] = (status.st_size, status.st_mtime_ns, value)
    return value
