"""JSON at /api/...: the CLI's options as query parameters, answered in the CLI's `--json` schema (`Hit.to_dict`,
`Detail.to_dict`, `Topics.to_dict`, the rows of `todos`), so that the page and the CLI cannot drift apart.

    /api/query?q=celery+retries&k=5&since=2023&kind=talk&mentions=celery
    /api/related?talk=europython-2024/...&k=5&other_speakers=1
    /api/talk/europython-2024/...        (`show --json`)
    /api/todos?open=1                    (`todos --json`)
    /api/topics?event=EuroPython+2024    (`topics --json`)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..errors import UsageError
from ..records import Hit, Kind, Mode, Sort, Within, choice, jsonable
from ..search import MMR_DIVERSITY, Filters

if TYPE_CHECKING:
    from starlette.datastructures import QueryParams
    from starlette.requests import Request

    from ..kb import KnowledgeBase

MAX_K = 1000  # results one request may ask for
TRUE = ("1", "true", "yes", "on")  # a flag's values that turn it on (`?open=1`, a checked box's "on")


def text(params: QueryParams, name: str) -> str | None:
    """A parameter's value, stripped; None when absent or blank (an empty form field is no filter)."""
    value = params.get(name)
    return value.strip() or None if value is not None else None


def integer(params: QueryParams, name: str, default: int | None = None) -> int | None:
    value = text(params, name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"{name} must be an integer, not {value!r}") from None


def flag(params: QueryParams, name: str) -> bool:
    return (text(params, name) or "").lower() in TRUE


def listed(params: QueryParams, name: str) -> tuple[str, ...]:
    """A repeatable parameter (`mentions=celery&mentions=django`); commas separate values too (one form field)."""
    return tuple(part.strip() for value in params.getlist(name) for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class QueryArgs:
    """The options of `talksearch query`, read from a request's parameters."""

    text: str
    k: int
    offset: int
    filters: Filters
    mode: Mode
    sort: Sort
    all_recordings: bool
    explain: bool

    def run(self, kb: KnowledgeBase) -> list[Hit]:
        return kb.query(self.text, k=self.k, offset=self.offset, filters=self.filters, mode=self.mode,
                        all_recordings=self.all_recordings, explain=self.explain, sort=self.sort)


def query_args(params: QueryParams, *, k: int = 10) -> QueryArgs:
    """`q` and the CLI's options (`k`, `offset`, `event`, `speaker`, `since`, `until`, `kind`, `lang`, `mentions`,
    `in`, `mode`, `sort`, `all_recordings`, `explain`); UsageError naming the parameter that makes no sense."""
    k = integer(params, "k", k)
    if not 1 <= k <= MAX_K:
        raise UsageError(f"k must be from 1 to {MAX_K}, not {k}")
    offset = integer(params, "offset", 0)
    if offset < 0:
        raise UsageError(f"offset must be at least 0, not {offset}")
    filters = Filters(event=text(params, "event"), speaker=text(params, "speaker"), since=integer(params, "since"),
                      until=integer(params, "until"), kind=choice(Kind, text(params, "kind"), "kind", optional=True),
                      lang=text(params, "lang"), mentions=listed(params, "mentions"),
                      within=choice(Within, text(params, "in"), "in", optional=True))
    return QueryArgs(params.get("q") or "", k, offset, filters, choice(Mode, text(params, "mode") or "hybrid", "mode"),
                     choice(Sort, text(params, "sort") or "relevance", "sort"), flag(params, "all_recordings"),
                     flag(params, "explain"))


def respond(data: Any) -> Response:
    """`data` as the CLI's `--json` prints it (`records.jsonable`), compact."""
    return Response(json.dumps(jsonable(data), ensure_ascii=False), media_type="application/json")


def kb_of(request: Request) -> KnowledgeBase:
    return request.app.state.library.kb()


def query(request: Request) -> Response:
    args = query_args(request.query_params)
    if not args.text.strip():
        raise UsageError("q is empty: give some words to search for (/api/query?q=celery+retries)")
    return respond([hit.to_dict() for hit in args.run(kb_of(request))])


def related(request: Request) -> Response:
    params = request.query_params
    talk = text(params, "talk")
    if talk is None:
        raise UsageError("talk is missing: give an id, a unique id prefix or a title (/api/related?talk=...)")
    try:
        diversity = float(text(params, "diversity") or MMR_DIVERSITY)
    except ValueError:
        raise UsageError(f"diversity must be a number, not {params.get('diversity')!r}") from None
    k = integer(params, "k", 10)
    if not 1 <= k <= MAX_K:
        raise UsageError(f"k must be from 1 to {MAX_K}, not {k}")
    hits = kb_of(request).related(talk, k=k, other_speakers=flag(params, "other_speakers"), diversity=diversity)
    return respond([hit.to_dict() for hit in hits])


def talk(request: Request) -> Response:
    return respond(kb_of(request).talk(request.path_params["id"]).to_dict())


def todos(request: Request) -> Response:
    return respond(kb_of(request).todos(open_only=flag(request.query_params, "open")))


def topics(request: Request) -> Response:
    params = request.query_params
    found = kb_of(request).topics(event=text(params, "event"), since=integer(params, "since"),
                                  until=integer(params, "until"), n=integer(params, "n", 10))
    return respond(found.to_dict())
