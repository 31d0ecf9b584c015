"""What entity and keyphrase extraction adds to a full index run, on its own line.

    .venv/bin/python -m benchmarks.facets_speed --index /tmp/ixfull [--limit N]

Takes every talk and note of an index (their titles and texts, as `index` parses them) and times, in one run:
- `split`: the sentence pass alone (spaCy `senter`), what `index` did before facets: the baseline;
- `split + entities`: the pass `index` runs now (`senter`, plus `ner` on English text) and `facets.extract`;
- `tools`: the gazetteer built from the collection, and every document's tool mentions.
Prints seconds, documents per second, and what facets add: (split + entities - split) + tools.
Both passes use the same worker processes as `index` (`text.analyse`: PARALLEL_MIN, MAX_WORKERS).
"""

from __future__ import annotations

import argparse
import time

from talksearch import facets, store
from talksearch.embed import Tokenizer, model_dir
from talksearch.text import analyse, dictionary, load_sentencizer, paragraphs


def documents(index: str, limit: int | None):
    con = store.connect(store.current(store.resolve_root(index)))
    rows = con.execute(
        "select title, coalesce(text, ''), coalesce(language, 'eng') = 'eng', tags, event, event_title, speakers "
        "from talks union all select title, coalesce(text, ''), true, tags, null, null, [] from notes "
        f"order by 1 {f'limit {int(limit)}' if limit else ''}").fetchall()
    con.close()
    return rows


def timed(label: str, fn, count: int):
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<20} {seconds:8.1f} s  {count / seconds:8.0f} documents/s", flush=True)
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--limit", type=int, help="only the first N documents (by title)")
    args = parser.parse_args()
    rows = documents(args.index, args.limit)
    blocks = [[title, *paragraphs(text)] for title, text, *_ in rows]
    english = [row[2] for row in rows]
    print(f"{len(rows)} documents ({sum(english)} English), {sum(len(b) for b in blocks)} blocks")

    senter = load_sentencizer()
    _, split = timed("split", lambda: sum(1 for _ in analyse(senter, blocks)), len(rows))

    nlp = load_sentencizer(entities=True)

    def with_entities():
        found = [[] for _ in rows]
        for i, _, mentions in analyse(nlp, blocks, entities=english, extract=facets.extract):
            found[i] = mentions or []
        return found

    extracted, both = timed("split + entities", with_entities, len(rows))

    def tools():
        sources = [facets.Source(title, text, event, eng, tuple(tags or ())) for title, text, eng, tags, event, *_ in rows]
        events: dict[str, set] = {}
        for row in rows:
            if row[4]:
                events.setdefault(row[4], set()).update(row[4:6])
        gazetteer = facets.gazetteer(sources, extracted, common=Tokenizer(model_dir()).words(), dictionary=dictionary(),
                                     known=facets.bundled(), events=events, people=[s for row in rows for s in row[6]])
        return sum(len(facets.mentions(gazetteer, s.whole, s.tags, e)) for s, e in zip(sources, extracted, strict=True))

    mentions, matching = timed("tools", tools, len(rows))
    added = both - split + matching
    print(f"{mentions} mentions ({sum(len(e) for e in extracted)} entities and phrases)")
    print(f"facets add {added:.1f} s to a full run ({both / split:.1f}x the sentence pass, plus tools)")


if __name__ == "__main__":
    main()
