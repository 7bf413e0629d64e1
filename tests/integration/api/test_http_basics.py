"""HTTP basics on every route of the app (issue 25): a wrong method gets 405 with ``Allow``,
HEAD answers wherever GET does, on the management API, the pages and the exchange's metadata;
a caller whose role may never use a route gets 403 before its body is looked at.

The routes are read from the app itself, so a new route is walked without a change here.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, Mount, Route

from panjereh.registry.access import Role
from tests.integration.api.conftest import PERSONAS, Api

_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
_WRONG = ("PATCH", "PUT", "DELETE", "POST")


def _walk(routes: list[BaseRoute], prefix: str = "") -> dict[str, set[str]]:
    """path template -> the methods its routes take (HEAD left out)."""
    found: dict[str, set[str]] = {}
    for route in iter_route_contexts(routes):
        if isinstance(route.route, Mount):
            mount = route.route
            if isinstance(mount.app, FastAPI):
                for path, methods in _walk(mount.app.routes, prefix + mount.path).items():
                    found.setdefault(path, set()).update(methods)
        elif isinstance(route.original_route, Route) and route.methods and route.path:
            path = prefix + route.path
            found.setdefault(path, set()).update(route.methods - {"HEAD"})
    return found


def _filled(template: str) -> str:
    return _PARAMETER.sub(lambda m: f"x-{m[1].replace('_', '-')}", template)


def _routes(api: Api) -> dict[str, set[str]]:
    found = _walk(api.app.web.routes)
    assert sum(p.startswith("/api/v1/") for p in found) > 20
    assert any(p.startswith("/exchange/v1/") for p in found)
    return found


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
async def test_a_wrong_method_gets_405_with_allow_on_every_route(api: Api, accept: str) -> None:
    missing = []
    for template, methods in sorted(_routes(api).items()):
        wrong = next(m for m in _WRONG if m not in methods)
        path = _filled(template)
        response = await api.client.request(
            wrong, path, headers=api.auth("operator") | {"Accept": accept}
        )
        if response.status_code == 404 and "{" in template:
            continue  # the filled-in value matched another route's pattern first
        allow = {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}
        if response.status_code != 405 or not methods <= allow:
            missing.append((wrong, path, response.status_code, sorted(allow)))
    assert not missing, missing


async def test_head_answers_wherever_get_does(api: Api) -> None:
    different = []
    for template, methods in sorted(_routes(api).items()):
        if "GET" not in methods:
            continue
        path = _filled(template)
        headers = api.auth("operator")
        get = await api.client.get(path, headers=headers)
        head = await api.client.head(path, headers=headers)
        if head.status_code != get.status_code or head.content:
            different.append((path, get.status_code, head.status_code))
    assert not different, different


# The roles each restricted access declaration admits at all (before any object is looked at).
_ADMITS = {
    "operator": {Role.OPERATOR},
    "owner-agency-or-operator": {Role.OPERATOR, Role.AGENCY_ADMIN},
    "consumer-agency-or-operator": {Role.OPERATOR, Role.AGENCY_ADMIN},
    "provider-agency-or-operator": {Role.OPERATOR, Role.AGENCY_ADMIN},
    "operator-or-auditor": {Role.OPERATOR, Role.AUDITOR},
}


def _restricted_writes(api: Api) -> list[tuple[str, str, set[Role]]]:
    inner = next(r.app for r in api.app.web.routes if isinstance(r, Mount) and r.path == "/api/v1")
    assert isinstance(inner, FastAPI)
    found = []
    for route in iter_route_contexts(inner.routes):
        if not isinstance(route.original_route, APIRoute) or not route.dependant.body_params:
            continue
        access = (route.openapi_extra or {}).get("x-access")
        if access in _ADMITS and route.methods and route.path:
            for method in route.methods:
                found.append((method, "/api/v1" + _filled(route.path), _ADMITS[access]))
    assert len(found) > 10
    return found


@pytest.mark.parametrize("body", [{}, {"reason": 1, "unknown": True}], ids=["empty", "wrong"])
async def test_a_caller_without_the_role_gets_403_before_the_body_is_validated(
    api: Api, body: dict[str, object]
) -> None:
    wrong = []
    for method, path, admitted in _restricted_writes(api):
        for persona, (role, _agency) in PERSONAS.items():
            if role in admitted:
                continue
            response = await api.client.request(method, path, json=body, headers=api.auth(persona))
            if response.status_code != 403 or response.json()["code"] != "forbidden":
                wrong.append((persona, method, path, response.status_code))
    assert not wrong, wrong


# (method, path, persona, body): answers with problems of as many kinds as the app gives.
_PROBLEMS: list[tuple[str, str, str, dict[str, object] | None]] = [
    ("GET", "/api/v1/no/such", "operator", None),
    ("PATCH", "/api/v1/agencies", "operator", None),
    ("GET", "/api/v1/agencies", "nobody", None),
    ("GET", "/api/v1/me/session", "nobody", None),
    ("POST", "/api/v1/agencies", "auditor", {}),
    ("POST", "/api/v1/agencies", "operator", {}),
    ("GET", "/api/v1/agencies/no-such", "operator", None),
    ("GET", "/no/such/page", "nobody", None),
    ("PATCH", "/en/", "nobody", None),
    ("GET", "/exchange/v1/services/no.such.v1", "nobody", None),
    ("PUT", "/exchange/v1/services/no.such.v1", "nobody", None),
    ("POST", "/exchange/v1/services/no.such.v1", "nobody", {}),
]


async def test_one_problem_code_has_one_title_in_sentence_case(api: Api) -> None:
    titles: dict[str, set[str]] = {}
    for method, path, persona, body in _PROBLEMS:
        response = await api.client.request(
            method, path, json=body, headers=api.auth(persona) | {"Accept": "application/json"}
        )
        assert response.headers["content-type"] == "application/problem+json", (method, path)
        problem = response.json()
        titles.setdefault(problem["code"], set()).add(problem["title"])
    assert len(titles) >= 6
    assert {code: t for code, t in titles.items() if len(t) > 1} == {}
    shouted = {t for found in titles.values() for t in found if t != t[0] + t[1:].lower()}
    assert shouted == set()


async def test_the_exchange_directorys_401_names_the_api_key_scheme(api: Api) -> None:
    response = await api.client.get("/exchange/v1/services?allowed=true")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'ApiKey realm="panjereh-exchange"'


async def test_a_wrong_method_on_an_inquiry_url_names_post_and_get_in_allow(api: Api) -> None:
    response = await api.client.put("/exchange/v1/services/civil-registry.person.v1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
