"""The HTML pages: search, a talk, a note, the to-do list, topics. Each makes its calls on the `KnowledgeBase` and
renders one template (`templates/`); the options are the API's (`api.query_args`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..records import Hit, Kind
from . import api
from .html import doc_url, render

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..kb import KnowledgeBase

PAGE = 10  # results per search page
RELATED = 8  # related talks on a talk's or note's page
FORM = ("event", "speaker", "since", "until", "kind", "lang", "mentions", "in", "sort", "mode")  # kept across pages


def page(name: str, *, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(render(name, **context), status_code=status)


def search(request: Request) -> Response:
    params = request.query_params
    form = {name: params.get(name, "") for name in FORM}
    if form["sort"] == "relevance":  # the default, as the form sends it
        form["sort"] = ""
    args = api.query_args(params, k=PAGE)
    kb = api.kb_of(request)
    if not args.text.strip():
        return page("search.html", q="", form=form, counts=kb.manifest.get("counts", {}), hits=None)
    hits = args.run(kb)
    return page("search.html", q=args.text, form=form, hits=hits, notes=linked_notes(kb, hits), offset=args.offset,
                k=args.k, params={"q": args.text, **{k: v for k, v in form.items() if v},
                                  **({"k": args.k} if args.k != PAGE else {})})


def linked_notes(kb: KnowledgeBase, hits: list[Hit]) -> dict[str, list[dict]]:
    """Each talk hit's notes (linked to any of its recordings), by hit id; one DuckDB query for the page."""
    recordings = {hit.id: [hit.id, *(r.id for r in hit.recordings if r.id != hit.id)] for hit in hits
                  if hit.kind is Kind.TALK}
    found = kb.notes_about(sorted({i for ids in recordings.values() for i in ids}))
    out: dict[str, list[dict]] = {}
    for hit_id, ids in recordings.items():
        seen = {}
        for note in (n for i in ids for n in found.get(i, ())):
            seen.setdefault(note["id"], note)
        if seen:
            out[hit_id] = list(seen.values())
    return out


def document(request: Request) -> Response:
    """A talk's page (/talk/<id>; a transcript of no talk too) or a note's (/note/<id>); a reference that is not
    the exact id (a unique prefix, a title) or under the other path is redirected to its page."""
    ref = request.path_params["id"]
    kb = api.kb_of(request)
    info = kb.talk(ref)
    hit = info.hit
    canonical = doc_url(hit.id, hit.kind)
    if hit.id != ref or request.url.path.split("/", 2)[1] != canonical.split("/", 2)[1]:
        return RedirectResponse(canonical, status_code=301)
    related = kb.related(hit.id, k=RELATED)
    transcript = kb.transcript(hit.id) if info.transcripts else None
    if hit.kind is Kind.NOTE:
        return page("note.html", info=info, hit=hit, fields=info.fields, related=related)
    todos: dict[str, list[dict]] = {}
    if info.notes:
        mine = {note["id"] for note in info.notes}
        for row in kb.todos():
            if row["note_id"] in mine:
                todos.setdefault(row["note_id"], []).append(row)
    video = (info.transcripts[0].get("video_url") if info.transcripts else None) or hit.url
    return page("talk.html", info=info, hit=hit, fields=info.fields, related=related, todos=todos,
                transcript=transcript, video=video)


def todos(request: Request) -> Response:
    open_only = api.flag(request.query_params, "open")
    rows = api.kb_of(request).todos(open_only=open_only)
    return page("todos.html", open_only=open_only, pending=[r for r in rows if not r["done"]],
                done=[r for r in rows if r["done"]])


def topics(request: Request) -> Response:
    params = request.query_params
    kb = api.kb_of(request)
    form = {name: params.get(name, "") for name in ("event", "since", "until")}
    event, since, until = api.text(params, "event"), api.integer(params, "since"), api.integer(params, "until")
    found = kb.topics(event=event, since=since, until=until, n=api.integer(params, "n", 15))
    _, events = kb.sql_rows("select title from events order by title", limit=100_000)
    return page("topics.html", found=found, form=form, events=[title for (title,) in events],
                scope={k: v for k, v in form.items() if v})
