"""The area's changes: each one a POST with the session's CSRF token and a reason, authorized
object by object, stored, and written as a registry event with its actor and reason."""

from __future__ import annotations

import pytest

from panjereh.registry.model import GrantStatus, Status
from tests.integration.operator.conftest import ACTIVE_GRANT, PENDING_GRANT, OperatorArea

REASON = {"reason": "checked with the agency by phone"}


def grant_path(grant: tuple[str, str], verb: str, prefix: str = "/operator") -> str:
    consumer, service = grant
    return f"{prefix}/grants/{consumer}/{service}/{verb}"


def grant_id(grant: tuple[str, str]) -> str:
    return f"{grant[0]} -> {grant[1]}"


async def grant_status(area: OperatorArea, grant: tuple[str, str]) -> GrantStatus:
    async with area.registry() as ops:
        return (await ops.grant(*grant)).status


async def actions_on(area: OperatorArea, object_type: str, object_id: str) -> list[str]:
    """The area's registry events on an object (the fixture's import left out)."""
    events = await area.events(object_type, object_id)
    return [e.action for e in events if e.actor.startswith("user:")]


@pytest.mark.parametrize(
    ("persona", "verb", "status", "stored"),
    [
        ("owner", "approve", 303, GrantStatus.ACTIVE),
        ("operator", "approve", 303, GrantStatus.ACTIVE),
        ("owner", "reject", 303, GrantStatus.REJECTED),
        ("operator", "reject", 303, GrantStatus.REJECTED),
        ("consumer", "approve", 404, GrantStatus.PENDING),  # not a party to this request
        ("stranger", "approve", 404, GrantStatus.PENDING),
        ("stranger", "reject", 404, GrantStatus.PENDING),
        ("auditor", "approve", 403, GrantStatus.PENDING),
        ("auditor", "reject", 403, GrantStatus.PENDING),
    ],
)
async def test_deciding_a_grant_request(
    area: OperatorArea, persona: str, verb: str, status: int, stored: GrantStatus
) -> None:
    answer = await area.post(persona, grant_path(PENDING_GRANT, verb), REASON)
    assert answer.status_code == status, answer.text
    assert await grant_status(area, PENDING_GRANT) is stored
    events = await area.events("grant", grant_id(PENDING_GRANT))
    mine = [e for e in events if e.actor.startswith("user:")]
    if status == 303:
        assert answer.headers["location"] == f"/operator/grants?done=grant.{verb}"
        assert [(e.action, e.actor, e.reason) for e in mine] == [
            (f"grant.{verb}", f"user:{persona}", REASON["reason"])
        ]
        assert mine[0].after is not None
        assert mine[0].after["decided_by"] == f"user:{persona}"
    else:
        assert mine == []


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("owner", 303),  # the provider
        ("consumer", 303),  # the consumer itself may give a grant up
        ("operator", 303),
        ("stranger", 404),
        ("auditor", 403),
    ],
)
async def test_revoking_a_grant(area: OperatorArea, persona: str, status: int) -> None:
    answer = await area.post(persona, grant_path(ACTIVE_GRANT, "revoke", "/en/operator"), REASON)
    assert answer.status_code == status, answer.text
    revoked = status == 303
    expected = GrantStatus.REVOKED if revoked else GrantStatus.ACTIVE
    assert await grant_status(area, ACTIVE_GRANT) is expected
    events = await area.events("grant", grant_id(ACTIVE_GRANT))
    mine = [(e.action, e.actor, e.reason) for e in events if e.actor.startswith("user:")]
    assert mine == ([("grant.revoke", f"user:{persona}", REASON["reason"])] if revoked else [])
    if revoked:
        done = await area.client(persona).get(answer.headers["location"])
        assert "The grant is revoked." in done.text


async def test_a_stranger_learns_nothing_from_the_error(area: OperatorArea) -> None:
    hidden = await area.post("stranger", grant_path(ACTIVE_GRANT, "revoke"), REASON)
    missing = await area.post(
        "stranger",
        grant_path(("social-security/benefits", "civil-registry.nobody.v1"), "revoke"),
        REASON,
    )
    no_agency = await area.post(
        "stranger", grant_path(("nobody/nothing", "civil-registry.person.v1"), "revoke"), REASON
    )
    assert hidden.status_code == missing.status_code == no_agency.status_code == 404
    assert hidden.text == missing.text == no_agency.text
    assert dict(hidden.headers) == dict(missing.headers)


async def test_deciding_twice_is_a_conflict_page(area: OperatorArea) -> None:
    first = await area.post("owner", grant_path(PENDING_GRANT, "approve"), REASON)
    assert first.status_code == 303
    again = await area.post("owner", grant_path(PENDING_GRANT, "reject"), REASON)
    assert again.status_code == 409
    assert "با وضعیت کنونی سازگار نیست" in again.text
    assert await grant_status(area, PENDING_GRANT) is GrantStatus.ACTIVE
    assert await actions_on(area, "grant", grant_id(PENDING_GRANT)) == ["grant.approve"]


