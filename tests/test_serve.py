"""`talksearch serve`: each page and API route through Starlette's test client, the JSON equal to the CLI's
`--json`, everything from the index escaped, errors as pages, and the command itself in a subprocess."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from urllib.parse import quote

import httpx
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

import talksearch
from talksearch import store
from talksearch.cli import app as cli
from talksearch.records import Hit, Kind, Moment, Recording
from talksearch.web import create_app
from talksearch.web.html import clock, doc_url, environment, link

from .conftest import DATA, build_index, copy_index
from .test_transcripts import DATABASE_TALK

ZERO_TRUST = "europython-2024/zero-trust-apis-with-python"
NOTE = "note:zero-trust.md#zero-trust-apis-with-python"
HEPPER = "note:004_7fcc6484864bb2bb.txt#2-talk-daniel-hepper"
# a note on a talk of the demo data: linked by its title, with to-dos open and done, and markup that must stay text
NOTES = """# Zero Trust APIs with Python

Speaker: Jose Haro Peralta

- [ ] try <script>alert("pwned")</script> on the staging API
- [x] read the OWASP API security top 10

Validate <b>every</b> payload; [red]rich markup[/red] and <img src=x onerror=alert(1)> are text here.
"""


@pytest.fixture(scope="module")
def web_index(tmp_path_factory, embedder):
    """The demo data and a note on one of its talks, indexed once with the real encoder."""
    notes = tmp_path_factory.mktemp("web-notes")
    (notes / "zero-trust.md").write_text(NOTES, encoding="utf-8")
    root = tmp_path_factory.mktemp("web") / "index"
    build_index(root, [DATA, notes], embedder)
    return root


@pytest.fixture(scope="module")
def client(web_index):
    with TestClient(create_app(web_index), base_url="http://127.0.0.1") as test_client:
        yield test_client


def cli_json(index, *args):
    result = CliRunner().invoke(cli, [*args, "--index-dir", str(index), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def text_of(html: str) -> str:
    """What a page says, tags dropped, entities kept as written (`&lt;script&gt;` is text on screen)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# -- search -----------------------------------------------------------------------------------------------------------

def test_the_search_page_shows_hits_as_the_cli_does_with_query_words_highlighted(client, web_index):
    page = client.get("/", params={"q": "celery retries"})
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    expected = cli_json(web_index, "query", "celery retries")
    found = re.findall(r'<a class="title" href="([^"]+)">', page.text)
    assert found == [doc_url(hit["id"], hit["kind"]) for hit in expected]  # the CLI's results, in its order
    assert found[0] == "/note/note:004_7fcc6484864bb2bb.txt%232-talk-daniel-hepper"
    assert "• <mark>Retries</mark> Why worker crashes?" in page.text
    assert "Python Events: pyconweb · 004_7fcc6484864bb2bb.txt:31" in page.text  # the note's event and file:line
    assert '<input id="q" name="q" type="search" value="celery retries"' in page.text


def test_a_talk_in_the_results_lists_the_notes_linked_to_it(client):
    page = client.get("/", params={"q": "zero trust api security", "kind": "talk"})
    hit = page.text.split(f'href="/talk/{ZERO_TRUST}"', 1)[1].split("</li>", 1)[0]
    assert f'your notes: <a href="{doc_url(NOTE)}">Zero Trust APIs with Python</a>' in hit


def test_filters_sort_and_paging(client, web_index):
    params = {"q": "python", "kind": "talk", "since": "2024", "sort": "date", "k": "3"}
    first = client.get("/", params=params).text
    ids = [hit["id"] for hit in cli_json(web_index, "query", "python", "--kind", "talk", "--since", "2024",
                                          "--sort", "date", "-k", "6")]
    assert re.findall(r'<a class="title" href="/talk/([^"]+)">', first) == ids[:3]
    assert "results 1–3" in first and 'rel="prev"' not in first
    after = re.search(r'<a rel="next" href="([^"]+)">', first).group(1).replace("&amp;", "&")
    assert after == "/?q=python&since=2024&kind=talk&sort=date&k=3&offset=3"  # the filters are kept
    second = client.get(after).text
    assert re.findall(r'<a class="title" href="/talk/([^"]+)">', second) == ids[3:6]
    assert "results 4–6" in second and 'rel="prev" href="/?q=python&amp;since=2024&amp;kind=talk&amp;sort=date&amp;k=3"' in second


