"""Graphs pruned to the outputs a caller reads (see :func:`edgevision.runtime.edits.edited`).

A runtime computes every output of a graph on every run, read or not. BlazePose's landmark
model spends about 40% of its time on its 256x256 segmentation head, which a pose without a
mask never reads. Pruning keeps the main graph's operators that the kept outputs depend on, in
their order, with the same tensors and constants, so those outputs stay bit-identical. TFLite
graphs are edited as LiteRT's schema objects (``ModelT``), ONNX graphs with ``onnx``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..convert.flatbuffer import schema_ints, schema_text


def check_names(outputs: Any) -> tuple[str, ...]:
    """``outputs`` as a tuple of distinct names; TypeError/ValueError otherwise."""
    if isinstance(outputs, (str, bytes)) or not isinstance(outputs, Sequence):
        raise TypeError(f"outputs must be a list of output names, got {outputs!r}")
    names = tuple(outputs)
    if not names:
        raise ValueError("outputs must name at least one output")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"outputs must be a list of output names (str), got {name!r} in it")
    if len(set(names)) != len(names):
        raise ValueError(f"outputs: a name is given twice in {list(names)}")
    return names


def _check_known(names: Sequence[str], available: Sequence[str]) -> None:
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(f"outputs: the model has no output(s) {unknown}; its outputs are {list(available)}")


def prune_tflite(model: Any, outputs: Optional[Sequence[str]] = None) -> None:
    """Reduce the main graph of ``model`` (a ``ModelT``) to ``outputs`` (all when None) and
    the operators they need, in place."""
    graph = model.subgraphs[0]
    names = [schema_text(t.name) for t in graph.tensors]
    if outputs is not None:
        _check_known(outputs, [names[index] for index in graph.outputs])
    kept = [int(index) for index in graph.outputs if outputs is None or names[index] in outputs]
    reads = [schema_ints(op.inputs, keep_missing=False) for op in graph.operators]
    writes = [schema_ints(op.outputs, keep_missing=False) for op in graph.operators]
    producer = {t: k for k, tensors in enumerate(writes) for t in tensors}
    needed = _ancestors(kept, producer, lambda k: reads[k])
    # Operators without outputs act only through side effects (variables): always kept.
    graph.operators = [op for k, op in enumerate(graph.operators) if k in needed or not writes[k]]
    graph.outputs = np.asarray(kept, np.int32)
    for signature in model.signatureDefs or []:
        if signature.subgraphIndex == 0 and signature.outputs:
            signature.outputs = [m for m in signature.outputs if int(m.tensorIndex) in kept]


def prune_onnx(path: Path, outputs: Sequence[str]) -> bytes:
    """The ONNX model at ``path`` with its graph's outputs reduced to ``outputs``, and the nodes
    and initializers nothing kept reads removed (ONNX Runtime would warn about each)."""
    import onnx

    model = onnx.load(os.fspath(path))
    graph = model.graph
    _check_known(outputs, [o.name for o in graph.output])
    kept = [o for o in graph.output if o.name in outputs]
    del graph.output[:]
    graph.output.extend(kept)
    nodes = list(graph.node)
    producer = {name: k for k, node in enumerate(nodes) for name in node.output if name}
    reads = [_node_reads(node) for node in nodes]
    needed = _ancestors([o.name for o in kept], producer, lambda k: reads[k])
    used = {name for k in needed for name in reads[k]} | {o.name for o in kept}
    del graph.node[:]
    graph.node.extend(node for k, node in enumerate(nodes) if k in needed)
    initializers = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return model.SerializeToString()


def _ancestors(roots: Sequence[Any], producer: dict, reads) -> set[int]:
    """Indices of the operators whose results reach ``roots`` (tensor ids)."""
    needed: set[int] = set()
    stack = list(roots)
    while stack:
        k = producer.get(stack.pop())
        if k is None or k in needed:
            continue
        needed.add(k)
        stack.extend(reads(k))
    return needed


def _node_reads(node: Any) -> list[str]:
    """An ONNX node's inputs, and every name read inside its subgraphs (If/Loop bodies may
    read outer tensors implicitly)."""
    names = [name for name in node.input if name]
    for attribute in node.attribute:
        for graph in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
            for inner in graph.node:
                names.extend(_node_reads(inner))
    return names
