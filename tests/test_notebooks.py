"""The notebooks run headless, top to bottom, on the demo data."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


EXPECTED = {  # what each notebook must show on the demo data
    "explore.ipynb": "Daniel Hepper",  # the Celery note answers "celery retries"
    "topics.ipynb": "Zero Trust APIs with Python",  # paired with the security note across talks and notes
}


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("TALKSEARCH_INDEX", str(tmp_path / "index"))
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "clear saved outputs"
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(EXPECTED[path.name] in str(o.get("data", {})) for o in outputs)
    if path.name == "topics.ipynb":  # the map and the trend chart are drawn
        assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
