"""Densify TFLite sparse tensors (``SparsityParameters``: DENSE / SPARSE_CSR levels, optional blocks).

The stored values are the leaves of a traversal over ``traversal_order`` levels: the original
dimensions first, then one level per blocked dimension (``block_map`` names the dimension each
block level subdivides). ``dim_metadata[level]`` is DENSE (``dense_size`` children per node) or
SPARSE_CSR (node ``p`` has the children ``array_indices[array_segments[p]:array_segments[p+1]]``).
Leaves come in depth-first order, so expanding level by level, children kept next to their
parent, lists them in storage order.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

_DENSE, _SPARSE_CSR = 0, 1


def _vector(union: Any) -> np.ndarray:
    """An Int32Vector / Uint16Vector / Uint8Vector union value as int64."""
    values = getattr(union, "values", None)
    return np.zeros(0, np.int64) if values is None else np.asarray(values, np.int64)


def densify(values: np.ndarray, shape: Sequence[int], sparsity: Any) -> np.ndarray:
    """The dense ``shape`` array whose non-stored entries are zero. ValueError if inconsistent."""
    rank = len(shape)
    order = [int(v) for v in sparsity.traversalOrder]
    block_map = [] if sparsity.blockMap is None else [int(v) for v in sparsity.blockMap]
    levels = sparsity.dimMetadata or []
    if len(order) != rank + len(block_map) or len(levels) != len(order) or sorted(order[:rank]) != list(range(rank)):
        raise ValueError(f"sparse tensor: traversal order {order}, block map {block_map} and {len(levels)} "
                         f"dimension metadata do not describe a rank-{rank} tensor")
    block_size = [1] * rank
    for j, dim in enumerate(block_map):
        level = order.index(rank + j)
        block_size[dim] = int(levels[level].denseSize)

    parents = np.zeros(1, np.int64)  # each node's position within its level
    coords = np.zeros((1, 0), np.int64)  # its coordinate at every level so far
    for level, meta in enumerate(levels):
        if meta.format == _DENSE:
            size = int(meta.denseSize)
            child = np.tile(np.arange(size, dtype=np.int64), len(parents))
            owner = np.repeat(np.arange(len(parents)), size)
            positions = parents[owner] * size + child
            index = child
        elif meta.format == _SPARSE_CSR:
            segments, indices = _vector(meta.arraySegments), _vector(meta.arrayIndices)
            if len(segments) < parents.max(initial=0) + 2 or segments[-1] > len(indices):
                raise ValueError(f"sparse tensor: level {level} has {len(segments)} segments for "
                                 f"{len(parents)} parents and {len(indices)} indices")
            starts, ends = segments[parents], segments[parents + 1]
            counts = ends - starts
            owner = np.repeat(np.arange(len(parents)), counts)
            positions = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) if len(owner) \
                else np.zeros(0, np.int64)
            index = indices[positions]
        else:
            raise ValueError(f"sparse tensor: level {level} has unknown format {meta.format}")
        parents = positions
        coords = np.concatenate([coords[owner], index[:, None]], axis=1)

    if len(parents) != values.size:
        raise ValueError(f"sparse tensor: the traversal reaches {len(parents)} entries but {values.size} are stored")
    original = np.zeros((len(parents), rank), np.int64)
    for level in range(rank):
        original[:, order[level]] = coords[:, level]
    for level in range(rank, len(order)):
        dim = block_map[order[level] - rank]
        original[:, dim] = original[:, dim] * block_size[dim] + coords[:, level]
    dense = np.zeros(tuple(shape), values.dtype)
    if np.any(original >= np.asarray(shape, np.int64)):
        raise ValueError(f"sparse tensor: an index falls outside the shape {list(shape)}")
    dense[tuple(original.T)] = values.reshape(-1)
    return dense
