"""Facets: the tools, named entities and keyphrases of each talk and note (`topics` finds what sets a slice apart).

At index time the same spaCy pass that splits text into sentences (`senter`,
plus `ner` for English text) yields, per document:

- entities: named entities of the kinds people filter and count by (people,
  organisations, products, places, ...); numbers and dates are left out;
- phrases: keyphrase candidates, runs of two to four content words between stop
  words and punctuation (RAKE's candidates; the tagger and parser would cost more
  than the whole embedding budget allows);

both stored per content hash and reused like passages. Tools are found after
that, on every run, with a gazetteer built from the collection itself:

- capitalised terms (Celery, FastAPI, spaCy, DuckDB) written with a capital in
  most of their mid-sentence uses, in documents of at least two events;
- the catalogs' own tags (django, pytest, scikit-learn) used at two events or more;

keeping only terms that are not whole English words to the encoder's word-piece
vocabulary (so "testing" and "web" are not tools but "pytest" is), unless a tag
is almost always capitalised (Python, Rust); and dropping conference names and
terms spaCy mostly calls a person or a place. An entity that is a tool counts
as the tool, not as ORG or NORP. Tool matching is case-insensitive, except for
tools that are English words, which must be capitalised ("Go", not "go").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .normalize import key
from .records import Mention

if TYPE_CHECKING:
    from spacy.tokens import Doc

ENTITY_LABELS = frozenset({"PERSON", "ORG", "PRODUCT", "GPE", "LOC", "NORP", "EVENT", "WORK_OF_ART", "LAW",
                           "LANGUAGE", "FAC"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
PLACE_SHARE = 0.8  # a term spaCy calls a place this often is one (Flask: 0.7, NumPy: 0.54, Harare: 1)
MIN_DOCS = 3  # a tool is named in at least this many documents ...
MIN_EVENTS = 2  # ... of at least this many events (not one conference's city or in-joke)
UPPER_SHARE = 0.8  # share of a term's mid-sentence uses written with a capital, for it to be a name
WORD_TAG_SHARE = 0.5  # the same for a tag that is an English word (Celery 0.86, Flask 0.89, pandas 0.51, debugging ~0)
MIN_PHRASE, MAX_PHRASE = 2, 4  # words in a keyphrase
TOOLS_FILE = "tools.tsv"  # the bundled gazetteer: key, name, "cased" or "any"
# words that end a keyphrase, besides spaCy's stop words: talk-abstract boilerplate
GENERIC = frozenset("""talk talks will also use using used learn learned learning session presentation speaker
tutorial workshop attendees audience introduction overview example examples way ways thing things lot lots people
get going see show look like new different various many well make need want know just one two part basic
basics topic topics start end good great best powerful wide range better certain real world key main important
common simple practical insights light understanding help helps able""".split())

_WORD = r"[^\W\d_]\w*(?:[.\-]\w+)*(?:\+\+|#)?"  # Montréal whole, node.js, scikit-learn, C++, C#
_TOKEN = re.compile(_WORD)
_MID_SENTENCE = re.compile(r"(?<=[a-z0-9,;:)] )" + _WORD)
_ACRONYM = re.compile(r"[A-Z0-9]+s?")  # API, LLMs, NLP: concepts, unless the catalogs tag them
_VERSION = re.compile(r"[\s_-]*v?\d+(?:\.\d+)*$")
_ENTITY_EDGES = re.compile(r"^(?:the|a|an)\s+|['’]s$", re.I)
_SPACE = re.compile(r"\s+")
_EDGE_PUNCTUATION = " \t\n•·*-–—|:;,.!?\"'“”‘’()[]{}<>"
_BROKEN = re.compile(r"[()\[\]{}<>|•]")  # a tokenisation slip: "DFD(Documentation-First", "| chatGPT Google"


def extract(blocks: Sequence[Doc]) -> list[Mention]:
    """Entities and keyphrases of one document's paragraphs, as parsed by spaCy."""
    entities: Counter[tuple[str, str, str]] = Counter()
    phrases: Counter[tuple[str, str]] = Counter()
    for doc in blocks:
        for ent in doc.ents:
            if ent.label_ not in ENTITY_LABELS:
                continue
            term = _ENTITY_EDGES.sub("", _SPACE.sub(" ", ent.text).strip(_EDGE_PUNCTUATION))
            k = key(term)
            if 2 <= len(term) <= 60 and not _BROKEN.search(term) and any(ch.isalpha() for ch in k):
                entities[ent.label_, k, term] += 1
        run: list[str] = []
        for token in doc:
            if token.is_sent_start or token.ent_type_ == "PERSON" or not _content(token):
                if run and token.text == "-" and not token.whitespace_ and not token.nbor(-1).whitespace_:
                    run[-1] += "-"  # open-source: one word
                    continue
                _add_run(phrases, run)
                run = []
            if _content(token) and token.ent_type_ != "PERSON":
                if run and run[-1].endswith("-"):
                    run[-1] += token.lower_
                else:
                    run.append(token.lower_)
        _add_run(phrases, run)
    mentions = [Mention("entity", label, k, term, n) for (label, k, term), n in entities.items()]
    mentions += [Mention("phrase", "PHRASE", k, term, n) for (k, term), n in phrases.items()]
    return mentions


