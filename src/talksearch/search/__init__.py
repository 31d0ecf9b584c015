"""`query` and `related`: filter in DuckDB, rank densely and lexically, combine, group into hits.

- `query`: a query as typed (`parse_query`), `Filters`, and the SQL they become (`filter_plan`);
- `rankers`: each ranker takes a `Request` and a `Ranked` and returns a `Ranked`; `Rankers` composes them
  (`SHIPPED`: the blend of best-passage cosine and BM25; related talks from whole-text vectors);
- `searcher`: `Searcher`, one generation's documents ranked from filter to paged hits;
- `hits`: recordings collapsed, MMR, `Hit`s assembled with their snippets.

`benchmarks/eval.py` measures each ranking mode on the development set; the blend measured higher (README,
"Ranking quality").
"""

from .hits import snippet
from .query import FilterPlan, Filters, Query, as_written, filter_plan, parse_query
from .rankers import (
    DENSE_WEIGHT,
    FOREIGN_PENALTY,
    LEXICAL_DEPTH,
    RELATED_DENSE_WEIGHT,
    SHIPPED,
    Pipeline,
    Ranked,
    Ranker,
    Rankers,
    Request,
    blend,
    fuse_rrf,
    top,
)
from .searcher import MMR_DIVERSITY, Searcher

__all__ = [
    "DENSE_WEIGHT", "FOREIGN_PENALTY", "FilterPlan", "Filters", "LEXICAL_DEPTH", "MMR_DIVERSITY", "Pipeline", "Query",
    "RELATED_DENSE_WEIGHT", "Ranked", "Ranker", "Rankers", "Request", "SHIPPED", "Searcher", "as_written", "blend",
    "filter_plan", "fuse_rrf", "parse_query", "snippet", "top",
]