@pytest.mark.parametrize(
    ("path", "object_type", "object_id"),
    [
        ("/operator/agencies/civil-registry", "agency", "civil-registry"),
        ("/operator/systems/civil-registry/population-registry", "system", ""),
    ],
)
async def test_an_operator_suspends_and_reactivates(
    area: OperatorArea, path: str, object_type: str, object_id: str
) -> None:
    object_id = object_id or "civil-registry/population-registry"
    back = "/operator/agencies/civil-registry"
    suspended = await area.post(
        "operator", f"{path}/suspend", {"reason": "  a leaked key  ", "back": back}
    )
    assert suspended.status_code == 303
    assert suspended.headers["location"] == f"{back}?done={object_type}.suspend"
    assert await stored_status(area, object_type, object_id) is Status.SUSPENDED
    page = await area.get("operator", suspended.headers["location"])
    assert 'role="status"' in page.text
    reactivated = await area.post("operator", f"{path}/reactivate", {"reason": "key rotated"})
    assert reactivated.status_code == 303
    assert await stored_status(area, object_type, object_id) is Status.ACTIVE
    events = [e for e in await area.events(object_type, object_id) if e.actor == "user:operator"]
    assert [(e.action, e.reason) for e in events] == [
        (f"{object_type}.suspend", "a leaked key"),
        (f"{object_type}.reactivate", "key rotated"),
    ]


async def stored_status(area: OperatorArea, object_type: str, object_id: str) -> Status:
    async with area.registry() as ops:
        if object_type == "agency":
            return (await ops.agency(object_id)).status
        return (await ops.system(object_id)).status


@pytest.mark.parametrize("persona", ["owner", "consumer", "stranger", "auditor"])
async def test_only_an_operator_may_suspend(area: OperatorArea, persona: str) -> None:
    for path in [
        "/operator/agencies/civil-registry/suspend",
        "/operator/agencies/science-ministry/suspend",
        "/en/operator/systems/civil-registry/population-registry/suspend",
        "/operator/agencies/no-such-agency/suspend",
    ]:
        answer = await area.post(persona, path, REASON)
        assert answer.status_code == 403  # the same for every object: the role decides
    assert await stored_status(area, "agency", "civil-registry") is Status.ACTIVE
    assert await stored_status(area, "agency", "science-ministry") is Status.ACTIVE
    assert await stored_status(area, "system", "civil-registry/population-registry") is (
        Status.ACTIVE
    )
    assert await actions_on(area, "agency", "civil-registry") == []


@pytest.mark.parametrize(
    "path",
    [
        grant_path(PENDING_GRANT, "approve"),
        grant_path(ACTIVE_GRANT, "revoke"),
        "/operator/agencies/civil-registry/suspend",
        "/operator/systems/civil-registry/population-registry/suspend",
    ],
)
async def test_it_refuses_a_form_without_the_csrf_token(area: OperatorArea, path: str) -> None:
    for csrf in ("", "not-the-token", "x" * 43):
        answer = await area.post("operator", path, REASON, csrf=csrf)
        assert answer.status_code == 403
        assert "اجازه این کار را ندارید" in answer.text
    assert await grant_status(area, PENDING_GRANT) is GrantStatus.PENDING
    assert await grant_status(area, ACTIVE_GRANT) is GrantStatus.ACTIVE
    assert await stored_status(area, "agency", "civil-registry") is Status.ACTIVE
    assert await stored_status(area, "system", "civil-registry/population-registry") is (
        Status.ACTIVE
    )


async def test_it_refuses_another_sessions_csrf_token(area: OperatorArea) -> None:
    answer = await area.post(
        "owner", grant_path(PENDING_GRANT, "approve"), REASON, csrf=area.csrf["operator"]
    )
    assert answer.status_code == 403
    assert await grant_status(area, PENDING_GRANT) is GrantStatus.PENDING


async def test_it_refuses_an_oversized_form(area: OperatorArea) -> None:
    answer = await area.post(
        "operator", "/operator/agencies/civil-registry/suspend", {"reason": "x" * 20_000}
    )
    assert answer.status_code == 403
    assert await stored_status(area, "agency", "civil-registry") is Status.ACTIVE


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("owner", grant_path(PENDING_GRANT, "approve", "/en/operator")),
        ("operator", "/en/operator/agencies/civil-registry/suspend"),
        ("operator", "/en/operator/systems/civil-registry/population-registry/suspend"),
    ],
)
async def test_a_change_without_a_reason_is_a_friendly_422_page(
    area: OperatorArea, persona: str, path: str
) -> None:
    back = "/en/operator/grants?status=pending"
    for reason in (None, "", "  ", "ab", "x" * 2001):
        form = {"back": back} | ({} if reason is None else {"reason": reason})
        answer = await area.post(persona, path, form)
        assert answer.status_code == 422
        assert "Write the reason for the change (3 to 2000 characters)." in answer.text
        assert f'<a href="{back}">Back to the page</a>' in answer.text
    assert await grant_status(area, PENDING_GRANT) is GrantStatus.PENDING
    assert await stored_status(area, "agency", "civil-registry") is Status.ACTIVE
    assert await actions_on(area, "grant", grant_id(PENDING_GRANT)) == []


async def test_a_change_goes_back_only_to_a_page_of_the_area(area: OperatorArea) -> None:
    answer = await area.post(
        "owner", grant_path(PENDING_GRANT, "approve"), REASON | {"back": "//evil.example/x"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/operator/grants?done=grant.approve"