def _content(token) -> bool:
    return token.is_alpha and not token.is_stop and len(token) > 1 and token.lower_ not in GENERIC


def _add_run(phrases: Counter, run: list[str]) -> None:
    if run and run[-1].endswith("-"):
        run[-1] = run[-1][:-1]
    if MIN_PHRASE <= len(run) <= MAX_PHRASE:
        term = " ".join(run)
        phrases[key(term), term] += 1


@dataclass(frozen=True)
class Source:
    """What the gazetteer needs to know of one document."""

    title: str
    text: str  # the body: capitalisation is judged here, where Title Case headings do not mislead
    event: str | None  # talks: the event slug; notes: None
    english: bool
    tags: tuple[str, ...] = ()

    @property
    def whole(self) -> str:
        return f"{self.title}\n{self.text}"


@dataclass(frozen=True)
class Tool:
    key: str
    name: str  # display form, as most often written
    cased: bool  # an English word: matched only when capitalised


class Gazetteer:
    """The collection's tools, and a matcher for them."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self.tools = {t.key: t for t in tools}
        self._longest = max((len(k.split()) for k in self.tools), default=0)

    def __len__(self) -> int:
        return len(self.tools)

    def digest(self) -> str:
        """SHA-256 of the tools: equal digests match every text alike."""
        import hashlib

        lines = (f"{t.key}\t{t.name}\t{t.cased}\n" for t in sorted(self.tools.values(), key=lambda t: t.key))
        return hashlib.sha256("".join(lines).encode()).hexdigest()

    @classmethod
    def build(cls, sources: Iterable[Source], *, common: frozenset[str], dictionary: frozenset[str],
              labels: dict[str, Counter], events: dict[str, frozenset[str]], people: frozenset[str],
              known: Iterable[Tool] = ()) -> Gazetteer:
        """`known` tools, and those of this collection: from capitalised terms and tags.

        `common` are everyday English words (the encoder's whole words: python, go, rust), `dictionary`
        all English words (WordNet's, from spaCy's lemmatizer); `labels` spaCy's entity labels per key;
        `events` each event's name keys (a term named mostly at events called after it is a conference:
        pycon, europython; not scipy); `people` speakers' name words (never tools).
        """
        upper: Counter[str] = Counter()  # documents writing the term with a capital, mid-sentence
        lower: Counter[str] = Counter()
        english: Counter[str] = Counter()  # documents in English that name it mid-sentence
        at: dict[str, set] = defaultdict(set)  # events (or notes) naming it, the first MIN_EVENTS
        full: set[str] = set()  # ... terms named at MIN_EVENTS places already: only that is asked
        named: Counter[str] = Counter()  # documents naming it anywhere, in any case
        own: Counter[str] = Counter()  # ... at an event named after it
        forms: dict[str, Counter] = defaultdict(Counter)
        # every document's words are counted here, so the counting is left to Counter.update and set operations
        for i, source in enumerate(sources):
            place = source.event or f"note:{i}"
            seen: dict[str, bool] = {}  # key -> written with a capital at least once
            for form, n in Counter(_MID_SENTENCE.findall(source.text)).items():
                k = key(form)
                if form != form.lower():
                    seen[k] = True
                    forms[k][form] += n
                else:
                    seen.setdefault(k, False)
            upper.update(k for k, capital in seen.items() if capital)
            lower.update(k for k, capital in seen.items() if not capital)
            if source.english:
                english.update(seen.keys())
            for k in seen.keys() - full:
                at[k].add(place)
                if len(at[k]) >= MIN_EVENTS:
                    full.add(k)
            words = set(map(key, _TOKEN.findall(source.text)))
            named.update(words)
            own.update(words & events.get(source.event or "", frozenset()))  # titles name their conference more
        tagged: Counter[str] = Counter()
        tag_english: Counter[str] = Counter()
        tag_events: dict[str, set] = defaultdict(set)
        for source in sources:
            for plain in {_VERSION.sub("", tag) for tag in source.tags}:
                k = key(plain)
                forms[k][plain] += 1
                tagged[k] += 1
                tag_english[k] += source.english
                if len(tag_events[k]) < MIN_EVENTS:
                    tag_events[k].add(source.event)
        tagged.pop("", None)

        def ours(k: str) -> bool:
            """Not a conference (named mostly at its own events) nor a speaker."""
            return own[k] * 2 < named[k] and not any(w in people for w in k.split())

        def share(k: str) -> float:
            return upper[k] / max(upper[k] + lower[k], 1)

        def not_name(k: str) -> bool:
            """Not mostly a place to spaCy. Its PERSON says nothing: it calls most unknown names that (spaCy,
            DuckDB, Streamlit: every time), so people are known by the speakers' names instead."""
            votes = labels.get(k, Counter())
            places = sum(n for label, n in votes.items() if label in PLACE_LABELS)
            return places < PLACE_SHARE * sum(votes.values()) or not votes

        tools = list(known)
        found = {t.key for t in tools}
        for k in tagged:  # the catalogs' tags: django, pytest, scikit-learn; Celery and Python when capitalised
            if (k in found or tagged[k] < MIN_DOCS or len(tag_events[k]) < MIN_EVENTS or tag_english[k] * 2 < tagged[k]
                    or len(k.split()) > 3 or _compound(k, dictionary) or not ours(k)):
                continue
            word = _is_word(k, dictionary | common)
            if word and not (len(k.split()) == 1 and share(k) >= WORD_TAG_SHARE and upper[k] >= MIN_DOCS and not_name(k)):
                continue  # testing, web, debugging, machine learning: topics, not tools; Australia: a place
            tools.append(Tool(k, (forms[k].most_common(1) or [(k, 0)])[0][0], cased=all(w in common for w in k.split())))
            found.add(k)
        for k in upper:  # capitalised names: FastAPI, DuckDB, Streamlit
            documents = upper[k] + lower[k]
            if (k not in found and upper[k] >= MIN_DOCS and len(at[k]) >= MIN_EVENTS and share(k) >= UPPER_SHARE
                    and english[k] * 2 >= documents and not _ACRONYM.fullmatch(forms[k].most_common(1)[0][0])
                    and not _is_word(k, common) and ours(k) and not_name(k)):
                tools.append(Tool(k, forms[k].most_common(1)[0][0], cased=False))
        return cls(sorted(tools, key=lambda t: t.key))

    def find(self, text: str, tags: Iterable[str] = ()) -> Counter[str]:
        """How often `text` names each tool (longest match first); a tag counts once."""
        found: Counter[str] = Counter()
        tokens = [(m.group(), key(m.group())) for m in _TOKEN.finditer(text)]
        i = 0
        while i < len(tokens):
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                k = " ".join(t[1] for t in tokens[i : i + n])
                tool = self.tools.get(k)
                if tool and (not tool.cased or tokens[i][0][0].isupper()):
                    found[k] += 1
                    i += n
                    break
            else:
                i += 1
        for tag in tags:
            k = key(_VERSION.sub("", tag))
            if k in self.tools and k not in found:
                found[k] = 1
        return found


