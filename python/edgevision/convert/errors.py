"""Errors of the TFLite -> ONNX converter."""

from __future__ import annotations


class UnsupportedOperatorError(ValueError):
    """The model holds an operator (or an operator option) the converter has no translation for.

    ``op_index`` is the operator's position in the TFLite graph, ``op_name`` its builtin name
    (``"SPLIT"``) or custom code. Nothing falls back: the conversion stops.
    """

    def __init__(self, op_index: int, op_name: str, detail: str = ""):
        self.op_index = op_index
        self.op_name = op_name
        self.detail = detail
        what = f"operator {op_index} ({op_name})"
        super().__init__(f"{what}: {detail}" if detail else
                         f"{what} is not supported by edgevision's TFLite -> ONNX converter")
