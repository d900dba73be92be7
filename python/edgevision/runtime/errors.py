"""Errors the runtime layer raises beyond ValueError/TypeError."""

from __future__ import annotations


class RuntimeNotInstalledError(ImportError):
    """The Python package for a runtime is missing; the message names the extra to install."""

    def __init__(self, runtime: str, extra: str, package: str):
        super().__init__(f"{runtime} is not installed: pip install 'edgevision[{extra}]' (it provides {package})")
        self.runtime = runtime
        self.extra = extra
        self.package = package


class PlacementError(RuntimeError):
    """Strict placement was asked for and some graph nodes would run outside the accelerator."""

    def __init__(self, message: str, fallback_nodes: list[tuple[str, str]]):
        super().__init__(message)
        self.fallback_nodes = fallback_nodes


class PlacementWarning(UserWarning):
    """Some graph nodes fell back to the CPU execution provider."""
