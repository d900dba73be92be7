"""Files of the cache: their sha256 (how every cached file is keyed or verified), and new files
created beside their target and renamed onto it when complete, with the permissions a plain
``open()`` would give them.

``tempfile.mkstemp`` creates files readable by their owner only (0600). A cache shared by
several users (a fleet image populated by root and read by a service account, say) would then
hold model files the others cannot open, so every cache writer goes through :func:`partial_file`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

__all__ = ["file_sha256", "partial_file", "stale_partials"]

_umask_lock = threading.Lock()


def file_sha256(path: os.PathLike | str) -> str:
    """The hex sha256 of a file's bytes, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def partial_file(target: Path) -> tuple[int, Path]:
    """A new, empty temporary file in ``target``'s folder (open descriptor and path), named
    ``.<target name>.<random>.part``, with the process's default file permissions."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    if hasattr(os, "fchmod"):  # POSIX; Windows files take their folder's ACL
        try:
            os.fchmod(fd, 0o666 & ~_process_umask())
        except OSError:  # a file system without modes (some network mounts): keep mkstemp's
            pass
    return fd, Path(name)


def stale_partials(target: Path) -> list[Path]:
    """Partial files of ``target`` left behind by killed processes (call with its lock held)."""
    return list(target.parent.glob(f".{target.name}.*.part"))


def _process_umask() -> int:
    """The current umask (read per file: cache writes are rare, and it may change)."""
    try:  # Linux: read it without changing it
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:  # elsewhere the only way to read it is to set it, briefly
        current = os.umask(0o022)
        os.umask(current)
    return current