def test_the_home_page_says_what_the_index_holds_and_how_to_ask(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "9 talks and 8 notes" in page.text
    assert "<kbd>/</kbd>" in page.text and '<script src="/static/app.js" defer></script>' in page.text


def test_a_moment_of_a_transcript_is_a_deep_link_at_its_time():
    hit = Hit("europython-2024/x", Kind.TALK, "A talk", ("Ann",), "EuroPython 2024", "2024-07-10", None, 0.5,
              "what was said", recordings=(Recording("europython-2024/x", "EuroPython 2024", "2024-07-10", None),),
              moment=Moment(754.2, 760.0, "https://www.youtube.com/watch?v=abc&t=754s", "what was said"))
    html = environment().from_string('{% from "macros.html" import hit_item %}{{ hit_item(hit, "said") }}').render(hit=hit)
    assert ('<p class="said"><a class="moment" href="https://www.youtube.com/watch?v=abc&amp;t=754s" '
            'rel="noopener noreferrer">▶ 12:34</a> what was <mark>said</mark></p>') in html
    without_url = environment().from_string('{% from "macros.html" import moment %}{{ moment(m) }}').render(
        m=Moment(3723.0, 3725.0, None, "words"))
    assert without_url == '<span class="moment">▶ 1:02:03</span>'


@pytest.mark.parametrize(("seconds", "shown"), [(0, "0:00"), (59.9, "0:59"), (754, "12:34"), (3723, "1:02:03")])
def test_clock(seconds, shown):
    assert clock(seconds) == shown


@pytest.mark.parametrize(("url", "linked"), [
    ("https://youtu.be/abc", "https://youtu.be/abc"),
    ("http://example.org/a?b=1", "http://example.org/a?b=1"),
    ("javascript:alert(1)", None),
    ("JavaScript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("file:///etc/passwd", None),
    ("//evil.example/x", None),
    ("https:///no-host", None),
    (None, None),
])
def test_only_web_addresses_become_links(url, linked):
    assert link(url) == linked


# -- a talk, a note, to-dos, topics -------------------------------------------------------------------------------------

def test_a_talks_page_shows_its_fields_sources_notes_to_dos_mentions_and_related_talks(client, web_index):
    page = client.get(f"/talk/{ZERO_TRUST}")
    assert page.status_code == 200
    shown = text_of(page.text)
    detail = cli_json(web_index, "show", ZERO_TRUST)
    assert "<h1>Zero Trust APIs with Python</h1>" in page.text
    assert "Jose Haro Peralta · EuroPython 2024 · 2024-07-10 · South Hall 2A" in shown
    assert '<a href="https://ep2024.europython.eu/session/zero-trust-apis-with-python" rel="noopener noreferrer">' in page.text
    assert detail["fields"]["text"][:80] in page.text  # the abstract
    for key, value in detail["fields"].items():  # every field, in the table of them
        if value not in (None, "", []) and key != "text":
            assert f"<th>{key}</th>" in page.text
    for source in detail["source_values"]:
        assert f"{source['format']} · {source['source']}" in shown
    # the linked note, with its to-dos open and done, the markup in them as text
    assert f'<a href="{doc_url(NOTE)}">Zero Trust APIs with Python</a> <small>zero-trust.md:1</small>' in page.text
    assert '☐</span> try &lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; on the staging API' in page.text
    assert '<li class="done"><span class="box" aria-label="done">☑</span> read the OWASP API security top 10' in page.text
    for facet, terms in detail["facets"].items():
        assert {"tool": "Tools", "entity": "Entities", "phrase": "Keyphrases"}[facet] in shown
        assert all(term["term"] in shown for term in terms)
    related = [hit["id"] for hit in cli_json(web_index, "related", ZERO_TRUST, "-k", "8")]
    listed = page.text.split("<h2>Related</h2>", 1)[1]
    assert re.findall(r'<a class="title" href="([^"]+)">', listed) == [doc_url(i) for i in related]


def test_a_notes_page_shows_its_text_to_dos_and_the_talk_it_is_about(client):
    page = client.get(doc_url(NOTE))
    assert page.status_code == 200
    assert "<h1>Zero Trust APIs with Python</h1>" in page.text
    assert f'about: <a href="/talk/{ZERO_TRUST}">Zero Trust APIs with Python</a>' in page.text
    assert "zero-trust.md:1–8" in page.text
    assert "Validate &lt;b&gt;every&lt;/b&gt; payload; [red]rich markup[/red] and &lt;img src=x onerror=alert(1)&gt;" in page.text
    assert '<span class="box" aria-label="open">☐</span> try &lt;script&gt;' in page.text


def test_a_reference_that_is_not_the_exact_id_goes_to_its_page(client):
    moved = client.get("/talk/europython-2024/zero-trust", follow_redirects=False)  # a unique id prefix
    assert (moved.status_code, moved.headers["location"]) == (301, f"/talk/{ZERO_TRUST}")
    moved = client.get(f"/talk/{NOTE}", follow_redirects=False)  # a note under /talk/
    assert (moved.status_code, moved.headers["location"]) == (301, doc_url(NOTE))


def test_the_to_do_list_has_open_and_done_items_with_their_notes_and_talks(client, web_index):
    page = client.get("/todos")
    rows = cli_json(web_index, "todos")
    assert [r["done"] for r in rows].count(True) == 1
    shown = text_of(page.text)
    assert "Open 5" in shown and "Done 1" in shown
    for row in rows:
        assert f'<a href="{doc_url(row["note_id"], "note")}">' in page.text
        assert f"{row['file']}:{row['line']}" in shown
    assert f'<a href="/talk/{ZERO_TRUST}">Zero Trust APIs with Python</a>' in page.text
    only_open = client.get("/todos", params={"open": "1"}).text
    assert "Open 5" in text_of(only_open) and "Done" not in text_of(only_open).replace("show done ones", "")


def test_topics_of_an_event_and_of_years(client, web_index):
    page = client.get("/topics", params={"event": "EuroPython 2024"})
    found = cli_json(web_index, "topics", "--event", "EuroPython 2024", "-n", "15")
    assert f"{found['documents']} of {found['total']} talks and notes: what they name more than the rest" in text_of(page.text)
    for facet in found["facets"].values():
        for term in facet:
            assert f">{term['term']}</a>" in page.text
    assert '<option value="EuroPython 2024">' in page.text
    assert "no matches" in client.get("/topics", params={"since": "2030"}).text


# -- JSON: the CLI's schema -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["celery retries"],
    ["celery retries", "-k", "3", "--offset", "2"],
    ["api security", "--kind", "talk", "--since", "2024", "--until", "2024", "--sort", "date"],
    ["web frameworks", "--event", "europython 2024", "--speaker", "peralta", "--mode", "lexical"],
    ['"zero trust" -django', "--mentions", "FastAPI", "--explain"],
    ["spacy", "--kind", "note", "--all-recordings"],
    ["security", "--in", "abstract"],
])
def test_api_query_is_the_clis_json(client, web_index, args):
    options = {"-k": "k", "--offset": "offset", "--kind": "kind", "--since": "since", "--until": "until",
               "--sort": "sort", "--event": "event", "--speaker": "speaker", "--mode": "mode", "--mentions": "mentions",
               "--in": "in"}
    params = {"q": args[0]}
    rest = iter(args[1:])
    for option in rest:
        if option in ("--explain", "--all-recordings"):
            params[option[2:].replace("-", "_")] = "1"
        else:
            params[options[option]] = next(rest)
    answer = client.get("/api/query", params=params)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.json() == cli_json(web_index, "query", *args)


