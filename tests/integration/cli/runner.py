"""Running the real `panjereh` command from a test (it starts its own event loop)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from panjereh.cli import main


@dataclass
class Outcome:
    code: int
    out: str
    err: str


class Cli:
    """Runs the real command in a thread (it starts its own event loop), capturing output."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    async def __call__(self, *args: str) -> Outcome:
        self._capsys.readouterr()

        def call() -> int:
            try:
                main(list(args))
            except SystemExit as exit_:
                return int(exit_.code or 0)
            return 0

        code = await asyncio.to_thread(call)
        captured = self._capsys.readouterr()
        return Outcome(code, captured.out, captured.err)
