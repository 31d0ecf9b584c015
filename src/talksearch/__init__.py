"""talksearch: a local, searchable knowledge base of conference talks and your notes on them."""

from __future__ import annotations

import os

__version__ = "0.1.0"

# Nothing talksearch does may reach a model hub: the model ships in a package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
