"""The model zoo: cards (``models/<name>.toml``) and verified downloads into the user cache.

>>> from edgevision import models
>>> models.names()                       # every card
>>> path = models.fetch("pose_detection")  # sha256-verified local file (downloaded once)
>>> models.card("pose_detection").params["anchors"]["strides"]
[8, 16, 32, 32, 32]
"""

from __future__ import annotations

from .cards import CardError, ModelCard, Source, TensorSpec, all_cards, card, card_directories, names, parse_card
from .fetch import ChecksumError, FetchError, cache_home, fetch, is_cached, local_path, offline

__all__ = [
    "CardError", "ChecksumError", "FetchError", "ModelCard", "Source", "TensorSpec", "all_cards", "cache_home",
    "card", "card_directories", "fetch", "is_cached", "local_path", "names", "offline", "parse_card",
]
