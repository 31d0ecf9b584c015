"""Topics: the facet terms (tools, entities, phrases) that set a slice of the collection apart from the rest.

Scored by the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008) against the rest
of the collection: what the slice names more than the rest does, weighted by how sure the counts make us.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .records import FACETS

PRIOR = 500.0  # strength of the collection prior in the log-odds ratio, in document mentions


@dataclass(frozen=True)
class Characteristic:
    """A facet term that sets a slice apart from the rest of the collection."""

    facet: str
    term: str
    key: str
    documents: int  # documents of the slice naming it
    share: float  # of the slice's documents
    overall: float  # share of all documents
    score: float  # z-score of the log-odds ratio, slice vs the rest


def log_odds(inside: int, outside: int, total_inside: int, total_outside: int, prior: float) -> float:
    """z-score of the log-odds ratio with an informative Dirichlet prior (Monroe et al. 2008, eq. 22)."""
    a0 = PRIOR
    alpha = max(prior * a0, 1e-3)
    delta = (math.log((inside + alpha) / (total_inside + a0 - inside - alpha))
             - math.log((outside + alpha) / (total_outside + a0 - outside - alpha)))
    variance = 1.0 / (inside + alpha) + 1.0 / (outside + alpha)
    return delta / math.sqrt(variance)


def characteristic(rows: Iterable[tuple[str, str, str, int, int]], slice_size: int, total: int, *,
                   n: int = 10, min_documents: int = 2) -> dict[str, list[Characteristic]]:
    """Rank (facet, key, term, documents in slice, documents overall) rows per facet; best `n` of each.

    The odds compared are a document's odds of naming the term, in the slice and in the rest.
    """
    out: dict[str, list[Characteristic]] = {facet: [] for facet in FACETS}
    whole = slice_size >= total  # no slice: the collection's most widespread terms
    for facet, k, term, inside, overall in rows:
        if inside < min_documents:
            continue
        if whole:
            score = float(inside)
        else:
            score = log_odds(inside, overall - inside, slice_size, total - slice_size, overall / max(total, 1))
        if score > 0:
            out.setdefault(facet, []).append(Characteristic(facet, term, k, inside, inside / max(slice_size, 1),
                                                            overall / max(total, 1), round(score, 3)))
    for facet in out:
        out[facet] = sorted(out[facet], key=lambda c: (-c.score, c.key))[:n]
    return out
