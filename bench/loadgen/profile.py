"""Profiling the exchange under load with py-spy (sampling from outside, ``--nonblocking``).

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;... count``); from them
come each function's self share (leaf samples) and inclusive share (samples with it anywhere on
the stack), and each file's self share.  A flame graph (SVG) is recorded beside it on request.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
_PACKAGE = re.compile(r".*/(?:site-packages|src|lib/python3\.\d+)/")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _short(file: str) -> str:
    return _PACKAGE.sub("", file)


def _frame(frame: str) -> tuple[str, str]:
    """(function with its file, file) of one collapsed frame, without line numbers."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip(), "?"
    file = _short(match["file"])
    return f"{match['function']} ({file})", file


def summarize(collapsed: str, top: int = 25) -> dict[str, Any]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    files: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        leaf, leaf_file = frames[-1]
        own[leaf] += samples
        files[leaf_file] += samples
        for name in {name for name, _ in frames}:
            inclusive[name] += samples

    def shares(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"frame": name, "percent": round(100 * n / total, 1)}
            for name, n in counter.most_common(top)
        ]

    return {
        "samples": total,
        "self": shares(own) if total else [],
        "inclusive": shares(inclusive) if total else [],
        "files_self": shares(files) if total else [],
    }


def record_profile(pid: int, seconds: float, folder: Path, svg: Path | None) -> dict[str, Any]:
    """Sample ``pid`` for ``seconds`` (the caller keeps it under load meanwhile)."""
    binary = py_spy()
    if binary is None:
        return {"skipped": "py-spy is not installed (pip install py-spy)"}
    # The collapsed stacks are kept beside the flame graph (FILE.txt) when one is asked for.
    raw = svg.with_suffix(".txt") if svg is not None else folder / "profile.txt"
    base = [binary, "record", "--pid", str(pid), "--duration", f"{seconds:.0f}", "--nonblocking"]
    recorders = [
        subprocess.Popen(
            [*base, "--format", "raw", "-o", str(raw)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    if svg is not None:
        recorders.append(
            subprocess.Popen(
                [*base, "--format", "flamegraph", "-o", str(svg)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return {"recorders": recorders, "raw": raw}


def finish_profile(started: dict[str, Any]) -> dict[str, Any]:
    if "skipped" in started:
        return started
    for recorder in started["recorders"]:
        recorder.wait(120)
    raw: Path = started["raw"]
    if not raw.exists():
        return {"skipped": "py-spy wrote no samples (ptrace not permitted?)"}
    return summarize(raw.read_text())
