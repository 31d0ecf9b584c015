"""From a ranking to results: one row per talk (recordings collapsed), related talks diversified, and each
`Hit` assembled from the fields stored per document, with the passage that matched and its snippet."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..normalize import fold_word
from ..records import Hit, Kind, Moment, Recording, Todo

if TYPE_CHECKING:
    import numpy as np

    from .collection import Collection
    from .rankers import Ranked


def collapse(searcher: Collection, positions: Iterable[int], limit: int, all_recordings: bool) -> list[int]:
    """The first `limit` positions, keeping only the best recording of each talk."""
    chosen, seen = [], set()
    for pos in positions:
        group = searcher.fields(pos)["group"]
        if not all_recordings and group in seen:
            continue
        seen.add(group)
        chosen.append(pos)
        if len(chosen) == limit:
            break
    return chosen


def newest_recording(searcher: Collection, pos: int, matched: set[int]) -> int:
    """The position of the newest matched recording of the talk at `pos` (`pos` for a note or a single one)."""
    position = searcher.position
    dated = [(r["date"], position[r["id"]]) for r in searcher.fields(pos).get("recordings") or ()
             if r["date"] and position.get(r["id"]) in matched]
    return max(dated)[1] if dated else pos


def diversify(searcher: Collection, pool: list[int], ranked: Ranked, k: int, diversity: float) -> list[int]:
    """Maximal marginal relevance: each pick maximises (1-d)*relevance - d*similarity to earlier picks."""
    if diversity == 0 or len(pool) <= 1:
        return pool[:k]
    import numpy as np

    score = dict(zip(ranked.positions, ranked.scores, strict=True))
    vectors = np.asarray(searcher.document_vectors[pool])
    similar = vectors @ vectors.T
    chosen: list[int] = []
    left = list(range(len(pool)))
    while left and len(chosen) < k:
        def gain(i: int) -> float:
            redundancy = max((similar[i, j] for j in chosen), default=0.0)
            return (1 - diversity) * score[pool[i]] - diversity * redundancy

        best = max(left, key=gain)
        chosen.append(best)
        left.remove(best)
    return [pool[i] for i in chosen]


def hits(searcher: Collection, positions: list[int], ranked: Ranked, text: str, vector: np.ndarray | None, *,
         explain: bool = False, all_recordings: bool = False) -> list[Hit]:
    """Hits for the documents at `positions`, from the fields stored per document (`store.Records`): each with
    its passage closest to `vector` (without one, its first), a snippet of it around `text`'s words, and with
    `explain` each ranker's rank and score."""
    score = dict(zip(ranked.positions, ranked.scores, strict=True))
    out = []
    for pos in positions:
        f = searcher.fields(pos)
        row = _passage_row(searcher, pos, vector)
        passage = searcher.passage_text(row) if row is not None else ""
        explanation = {**ranked.explain(pos), "passage": passage} if explain else None
        found = float(score.get(pos, 1.0))
        moment = _moment(searcher, pos, ranked, text, vector) if vector is not None and text else None
        if f["kind"] == "talk":
            recordings = tuple(Recording(**r) for r in f["recordings"] if not all_recordings or r["id"] == f["id"])
            out.append(Hit(f["id"], Kind.TALK, f["title"], tuple(f["speakers"]), f["event_title"], f["date"],
                           f["url"], found, snippet(passage, text), tuple(f["sources"] or ()), recordings,
                           moment=moment, explain=explanation))
        elif f["kind"] == "transcript":
            out.append(Hit(f["id"], Kind.TRANSCRIPT, f["title"], tuple(f["speakers"] or ()), f["event_title"],
                           f["date"], f["url"], found, snippet(passage, text), (f["path"],), file=f["file"],
                           moment=moment, explain=explanation))
        else:
            todos = tuple(Todo(**todo) for todo in f["todos"] or ())
            section = _section(searcher, pos, row, text, f.get("sections") or ()) if row is not None else None
            out.append(Hit(f["id"], Kind.NOTE, f["title"], tuple(f["speakers"] or ()),
                           f["event_title"] or first_line(f["context"]),
                           f["date"], (f["urls"] or [None])[0], found, snippet(passage, text), (f["path"],),
                           file=f["file"], line=f["line_start"], todos=todos, section=section, talk=f.get("talk"),
                           explain=explanation))
    return out


# share of the cosine beside BM25 when a talk's windows are compared for its moment: within one talk, the query's rare
# words say more than they do across the collection
MOMENT_DENSE_WEIGHT = 0.5


