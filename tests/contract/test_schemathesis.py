"""The running exchange keeps to its own OpenAPI description (schemathesis 4).

The platform runs on a real socket with the demo government; schemathesis generates requests
from GET /exchange/v1/openapi.json and sends them with the granted consumer's key and purpose
(social-security/benefits on civil-registry.person.v1), so inquiries reach every stage of the
pipeline, up to the provider's answers.  Each answer must not be a 5xx that the description
does not promise, must have a documented status, media type, headers and body schema.
Bounded: at most 50 examples per run, a few runs, well under a minute.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.exchange.harness import (
    PERSON_ID,
    Platform,
    prepare_database,
    running,
)

AnyCase = schemathesis.Case[Any]
MAX_EXAMPLES = 50
BUDGET_S = 50.0
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
async def platform(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Platform]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'exchange.db'}"
    await prepare_database(url, sqlite_template)
    async with running(url, tmp_path / "var") as platform:
        yield platform


def _fuzz(
    strategy: st.SearchStrategy[AnyCase],
    call: Callable[[AnyCase], requests.Response | Any],
) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: AnyCase) -> None:
        call(case)

    run()


def _conformance(
    spec: dict[str, Any], base_url: str, headers: dict[str, str], citizen: str
) -> Counter[tuple[str, int]]:
    """Run schemathesis over every operation (and the inquiry with real service ids and
    bodies); the statuses seen per operation."""
    schema = schemathesis.openapi.from_dict(spec)
    seen: Counter[tuple[str, int]] = Counter()
    session = requests.Session()

    def call(case: AnyCase) -> None:
        response = case.call_and_validate(
            base_url=base_url, session=session, headers=headers, checks=CHECKS
        )
        seen[(case.operation.label, response.status_code)] += 1

    operations: dict[str, schemathesis.APIOperation[Any, Any, Any, Any]] = {}
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the description itself is valid
        operations[result.ok().label] = result.ok()
    inquire = operations["POST /exchange/v1/services/{service_id}"]
    runs: list[st.SearchStrategy[AnyCase]] = [
        op.as_strategy(headers=headers) for op in operations.values()
    ]
    runs += [
        inquire.as_strategy(headers=headers, path_parameters={"service_id": PERSON_ID}),
        inquire.as_strategy(
            headers=headers,
            path_parameters={"service_id": PERSON_ID},
            body={"national_code": citizen},
        ),
        operations["GET /exchange/v1/services/{service_id}"].as_strategy(
            path_parameters={"service_id": PERSON_ID}
        ),
    ]
    for strategy in runs:
        _fuzz(strategy, call)
    session.close()
    return seen


async def test_the_exchange_answers_as_its_openapi_description_says(platform: Platform) -> None:
    spec = (await platform.client.get("/exchange/v1/openapi.json")).json()
    headers = {"Authorization": f"ApiKey {platform.api_keys['social-security/benefits']}"}
    headers["X-Purpose"] = "benefit-eligibility"
    started = time.monotonic()
    seen = await asyncio.to_thread(_conformance, spec, platform.url, headers, platform.citizen)
    assert time.monotonic() - started < BUDGET_S
    inquiry = {status for (label, status) in seen if label.startswith("POST")}
    assert {200, 400, 404} <= inquiry, seen  # it reached the provider, and refused bad input
    assert all(status < 500 for (_, status) in seen), seen
    assert await platform.audit.count() == sum(
        n for (label, _), n in seen.items() if label.startswith("POST")
    )
