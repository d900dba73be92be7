"""``edgevision models list | fetch NAME... | --all | info NAME`` (and ``convert | quantize | accuracy``)."""

from __future__ import annotations

import argparse
import sys

from . import cards
from .fetch import FetchError, cache_home, fetch, is_cached, local_path


def add_parser(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="the model zoo: list, fetch and describe model files")
    actions = models.add_subparsers(dest="models_command", required=True)
    actions.add_parser("list", help="every card, with its size and whether it is in the cache").set_defaults(
        run=_list)
    get = actions.add_parser("fetch", help="download and verify model files into the cache")
    get.add_argument("names", nargs="*", metavar="NAME", help="zoo names (see `edgevision models list`)")
    get.add_argument("--all", action="store_true", help="every card that has a download source")
    get.set_defaults(run=_fetch)
    info = actions.add_parser("info", help="a card, and the tensors read from the file")
    info.add_argument("name", metavar="NAME")
    info.add_argument("--no-fetch", action="store_true", help="do not download the file if it is missing")
    info.set_defaults(run=_info)
    from ..convert import cli as convert_cli

    convert_cli.add_parsers(actions)


def _size(n: int | None) -> str:
    return "?" if n is None else (f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB")


def _list(args: argparse.Namespace) -> int:
    rows = [("name", "kind", "task", "size", "status")]
    for name, c in cards.all_cards().items():
        if is_cached(c):
            status = "cached"
        elif c.user_supplied:
            status = "user-supplied (not present)"
        else:
            status = "not fetched"
        rows.append((name, c.kind, c.task, _size(c.size), status))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    print(f"\ncache: {cache_home() / 'models'}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    if args.all == bool(args.names):
        print("edgevision models fetch: give NAME... or --all", file=sys.stderr)
        return 2
    names = [n for n, c in cards.all_cards().items() if not c.user_supplied] if args.all else args.names
    failed = 0
    for name in names:
        try:
            print(f"{name}: {fetch(name)}")
        except (ValueError, FetchError) as e:
            print(f"{name}: {e}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def _info(args: argparse.Namespace) -> int:
    try:
        c = cards.card(args.name)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{c.name} ({c.kind}, {c.task}): {c.description}")
    for label, value in (("origin", c.origin), ("license", c.license), ("card", c.card_path)):
        if value:
            print(f"  {label}: {value}")
    print(f"  file: {c.file_name}, {_size(c.size)}, sha256 {c.sha256 or '(unknown: user-supplied)'}")
    print(f"  cache: {local_path(c)}")
    for k, source in enumerate(c.sources, 1):
        print(f"  source {k}: {source.describe()}")
    if c.how_to_get:
        print(f"  how to get: {c.how_to_get}")
    if c.notes:
        print(f"  notes: {c.notes}")
    for role, specs in (("input", c.inputs), ("output", c.outputs)):
        for spec in specs:
            extras = ", ".join(x for x in (spec.layout, spec.channel_order,
                                           spec.value_range and f"range {list(spec.value_range)}") if x)
            print(f"  card {role} {spec.name}: {list(spec.shape)} {'/'.join(spec.dtypes)}"
                  + (f" ({extras})" if extras else "") + (f": {spec.meaning}" if spec.meaning else ""))
    for key, value in c.params.items():
        print(f"  [{key}] {value}")
    if c.kind != "model":
        return 0
    try:
        path = local_path(c) if args.no_fetch else fetch(c)
        if not path.exists():
            print("  (file not in the cache: tensors not read)")
            return 0
        from .. import runtime

        model = runtime.load(path)
    except (FetchError, ImportError, ValueError, RuntimeError) as e:
        print(f"  (tensors not read from the file: {e})")
        return 0
    print(f"  file tensors ({model.runtime}):")
    for role, infos in (("input", model.inputs), ("output", model.outputs)):
        for info in infos:
            print(f"    {role} {info}")
    return 0
