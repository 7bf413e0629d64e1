"""Publishing signed heads and checkpoints outside the database, as they are made.

Someone who owns the database can delete a tail of records together with the heads and
checkpoints stored beside it; what was published elsewhere stays.  Each document goes, one JSON
line, to a file of its own per process in an append-only folder
(``PANJEREH_AUDIT_PUBLISH_DIR``: opened with ``O_APPEND``, fsynced after each line) that a
second party collects (rsync, a read-only mount), and to NATS JetStream when configured.
`panjereh audit verify --published DIR` compares the database with them.

A line is ``{"kind": "head", ...SignedHead.as_json()}`` or ``{"kind": "checkpoint",
...Checkpoint.as_json()}``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson

from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.heads import SignedHead

log = logging.getLogger(__name__)


class Publication(Protocol):
    async def publish(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Publish ``documents`` (each with its ``kind``); raise OSError if it failed."""


class FolderPublication:
    """Appends lines to ``folder/name.jsonl``; each call is one write and one fsync."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f"{name}.jsonl"
        self._folder = folder
        self._fd: int | None = None
        self._lock = threading.Lock()

    def _write(self, data: bytes) -> None:
        with self._lock:
            if self._fd is None:
                self._folder.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.write(self._fd, data)
            os.fsync(self._fd)

    async def publish(self, documents: Sequence[Mapping[str, Any]]) -> None:
        data = b"".join(orjson.dumps(d) + b"\n" for d in documents)
        await asyncio.to_thread(self._write, data)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class Publications:
    """Every configured publication; a failure is logged, never raised (the database stays the
    record; the line missing from the folder is what a collector sees)."""

    def __init__(self, targets: Sequence[Publication]) -> None:
        self.targets = list(targets)
        self.failed = 0

    async def publish(self, documents: Sequence[Mapping[str, Any]]) -> None:
        for target in self.targets:
            try:
                await target.publish(documents)
            except OSError as exc:
                self.failed += 1
                log.error(  # noqa: TRY400 - named, no trace
                    "audit head publication failed: %s", exc.__class__.__name__
                )

    def close(self) -> None:
        for target in self.targets:
            if isinstance(target, FolderPublication):
                target.close()


def head_document(head: SignedHead) -> dict[str, Any]:
    return {"kind": "head", **head.as_json()}


def checkpoint_document(checkpoint: Checkpoint) -> dict[str, Any]:
    return {"kind": "checkpoint", **checkpoint.as_json()}


def read_published(folder: Path) -> tuple[list[SignedHead], list[Checkpoint], list[str]]:
    """Every head and checkpoint in ``folder``'s ``*.jsonl`` files, and the lines that are
    neither (``file:line: why``)."""
    heads: list[SignedHead] = []
    checkpoints: dict[int, Checkpoint] = {}
    bad: list[str] = []
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                document = orjson.loads(line)
                kind = document.pop("kind", None) if isinstance(document, dict) else None
                if kind == "head":
                    heads.append(SignedHead.from_json(document))
                elif kind == "checkpoint":
                    document.pop("hash", None)
                    checkpoint = Checkpoint.from_json(document)
                    checkpoints.setdefault(checkpoint.number, checkpoint)
                else:
                    raise ValueError("neither a head nor a checkpoint")  # noqa: TRY301
            except (orjson.JSONDecodeError, ValueError) as exc:
                bad.append(f"{path.name}:{number}: {exc}")
    return heads, [checkpoints[n] for n in sorted(checkpoints)], bad
