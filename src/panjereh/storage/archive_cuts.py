"""Where the live audit log starts after months were archived and detached: every archive's
cut, from ``audit_archives`` (docs/audit-log.md, "Volume and retention").  Verifying and
proving read it; `storage/archive_repo.py` writes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from panjereh.audit.archive import ArchivedCuts
from panjereh.storage.tables import audit_archives


class _Leaves(Protocol):
    async def leaves(self, ranges: Mapping[str, tuple[int, int]]) -> list[bytes]: ...


async def archived_cuts(conn: AsyncConnection) -> ArchivedCuts:
    """Every archive's cut, merged: per shard the last archived record and its hash."""
    rows = (await conn.execute(select(audit_archives).order_by(audit_archives.c.month))).mappings()
    cuts: dict[str, tuple[int, str]] = {}
    boundary: dict[str, dict[int, str]] = {}
    for row in rows:
        for shard, (seq, head) in dict(row["cuts"]).items():
            if shard not in cuts or int(seq) > cuts[shard][0]:
                cuts[shard] = (int(seq), str(head))
        for shard, hashes in dict(row["boundary"]).items():
            boundary.setdefault(shard, {}).update({int(s): str(h) for s, h in hashes.items()})
    return ArchivedCuts(cuts=cuts, boundary=boundary)


async def load_cuts(engine: AsyncEngine) -> ArchivedCuts:
    async with engine.connect() as conn:
        return await archived_cuts(conn)


async def leaves_across(
    store: _Leaves, ranges: Mapping[str, tuple[int, int]], cuts: ArchivedCuts
) -> list[bytes]:
    """A checkpoint's Merkle leaves over ``ranges`` (shards sorted, records by sequence):
    from the live records, and for records detached into an archive from the chain hashes
    kept for them; one missing is left out, so the root it gives is wrong, never a pass."""
    if not cuts.cuts:
        return await store.leaves(ranges)
    leaves: list[bytes] = []
    for shard in sorted(ranges):
        first, last = ranges[shard]
        cut = cuts.cuts.get(shard, (0, ""))[0]
        if first <= cut:
            leaves.extend(
                leaf for leaf in cuts.archived_leaves(shard, first, min(last, cut)) if leaf
            )
        if last > cut:
            leaves.extend(await store.leaves({shard: (max(first, cut + 1), last)}))
    return leaves
