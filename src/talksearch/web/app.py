"""The web application: its routes, the index it reads, errors as pages, safety headers; `run` serves it.

Safe by default: it listens on 127.0.0.1 and answers only requests addressed to this machine's own names (a web
page elsewhere cannot reach it by rebinding a DNS name); every route is a GET and the index is opened read-only;
pages load nothing from elsewhere (a content security policy says so to the browser). An index that is missing or
damaged is a page saying what to do, and one line on stderr.
"""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import kb as knowledge
from ..errors import (
    AmbiguousTalkError,
    Candidate,
    IndexDamagedError,
    IndexMissingError,
    IndexReplacedError,
    ModelError,
    TalkNotFoundError,
    TalksearchError,
    UsageError,
)
from ..store import resolve_root
from . import api, pages
from .html import STATIC

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..embed import Embedder

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")  # --host values that keep the index on this machine
WARM_AFTER = 1.0  # seconds after the start at most before the index loads in the background, if no page was asked
STATUS = {TalkNotFoundError: 404, AmbiguousTalkError: 404, UsageError: 400, IndexMissingError: 503,
          IndexDamagedError: 503, IndexReplacedError: 503, ModelError: 503}  # other TalksearchErrors: 500
HEADERS = [  # on every response
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                 b"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # a video link does not tell YouTube what you searched for
]


class Library:
    """The index the server reads: opened on first need, and again when a later `talksearch index` run made
    another generation live. An index that cannot be opened is an error each request shows; stderr gets its line
    once (again only when the message changes)."""

    def __init__(self, root: str | Path | None, *, embedder: Embedder | None = None, stderr: TextIO | None = None) -> None:
        self.root = root
        self.embedder = embedder
        self.stderr = stderr
        self._kb: knowledge.KnowledgeBase | None = None
        self._lock = threading.Lock()
        self._reported: str | None = None
        self.answered = threading.Event()  # set once a first request was answered

    def kb(self) -> knowledge.KnowledgeBase:
        with self._lock:
            if self._kb is not None and self._kb.replaced:
                self._kb = None  # requests still reading the old one finish with it; the next open the new one
            if self._kb is None:
                try:
                    self._kb = knowledge.open(self.root, embedder=self.embedder)
                except TalksearchError as exc:
                    self.report(exc)
                    raise
                self._reported = None
            return self._kb

    def forget(self) -> None:
        with self._lock:
            self._kb = None

    def report(self, exc: BaseException) -> None:
        line = one_line(f"error: {exc}" if isinstance(exc, TalksearchError) else
                        f"error: unexpected {type(exc).__name__}: {exc} (set TALKSEARCH_DEBUG=1 for the traceback, and "
                        "please report it)")
        if line != self._reported:
            self._reported = line
            print(line, file=self.stderr or sys.stderr, flush=True)

    def warm(self) -> None:
        """Load what a query reads (the encoder, vectors, stored fields, DuckDB) before the first one asks: once the
        first page is out (or WARM_AFTER seconds have passed), so that loading does not slow the server's start."""
        self.answered.wait(WARM_AFTER)
        with contextlib.suppress(TalksearchError):
            kb = self.kb()
            kb.query("warm up", k=1)
            kb.notes_about(["-"])


