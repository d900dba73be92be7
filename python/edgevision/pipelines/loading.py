"""Which model a pipeline stage runs: a zoo card (its pre/post-processing) plus a file."""

from __future__ import annotations

import os
from typing import Optional, Sequence, Union

ModelSpec = Union[str, os.PathLike, tuple]


def load_stage(spec: ModelSpec, task: str, what: str, *, runtime: str, device: str, threads: Optional[int],
               unused_roles: Sequence[str] = (), native_head_roles: Sequence[str] = ()):
    """``(card, model)`` for one stage of a pipeline.

    ``spec`` is a zoo card name (its file fetched or, for user-supplied cards, found in the
    cache), a path to a model file whose name is some card's file name, or a
    ``(card name, path)`` pair for a file under another name. ``task`` is the card task the
    stage needs; ``what`` names the argument in errors. ``unused_roles``: output roles of the
    card's ``[decode]`` table (``"segmentation_output"``) that the stage will not read: the
    model is pruned of the work only they need (``runtime.load(outputs=...)``).
    ``native_head_roles``: output roles whose segmentation tail edgevision runs natively where
    that is faster (``runtime.load(native_heads=...)``; ``model.native_heads`` says where it
    does).
    """
    from .. import models
    from .. import runtime as runtime_module

    card_name, path = _split(spec, what)
    try:
        card = models.card(card_name)
    except (KeyError, ValueError, models.CardError) as e:
        raise ValueError(f"{what}: no model card {card_name!r} ({e})") from None
    if card.task != task or card.kind != "model":
        raise ValueError(f"{what}: card {card.name!r} is a {card.task} {card.kind}, expected a {task} model")
    outputs = _read_outputs(card, unused_roles)
    decode = card.params.get("decode", {})
    heads = [decode[role] for role in native_head_roles if role in decode]
    model = runtime_module.load(card.name if path is None else path, runtime=runtime, device=device, threads=threads,
                                outputs=outputs, native_heads=heads)
    if path is not None:
        card.check_io(model, outputs)
    return card, model


def _read_outputs(card, unused_roles: Sequence[str]) -> Optional[list[str]]:
    """The card's output names without those of ``unused_roles``; None when nothing is dropped
    or the card's names are not verified against the file (an export contract)."""
    decode = card.params.get("decode", {})
    unused = {decode[role] for role in unused_roles if role in decode}
    names = [o.name for o in card.outputs]
    if not unused or not card.io_verified or not unused <= set(names):
        return None
    return [name for name in names if name not in unused]


def _split(spec: ModelSpec, what: str) -> tuple[str, Optional[str]]:
    from .. import models

    if isinstance(spec, tuple):
        if len(spec) != 2 or not isinstance(spec[0], str) or not isinstance(spec[1], (str, os.PathLike)):
            raise TypeError(f"{what}: expected a (card name, path) pair, got {spec!r}")
        return spec[0], os.fspath(spec[1])
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and (os.sep in spec or "." in spec)):
        path = os.fspath(spec)
        base = os.path.basename(path)
        matches = [c.name for c in models.all_cards().values() if c.file_name == base]
        if not matches:
            raise ValueError(f"{what}: {base!r} is not the file of any model card; pass (card name, path) to say "
                             "which pre/post-processing it needs")
        return matches[0], path
    if isinstance(spec, str):
        return spec, None
    raise TypeError(f"{what}: expected a card name, a model path or a (card name, path) pair, got "
                    f"{type(spec).__name__}")
