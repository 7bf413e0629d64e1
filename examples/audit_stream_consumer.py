"""Follow Panjereh's audit stream and verify every shard's chain as its records arrive.

A durable JetStream pull consumer (it resumes where it stopped, across restarts): each record's
hash is recomputed from its canonical bytes and the previous record's hash of its shard
(`panjereh.audit.stream.ChainFollower`), so a record altered, inserted or dropped between the
exchange and you is caught.  The heads verified so far are kept in a JSON state file, written
before the messages are acknowledged: a crash re-delivers them and they count as duplicates.

    .venv/bin/python examples/audit_stream_consumer.py --url nats://127.0.0.1:4222 \\
        --stream PANJEREH_AUDIT --durable my-agency --state audit-heads.json

It prints one line per verified record and exits with status 1 at the first record whose
hash does not follow (an alarm: the log and the stream disagree).  docs/audit-log.md,
"Stream export", describes the messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from panjereh.audit.stream import BadMessage, ChainFollower, StreamRecord, Verdict, decode

REDELIVER_EARLY_SECONDS = 0.5  # a record whose predecessor has not arrived yet comes back


@dataclass
class Tally:
    verified: list[tuple[str, int]] = field(default_factory=list)  # (shard, seq) in order
    duplicates: int = 0
    early: int = 0
    broken: list[tuple[str, int]] = field(default_factory=list)
    bad: int = 0  # messages that are not audit records at all


def load_state(path: Path | None) -> ChainFollower:
    if path is None or not path.exists():
        return ChainFollower()
    return ChainFollower(json.loads(path.read_text(encoding="utf-8")))


def save_state(path: Path | None, follower: ChainFollower) -> None:
    if path is not None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(follower.heads), encoding="utf-8")
        temporary.replace(path)


def show(item: StreamRecord) -> None:
    r = item.record
    when = r.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"verified {item.shard} #{item.seq} {when} {r.service_id} {r.outcome}")


async def follow(
    js: JetStreamContext,
    *,
    stream: str,
    subject: str,
    durable: str,
    follower: ChainFollower,
    state: Path | None = None,
    idle_seconds: float | None = None,
    batch: int = 256,
    wait_seconds: float = 1.0,
    on_verified: Callable[[StreamRecord], None] = show,
) -> Tally:
    """Consume until no message came for ``idle_seconds`` (None: forever) or a chain breaks."""
    config = ConsumerConfig(
        durable_name=durable,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=30,
    )
    sub = await js.pull_subscribe(subject, durable=durable, stream=stream, config=config)
    tally, quiet_since = Tally(), time.monotonic()
    while not tally.broken:
        try:
            messages = await sub.fetch(batch, timeout=wait_seconds)
        except TimeoutError:  # nats-py raises its own subclass or the builtin one
            if idle_seconds is not None and time.monotonic() - quiet_since >= idle_seconds:
                break
            continue
        quiet_since = time.monotonic()
        verdicts = _check(messages, follower, tally, on_verified)
        save_state(state, follower)  # before the acks: a crash re-delivers, never skips
        await _acknowledge(verdicts)
    await sub.unsubscribe()
    return tally


def _check(
    messages: list[Msg],
    follower: ChainFollower,
    tally: Tally,
    on_verified: Callable[[StreamRecord], None],
) -> list[tuple[Msg, Verdict | None]]:
    """Each message's verdict (None: not an audit record), up to a broken chain."""
    verdicts: list[tuple[Msg, Verdict | None]] = []
    for msg in messages:
        try:
            item = decode(msg.data)
        except BadMessage as exc:
            print(f"not an audit record ({exc}): {msg.subject}", file=sys.stderr)
            tally.bad += 1
            verdicts.append((msg, None))
            continue
        verdict = follower.check(item)
        verdicts.append((msg, verdict))
        if verdict is Verdict.VERIFIED:
            tally.verified.append((item.shard, item.seq))
            on_verified(item)
        elif verdict is Verdict.DUPLICATE:
            tally.duplicates += 1
        elif verdict is Verdict.EARLY:
            tally.early += 1
        else:
            tally.broken.append((item.shard, item.seq))
            print(f"BROKEN CHAIN: {item.shard} #{item.seq} does not follow", file=sys.stderr)
            break
    return verdicts


async def _acknowledge(verdicts: list[tuple[Msg, Verdict | None]]) -> None:
    for msg, verdict in verdicts:
        if verdict is Verdict.VERIFIED or verdict is Verdict.DUPLICATE:
            await msg.ack()
        elif verdict is Verdict.EARLY:
            await msg.nak(delay=REDELIVER_EARLY_SECONDS)
        elif verdict is None:
            await msg.term()  # never an audit record: do not deliver it again
        # a broken record (and what came after it) stays unacknowledged: nothing is skipped


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="nats://127.0.0.1:4222")
    parser.add_argument("--stream", default="PANJEREH_AUDIT")
    parser.add_argument("--subject", default="panjereh.audit.records.>")
    parser.add_argument("--durable", default="audit-verifier")
    parser.add_argument("--state", type=Path, default=Path("audit-heads.json"))
    parser.add_argument("--idle", type=float, default=None, help="exit after N quiet seconds")
    args = parser.parse_args(argv)
    nc = await nats.connect(args.url)
    try:
        tally = await follow(
            nc.jetstream(),
            stream=args.stream,
            subject=args.subject,
            durable=args.durable,
            follower=load_state(args.state),
            state=args.state,
            idle_seconds=args.idle,
        )
    finally:
        await nc.close()
    print(
        f"{len(tally.verified)} verified, {tally.duplicates} duplicates skipped, "
        f"{len(tally.broken)} broken"
    )
    return 1 if tally.broken else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
