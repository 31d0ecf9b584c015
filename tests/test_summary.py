"""Nothing lost: every file given to `index` is accounted for as changed, unchanged or skipped with a reason."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from talksearch.cli import app

from .conftest import DATA, build_index

runner = CliRunner()


def given(pyvideo_subset, tmp_path):
    """A pyvideo event of 12 real talks plus one broken file, and a notes folder with good and bad files."""
    event = tmp_path / "pyvideo" / "europython-2024"
    (event / "videos").mkdir(parents=True)
    shutil.copy(pyvideo_subset / "europython-2024" / "category.json", event)
    for file in sorted((pyvideo_subset / "europython-2024" / "videos").glob("*.json"))[:12]:
        shutil.copy(file, event / "videos")
    (event / "videos" / "broken.json").write_text('{"title": "half a file", ')
    notes = tmp_path / "notes"
    shutil.copytree(DATA, notes, ignore=shutil.ignore_patterns("README*"))
    (notes / "empty.md").write_text("")
    (notes / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (notes / "celery.md").write_text("# Celery in production\n\nRetries with exponential backoff.\n- [ ] try acks_late\n")
    files = [p for p in (event / "videos").glob("*.json")] + [p for p in notes.rglob("*") if p.is_file()]
    return [tmp_path / "pyvideo", notes], files


def accounted(summary) -> int:
    return summary.changed + summary.unchanged + len(summary.skipped)


def test_counts_add_up_to_the_files_given(pyvideo_subset, tmp_path, standin):
    paths, files = given(pyvideo_subset, tmp_path)
    root = tmp_path / "index"
    first = build_index(root, paths, standin)
    assert first.files == len(files) == 12 + 1 + 2 + 3
    assert accounted(first) == len(files)
    assert (first.changed, first.unchanged) == (15, 0)
    assert sorted((s.path, s.reason) for s in first.skipped) == [
        (str(paths[1] / "binary.txt"), "binary file, not text"),
        (str(paths[1] / "empty.md"), "empty file"),
        (str(paths[0] / "europython-2024" / "videos" / "broken.json"),
         "invalid JSON: Expecting property name enclosed in double quotes (line 1 column 26)")]

    again = build_index(root, [], standin)
    assert (again.files, again.changed, again.unchanged, len(again.skipped)) == (len(files), 0, 15, 3)

    (paths[1] / "celery.md").write_text("# Celery in production\n\nRetries, and a dead letter queue.\n")
    edited = build_index(root, [], standin)
    assert (edited.files, edited.changed, edited.unchanged) == (len(files), 1, 14)
    assert edited.updated == {"talks": 0, "notes": 1, "transcripts": 0}


def test_the_cli_summary_says_where_every_file_went(pyvideo_subset, tmp_path, embedder):
    paths, files = given(pyvideo_subset, tmp_path)
    result = runner.invoke(app, ["index", *map(str, paths), "--index-dir", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert f"{len(files)} files (15 new or changed, 0 unchanged, 3 skipped)" in result.stdout
    assert result.stdout.count("skipped /") == 3
