"""Memory: peak RSS of `index` runs as the input grows (issue #11, part 6).

    .venv/bin/python -m benchmarks.memory [--notes-mb 10,25,50] [--catalog-files 5000,10000,20000]
    .venv/bin/python -m benchmarks.memory --notes-mb 2,5 --catalog-files 1000,2000     # quick run

- Inputs, generated into `--work` (a temporary directory by default):
  - one notes file of each `--notes-mb` size: "Talk N: <title>" sections (real pyvideo titles, so
    every heading is distinct), each body a section of the real seed notes (`../shared/seeds/004_*.txt`)
    with lines dropped and shuffled, plus one to four sentences of a real talk description;
  - one pyvideo catalog directory of each `--catalog-files` size: real video files from
    `--pyvideo` (a seeded sample, in their own event folders); past the real ones, copies in
    `<event>-copyN` folders with " (copy N)" added to the title.
- Each input is indexed into a new index by a new process (`build.run`, as `talksearch index` does).
  Its encoder is a stand-in: the real tokenizer (passage splitting is unchanged) and a hashed random
  unit vector per passage, so the runs cost minutes, not hours. The encoder's own memory is not in
  these figures: it is about fixed, and measured once (`encoder` row: the real model loaded and
  1,000 real talk descriptions embedded).
- Peak RSS: the build process's own high-water mark (VmHWM); peak PSS: sampled every `--pss-every` s, the
  build process and its children together (spaCy's worker processes and the gazetteer's, forked from it: PSS counts a page they
  share once, where summing RSS would count it in each; a shorter peak can be missed). A sample reads
  smaps_rollup, which walks the page tables: ~65 ms for 2.5 GB, so 0.1 s would cost ~40% of a core.
  Per step of `build.run`, RSS before the step and at its peak (VmHWM reset before each step), and the PSS
  sample with the largest total, split into the build process's own and its children's. A step is a call of a
  public function the build runs (`readers.read_path`, `passages.split_and_embed`, `store.Writer.write_vectors`,
  `store.write_passages`, `store.write_mentions`, `store.write_metadata`, `store.write_documents`,
  `lexical.build`, `store.write_lexical`), each wrapped where `build` looks it up, or `facets`: from the stage
  `build.run` reports to its progress callback as "facets" to the next step (`write_mentions`), which is the
  gazetteer, built in a forked process.
  On disk: the new generation (FAISS + documents.npy vectors, DuckDB, lexical index).
- Per input kind, lines peak = base + c x passages and disk = c' x passages are fitted by least squares:
  memory "grows with the index, not faster" when c is about c' (KB of RSS per KB of index on disk).
  The verdict adds the encoder's own increment to the largest run and compares it with 3 GB.

Targets (issue "Speed and scale"): a full index run under 3 GB peak RSS; a 50 MB notes file and a
20,000-file catalog in memory that grows with the index, not faster than it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .common import SHARED, child_command, child_env, rss_mb

SEED_NOTES = sorted((SHARED / "seeds").glob("004_*.txt"))
SEED = 6
_TALK = re.compile(r"^(?:talk\s+\d+\b|\d+\.\s*talk\b)", re.I | re.M)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_BRACKET = re.compile(r"\[[^\]\n]*\]")
_FENCE = re.compile(r"`{3,}|~{3,}")
STEP_FILE = "TALKSEARCH_MEMORY_STEP"  # names the file where an index run writes its running step


def pss_mb(pid: int) -> float:
    """Proportional set size: a page shared by n processes counts 1/n in each."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0) / 1024
    except OSError:  # the process has just ended
        return 0.0


