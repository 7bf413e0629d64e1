"""Signed checkpoints pin the control-plane event stream: `panjereh audit verify` against a
kept copy of the checkpoints catches a stream rewritten, cut off or re-chained by someone who
holds the database and recomputed its chain and head row (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.audit import merkle
from panjereh.audit.checkpoints import NO_PREVIOUS, Checkpoint
from panjereh.audit.events_chain import GENESIS, STREAM, canonical_event_bytes, event_hash
from panjereh.config import Settings
from panjereh.domain.clock import SystemClock
from panjereh.storage.checkpoints_repo import CheckpointStore
from panjereh.storage.events_repo import ConnectionAuditSink, stored_events, stream_head
from panjereh.web.runtime import exchange_keys
from tests.integration.cli.runner import Cli
from tests.integration.cli.test_audit_cli import _write
from tests.integration.storage.tampering import tamper
from tests.integration.storage.test_events_chain import event


async def _emit(engine: AsyncEngine, numbers: range) -> None:
    async with engine.begin() as conn:
        for n in numbers:
            await ConnectionAuditSink(conn).emit(event(n))


async def _as_owner(engine: AsyncEngine, *statements: tuple[str, dict[str, object]]) -> None:
    """Past the append-only triggers of registry_events, as only the database's owner can."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for action in ("update", "delete"):
                await conn.execute(text(f"DROP TRIGGER IF EXISTS registry_events_no_{action}"))
        for statement, values in statements:
            await conn.execute(text(statement), values)


async def _rechain(engine: AsyncEngine) -> None:
    """Recompute every event's hash and the head row from the stored events, as a forger
    who changed the stream would: the chain then verifies on its own."""
    head, seq = GENESIS, 0
    updates: list[tuple[str, dict[str, object]]] = []
    async for row in stored_events(engine):
        assert row.seq is not None
        seq = row.seq
        head = event_hash(head, canonical_event_bytes(row.event, STREAM, seq))
        updates.append(
            (
                "UPDATE registry_events SET record_hash = :h WHERE id = :id",
                {"h": head.hex(), "id": row.row_id},
            )
        )
    updates.append(
        (
            "UPDATE event_stream_heads SET seq = :seq, head_hash = :h WHERE stream = :s",
            {"seq": seq, "h": head.hex(), "s": STREAM},
        )
    )
    await _as_owner(engine, *updates)


async def _published(cli: Cli, engine: AsyncEngine, tmp_path: Path) -> Path:
    """Three records and four events, checkpoint 1; two more events, checkpoint 2 (no new
    record: made because the stream moved); the checkpoints kept as a copy."""
    await _write(engine, 3)
    await _emit(engine, range(1, 5))
    first = await cli("audit", "checkpoint")
    assert first.out.startswith("checkpoint 1: 3 records, hash ")
    await _emit(engine, range(5, 7))
    second = await cli("audit", "checkpoint")
    assert second.out.startswith("checkpoint 2: 0 records, hash ")
    assert (await cli("audit", "checkpoint")).out == "nothing new since the last checkpoint\n"
    exported = await cli("audit", "checkpoints")
    copy = tmp_path / "checkpoints.json"
    copy.write_text(exported.out)
    return copy


def _events_lines(out: str) -> list[str]:
    """The control-plane part of the output (after the records' shard lines)."""
    lines = out.splitlines()
    first = next(
        i for i, line in enumerate(lines) if line.startswith("event-") or "control-plane" in line
    )
    return lines[first:]


