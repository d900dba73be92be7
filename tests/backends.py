"""Which optional runtimes are installed, as pytest parameters and skip marks."""

from __future__ import annotations

import pytest


def _missing(*modules: str) -> str:
    for name in modules:
        try:
            __import__(name)
        except ImportError:
            return f"needs {name} (pip install 'edgevision[onnx]' / '[qnn]': CPython >= 3.11 on Linux/Windows for QNN)"
    return ""


ONNX_MISSING = _missing("onnx", "onnxruntime")
QNN_MISSING = ONNX_MISSING or _missing("onnxruntime_qnn")

# A test needing the converter and ONNX Runtime / additionally the QNN execution provider.
needs_onnx = pytest.mark.skipif(bool(ONNX_MISSING), reason=ONNX_MISSING or "available")
needs_qnn = pytest.mark.skipif(bool(QNN_MISSING), reason=QNN_MISSING or "available")


def runtimes(litert: str = "litert") -> list:
    """``[litert, "onnxruntime"]`` as parameters: LiteRT on the .tflite, and ONNX Runtime on its
    conversion by edgevision.convert (skipped without the onnx extra)."""
    return [litert, pytest.param("onnxruntime", marks=needs_onnx)]
