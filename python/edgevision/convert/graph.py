"""The ONNX graph being written: nodes, initializers, unique names, and a last clean-up pass."""

from __future__ import annotations

from typing import Any, Iterable, Optional

import numpy as np


class OnnxGraph:
    """Accumulates ``onnx.helper`` nodes and initializers with names unique in the graph."""

    def __init__(self, reserved: Iterable[str] = ()):
        from onnx import helper, numpy_helper

        self._helper = helper
        self._numpy_helper = numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._used: set[str] = set(reserved)
        self._counts: dict[str, int] = {}

    def unique(self, name: str) -> str:
        """``name``, or ``name_2``, ``name_3``, ... if it is taken."""
        if name not in self._used:
            self._used.add(name)
            return name
        k = self._counts.get(name, 1)
        while f"{name}_{k + 1}" in self._used:
            k += 1
        self._counts[name] = k + 1
        unique = f"{name}_{k + 1}"
        self._used.add(unique)
        return unique

    def initializer(self, array: np.ndarray, name: str) -> str:
        name = self.unique(name)
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op_type: str, inputs: list[str], outputs: Optional[list[str]] = None, *, name: str,
             **attributes: Any) -> list[str]:
        """Add a node; ``outputs`` default to one fresh name derived from ``name``."""
        outputs = outputs if outputs is not None else [self.unique(name)]
        self.nodes.append(self._helper.make_node(op_type, inputs, outputs, name=self.unique(f"{name}/{op_type}"),
                                                 **attributes))
        return outputs

    def merge_reshape_chains(self, keep: set[str]) -> None:
        """Reshape(Reshape(x)) -> Reshape(x) when the inner result feeds nothing else (the layout
        pass makes such pairs when a unit-dimension transpose meets a model RESHAPE)."""
        consumers: dict[str, int] = {}
        for node in self.nodes:
            for name in node.input:
                consumers[name] = consumers.get(name, 0) + 1
        producer = {out: node for node in self.nodes for out in node.output}
        removed = set()
        for node in self.nodes:
            if node.op_type != "Reshape":
                continue
            inner = producer.get(node.input[0])
            if (inner is not None and inner.op_type == "Reshape" and consumers.get(inner.output[0]) == 1
                    and inner.output[0] not in keep):
                node.input[0] = inner.input[0]
                removed.add(id(inner))
        self.nodes = [n for n in self.nodes if id(n) not in removed]
        used = {name for node in self.nodes for name in node.input}
        self.initializers = [i for i in self.initializers if i.name in used or i.name in keep]
