"""Filter values that match nothing in the collection, each with the known values closest to it (`FilterWarning`).

Asked only when a filtered query found nothing: each value is looked up alone (a value that matches something, but
nothing together with the others, is not a miss), and the closest known values are found by `difflib` ratio.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import FilterWarning
from ..normalize import fold, key
from .query import _ISO3, Filters

if TYPE_CHECKING:
    import duckdb

NEAR = 3  # closest known values named
CLOSE = 0.6  # lowest difflib ratio of a value named as close
MARGIN = 0.05  # and at most this far below the closest one's
LANGUAGES_LISTED = 6  # languages named, most talks first, when none is close to a --lang


def misses(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[FilterWarning]:
    """A FilterWarning for each of `filters`' event, speaker, lang and mentions values that nothing matches."""
    found = []
    if filters.event and fold(filters.event) and not _any(
            con, "select 1 from talks where event_folded like ? union all select 1 from notes where context_folded like ?",
            *[f"%{fold(filters.event)}%"] * 2):
        events = con.execute("select slug, title, talks from events").fetchall()
        named = {slug: f"{title} ({slug})" if title and title != slug else slug for slug, title, _ in events}
        scored = ((slug, max(_ratio(filters.event, title or slug), _ratio(filters.event, slug)), talks)
                  for slug, title, talks in events)
        found.append(FilterWarning("event", filters.event, _closest(scored, named)))
    if filters.speaker and fold(filters.speaker) and not _any(
            con, "select 1 from speakers where folded like ? union all select 1 from notes where speakers_folded like ?",
            *[f"%{fold(filters.speaker)}%"] * 2):
        names = con.execute("select name, count(*) from speakers group by name").fetchall()
        scored = ((name, max(_ratio(filters.speaker, part) for part in (name, *name.split())), talks)
                  for name, talks in names)
        found.append(FilterWarning("speaker", filters.speaker, _closest(scored, {})))
    if filters.lang:
        code = _ISO3.get(filters.lang.lower(), filters.lang.lower())
        if not _any(con, "select 1 from talks where language = ?", code) and code != "eng":
            counts = con.execute("select language, count(*) from talks where language is not null group by 1 "
                                 "order by 2 desc, 1").fetchall()
            codes = [c for c, _ in counts]
            short = {iso3: two for two, iso3 in _ISO3.items()}
            scored = ((c, max(_ratio(filters.lang, c), _ratio(filters.lang, short.get(c, c))), n) for c, n in counts)
            known = f"the index has {', '.join(codes[:LANGUAGES_LISTED])}" if codes else "no talk has a language"
            found.append(FilterWarning("lang", filters.lang, _closest(scored, {}), known=known))
    for term in filters.mentions:
        wanted = key(term)
        if wanted and not _any(con, "select 1 from mentions where key = ?", wanted):
            rows = con.execute("select key, mode(term), count(distinct doc_id) from mentions where left(key, 1) = ? "
                               "and abs(length(key) - ?) <= 3 group by key", [wanted[0], len(wanted)]).fetchall()
            terms = {k: term for k, term, _ in rows}
            scored = ((k, difflib.SequenceMatcher(None, wanted, k).ratio(), n) for k, _, n in rows)
            found.append(FilterWarning("mentions", term, _closest(scored, terms)))
    return found


def _any(con: duckdb.DuckDBPyConnection, sql: str, *args) -> bool:
    return con.execute(f"select exists ({sql})", list(args)).fetchone()[0]


def _ratio(value: str, known: str) -> float:
    return difflib.SequenceMatcher(None, fold(value), fold(known)).ratio()


def _closest(scored: Iterable[tuple[str, float, int]], shown: dict[str, str]) -> tuple[str, ...]:
    """The NEAR best of (value, ratio, talks) at CLOSE or above and within MARGIN of the best: closest first, then the
    most talks; each as `shown` names it."""
    best = sorted((-round(ratio, 3), -talks, value) for value, ratio, talks in scored if ratio >= CLOSE)[:NEAR]
    return tuple(shown.get(value, value) for ratio, _, value in best if -ratio >= -best[0][0] - MARGIN)
