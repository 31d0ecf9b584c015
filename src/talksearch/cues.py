"""Cues: what a transcript says when, cleaned of what subtitle makers repeat, and cut into windows for the encoder.

    unroll(cues)             rolling captions (YouTube's auto-generated ones) read with each word once
    drop_noise(cues)         cues without words left out, loops kept once; what was left out, counted
    windows(cues, *, budget, count_tokens, offsets, min_seconds, max_seconds)
                             consecutive cues packed into timed windows that fit the encoder
    cut_at_words(text, budget, offsets)
                             a text longer than the budget cut at word starts (`text.pack` cuts sentences with it)

Pure functions over lists of `Cue`: no spaCy, no torch, no file. The tokenizer is passed in as two functions, as
`text.pack` takes it, so the query side may import this module too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from talksearch.records import Cue

# word pieces of each string (no special tokens); offsets of each piece for long texts
CountTokens = Callable[[list[str]], list[int]]
TokenOffsets = Callable[[str], list[tuple[int, int]]]

LOOP_REPEATS = 3  # a cue (or a run of cues) said this many times in a row is a loop: kept once
LOOP_PERIOD = 3  # the longest run of cues a loop repeats (Whisper repeats one sentence, sometimes two or three)
_SOUND = re.compile(r"(?:\s*(?:\[[^\[\]]*\]|\([^()]*\)|♪+))+\s*")  # "[Music]", "(applause)", "♪": no words said
_WORD = re.compile(r"\w+")


def unroll(cues: Sequence[Cue]) -> list[Cue]:
    """Rolling captions with each word once: of each cue, only the words it does not carry over from the last.

    YouTube's auto-generated captions show two lines at a time: each cue repeats the line before and adds one, and
    a ~10 ms cue between two holds the line that stays. A cue's new words are what follows the longest run of its
    first words that ends the previous cue; they keep the cue's times, and a cue with nothing new is left out.
    Only for rolling captions: in others, two cues that say the same ("Yeah." "Yeah.") are both said.

    >>> unroll([Cue(0.0, 2.0, "we write"), Cue(2.0, 2.01, "we write"), Cue(2.01, 4.0, "we write tests for it")])
    [Cue(start=0.0, end=2.0, text='we write'), Cue(start=2.01, end=4.0, text='tests for it')]
    """
    out: list[Cue] = []
    previous: list[str] = []
    for cue in cues:
        words = cue.text.split()
        new = words[_carried(previous, words) :]
        if new:
            out.append(Cue(cue.start, cue.end, " ".join(new)))
        previous = words
    return out


def _carried(previous: list[str], words: list[str]) -> int:
    """How many of `words`, from the first, repeat the end of `previous` (the longest such run)."""
    for k in range(min(len(previous), len(words)), 0, -1):
        if previous[-k:] == words[:k]:
            return k
    return 0


def drop_noise(cues: Sequence[Cue], *, repeats: int = LOOP_REPEATS,
               period: int = LOOP_PERIOD) -> tuple[list[Cue], tuple[tuple[str, int], ...]]:
    """The cues that say something, and what was left out: `(what, cues)` for each kind found, in this order.

    "punctuation": a cue without a letter or digit ("." ×5,000 in a Whisper transcript of silence, "...", "—").
    "sound": a cue that only labels a sound: "[Music]", "(applause)", "♪".
    "repeated": a loop, the same cue (or run of up to `period` cues) `repeats` times or more in a row, compared by
    words (case and punctuation aside): kept once, with the first one's times. Whisper loops like this over
    silence and music, sometimes for minutes. Twice in a row is speech ("Yeah." "Yeah."), and is kept.

    >>> said = [Cue(0.0, 1.0, "Thank you."), Cue(1.0, 2.0, "."), Cue(2.0, 3.0, "Thank you."), Cue(3.0, 4.0, "thank you")]
    >>> drop_noise(said)
    ([Cue(start=0.0, end=1.0, text='Thank you.')], (('punctuation', 1), ('repeated', 2)))
    """
    kept: list[Cue] = []
    dropped = {"punctuation": 0, "sound": 0, "repeated": 0}
    for cue in cues:
        if not any(ch.isalnum() for ch in cue.text):
            dropped["punctuation"] += 1
        elif _SOUND.fullmatch(cue.text):
            dropped["sound"] += 1
        else:
            kept.append(cue)
    kept, dropped["repeated"] = _drop_loops(kept, repeats, period)
    return kept, tuple((what, n) for what, n in dropped.items() if n)


def _drop_loops(cues: list[Cue], repeats: int, period: int) -> tuple[list[Cue], int]:
    """`cues` with each loop kept once (its first round), and how many cues were left out."""
    keys = [" ".join(_WORD.findall(cue.text.casefold())) for cue in cues]
    kept: list[Cue] = []
    i = 0
    while i < len(cues):
        for p in range(1, period + 1):
            block = keys[i : i + p]
            if len(block) < p or (p > 1 and len(set(block)) == 1):  # a block of one cue is a loop of period 1
                continue
            rounds = 1
            while keys[i + rounds * p : i + (rounds + 1) * p] == block:
                rounds += 1
            if rounds >= repeats:
                kept.extend(cues[i : i + p])
                i += rounds * p
                break
        else:
            kept.append(cues[i])
            i += 1
    return kept, len(cues) - len(kept)


def windows(cues: Sequence[Cue], *, budget: int, count_tokens: CountTokens, offsets: TokenOffsets,
            min_seconds: float = 30.0, max_seconds: float = 90.0) -> list[Cue]:
    """Consecutive cues packed into windows of at most `budget` word pieces: each is the first cue's start, the
    latest end, and the cues' texts joined with spaces.

    A window closes before a cue that would take it past the budget; and, once it lasts `min_seconds`, before a cue
    that would make it last more than `max_seconds`. A shorter window still takes a cue that starts within
    `max_seconds` of it (a few words alone make a poor passage; Whisper's cues can last 30 s), but not one after a
    longer pause (a break in a tutorial, a loop left out). A cue longer than the budget is cut at word starts, each
    piece timed by its share of the cue's word pieces. No text is left out: the windows' words are the cues'
    words, in order.
    """
    if budget < 1:
        raise ValueError(f"budget must be at least 1 word piece, not {budget}")
    cues = [cue for cue in cues if cue.text.strip()]
    if not cues:
        return []
    out: list[Cue] = []
    current: list[Cue] = []
    used = 0
    for cue, n in _pieces(cues, budget, count_tokens, offsets):
        if current:
            start = current[0].start
            long_enough = max(c.end for c in current) - start >= min_seconds
            too_late = cue.end - start > max_seconds and (long_enough or cue.start - start > max_seconds)
            if used + n > budget or too_late:
                out.append(_joined(current))
                current, used = [], 0
        current.append(cue)
        used += n
    out.append(_joined(current))
    return out


def _pieces(cues: list[Cue], budget: int, count_tokens: CountTokens,
            offsets: TokenOffsets) -> list[tuple[Cue, int]]:
    """Each cue with its word pieces; one longer than `budget` as pieces that fit, timed by their share of it."""
    out: list[tuple[Cue, int]] = []
    for cue, n in zip(cues, count_tokens([cue.text for cue in cues]), strict=True):
        if n <= budget:
            out.append((cue, n))
            continue
        parts = cut_at_words(cue.text, budget, offsets)
        total = sum(m for _, m in parts) or 1
        seconds = cue.end - cue.start
        done = 0
        for text, m in parts:
            out.append((Cue(cue.start + seconds * done / total, cue.start + seconds * (done + m) / total, text), m))
            done += m
    return out


def _joined(cues: list[Cue]) -> Cue:
    return Cue(cues[0].start, max(cue.end for cue in cues), " ".join(cue.text for cue in cues))


def cut_at_words(text: str, budget: int, offsets: TokenOffsets) -> list[tuple[str, int]]:
    """`text` cut into pieces of at most `budget` word pieces, at word starts: (piece, its word pieces).

    A word longer than the budget on its own is cut inside (it would not fit anywhere).
    """
    spans = offsets(text)
    pieces = []
    start = 0
    while start < len(spans):
        end = min(start + budget, len(spans))
        if end < len(spans):
            # back off to a piece that starts a word, so words are not split
            back = end
            while back > start + 1 and not text[spans[back][0] - 1 : spans[back][0]].isspace():
                back -= 1
            end = back if back > start + 1 else end
        char_start = spans[start][0]
        char_end = spans[end][0] if end < len(spans) else len(text)
        pieces.append((text[char_start:char_end].strip(), end - start))
        start = end
    return [(piece, n) for piece, n in pieces if piece]