def _moment(searcher: Collection, pos: int, ranked: Ranked, text: str, vector: np.ndarray) -> Moment | None:
    """The window of the document's transcripts (a talk's linked ones, or itself) that matches best: the blend of its
    cosine and its BM25 over the windows (as `rankers.blend` weighs them); None without a transcript."""
    import numpy as np

    transcripts = searcher.transcripts_of(pos)
    if not transcripts:
        return None
    first = searcher.first_window  # a transcript's passages are among the last rows
    rows = first + np.flatnonzero(np.isin(searcher.passage_owner[first:], transcripts))
    if not rows.size:
        return None
    scores = MOMENT_DENSE_WEIGHT * searcher.passage_cosines(rows, vector)
    if ranked.windows is not None and ranked.windows.size and (best := float(ranked.windows.max())) > 0:
        scores = scores + (1 - MOMENT_DENSE_WEIGHT) * ranked.windows[rows - first] / best
    row = int(rows[int(np.argmax(scores))])
    start, end = (float(x) for x in searcher.passage_spans[row])
    url = searcher.fields(int(searcher.passage_owner[row]))["url"]
    return Moment(round(start, 1), round(end, 1), deep_link(url, start) if url else None,
                  snippet(searcher.passage_text(row), text))


def deep_link(url: str, seconds: float) -> str:
    """`url` that starts the video at `seconds`: YouTube's `t=`, Vimeo's `#t=`; another host's URL as it is.

    >>> deep_link("https://www.youtube.com/watch?v=abc&t=5s", 754.2), deep_link("https://vimeo.com/123", 61)
    ('https://www.youtube.com/watch?v=abc&t=754s', 'https://vimeo.com/123#t=61s')
    >>> deep_link("https://youtu.be/abc", 3.9)
    'https://youtu.be/abc?t=3s'
    """
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    at = f"{int(seconds)}s"
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.").removeprefix("m.")
    if host in ("youtube.com", "youtu.be", "youtube-nocookie.com") or host.endswith(".youtube.com"):
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "t"] + [("t", at)]
        return urlunsplit(parts._replace(query=urlencode(query)))
    if host.endswith("vimeo.com"):
        return urlunsplit(parts._replace(fragment=f"t={at}"))
    return url


def _passage_row(searcher: Collection, pos: int, vector: np.ndarray | None) -> int | None:
    """The row of the document's passage closest to `vector`; without a vector, of its first passage with text."""
    if vector is not None:
        return searcher.best_passage(pos, vector)
    rows = searcher.passage_rows(pos)  # in ordinal order: text passages, or the one without text
    return int(rows[0]) if len(rows) else None


def _section(searcher: Collection, pos: int, row: int, query: str, sections: list[str]) -> str | None:
    """The note's section that passage `row` matched `query` in: of the parts of the passage between its section
    headings (`sections`), the one holding the most distinct query words (the first, if none holds any). A part
    before the passage's first heading is in the section of the last heading met in the passages before it. A
    heading is met as a line ("## Questions", a setext title "Questions"), or as `#`s and the heading ending a line
    (spaCy may join a heading to the sentence before it)."""
    if not sections:
        return None
    names = set(sections)
    words = {fold_word(w) for w in _WORD.findall(query) if len(w) > 1}
    current: str | None = None
    for r in searcher.passage_rows(pos).tolist():
        parts: list[tuple[str | None, list[str]]] = [(current, [])]  # (section, its lines in this passage)
        for line in searcher.passage_text(r).split("\n"):
            tail = _ATX_TAIL.search(line)
            title = line.strip() if line.strip() in names else tail.group(1) if tail else None
            if title in names:
                parts[-1][1].append(line[: tail.start()] if tail and title != line.strip() else "")
                parts.append((title, [title]))
            else:
                parts[-1][1].append(line)
        if r == row:
            def matched(part: tuple[str | None, list[str]]) -> int:
                return len(words & {fold_word(w) for w in _WORD.findall(" ".join(part[1]))})

            return max(parts, key=matched)[0]  # the first of equals
        current = parts[-1][0]
    return current


_ATX_TAIL = re.compile(r"(?:^|[ \t])#{1,6}[ \t]+(\S.*?)(?:[ \t]+#+)?[ \t]*$")  # "## Questions ##" -> "Questions"


def first_line(context: str | None) -> str | None:
    """A note's context as its hit's event: the first line (a notes file's preamble can run to paragraphs and to-dos,
    which `show` lists in full)."""
    return next((line.strip() for line in (context or "").splitlines() if line.strip()), None)


_WORD = re.compile(r"\w+")


def snippet(text: str, query: str, *, width: int = 240) -> str:
    """About `width` characters of `text`: the window holding the most distinct query words."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    words = {fold_word(w) for w in _WORD.findall(query) if len(w) > 1}
    found = [(m.start(), w) for m in _WORD.finditer(text) if (w := fold_word(m.group())) in words]
    # a word the text repeats says less about where the match is than one it uses once
    weight = {w: 1 / sum(1 for _, x in found if x == w) for _, w in found}
    start, best = 0, 0.0
    for i, (position, _) in enumerate(found):
        window_start = max(0, position - width // 5)
        score = sum(weight[w] for w in {w for p, w in found[i:] if p < window_start + width})
        if score > best:
            start, best = window_start, score
    if start:
        start = text.find(" ", start) + 1 if text.find(" ", start) >= 0 else start
    end = start + width
    cut = text[start:end]
    if end < len(text):
        cut = cut.rsplit(" ", 1)[0]
    return ("…" if start else "") + cut + ("…" if end < len(text) else "")