def test_api_related_talk_todos_and_topics_are_the_clis_json(client, web_index):
    related = client.get("/api/related", params={"talk": ZERO_TRUST, "k": "4", "other_speakers": "1"}).json()
    assert related == cli_json(web_index, "related", ZERO_TRUST, "-k", "4", "--other-speakers")
    for ref in (ZERO_TRUST, NOTE, HEPPER):
        assert client.get(f"/api/talk/{quote(ref, safe='/:')}").json() == cli_json(web_index, "show", ref)
    assert client.get("/api/todos", params={"open": "1"}).json() == cli_json(web_index, "todos", "--open")
    assert client.get("/api/topics", params={"since": "2024", "n": "5"}).json() == cli_json(
        web_index, "topics", "--since", "2024", "-n", "5")


@pytest.mark.parametrize(("url", "status", "error"), [
    ("/api/query?q=celery&k=0", 400, "k must be from 1 to 1000, not 0"),
    ("/api/query?q=celery&since=soon", 400, "since must be an integer, not 'soon'"),
    ("/api/query?q=celery&kind=video", 400, "kind must be talk, note or transcript, not 'video'"),
    ("/api/query?q=", 400, "q is empty: give some words to search for (/api/query?q=celery+retries)"),
    ("/api/related", 400, "talk is missing: give an id, a unique id prefix or a title (/api/related?talk=...)"),
    ("/api/talk/europython-2024/no-such-talk", 404, "no talk or note matches 'europython-2024/no-such-talk'; find its id "
                                                    "with `talksearch query 'europython-2024/no-such-talk'`"),
    ("/api/nothing", 404, "no page at /api/nothing"),
])
def test_api_errors_are_json_with_the_clis_message(client, url, status, error):
    answer = client.get(url)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


