"""Signed heads and checkpoints published to the real NATS JetStream (PANJEREH_TEST_NATS_URL)
as they are made, next to the folder; a NATS that cannot be reached is a log line and a
counted failure, never a refused inquiry."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import orjson
import pytest
from nats.aio.client import Client

from panjereh.audit.checkpoints import Checkpoint
from panjereh.audit.heads import SignedHead
from panjereh.audit.publish import read_published
from tests.integration.exchange.harness import Platform, prepare_database, running
from tests.support import free_port

NATS_ENV = "PANJEREH_TEST_NATS_URL"


@pytest.fixture
def nats_url() -> str:
    url = os.environ.get(NATS_ENV)
    if not url:
        pytest.skip(f"{NATS_ENV} is not set")
    return url


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await nats.connect(nats_url)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def names(nc: Client) -> AsyncIterator[dict[str, Any]]:
    """Streams and subjects of this test's own."""
    token = uuid.uuid4().hex[:12]
    made = {
        "nats_stream": f"PANJEREH_TEST_{token}",
        "nats_subject_prefix": f"panjereh.test.{token}.records",
        "nats_heads_stream": f"PANJEREH_TEST_HEADS_{token}",
        "nats_heads_subject_prefix": f"panjereh.test.{token}",
    }
    try:
        yield made
    finally:
        for stream in (made["nats_stream"], made["nats_heads_stream"]):
            with suppress(nats.js.errors.NotFoundError):
                await nc.jetstream().delete_stream(stream)


async def _messages(nc: Client, stream: str, subject: str) -> list[dict[str, object]]:
    js = nc.jetstream()
    found: list[dict[str, object]] = []
    info = await js.stream_info(stream)
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(stream, seq)
        if message.subject == subject and message.data is not None:
            found.append(orjson.loads(message.data))
    return found


def _public(platform: Platform) -> dict[str, bytes]:
    keys = platform.app.runtime.keys
    return {keys.active_id: keys.private_key.public_key().public_bytes_raw()}


async def test_a_signed_head_and_a_checkpoint_arrive_in_jetstream(
    database_url: str,
    sqlite_template: Path,
    tmp_path: Path,
    nats_url: str,
    nc: Client,
    names: dict[str, Any],
) -> None:
    await prepare_database(database_url, sqlite_template)
    folder = tmp_path / "published"
    async with running(
        database_url, tmp_path / "var", nats_url=nats_url, audit_publish_dir=folder, **names
    ) as platform:
        assert (await platform.ask()).status_code == 200
        made = await platform.app.runtime.checkpoint()
        assert made is not None
        publication = platform.app.runtime.audit_publication
        assert publication is not None
        assert await publication.drain(5.0)
    stream, prefix = names["nats_heads_stream"], names["nats_heads_subject_prefix"]
    heads = [
        SignedHead.from_json(_without_kind(d))
        for d in await _messages(nc, stream, f"{prefix}.heads")
    ]
    checkpoints = [
        Checkpoint.from_json(_without_kind(d))
        for d in await _messages(nc, stream, f"{prefix}.checkpoints")
    ]
    keys = _public(platform)
    assert heads, "no signed head reached JetStream"
    assert all(h.signature_valid(keys.get) for h in heads)
    assert heads[-1].closing  # the closing head at shutdown went too
    assert [c.number for c in checkpoints][:1] == [made.number]
    assert checkpoints[0] == made
    assert checkpoints[0].signature_valid(keys.get)
    in_folder, folder_checkpoints, bad = read_published(folder)  # the folder has the same
    assert bad == []
    assert [h.as_json() for h in in_folder] == [h.as_json() for h in heads]
    assert folder_checkpoints[:1] == checkpoints[:1]


def _without_kind(document: dict[str, object]) -> dict[str, object]:
    kind = document.pop("kind")
    assert kind in ("head", "checkpoint")
    document.pop("hash", None)
    return document


async def test_an_unreachable_nats_is_counted_and_logged_and_inquiries_are_answered(
    database_url: str,
    sqlite_template: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await prepare_database(database_url, sqlite_template)
    nowhere = f"nats://127.0.0.1:{free_port()}"
    folder = tmp_path / "published"
    async with running(
        database_url, tmp_path / "var", nats_url=nowhere, audit_publish_dir=folder
    ) as platform:
        publication = platform.app.runtime.audit_publication
        assert publication is not None
        assert (await platform.ask()).status_code == 200
        assert not await publication.drain(2.0)
        assert publication.failed >= 1
        assert publication.pending >= 1
        metrics = platform.app.runtime.metrics_text().decode()
        assert 'panjereh_audit_publication_failures_total{target="nats"}' in metrics
    assert "audit head publication to NATS failed" in caplog.text
    heads, _, _ = read_published(folder)
    assert heads  # the folder, the record of publication, has them
