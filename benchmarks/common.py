"""Helpers the benchmarks share: where the shared data is, process memory and timing, paired differences.

Only the standard library and NumPy: `memory` and `scale` import this in the child processes whose memory they
measure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]  # `python -m benchmarks.NAME` runs from here
SHARED = REPO.parent / "shared"  # the development set (eval/) and the seed notes (seeds/)


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident MB now (VmRSS), or at its peak (VmHWM)."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":")) / 1024


def run_timed(argv: list[str], *, output: bool = True) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MB, the largest of the process and its worker processes) and stdout of one run
    (`output=False`: stdout to /dev/null, ""); a failed run exits with its stderr."""
    start = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE if output else subprocess.DEVNULL, stderr=err, text=True)
        out = proc.stdout.read() if output else ""
        # wait4 gives this run's own usage: its peak and its reaped workers' (RUSAGE_CHILDREN would also hold
        # every earlier run's)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if output:
            proc.stdout.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed: {err.read().strip()}")
    return seconds, usage.ru_maxrss // 1024, out


def child_command(module: str, *args: str) -> list[str]:
    """The command line that runs the benchmark `module` ("benchmarks.memory") in a new Python process."""
    return [sys.executable, "-m", module, *args]


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment for a `child_command`, with the repository first on PYTHONPATH (so that the
    child finds `benchmarks` from any working directory) and `extra` added."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def paired(scores: dict, shipped: dict, cluster=lambda key: key) -> str:
    """Mean difference against the shipped scores over clusters (ids averaged per cluster), +- 2 standard errors."""
    by: dict = {}
    for key, value in shipped.items():
        by.setdefault(cluster(key), []).append(scores.get(key, 0.0) - value)
    diffs = np.array([np.mean(v) for v in by.values()])
    return f"{diffs.mean():+.3f} ± {2 * diffs.std(ddof=1) / np.sqrt(len(diffs)):.3f}"
