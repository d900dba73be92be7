"""Model cards: one TOML file per model or asset (``models/<name>.toml``), read into dataclasses.

A card names the file (size, sha256), where to get it (sources in order of preference), its
tensors (shape, dtype, layout, value range, channel order, meaning) and the pre/post-processing
numbers the pipelines read (any other top-level table, e.g. ``[anchors]``, lands in
``card.params``). Cards are package data (``edgevision/model_cards``); a source checkout uses
its ``models/`` directory, and ``EDGEVISION_MODEL_CARDS`` points at another directory.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SCHEMA = 1
KINDS = ("model", "asset")
SOURCE_KINDS = ("url", "pypi")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_CARD_KEYS = {"schema", "name", "kind", "task", "description", "license", "origin", "notes", "how_to_get",
              "io_verified", "file", "sources", "inputs", "outputs"}


@dataclass(frozen=True)
class Source:
    """Where a file can be downloaded: a URL, or a member of a PyPI wheel fetched with pip."""

    kind: str
    url: Optional[str] = None
    requirement: Optional[str] = None  # e.g. "mediapipe==0.10.21"
    member: Optional[str] = None  # path inside the wheel
    # pip download --platform/--python-version/--implementation/--abi: pins one wheel on any host
    platform: Optional[str] = None
    python_version: Optional[str] = None
    implementation: Optional[str] = None
    abi: Optional[str] = None

    def pip_arguments(self) -> list[str]:
        args = ["--no-deps", "--only-binary", ":all:"]
        for flag, value in (("--platform", self.platform), ("--python-version", self.python_version),
                            ("--implementation", self.implementation), ("--abi", self.abi)):
            if value:
                args += [flag, value]
        return args + [str(self.requirement)]

    def describe(self) -> str:
        if self.kind == "url":
            return str(self.url)
        return f"member {self.member} of the wheel from `pip download {' '.join(self.pip_arguments())}`"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[Optional[int], ...]  # None: dynamic
    dtypes: tuple[str, ...]  # accepted element types (a float export and its quantised twin)
    layout: Optional[str] = None
    channel_order: Optional[str] = None
    value_range: Optional[tuple[float, float]] = None
    meaning: str = ""


@dataclass(frozen=True)
class ModelCard:
    name: str
    kind: str
    task: str
    file_name: str
    format: str
    size: Optional[int]
    sha256: Optional[str]
    sources: tuple[Source, ...]
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    params: Mapping[str, Any]
    description: str = ""
    license: str = ""
    origin: str = ""
    notes: str = ""
    how_to_get: str = ""
    io_verified: bool = False  # tensor names/shapes/dtypes were read from the real file
    card_path: Optional[Path] = field(default=None, compare=False)

    @property
    def user_supplied(self) -> bool:
        """No download source: the user puts the file in the cache (see ``fetch``'s error)."""
        return not self.sources

    def check_io(self, model: Any, outputs: Optional[Sequence[str]] = None) -> None:
        """Raise ValueError if a loaded model's tensors disagree with this card.

        Verified cards must match name, shape and dtype; cards written from an export contract
        (``io_verified = false``) must match the tensor counts and the shapes of same-named tensors.
        ``outputs``: the model was pruned to these of the card's outputs (``runtime.load(outputs=)``).
        """
        output_specs = self.outputs if outputs is None else tuple(o for o in self.outputs if o.name in outputs)
        heads = getattr(model, "native_heads", {})  # these outputs hold the features their head finishes
        skips = {name for names in getattr(model, "native_head_skips", {}).values() for name in names}
        model_outputs = [info for info in model.outputs if info.name not in skips]  # the heads' extra inputs
        for role, specs, infos in (("inputs", self.inputs, model.inputs), ("outputs", output_specs, model_outputs)):
            if not specs:
                continue
            if len(specs) != len(infos):
                raise ValueError(f"{model.path}: {len(infos)} {role}, but card '{self.name}' lists {len(specs)}")
            by_name = {info.name: info for info in infos}
            for k, spec in enumerate(specs):
                info = infos[k] if self.io_verified else by_name.get(spec.name)
                if info is None:
                    continue
                problems = []
                if self.io_verified and info.name != spec.name:
                    problems.append(f"name {info.name!r} != {spec.name!r}")
                shape = tuple(info.shape)
                if info.name in heads and len(shape) == 4:  # what the head makes of them
                    scale = 1 << heads[info.name].levels
                    shape = (shape[0], scale * shape[1], scale * shape[2], 1)
                if shape != spec.shape:
                    problems.append(f"shape {list(shape)} != {list(spec.shape)}")
                if info.dtype.name not in spec.dtypes:
                    problems.append(f"dtype {info.dtype.name} not in {list(spec.dtypes)}")
                if problems:
                    raise ValueError(f"{model.path}: {role[:-1]} {k} does not match card '{self.name}': "
                                     + "; ".join(problems))


class CardError(ValueError):
    """A card file is malformed."""


def parse_card(path: os.PathLike | str) -> ModelCard:
    """Read and validate one card file."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise CardError(f"{path}: not valid TOML: {e}") from None
    return card_from_dict(data, path)


def card_from_dict(data: Mapping[str, Any], path: Optional[Path] = None) -> ModelCard:
    where = str(path) if path else "card"

    def need(table: Mapping[str, Any], key: str, kind: type, context: str = "") -> Any:
        if key not in table:
            raise CardError(f"{where}: missing {context}{key}")
        value = table[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise CardError(f"{where}: {context}{key} must be a {kind.__name__}, got {value!r}")
        return value

    if data.get("schema") != SCHEMA:
        raise CardError(f"{where}: schema must be {SCHEMA}, got {data.get('schema')!r}")
    name = need(data, "name", str)
    if not _NAME.match(name):
        raise CardError(f"{where}: name {name!r} must be lower-case letters, digits and underscores")
    if path is not None and path.stem != name:
        raise CardError(f"{where}: the card for {name!r} must be named {name}.toml")
    kind = need(data, "kind", str)
    if kind not in KINDS:
        raise CardError(f"{where}: kind must be one of {list(KINDS)}, got {kind!r}")
    file = need(data, "file", dict)
    file_name = need(file, "name", str, "file.")
    if os.path.basename(file_name) != file_name or file_name.startswith("."):
        raise CardError(f"{where}: file.name must be a plain file name, got {file_name!r}")
    size = file.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size <= 0):
        raise CardError(f"{where}: file.size must be a positive integer, got {size!r}")
    sha256 = file.get("sha256")
    if sha256 is not None and (not isinstance(sha256, str) or not _SHA256.match(sha256)):
        raise CardError(f"{where}: file.sha256 must be 64 lower-case hex digits, got {sha256!r}")
    sources = tuple(_source(s, where) for s in data.get("sources", []))
    if sources and sha256 is None:
        raise CardError(f"{where}: a card with download sources needs file.sha256 (downloads are verified)")
    return ModelCard(
        name=name,
        kind=kind,
        task=str(data.get("task", "")),
        file_name=file_name,
        format=str(file.get("format", Path(file_name).suffix.lstrip("."))),
        size=size,
        sha256=sha256,
        sources=sources,
        inputs=tuple(_tensor(t, where, "inputs") for t in data.get("inputs", [])),
        outputs=tuple(_tensor(t, where, "outputs") for t in data.get("outputs", [])),
        params={k: v for k, v in data.items() if k not in _CARD_KEYS},
        description=str(data.get("description", "")),
        license=str(data.get("license", "")),
        origin=str(data.get("origin", "")),
        notes=str(data.get("notes", "")),
        how_to_get=str(data.get("how_to_get", "")),
        io_verified=bool(data.get("io_verified", False)),
        card_path=path,
    )


def _source(table: Any, where: str) -> Source:
    if not isinstance(table, dict) or table.get("kind") not in SOURCE_KINDS:
        raise CardError(f"{where}: each [[sources]] needs kind = one of {list(SOURCE_KINDS)}, got {table!r}")
    known = {f for f in Source.__dataclass_fields__}
    unknown = sorted(set(table) - known)
    if unknown:
        raise CardError(f"{where}: unknown key(s) {unknown} in a [[sources]] entry")
    source = Source(**{k: str(v) for k, v in table.items()})
    if source.kind == "url" and not source.url:
        raise CardError(f"{where}: a url source needs url")
    if source.kind == "pypi" and not (source.requirement and source.member):
        raise CardError(f"{where}: a pypi source needs requirement and member")
    return source


def _tensor(table: Any, where: str, role: str) -> TensorSpec:
    if not isinstance(table, dict) or not isinstance(table.get("name"), str):
        raise CardError(f"{where}: each [[{role}]] needs a name")
    shape = table.get("shape")
    # -1 marks a dimension the model leaves open (None in TensorSpec.shape, like TensorInfo.shape).
    if not isinstance(shape, list) or not all(isinstance(d, int) and (d > 0 or d == -1) for d in shape):
        raise CardError(f"{where}: [[{role}]] {table['name']!r}: shape must be a list of positive integers "
                        "(or -1 for a dynamic dimension)")
    dtype = table.get("dtype", "float32")
    dtypes = tuple(dtype) if isinstance(dtype, list) else (dtype,)
    value_range = table.get("value_range")
    return TensorSpec(
        name=table["name"],
        shape=tuple(None if d == -1 else d for d in shape),
        dtypes=tuple(str(d) for d in dtypes),
        layout=table.get("layout"),
        channel_order=table.get("channel_order"),
        value_range=tuple(float(v) for v in value_range) if value_range else None,  # type: ignore[arg-type]
        meaning=str(table.get("meaning", "")),
    )


# ----------------------------------------------------------------------------- the card set


def card_directories() -> list[Path]:
    """Where cards are looked up, first match wins per name."""
    dirs: list[Path] = []
    override = os.environ.get("EDGEVISION_MODEL_CARDS")
    if override:
        dirs.append(Path(override))
    package = Path(__file__).resolve().parent.parent  # .../edgevision
    checkout = package.parent.parent  # a source tree: <root>/python/edgevision
    if (checkout / "pyproject.toml").is_file() and (checkout / "models").is_dir():
        dirs.append(checkout / "models")
    import edgevision

    for entry in getattr(edgevision, "__path__", []):  # installed wheel; editable installs add a second entry
        dirs.append(Path(entry) / "model_cards")
    unique: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


_cache: dict[tuple[Path, ...], dict[str, ModelCard]] = {}


def all_cards() -> dict[str, ModelCard]:
    """Every card, by name, sorted."""
    dirs = tuple(card_directories())
    if dirs not in _cache:
        found: dict[str, ModelCard] = {}
        for directory in dirs:
            for path in sorted(directory.glob("*.toml")):
                if path.stem not in found:
                    found[path.stem] = parse_card(path)
        _cache[dirs] = dict(sorted(found.items()))
    return _cache[dirs]


def card(name: str) -> ModelCard:
    """The card called ``name``; ValueError listing the known names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a model name (str), got {type(name).__name__}")
    cards = all_cards()
    if name not in cards:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(cards) or '(no cards found)'}")
    return cards[name]


def names(kinds: Iterable[str] = KINDS) -> list[str]:
    return [n for n, c in all_cards().items() if c.kind in tuple(kinds)]