def tree_pss_mb(pid: int) -> tuple[float, float]:
    """PSS of a process, and of all its descendants together: shared pages counted once across them all."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    descendants, todo = 0.0, list(children.get(pid, []))
    while todo:
        current = todo.pop()
        descendants += pss_mb(current)
        todo.extend(children.get(current, []))
    return pss_mb(pid), descendants


# ---- inputs ---------------------------------------------------------------------------------------


def video_files(pyvideo: Path) -> list[Path]:
    files = sorted(pyvideo.glob("*/videos/*.json"))
    random.Random(SEED).shuffle(files)
    return files


def make_catalog(files: list[Path], count: int, dest: Path) -> Path:
    """`count` video files in pyvideo's layout: real ones, then retitled copies in `-copyN` events."""
    for i in range(count):
        source = files[i % len(files)]
        copy = i // len(files)
        event_dir = source.parent.parent
        target_dir = dest / (event_dir.name + (f"-copy{copy}" if copy else ""))
        (target_dir / "videos").mkdir(parents=True, exist_ok=True)
        if not (target_dir / "category.json").exists() and (event_dir / "category.json").exists():
            shutil.copyfile(event_dir / "category.json", target_dir / "category.json")
        if copy:
            data = json.loads(source.read_bytes())
            data["title"] = f"{data.get('title') or source.stem} (copy {copy})"
            (target_dir / "videos" / source.name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        else:
            shutil.copyfile(source, target_dir / "videos" / source.name)
    return dest


def seed_sections() -> tuple[str, list[list[str]]]:
    """The seed notes' context line and the non-empty body lines of each talk section."""
    text = "\n".join(path.read_text() for path in SEED_NOTES)
    starts = [m.start() for m in _TALK.finditer(text)]
    context = text[: starts[0]].strip()
    sections = []
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        body = [line for line in text[start:end].split("\n")[1:] if line.strip() and not line.startswith("#")]
        if body:
            sections.append(body)
    return context, sections


def make_notes(talks: list[tuple[str, str]], megabytes: float, dest: Path) -> Path:
    """One notes file of about `megabytes` MB: distinct "Talk N: title" sections over perturbed seed bodies."""
    rng = random.Random(SEED)
    context, sections = seed_sections()
    limit = int(megabytes * 2**20)
    size = 0
    with dest.open("w", encoding="utf-8") as fh:
        head = f"{context} (generated)\n\n"
        fh.write(head)
        size += len(head.encode())
        number = 0
        while size < limit:
            title, description = talks[number % len(talks)]
            rerun = number // len(talks)
            number += 1
            body = [line for line in rng.choice(sections) if rng.random() > 0.25]
            rng.shuffle(body)
            sentences = [s for s in _SENTENCE.split(description) if len(s) > 20]
            if sentences:
                start = rng.randrange(len(sentences))
                body.append(" ".join(sentences[start : start + rng.randint(1, 4)]))
            heading = f"Talk {number}: {title}" + (f" (again, {rerun})" if rerun else "")
            block = heading + "\n\n" + "\n\n".join(body) + "\n\n"
            fh.write(block)
            size += len(block.encode())
        fh.write("#python #notes #generated\n")
    return dest


def real_talks(files: list[Path]) -> list[tuple[str, str]]:
    talks = []
    for path in files:
        data = json.loads(path.read_bytes())
        title = " ".join(str(data.get("title") or "").split())
        if title:
            # "[Event — Room on date]" would make the file a listing, a ``` fence would hide the headings after it
            description = _BRACKET.sub(" ", _FENCE.sub(" ", str(data.get("description") or "")))
            talks.append((title, " ".join(description.split())))
    return talks


# ---- one index run, in its own process ------------------------------------------------------------


class StandInEmbedder:
    """The real tokenizer, and a hashed random unit vector per text instead of the model."""

    precision = "stand-in"

    def __init__(self) -> None:
        from talksearch.embed import DIMENSION, Tokenizer, WeightsCheck, model_dir

        self.name = "stand-in (hashed random vectors)"
        self.dimension = DIMENSION
        self.tokenizer = Tokenizer(model_dir())
        self.check = WeightsCheck(path="stand-in", size=0, mtime_ns=0, sha256="stand-in")

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            out[row] = np.random.default_rng(seed).standard_normal(self.dimension, dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class Watch:
    """RSS before, at the peak of, and after each step (VmHWM reset before each): a call of a watched function, or
    one of the `stages` that `build.run` reports to its progress callback (`progress`), which lasts until the next
    step begins or another stage is reported; the running step's name in `step_file`, for the PSS sampler."""

    def __init__(self, step_file: str | None = None, stages: tuple[str, ...] = ()) -> None:
        self.earlier_peak = 0.0
        self.calls: dict[str, dict[str, float]] = {}
        self.step_file = step_file
        self.stages = stages
        self.running: tuple[str, float] | None = None  # the step begun and not ended: its name, RSS before it
        self.in_stage = False  # the running step is a stage

    def peak(self) -> float:
        return max(self.earlier_peak, rss_mb(field="VmHWM"))

    def step(self, name: str) -> None:
        if self.step_file:  # replaced whole: a sample never reads it half-written
            Path(self.step_file + ".new").write_text(name)
            os.replace(self.step_file + ".new", self.step_file)

    def begin(self, name: str, *, stage: bool = False) -> None:
        self.end()
        self.earlier_peak = self.peak()
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        self.running, self.in_stage = (name, rss_mb()), stage
        self.step(name)

    def end(self) -> None:
        if self.running:
            name, before = self.running
            self.step("other")
            self.calls[name] = {"before": before, "peak": rss_mb(field="VmHWM"), "after": rss_mb()}
            self.running, self.in_stage = None, False

    def wrap(self, name: str, function):
        def watched(*args, **kwargs):
            self.begin(name)
            result = function(*args, **kwargs)
            self.end()
            return result
        return watched

    def progress(self, stage: str, done: int, total: int) -> None:
        """`build.run`'s progress callback: one of `stages` begins a step, any other stage ends a stage's step (the
        stages reported inside a watched call leave its step running)."""
        if stage in self.stages:
            if not (self.running and self.running[0] == stage):
                self.begin(stage, stage=True)
        elif self.in_stage:
            self.end()


def index_child(source: str, root: str) -> None:
    from talksearch import build, lexical, readers, store

    watch = Watch(os.environ.get(STEP_FILE), stages=("facets",))
    # each where `build` looks it up: `read_path` from `readers` when it runs, `split_and_embed` imported by name,
    # the writers on the `store` package, `lexical.build` on its module
    readers.read_path = watch.wrap("read_path", readers.read_path)
    build.split_and_embed = watch.wrap("split_and_embed", build.split_and_embed)
    store.Writer.write_vectors = watch.wrap("write_vectors", store.Writer.write_vectors)
    for name in ("write_passages", "write_mentions", "write_metadata", "write_documents", "write_lexical"):
        setattr(store, name, watch.wrap(name, getattr(store, name)))
    lexical.build = watch.wrap("lexical.build", lexical.build)
    start_mb = rss_mb()
    summary = build.run(Path(root), [Path(source)], embedder_factory=lambda weights: StandInEmbedder(),
                        progress=watch.progress)
    print(json.dumps({"start_mb": start_mb, "peak_mb": watch.peak(), "steps": watch.calls,
                      "passages": summary.passages, "documents": sum(summary.added.values()),
                      "seconds": summary.seconds}))


def encoder_child(pyvideo: str) -> None:
    """The real encoder's own memory: load it, embed 1,000 real talk descriptions."""
    import torch  # noqa: F401 - every index run has it already: spaCy's thinc imports it

    from talksearch.embed import SentenceTransformerEmbedder

    before = rss_mb()
    texts = [d for _, d in real_talks(video_files(Path(pyvideo))[:1500]) if d][:1000]
    embedder = SentenceTransformerEmbedder()
    embedder.embed(texts[:1])
    loaded = rss_mb()
    start = time.perf_counter()
    embedder.embed(texts)
    print(json.dumps({"start_mb": before, "loaded_mb": loaded, "peak_mb": rss_mb(field="VmHWM"),
                      "texts": len(texts), "seconds": time.perf_counter() - start, "precision": embedder.precision}))


def run_child(args: list[str], every: float = 0.5) -> dict:
    """Run this script as a child: its JSON answer, plus the peak PSS of it and its descendants together (`pss_mb`)
    and, per step of the run, the sample with the largest PSS split into the process's own and its descendants'
    (`pss_steps`: step -> [own, descendants])."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("w+") as step:
        proc = subprocess.Popen(child_command("benchmarks.memory", *args), stdout=out, stderr=err, text=True,
                                env=child_env(**{STEP_FILE: step.name}))
        steps: dict[str, tuple[float, float]] = {}
        while proc.poll() is None:
            name = Path(step.name).read_text() or "start"  # before: a sample takes ~0.1 s, the step may end in it
            own, descendants = tree_pss_mb(proc.pid)
            if own + descendants > sum(steps.get(name, (0.0, 0.0))):
                steps[name] = (own, descendants)
            time.sleep(every)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"memory.py {' '.join(args)} failed:\n{err.read()[-3000:]}")
        result = json.loads(out.read().strip().splitlines()[-1])
    result["pss_mb"] = max((sum(s) for s in steps.values()), default=0.0)
    result["pss_steps"] = steps
    return result


def disk_mb(root: Path) -> dict[str, float]:
    generation = root / (root / "CURRENT").read_text().strip()

    def size(path: Path) -> float:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        return sum(p.stat().st_size for p in files) / 2**20

    return {"vectors": size(generation / "passages.faiss") + size(generation / "documents.npy"),
            "duckdb": size(generation / "meta.duckdb"), "lexical": size(generation / "lexical"),
            "total": size(generation)}


def fit(x: list[float], y: list[float]) -> tuple[float, float]:
    """(intercept, slope) by least squares; with one point, (y, nan)."""
    if len(set(x)) < 2:
        return y[-1], float("nan")
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def print_steps(title: str, rows: list[dict], field: str, cell) -> None:
    """A table of every run (row) by step (column): `cell(row[field][step])`, blank where a run has no such step."""
    steps = list(dict.fromkeys(s for r in rows for s in r[field]))
    print(f"\n{title}\n\n| input | " + " | ".join(steps) + " |\n" + "|---" * (len(steps) + 1) + "|")
    for r in rows:
        cells = [r[field].get(s) for s in steps]
        print(f"| {r['kind']} {r['label']} | " + " | ".join(cell(c) if c else "" for c in cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes-mb", default="10,25,50", help="sizes of the notes files, comma-separated MB")
    parser.add_argument("--catalog-files", default="5000,10000,20000", help="video files per catalog, comma-separated")
    parser.add_argument("--pyvideo", type=Path, default=Path("/tmp/pyvideo/pyvideo-data"))
    parser.add_argument("--pss-every", type=float, default=0.5, help="seconds between PSS samples")
    parser.add_argument("--work", type=Path, help="where inputs and indexes go (default: a temporary directory)")
    parser.add_argument("--child", choices=("index", "encoder"), help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "index":
        return index_child(args.source, args.root)
    if args.child == "encoder":
        return encoder_child(args.source)

    started = time.perf_counter()
    work = args.work or Path(tempfile.mkdtemp(prefix="talksearch-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    files = video_files(args.pyvideo)
    talks = real_talks(files)
    inputs: list[tuple[str, str, Path, float]] = []  # kind, size label, path, input MB
    for mb in [float(x) for x in args.notes_mb.split(",") if x]:
        path = make_notes(talks, mb, work / f"notes-{mb:g}MB.md")
        inputs.append(("notes file", f"{mb:g} MB", path, path.stat().st_size / 2**20))
    for count in [int(x) for x in args.catalog_files.split(",") if x]:
        path = make_catalog(files, count, work / f"catalog-{count}")
        megabytes = sum(p.stat().st_size for p in path.rglob("*.json")) / 2**20
        inputs.append(("catalog", f"{count:,} files", path, megabytes))
    print(f"inputs in {work} ({len(files):,} real video files, seed notes {', '.join(p.name for p in SEED_NOTES)})",
          file=sys.stderr, flush=True)

    encoder = run_child(["--child", "encoder", "--source", str(args.pyvideo)], args.pss_every)
    encoder_mb = encoder["peak_mb"] - encoder["start_mb"]
    print(f"encoder: +{encoder_mb:.0f} MB", file=sys.stderr, flush=True)
    rows = []
    for kind, label, path, megabytes in inputs:
        root = work / f"index-{path.name}"
        shutil.rmtree(root, ignore_errors=True)
        row = run_child(["--child", "index", "--source", str(path), "--root", str(root)], args.pss_every)
        row.update(kind=kind, label=label, input_mb=megabytes, disk=disk_mb(root))
        shutil.rmtree(root, ignore_errors=True)
        rows.append(row)
        print(f"{kind} {label}: peak {row['peak_mb']:.0f} MB, {row['seconds']:.0f} s", file=sys.stderr, flush=True)

    print("stand-in encoder (real tokenizer, hashed vectors); the real encoder's own memory is the `encoder` line\n")
    print("| input | size | input MB | documents | passages | peak RSS MB | peak PSS MB (with spaCy workers) | "
          "index on disk MB (vectors / DuckDB / lexical) | s |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        d = r["disk"]
        print(f"| {r['kind']} | {r['label']} | {r['input_mb']:.1f} | {r['documents']:,} | {r['passages']:,} | "
              f"{r['peak_mb']:.0f} | {r['pss_mb']:.0f} | {d['total']:.0f} ({d['vectors']:.0f} / {d['duckdb']:.0f} / "
              f"{d['lexical']:.0f}) | {r['seconds']:.0f} |")
    print_steps("per step of `build.run`: RSS before -> peak during, MB", rows, "steps",
                lambda c: f"{c['before']:.0f} -> {c['peak']:.0f}")
    print_steps("per step, the sample with the largest PSS: the build process + its child processes (spaCy's "
                "workers in `split_and_embed`, the gazetteer's in `facets`), MB", rows, "pss_steps",
                lambda c: f"{c[0]:.0f} + {c[1]:.0f}")
    print(f"\nencoder (real model, {encoder['precision']}): RSS {encoder['start_mb']:.0f} MB with torch imported, "
          f"{encoder['loaded_mb']:.0f} MB loaded, peak {encoder['peak_mb']:.0f} MB embedding {encoder['texts']:,} talk "
          f"descriptions ({encoder['seconds']:.0f} s): a real run needs about {encoder_mb:.0f} MB more\n")

    verdict = []
    for kind in dict.fromkeys(r["kind"] for r in rows):
        runs = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["passages"])
        passages = [r["passages"] for r in runs]
        base, per = fit(passages, [r["peak_mb"] for r in runs])
        _, disk_per = fit(passages, [r["disk"]["total"] for r in runs])
        top = runs[-1]
        real = max(top["peak_mb"], top["pss_mb"]) + encoder_mb
        line = ""
        if len(runs) > 1:
            pss_base, pss_per = fit(passages, [r["pss_mb"] for r in runs])
            print(f"- {kind}: peak RSS ~ {base:.0f} MB + {per * 1024:.1f} KB x passages; index on disk ~ "
                  f"{disk_per * 1024:.1f} KB x passages: memory grows {per / disk_per:.2f} KB per KB of index; "
                  f"with the child processes (PSS) ~ {pss_base:.0f} MB + {pss_per * 1024:.1f} KB x passages, "
                  f"{pss_per / disk_per:.2f} KB per KB")
            line = f"~ {base:.0f} MB + {per * 1024:.1f} KB per passage, "
        else:
            print(f"- {kind}: one size measured; the fitted line needs two")
        verdict.append(f"{kind} peak {line}{top['label']}: {top['peak_mb']:.0f} MB, ~{real:.0f} MB with the real encoder")
    largest = max(max(r["peak_mb"], r["pss_mb"]) for r in rows) + encoder_mb
    print(f"\nverdict: {'; '.join(verdict)} ({'under' if largest < 3072 else 'OVER'} the 3 GB target)")
    print(f"wall {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
