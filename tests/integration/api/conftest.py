"""The management API in-process, with personas: one user per role and agency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from panjereh.config import Settings
from panjereh.interchange.yaml_io import parse_document
from panjereh.registry.access import Principal, Role
from panjereh.storage.document_repo import import_document
from panjereh.storage.users_repo import create_user, issue_token
from panjereh.web.app import PanjerehApp, create_app
from tests.integration.seeded import Rows, once_per_backend
from tests.unit.interchange.test_yaml_io import VALID

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SCIENCE = """\
  - code: science-ministry
    legal_id: "14001234562"
    name_fa: وزارت علوم، تحقیقات و فناوری
    name_en: Ministry of Science, Research and Technology
    kind: ministry
systems:"""
SCIENCE_SYSTEM = """\
  - agency: science-ministry
    code: degrees
    name: Degree registry
    roles: [consumer, provider]
services:"""

# Who is who: the provider's admin (owner of civil-registry), the consumer's admin (holds a
# grant), a stranger agency's admin, an auditor and an operator.
PERSONAS = {
    "owner": (Role.AGENCY_ADMIN, "civil-registry"),
    "consumer": (Role.AGENCY_ADMIN, "social-security"),
    "stranger": (Role.AGENCY_ADMIN, "science-ministry"),
    "auditor": (Role.AUDITOR, None),
    "operator": (Role.OPERATOR, None),
}


def government() -> str:
    return VALID.replace("systems:", SCIENCE, 1).replace("services:", SCIENCE_SYSTEM, 1)


@dataclass
class Api:
    client: httpx.AsyncClient
    app: PanjerehApp
    tokens: dict[str, str]

    def auth(self, persona: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[persona]}"} if persona in self.tokens else {}


_PREPARED: dict[str, tuple[Rows, dict[str, str]]] = {}


async def _government_and_people(engine: AsyncEngine) -> dict[str, str]:
    """The government and a user per persona; persona -> its bearer token."""
    document = parse_document(government(), allow_private=False)
    root = Principal("test:setup", Role.OPERATOR)
    tokens = {}
    async with engine.begin() as conn:
        await import_document(conn, document, actor="test", reason="fixture", now=NOW)
        for name, (role, agency) in PERSONAS.items():
            user = await create_user(
                conn,
                root,
                username=name,
                display_name=name.title(),
                role=role,
                agency=agency,
                password="a long enough password",
                reason="fixture",
                now=NOW,
            )
            tokens[name] = await issue_token(
                conn, user, label="test", lifetime=timedelta(days=3650), now=NOW
            )
    return tokens


@pytest.fixture
async def api(engine: AsyncEngine, dev_settings: Settings) -> AsyncIterator[Api]:
    """The API over its government and personas, made once per backend and copied."""
    tokens = await once_per_backend(_PREPARED, engine, lambda: _government_and_people(engine))
    app = create_app(dev_settings)
    await app.runtime.start()
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://panjereh.test"
        ) as client:
            yield Api(client, app, dict(tokens))
    finally:
        await app.runtime.stop()