def one_line(text: str) -> str:
    """A message for stderr: newlines and other control characters shown as escapes, never obeyed."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


def endpoint(fn: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """A route's function, with talksearch's errors as a page (or JSON under /api/) with their status, an index
    replaced under a request opened again once, and a bug as a 500 and one line on stderr, not a traceback."""
    @functools.wraps(fn)
    def run(request: Request) -> Response:
        library: Library = request.app.state.library
        try:
            try:
                return fn(request)
            except IndexReplacedError:  # two `index` runs since the last request: read the new generation
                library.forget()
                return fn(request)
            finally:
                library.answered.set()
        except TalksearchError as exc:
            status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
            if status >= 500:
                library.report(exc)
            candidates = exc.candidates if isinstance(exc, AmbiguousTalkError) else []
            return failure(request, status, str(exc), candidates)
        except Exception as exc:
            if os.environ.get("TALKSEARCH_DEBUG"):
                raise
            library.report(exc)
            return failure(request, 500, f"unexpected {type(exc).__name__}: {exc}")
    return run


def failure(request: Request, status: int, message: str, candidates: list[Candidate] = ()) -> Response:
    if request.url.path.startswith("/api/"):
        body = {"error": message, **({"candidates": [c._asdict() for c in candidates]} if candidates else {})}
        response = api.respond(body)
        response.status_code = status
        return response
    return pages.page("error.html", status=status, code=status, message=message, candidates=candidates)


def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 (no such route) and 405 (anything but GET): the same page as ours."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = {404: f"no page at {request.url.path}", 405: "this server only reads: every page is a GET"}.get(
        status, getattr(exc, "detail", "error"))
    return failure(request, status, message)


class Guard:
    """ASGI middleware: the safety headers on every response, and requests addressed to another host name refused
    (`hosts` None: any name, for a server that listens beyond this machine anyway)."""

    def __init__(self, app, hosts: frozenset[str] | None) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.hosts is not None and host_name(scope) not in self.hosts:
            response = Response(f"this server answers only to {', '.join(sorted(self.hosts))}", status_code=400,
                                media_type="text/plain")
            return await response(scope, receive, with_headers(send))
        return await self.app(scope, receive, with_headers(send))


def with_headers(send):
    async def sending(message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *HEADERS]
        await send(message)
    return sending


def host_name(scope) -> str:
    """The Host header without its port: "localhost:8000" -> "localhost", "[::1]:8000" -> "::1"."""
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "").lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def create_app(root: str | Path | None = None, *, embedder: Embedder | None = None, host: str = "127.0.0.1",
               warm: bool = False, stderr: TextIO | None = None) -> Starlette:
    """The application over the index at `root` (default: $TALKSEARCH_INDEX or ./indexes), answering requests
    addressed to this machine (and to `host`); a non-local `host` answers any name. `warm` loads the index in the
    background at startup."""
    library = Library(root, embedder=embedder, stderr=stderr)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        with contextlib.suppress(TalksearchError):  # reported once on stderr, shown by every page
            library.kb()
        if warm:
            threading.Thread(target=library.warm, name="talksearch-warm-up", daemon=True).start()
        yield

    routes = [
        Route("/", endpoint(pages.search)),
        Route("/talk/{id:path}", endpoint(pages.document)),
        Route("/note/{id:path}", endpoint(pages.document)),
        Route("/todos", endpoint(pages.todos)),
        Route("/topics", endpoint(pages.topics)),
        Route("/api/query", endpoint(api.query)),
        Route("/api/related", endpoint(api.related)),
        Route("/api/talk/{id:path}", endpoint(api.talk)),
        Route("/api/todos", endpoint(api.todos)),
        Route("/api/topics", endpoint(api.topics)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: http_error, 405: http_error})
    app.state.library = library
    local = host in LOCAL_HOSTS
    app.add_middleware(Guard, hosts=frozenset({*LOCAL_HOSTS, host.lower()}) if local else None)
    return app


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` (0: any free port); UsageError naming them if that cannot be."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (--port N picks another port, "
                         "--port 0 any free one)") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run(root: str | Path | None = None, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the index until Ctrl-C: one line on stderr says where (and warns when others can read it)."""
    import uvicorn

    sock = listen(host, port)
    bound = sock.getsockname()[1]
    if host not in LOCAL_HOSTS:
        print(f"warning: --host {host} is not this machine alone: anyone who can reach it on port {bound} can read "
              "the index (its talks and your notes)", file=sys.stderr, flush=True)
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {resolve_root(root)} at http://{shown}:{bound}/ (Ctrl-C stops)", file=sys.stderr, flush=True)
    app = create_app(root, host=host, warm=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
