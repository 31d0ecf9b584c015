"""talksearch: a local, searchable knowledge base of conference talks and your notes on them."""

from __future__ import annotations

import os

from .version import __version__

# Nothing talksearch does may reach a model hub: the model ships in a package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from .errors import (  # noqa: E402 - after the environment is set
    AmbiguousTalkError,
    FilterWarning,
    IndexDamagedError,
    IndexLockedError,
    IndexMissingError,
    IndexReplacedError,
    InputError,
    ModelError,
    NoSourcesError,
    TalkNotFoundError,
    TalksearchError,
    UsageError,
)
from .kb import Detail, KnowledgeBase, Topics, open  # noqa: E402, A004 - talksearch.open() is the API
from .records import Hit, Kind, Note, Recording, Talk, TalkRecord, Todo  # noqa: E402
from .search import Filters  # noqa: E402

__all__ = [
    "AmbiguousTalkError",
    "Detail",
    "FilterWarning",
    "Filters",
    "Hit",
    "IndexDamagedError",
    "IndexReplacedError",
    "IndexLockedError",
    "IndexMissingError",
    "InputError",
    "Kind",
    "KnowledgeBase",
    "ModelError",
    "NoSourcesError",
    "Note",
    "Recording",
    "Talk",
    "TalkNotFoundError",
    "TalkRecord",
    "TalksearchError",
    "Topics",
    "Todo",
    "UsageError",
    "__version__",
    "open",
]