def gazetteer(sources: Iterable[Source], extracted: Iterable[list[Mention]], *, common: frozenset[str],
              dictionary: frozenset[str], events: dict[str, Iterable[str | None]], people: Iterable[str],
              known: Iterable[Tool] = ()) -> Gazetteer:
    """A collection's gazetteer: its sources (iterated twice), their entities, each event's names, the speakers
    (`people`)."""
    labels: dict[str, Counter] = {}
    for mentions in extracted:
        for mention in mentions:
            if mention.facet == "entity":
                labels.setdefault(mention.key, Counter())[mention.label] += mention.n
    named = {}
    for slug, names in events.items():  # pycon-us-2019, "PyCon US 2019": pycon, us, pyconus
        parts = {p for name in names for p in key(name or "").split() if p.isalpha()}
        named[slug] = frozenset(parts | {"".join(p for p in key(name or "").split() if p.isalpha()) for name in names})
    names = frozenset(p for person in people for p in key(person).split() if len(p) > 2 and p not in common)
    return Gazetteer.build(sources, common=common, dictionary=dictionary, labels=labels, events=named, people=names,
                           known=known)


def bundled() -> list[Tool]:
    """The tools found in the 21,715 talks of pyvideo.org (`scripts/gazetteer.py`), known to every index."""
    from importlib.resources import files

    tools = []
    for line in files(__package__).joinpath(TOOLS_FILE).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            k, name, cased = line.split("\t")
            tools.append(Tool(k, name, cased == "cased"))
    return tools


def _is_word(k: str, words: frozenset[str]) -> bool:
    """True when every word of the key is an English word (not a name), plural or not (Billionaires)."""
    return all(_english(w, words) for w in k.split())


def _english(word: str, words: frozenset[str]) -> bool:
    if word in words:
        return True
    for suffix, replacement in (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e")):
        if word.endswith(suffix) and word[: -len(suffix)] + replacement in words:
            return True
    return False


def _compound(k: str, words: frozenset[str]) -> bool:
    """Two English words run together, as tags do: casestudy, datascience, teamwork."""
    return " " not in k and any(_english(k[:i], words) and _english(k[i:], words) for i in range(4, len(k) - 3))


def mentions(gazetteer: Gazetteer, text: str, tags: Iterable[str], extracted: Iterable[Mention]) -> list[Mention]:
    """A document's facets: its tools, then its entities and phrases; an entity naming a tool is the tool."""
    found = gazetteer.find(text, tags)
    out = [Mention("tool", "TOOL", k, gazetteer.tools[k].name, n) for k, n in sorted(found.items())]
    return out + [m for m in extracted if not (m.facet == "entity" and m.key in gazetteer.tools)]
