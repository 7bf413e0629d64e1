"""One security-header policy on every answer, and error pages a browser can read.

Personas of the negotiation: a browser (``Accept`` preferring text/html), an API client
(``*/*`` or JSON), and a browser on an API path (still problem+json).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from panjereh.config import Environment, Settings
from panjereh.web.app import PanjerehApp, create_app
from panjereh.web.security_headers import CSP, HSTS
from tests.support import free_port, serving

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API = {"Accept": "application/json"}
INQUIRY = "/exchange/v1/services/civil-registry.person.v1"


async def _fail(_request: Request) -> Response:
    raise RuntimeError("secret detail that must not reach the client")


def _raiser(
    status: int, headers: dict[str, str] | None = None
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_request: Request) -> Response:
        raise HTTPException(status, headers=headers)

    return endpoint


def _add_test_routes(app: PanjerehApp) -> None:
    """Routes that fail on purpose, in both languages' areas and on an API path."""
    for prefix in ("", "/en"):
        app.web.add_route(f"{prefix}/fail", _fail)
        app.web.add_route(f"{prefix}/forbidden", _raiser(403))
        app.web.add_route(f"{prefix}/slow-down", _raiser(429, {"Retry-After": "30"}))
    app.web.add_route("/api/fail", _fail)
    api = next(r.app for r in app.web.routes if isinstance(r, Mount) and r.path == "/api/v1")
    assert isinstance(api, FastAPI)
    api.add_api_route("/fail", _fail)


@pytest.fixture
async def client(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with Served(tmp_path, sqlite_template, https=False) as http:
        yield http


class Served:
    def __init__(self, tmp_path: Path, template: Path, *, https: bool) -> None:
        database = tmp_path / "test.db"
        shutil.copyfile(template, database)
        self.port = free_port()
        scheme = "https" if https else "http"
        self.settings = Settings(
            env=Environment.DEVELOPMENT,
            data_dir=tmp_path / "var",
            database_url=f"sqlite+aiosqlite:///{database}",
            port=self.port,
            public_url=f"{scheme}://127.0.0.1:{self.port}",
        )

    async def __aenter__(self) -> httpx.AsyncClient:
        app = create_app(self.settings)
        _add_test_routes(app)
        self._serving = serving(app, self.port)
        url = await self._serving.__aenter__()
        self._client = httpx.AsyncClient(base_url=url, timeout=10)
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()
        await self._serving.__aexit__(None, None, None)


def assert_html_policy(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/en/", "/dev/sign-in", "/en/operator/sign-in"])
async def test_every_html_page_carries_the_one_policy(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_html_policy(response)
    assert "strict-transport-security" not in response.headers  # plain http


def test_the_policy_allows_only_this_site_and_no_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "'unsafe-inline'" not in CSP


async def test_json_answers_carry_nosniff_but_no_page_policy(client: httpx.AsyncClient) -> None:
    answers = [
        await client.get("/healthz"),
        await client.get("/exchange/v1/services"),
        await client.post(INQUIRY, json={"national_code": "0000000000"}),  # no key: 401
        await client.get("/static/portal.css"),
    ]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert "content-security-policy" not in answer.headers, answer.url
    assert answers[2].status_code == 401


async def test_over_https_every_answer_carries_strict_transport_security(
    tmp_path: Path, sqlite_template: Path
) -> None:
    async with Served(tmp_path, sqlite_template, https=True) as client:
        answers = [
            await client.get("/", headers=BROWSER),
            await client.get("/healthz"),
            await client.get("/no/such/page", headers=BROWSER),
            await client.post(INQUIRY, json={}),
            await client.get("/api/v1/agencies"),
        ]
    for answer in answers:
        assert answer.headers["strict-transport-security"] == HSTS, answer.url
    assert HSTS.startswith("max-age=31536000")


async def test_a_browser_gets_a_persian_not_found_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert_html_policy(response)
    html = response.text
    assert '<html lang="fa" dir="rtl">' in html
    assert "خطای ۴۰۴" in html  # Persian digits
    assert "صفحه پیدا نشد" in html
    assert '<a href="/">' in html
    assert re.search(r"<time>[۰-۹]+ [آ-ی]+ ۱۴[۰-۹]{2}</time>", html)


async def test_an_english_path_gets_the_english_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/en/no/such/page", headers=BROWSER)
    assert response.status_code == 404
    html = response.text
    assert '<html lang="en" dir="ltr">' in html
    assert "Error 404" in html
    assert "Page not found" in html
    assert '<a href="/en/">' in html


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/no/such/page", API),
        ("/no/such/page", {"Accept": "*/*"}),
        ("/no/such/page", {}),
        ("/api/v1/no/such", BROWSER),
        ("/exchange/v1/no/such", BROWSER),
    ],
)
async def test_api_clients_and_api_paths_keep_problem_json(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


async def test_a_wrong_method_gets_a_405_page_with_allow(client: httpx.AsyncClient) -> None:
    page = await client.post("/en/", headers=BROWSER)
    assert page.status_code == 405
    assert "Request not accepted" in page.text
    assert "GET" in page.headers["allow"]
    problem = await client.post("/en/", headers=API)
    assert problem.status_code == 405
    assert problem.json()["code"] == "method-not-allowed"


async def test_a_forbidden_page_in_both_languages(client: httpx.AsyncClient) -> None:
    fa = await client.get("/forbidden", headers=BROWSER)
    en = await client.get("/en/forbidden", headers=BROWSER)
    assert (fa.status_code, en.status_code) == (403, 403)
    assert "اجازه دسترسی ندارید" in fa.text
    assert "خطای ۴۰۳" in fa.text
    assert "Access not allowed" in en.text


async def test_too_many_requests_says_when_to_try_again(client: httpx.AsyncClient) -> None:
    fa = await client.get("/slow-down", headers=BROWSER)
    en = await client.get("/en/slow-down", headers=BROWSER)
    assert fa.status_code == en.status_code == 429
    assert fa.headers["retry-after"] == "30"
    assert "۳۰ ثانیه دیگر" in fa.text
    assert "try again in 30 seconds" in en.text
    problem = await client.get("/slow-down", headers=API)
    assert problem.headers["retry-after"] == "30"
    assert problem.json()["code"] == "rate-limited"


async def test_a_server_error_shows_a_reference_and_no_trace(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    page = await client.get("/en/fail", headers=BROWSER)
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert_html_policy(page)
    found = re.search(r'<code dir="ltr">([0-9a-f]{12})</code>', page.text)
    assert found is not None
    assert "Something went wrong" in page.text
    for leak in ("secret detail", "RuntimeError", "Traceback"):
        assert leak not in page.text
    assert any(found.group(1) in r.getMessage() for r in caplog.records)  # the log has it too
    fa = await client.get("/fail", headers=BROWSER)
    assert "خطایی پیش آمد" in fa.text
    assert "شناسه پیگیری" in fa.text


@pytest.mark.parametrize(("path", "headers"), [("/fail", API), ("/api/fail", BROWSER)])
async def test_a_server_error_is_problem_json_for_api_clients(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "server-error"
    assert re.fullmatch(r"[0-9a-f]{12}", body["reference"])
    assert "secret detail" not in response.text


async def test_the_management_api_answers_its_own_errors_in_problem_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/fail", headers=BROWSER)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "server-error"
    assert "secret detail" not in response.text
