"""The last guard (issue 25): an unexpected error anywhere in the platform answers a problem+json
500 (a friendly page for a browser on a page's path) carrying a reference that is in the log,
never the server's bare "Internal Server Error" and never a trace.

Each case makes one thing a route calls at request time raise, and asks through the whole
application (`create_app`), as a program (``Accept: application/json``) and as a browser."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.integration.api.conftest import Api

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PROGRAM = "application/json"
SECRET = "a secret the trace must not show"
REFERENCE = re.compile(r"server error, reference ([0-9a-f]{12}):")


class Boom(RuntimeError):
    """What the broken part raises."""


def boom(*_args: object, **_kwargs: object) -> None:
    raise Boom(SECRET)


async def aboom(*_args: object, **_kwargs: object) -> None:
    raise Boom(SECRET)


@dataclass(frozen=True)
class Case:
    name: str
    target: str  # what to break: "module.attribute" or "module.Class.method"
    method: str
    path: str
    is_async: bool = True


CASES = [
    Case(
        "management-api",
        "panjereh.storage.checkpoints_repo.CheckpointStore.since",
        "GET",
        "/api/v1/audit/checkpoints",
    ),
    Case(
        "exchange-inquiry",
        "panjereh.exchange.inquiry.InquiryHandler.handle",
        "POST",
        "/exchange/v1/services/civil-registry.person.v1",
    ),
    Case(
        "exchange-metadata",
        "panjereh.web.exchange_meta.describe",
        "GET",
        "/exchange/v1/services",
        is_async=False,
    ),
    Case(
        "citizen-api",
        "panjereh.web.citizen.sessions.CitizenSessions.current",
        "GET",
        "/api/v1/me/inquiries",
    ),
]
PAGES = [
    Case(
        "citizen-page",
        "panjereh.web.citizen.sessions.CitizenSessions.current",
        "GET",
        "/me/inquiries",
    ),
    Case(
        "citizen-page-en",
        "panjereh.web.citizen.sessions.CitizenSessions.current",
        "GET",
        "/en/me/inquiries",
    ),
    Case(
        "operator-area",
        "panjereh.web.operator.auth.Sessions.viewer",
        "GET",
        "/operator/audit",
    ),
    Case("portal", "panjereh.web.portal.views.search_key", "GET", "/", is_async=False),
]


@pytest.fixture
async def client(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the answer a server would send, not the error raised behind it."""
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://panjereh.test") as made:
        yield made


def _break(monkeypatch: pytest.MonkeyPatch, case: Case) -> None:
    monkeypatch.setattr(case.target, aboom if case.is_async else boom)


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        found.group(1)
        for record in caplog.records
        if (found := REFERENCE.search(record.getMessage())) is not None
    ]


async def _ask(client: httpx.AsyncClient, case: Case, accept: str) -> httpx.Response:
    return await client.request(
        case.method, case.path, headers={"accept": accept, "content-type": "application/json"}
    )


@pytest.mark.parametrize("case", [*CASES, *PAGES], ids=lambda c: c.name)
async def test_a_program_gets_a_problem_with_a_reference_that_is_in_the_log(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    case: Case,
) -> None:
    _break(monkeypatch, case)
    with caplog.at_level(logging.ERROR):
        answer = await _ask(client, case, PROGRAM)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    problem = answer.json()
    assert (problem["status"], problem["code"]) == (500, "server-error")
    assert _logged(caplog) == [problem["reference"]]
    assert SECRET not in answer.text
    assert "Boom" not in answer.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_a_browser_asking_an_api_still_gets_the_problem(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    case: Case,
) -> None:
    _break(monkeypatch, case)
    with caplog.at_level(logging.ERROR):
        answer = await _ask(client, case, BROWSER)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert _logged(caplog) == [answer.json()["reference"]]


@pytest.mark.parametrize("case", PAGES, ids=lambda c: c.name)
async def test_a_browser_on_a_page_gets_the_error_page_with_the_reference(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    case: Case,
) -> None:
    _break(monkeypatch, case)
    with caplog.at_level(logging.ERROR):
        answer = await _ask(client, case, BROWSER)
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/html")
    (reference,) = _logged(caplog)
    assert reference in answer.text
    english = case.path.startswith("/en/")
    assert ("Something went wrong" if english else "خطایی پیش آمد") in answer.text
    assert SECRET not in answer.text
    assert "Traceback" not in answer.text