async def test_the_checkpoints_pin_the_events_head_and_an_untouched_stream_verifies(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    copy = await _published(cli, engine, tmp_path)
    published = orjson.loads(copy.read_bytes())
    head = await stream_head(engine)
    async with engine.connect() as conn:
        fourth = (
            await conn.execute(text("SELECT record_hash FROM registry_events WHERE seq = 4"))
        ).scalar_one()
    assert [(c["number"], c["format"], c["events"]) for c in published] == [
        (1, "panjereh.checkpoint/2", {"control-plane": [4, fourth]}),
        (2, "panjereh.checkpoint/2", {"control-plane": [6, head[1] if head else ""]}),
    ]
    assert (published[1]["ranges"], published[1]["tree_size"]) == ({}, 0)
    assert published[1]["heads"] == published[0]["heads"]
    done = await cli("audit", "verify", "--checkpoints", str(copy))
    assert done.code == 0, done.out
    assert _events_lines(done.out) == [
        f"6 control-plane events checked; 0 problems (last #6, head {head[1] if head else ''})",
        "  compared with the heads 2 signed checkpoints pinned; the last, checkpoint 2, pinned #6",
    ]


async def test_an_event_altered_and_the_chain_recomputed_after_it_is_caught_by_the_copy(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    copy = await _published(cli, engine, tmp_path)
    pinned = orjson.loads(copy.read_bytes())[1]["events"]["control-plane"][1]
    await _as_owner(
        engine, ("UPDATE registry_events SET reason = 'nothing happened' WHERE seq = 5", {})
    )
    await _rechain(engine)
    own = await cli("audit", "verify")  # the log's own checkpoints still pin the old head
    assert own.code == 1
    await tamper(engine, "DELETE FROM audit_checkpoints")  # and the forger removes them
    alone = await cli("audit", "verify")
    assert alone.code == 0, alone.out  # the recomputed chain and head row agree
    checked = await cli("audit", "verify", "--checkpoints", str(copy))
    assert checked.code == 1
    lines = _events_lines(checked.out)
    assert lines[0] == (
        "event-rewritten: stream control-plane, event #6: checkpoint 2 pinned this head with "
        f"another hash ({pinned[:16]}...): the stream was rewritten at or before this event "
        "(after #4, which an earlier checkpoint pinned and still holds)"
    )
    assert lines[1].startswith("6 control-plane events checked; 1 problems (last #6, head ")
    assert checked.out.splitlines()[0] == (
        "checkpoint-copy: checkpoint 1 is missing from the log: the log was rewritten"
    )


async def test_a_tail_cut_off_with_its_head_row_rewritten_is_caught(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    copy = await _published(cli, engine, tmp_path)
    await _as_owner(engine, ("DELETE FROM registry_events WHERE seq >= 6", {}))
    await _rechain(engine)
    checked = await cli("audit", "verify", "--checkpoints", str(copy))
    assert checked.code == 1
    assert _events_lines(checked.out) == [
        "event-truncated: stream control-plane, event #6: checkpoint 2 pinned this event as "
        "the stream's head; it is gone: events at the end were deleted",
        _events_lines(checked.out)[1],
        "  compared with the heads 2 signed checkpoints pinned; the last, checkpoint 2, pinned #6",
    ]
    assert _events_lines(checked.out)[1].startswith("5 control-plane events checked; 1 problems")


async def test_a_stream_re_chained_without_one_event_is_caught(
    cli: Cli, engine: AsyncEngine, tmp_path: Path
) -> None:
    """Event 2 deleted, the later ones renumbered and the chain recomputed: the stream is a
    valid chain of five; checkpoint 1's #4 is another event now, checkpoint 2's #6 is gone."""
    copy = await _published(cli, engine, tmp_path)
    kept = orjson.loads(copy.read_bytes())
    renumber: list[tuple[str, dict[str, object]]] = [
        ("UPDATE registry_events SET seq = :new WHERE seq = :old", {"new": n - 1, "old": n})
        for n in range(3, 7)
    ]
    await _as_owner(engine, ("DELETE FROM registry_events WHERE seq = 2", {}), *renumber)
    await _rechain(engine)
    checked = await cli("audit", "verify", "--checkpoints", str(copy))
    assert checked.code == 1
    lines = _events_lines(checked.out)
    first = kept[0]["events"]["control-plane"][1]
    assert lines[:2] == [
        "event-rewritten: stream control-plane, event #4: checkpoint 1 pinned this head with "
        f"another hash ({first[:16]}...): the stream was rewritten at or before this event",
        "event-truncated: stream control-plane, event #6: checkpoint 2 pinned this event as "
        "the stream's head; it is gone: events at the end were deleted",
    ]
    assert lines[2].startswith("5 control-plane events checked; 2 problems")


async def test_a_checkpoint_of_format_1_still_verifies_and_the_next_one_pins_the_events(
    cli: Cli, engine: AsyncEngine
) -> None:
    """A checkpoint stored before the stream was pinned (no ``events``) keeps verifying; the
    first checkpoint after it pins the stream even with no new record."""
    await _write(engine, 3)
    await _emit(engine, range(1, 3))
    keys = exchange_keys(Settings(), SystemClock())  # the cli fixture's environment
    store = CheckpointStore(engine)
    heads = await store.heads()
    ranges = {shard: (1, seq) for shard, (seq, _) in heads.items()}
    leaves = await store.leaves(ranges)
    old = Checkpoint(
        number=1,
        created_at=SystemClock().now(),
        heads=heads,
        ranges=ranges,
        tree_size=len(leaves),
        merkle_root=merkle.root(leaves).hex(),
        previous=NO_PREVIOUS,
    ).signed(keys.active_id, keys.private_key.sign)
    assert await store.add(old)
    made = await cli("audit", "checkpoint")
    assert made.out.startswith("checkpoint 2: 0 records, hash ")
    published = orjson.loads((await cli("audit", "checkpoints")).out)
    head = await stream_head(engine)
    assert head is not None
    assert [(c["format"], c.get("events"), c["previous"]) for c in published] == [
        ("panjereh.checkpoint/1", None, NO_PREVIOUS),
        ("panjereh.checkpoint/2", {"control-plane": [2, head[1]]}, old.hash),
    ]
    assert (await cli("audit", "verify")).code == 0
    await _as_owner(engine, ("UPDATE registry_events SET actor = 'cli:x' WHERE seq = 1", {}))
    await _rechain(engine)
    checked = await cli("audit", "verify")
    assert checked.code == 1
    assert _events_lines(checked.out)[0].startswith(
        "event-rewritten: stream control-plane, event #2: checkpoint 2 pinned this head with "
    )
