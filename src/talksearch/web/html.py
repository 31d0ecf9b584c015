"""Jinja2 templates and the filters they use: every value from the index is escaped (autoescape), query words are
highlighted as the terminal highlights them, and only http(s) URLs become links."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from ..normalize import matched_words
from ..records import jsonable
from ..search.hits import deep_link

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LINK_SCHEMES = ("http", "https")  # a note's `javascript:` or `file:` URL is shown as text, never a link


def highlight(text: str | None, query: str) -> Markup:
    """`text` escaped, with the words of `query` in <mark> (the words `render.highlight` colours in a terminal)."""
    text = text or ""
    out, last = [], 0
    for start, end in matched_words(text, query):
        out += [escape(text[last:start]), Markup("<mark>"), escape(text[start:end]), Markup("</mark>")]
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def link(url: str | None) -> str | None:
    """`url` if it is a web address a page may link to; None otherwise (it is then shown as text)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in LINK_SCHEMES and parts.netloc else None


def at(url: str | None, seconds: float) -> str | None:
    """A link that starts the video `url` at `seconds` (the deep link of a hit's moment), or None (not a web
    address: the time is then shown as text)."""
    url = link(url)
    return deep_link(url, seconds) if url else None


def clock(seconds: float | None) -> str:
    """Seconds into a video as the player shows them: 754 -> "12:34", 3723 -> "1:02:03"."""
    whole = int(seconds or 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def doc_url(doc_id: str, kind: Any = "talk") -> str:
    """The page of a talk or note: /talk/<id> or /note/<id>, the id percent-encoded (`#` and `?` included)."""
    section = "note" if str(getattr(kind, "value", kind)) == "note" or doc_id.startswith("note:") else "talk"
    return f"/{section}/{quote(doc_id, safe='/:')}"


def cell(value: Any) -> str:
    """A stored value as text: lists comma-separated, dates ISO 8601, nothing for None."""
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    return str(value)


def page_url(path: str, params: dict[str, Any], **changes: Any) -> str:
    """`path` with `params` and `changes` as its query string; empty values left out (a paging link)."""
    merged = {**params, **changes}
    pairs = [(k, v) for k, values in merged.items() for v in (values if isinstance(values, list) else [values])
             if v not in (None, "", False) and not (k == "offset" and v == 0)]
    query = "&".join(f"{quote(str(k))}={quote(str(v), safe='')}" for k, v in pairs)
    return f"{path}?{query}" if query else path


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(highlight=highlight, link=link, at=at, clock=clock, cell=cell)
    env.globals.update(doc_url=doc_url, page_url=page_url)
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
