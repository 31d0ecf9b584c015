"""The notebooks run headless, top to bottom, on the demo data, and show the answers their text promises."""

from __future__ import annotations

import ast
import re
import shutil

import nbformat
from nbclient import NotebookClient

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
COUNTS = {"files": 2, "notes": 7, "passages": 21, "skipped": 0, "talks": 9, "transcripts": 0}  # the demo data, indexed


def run(path) -> nbformat.NotebookNode:
    """The notebook executed top to bottom; it shows no error."""
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "clear saved outputs"
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    return notebook


def shown(notebook, source: str, kind: str = "text/plain") -> str:
    """What the code cell starting with `source` shows as its result."""
    [cell] = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(source)]
    [result] = [o for o in cell.outputs if o.output_type == "execute_result"]
    return result.data[kind]


def first_row(html: str) -> list[str]:
    """The cells of the first body row of a DataFrame shown as HTML."""
    body = html.split("<tbody>", 1)[1]
    return re.findall(r"<td>(.*?)</td>", body.split("</tr>", 1)[0])


def images(notebook) -> int:
    return sum("image/png" in o.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for o in cell.outputs)


def test_every_notebook_is_run_here():
    assert [p.name for p in NOTEBOOKS] == ["explore.ipynb", "topics.ipynb"]


def test_explore_builds_the_demo_index_and_answers_celery_retries_with_the_celery_note(tmp_path, monkeypatch,
                                                                                      heard_index):
    monkeypatch.setenv("TALKSEARCH_INDEX", str(tmp_path / "index"))  # none there: the notebook builds it
    monkeypatch.setenv("TALKSEARCH_HEARD_INDEX", str(heard_index[0]))  # the transcripts' index, as it would build it
    notebook = run(REPO / "notebooks" / "explore.ipynb")
    assert ast.literal_eval(shown(notebook, "import os")) == COUNTS
    assert (tmp_path / "index" / "CURRENT").is_file()
    # the notebook's own check of the first hit holds only for ./indexes: here the test makes it
    assert shown(notebook, "assert hits[0].title").startswith(
        "Hit(id='note:004_7fcc6484864bb2bb.txt#2-talk-daniel-hepper', kind=<Kind.NOTE: 'note'>, "
        "title='2. Talk: Daniel Hepper'")
    assert first_row(shown(notebook, "related = ", "text/html"))[:2] == ["note", "Talk 6: Security python web applications"]
    said = first_row(shown(notebook, "import tarfile", "text/html"))
    assert said[:1] == ["Building a Database with Python"] and said[2].startswith("{'start': 8")  # 14 min in
    [cell] = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("best = said[0].moment")]
    printed = "".join(o.text for o in cell.outputs if o.output_type == "stream").splitlines()
    assert printed[0].startswith("Building a Database with Python: 13:") or printed[0].startswith(
        "Building a Database with Python: 14:"), printed
    assert printed[1].startswith("https://www.youtube.com/watch?v=b9G6U5tt_qk&t=8")
    assert shown(notebook, "best = said[0].moment").startswith("['")  # the cues of that moment, with their times
    assert first_row(shown(notebook, "kb.sql(\"select event_title", "text/html")) == [
        "EuroPython 2024", "9", "2024-07-10", "2024-07-10"]


def test_topics_pairs_the_zero_trust_talk_with_the_security_note_and_draws_its_two_charts(demo_index, tmp_path,
                                                                                         monkeypatch):
    # an index there already (the session's, as the notebook would build it): explore's run tests the build
    shutil.copytree(demo_index, tmp_path / "index")
    monkeypatch.setenv("TALKSEARCH_INDEX", str(tmp_path / "index"))
    notebook = run(REPO / "notebooks" / "topics.ipynb")
    assert ast.literal_eval(shown(notebook, "import os")) == COUNTS
    assert first_row(shown(notebook, "events = ", "text/html"))[:2] == [
        "Zero Trust APIs with Python", "Talk 6: Security python web applications"]
    assert images(notebook) == 2  # the map of the talks and the topics over the years
