"""The platform's own servers, read from the settings, are handed to the transport."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_address
from pathlib import Path

import pytest

from panjereh.config import Environment, Settings
from panjereh.exchange.egress import OwnServer
from panjereh.web.egress import own_endpoints, own_servers


def _settings(tmp_path: Path, **values: str) -> Settings:
    return Settings.model_validate({"env": Environment.DEVELOPMENT, "data_dir": tmp_path} | values)


def test_the_database_redis_and_nats_urls_give_their_hosts_and_ports(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        database_url="postgresql+asyncpg://app:secret@db.internal/panjereh",
        redis_url="rediss://:pw@10.0.0.9:6380/2",
        nats_url="nats://nats-1.internal:4222, tls://[fd00::4]",
    )

    assert own_endpoints(settings) == [
        ("database", "db.internal", 5432),
        ("redis", "10.0.0.9", 6380),
        ("nats", "nats-1.internal", 4222),
        ("nats", "fd00::4", 4222),
    ]


def test_a_postgresql_url_with_several_hosts_gives_each(tmp_path: Path) -> None:
    settings = _settings(tmp_path, database_url="postgresql+asyncpg://app@pg-a:5433,pg-b/panjereh")

    assert own_endpoints(settings) == [("database", "pg-a", 5433), ("database", "pg-b", 5432)]


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("database_url", "sqlite+aiosqlite:///var/panjereh.db"),
        ("database_url", "postgresql+asyncpg:///panjereh?host=/run/postgresql"),
        ("redis_url", "unix:///run/redis.sock"),
    ],
)
def test_files_and_unix_sockets_have_no_address(tmp_path: Path, name: str, url: str) -> None:
    assert own_endpoints(_settings(tmp_path, **{name: url})) == []


async def test_names_are_resolved_once_and_literals_kept(tmp_path: Path) -> None:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        if host == "gone.internal":
            raise OSError("no such name")
        return ["10.0.0.5", "::ffff:10.0.0.6"]

    settings = _settings(
        tmp_path,
        database_url="postgresql+asyncpg://app@db.internal/panjereh",
        redis_url="redis://127.0.0.1:6379/0",
        nats_url="nats://gone.internal:4222",
    )

    found = await own_servers(settings, resolve)

    assert asked == ["db.internal", "gone.internal"]
    assert found == [
        OwnServer("database", ip_address("10.0.0.5"), 5432),
        OwnServer("database", ip_address("10.0.0.6"), 5432),  # judged as its IPv4 address
        OwnServer("redis", ip_address("127.0.0.1"), 6379),
    ]