# -- safe by default ------------------------------------------------------------------------------------------------

def test_markup_from_the_index_is_text_on_every_page(client):
    pages = [client.get(url).text for url in ("/?q=staging+api+script", doc_url(NOTE), f"/talk/{ZERO_TRUST}", "/todos")]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>every</b>" not in html
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/app.js" defer>']
    assert "try &lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; on the staging API" in pages[3]
    api = client.get("/api/query", params={"q": "staging api script", "kind": "note", "k": "1"}).json()
    assert api[0]["todos"][0]["text"] == 'try <script>alert("pwned")</script> on the staging API'  # JSON holds it as written


def test_an_ambiguous_reference_lists_its_candidates(client):
    page = client.get("/talk/note:004_7fcc6484864bb2bb.txt")  # an id prefix of seven notes
    assert page.status_code == 404
    assert f'<li><a href="{doc_url(HEPPER)}">2. Talk: Daniel Hepper</a>' in page.text
    answer = client.get("/api/talk/note:004_7fcc6484864bb2bb.txt").json()
    assert answer["candidates"][0] == {"id": HEPPER, "title": "2. Talk: Daniel Hepper", "speakers": [],
                                       "event": "Python Events: pyconweb", "date": None}


def test_unknown_ids_and_paths_are_a_404_page(client):
    for url in ("/talk/europython-2024/no-such-talk", "/note/note:nothing.md#x", "/nowhere"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert "<h1>Not found</h1>" in page.text and '<a href="/">back to search</a>' in page.text
    unknown = client.get("/talk/europython-2024/no-such-talk").text
    assert "no talk or note matches &#39;europython-2024/no-such-talk&#39;" in unknown


def test_it_only_reads(client):
    for url in ("/", "/api/query?q=x", f"/api/talk/{ZERO_TRUST}", "/todos"):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            assert client.request(method, url).status_code == 405, (method, url)


def test_safety_headers_and_other_host_names_refused(client):
    page = client.get("/")
    assert page.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self'; style-src 'self'")
    assert (page.headers["x-content-type-options"], page.headers["referrer-policy"]) == ("nosniff", "no-referrer")
    for host in ("localhost:8000", "[::1]:8000", "127.0.0.1"):
        assert client.get("/", headers={"host": host}).status_code == 200, host
    rebound = client.get("/api/todos", headers={"host": "evil.example"})  # a DNS name rebound to 127.0.0.1
    assert (rebound.status_code, rebound.text) == (400, "this server answers only to 127.0.0.1, ::1, localhost")


def test_a_missing_index_is_a_page_and_one_line_on_stderr(tmp_path):
    stderr = io.StringIO()
    root = tmp_path / "nothing-here"
    with TestClient(create_app(root, stderr=stderr), base_url="http://127.0.0.1") as client:
        for url in ("/", "/?q=celery", "/todos"):
            page = client.get(url)
            assert page.status_code == 503
            assert "<h1>The index cannot be read</h1>" in page.text
            assert f"no index at {root}/: build one with `talksearch index PATH` (e.g. `talksearch index data/`)" in page.text
        assert client.get("/api/query?q=celery").json() == {
            "error": f"no index at {root}/: build one with `talksearch index PATH` (e.g. `talksearch index data/`)"}
    assert stderr.getvalue() == (f"error: no index at {root}/: build one with `talksearch index PATH` "
                                 "(e.g. `talksearch index data/`)\n")  # once, not once per request


def test_a_damaged_index_is_a_page_and_one_line_on_stderr(tmp_path, web_index):
    root = copy_index(web_index, tmp_path / "index")
    database = store.current(root).path / store.DATABASE
    size = database.stat().st_size
    database.write_bytes(database.read_bytes()[: size // 2])
    stderr = io.StringIO()
    message = f"{database}: {size // 2:,} bytes, written as {size:,}; re-index with `talksearch index --rebuild`"
    with TestClient(create_app(root, stderr=stderr), base_url="http://127.0.0.1") as client:
        page = client.get("/", params={"q": "celery"})
        assert page.status_code == 503 and message in page.text
        assert client.get(f"/api/talk/{ZERO_TRUST}").json() == {"error": message}
    assert stderr.getvalue() == f"error: {message}\n"


def test_a_new_index_run_is_read_by_the_next_request(tmp_path, standin_demo_index, standin, demo_copy):
    root = copy_index(standin_demo_index, tmp_path / "index")
    with TestClient(create_app(root, embedder=standin), base_url="http://127.0.0.1") as client:
        assert client.get("/api/talk/note:later.md").status_code == 404
        (demo_copy / "later.md").write_text("# A later note\n\nwritten after the server started\n")
        for _ in range(2):  # two runs: the generation the server had open is removed
            build_index(root, [demo_copy], standin)
        assert client.get("/api/talk/note:later.md").json()["title"] == "A later note"


# -- the command ----------------------------------------------------------------------------------------------------

def serve(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "talksearch", "serve", *args], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_the_command_serves_and_warns_when_others_can_read(web_index):
    proc = serve("--index-dir", str(web_index), "--port", "0", "--host", "0.0.0.0")
    try:
        warning, serving = proc.stderr.readline(), proc.stderr.readline()
        assert re.fullmatch(r"warning: --host 0\.0\.0\.0 is not this machine alone: anyone who can reach it on port "
                            r"\d+ can read the index \(its talks and your notes\)\n", warning)
        url = re.fullmatch(rf"serving {re.escape(str(web_index))} at (http://0\.0\.0\.0:\d+/) \(Ctrl-C stops\)\n",
                           serving).group(1).replace("0.0.0.0", "127.0.0.1")
        page = httpx.get(url + "api/query?q=celery&k=1", timeout=30)
        assert page.json()[0]["id"] == HEPPER
        assert httpx.get(url, headers={"host": "any.name.example"}).status_code == 200  # it listens beyond this machine
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_port_in_use_is_one_line(web_index):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "talksearch", "serve", "--index-dir", str(web_index), "--port",
                                 str(port)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"error: cannot listen on 127.0.0.1:{port}: Address already in use (--port N picks another "
                             "port, --port 0 any free one)\n")


def test_it_starts_answering_within_two_seconds(web_index):
    start = time.perf_counter()
    proc = serve("--index-dir", str(web_index), "--port", "0")
    try:
        url = re.search(r"http://\S+/", proc.stderr.readline()).group()
        while True:
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.02)
        elapsed = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert elapsed < 5, elapsed  # 2 s is the target, measured by benchmarks/serve_speed.py; room here for a busy machine


# -- transcripts (#31) ----------------------------------------------------------------------------------------------

def test_a_hit_shows_the_moment_said_and_a_talks_page_its_transcript(heard_index):
    question = "why connections to postgres are expensive and people put pgbouncer in front"
    with TestClient(create_app(heard_index[0]), base_url="http://127.0.0.1") as client:
        first = client.get("/", params={"q": question}).text.split('<li class="hit', 2)[1]
        assert f'<a class="title" href="/talk/{DATABASE_TALK}">' in first
        said = re.search(r'<p class="said"><a class="moment" href="([^"]+)" rel="noopener noreferrer">▶ (\d+:\d\d)</a> '
                         r"(.*?)</p>", first)
        moment = client.get("/api/query", params={"q": question, "k": "1"}).json()[0]["moment"]
        assert (said.group(1).replace("&amp;", "&"), said.group(2)) == (moment["url"], clock(moment["start"]))
        assert "<mark>pgBouncer</mark>" in said.group(3)
        page = client.get(f"/talk/{DATABASE_TALK}").text
        with talksearch.open(heard_index[0]) as kb:
            cues = kb.transcript(DATABASE_TALK).cues
        assert "<h2>Transcript</h2>" in page
        links = re.findall(r'<a class="moment" href="https://www\.youtube\.com/watch\?v=b9G6U5tt_qk&amp;t=(\d+)s" '
                           r'rel="noopener noreferrer">▶ ([\d:]+)</a>', page)
        assert links == [(str(int(cue.start)), clock(cue.start)) for cue in cues]
