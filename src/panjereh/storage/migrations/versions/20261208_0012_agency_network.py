"""agencies: where their provider endpoints may be (private address blocks, plain http)

The exchange refuses to call a provider at a loopback, link-local, private or otherwise special
address (SSRF, issue 11); a private address is called only inside the address blocks an
operator recorded on the provider's agency, and plain http only where its record allows it.
Existing agencies get no blocks and https only: a provider endpoint on a private address or on
plain http is refused (``provider-address-refused``) until an operator records it
(docs/registry.md, "Endpoint URLs").

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("private_blocks", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("allow_http", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_column("allow_http")
        batch_op.drop_column("private_blocks")
