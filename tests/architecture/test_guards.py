"""Guards: every route declares who may call it; every setting is documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.routing import Mount, Route

from panjereh.config import Environment, Settings, setting_names
from panjereh.exchange.problems import ALL_PROBLEMS
from panjereh.interchange.registry_document import (
    AgencyDoc,
    ApiKeyDoc,
    CitizenServiceDoc,
    GrantDoc,
    Purpose,
    ServiceDoc,
    SigningKeyDoc,
    SystemDoc,
)
from panjereh.web.app import create_app
from panjereh.web.policy import Access, access_of
from tests.production import PRODUCTION_KEYS

ROOT = Path(__file__).resolve().parents[2]


def test_every_route_declares_its_access_policy(tmp_path: Path) -> None:
    app = create_app(Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path))
    undeclared = []
    for item in app.web.routes:
        if isinstance(item, Mount):
            continue  # static files and the simulator (outside the platform)
        assert isinstance(item, Route)
        if access_of(item) is None:
            undeclared.append(item.path)
    assert undeclared == []
    mounts = sorted(item.path for item in app.web.routes if isinstance(item, Mount))
    assert mounts == ["/api/v1", "/simulator", "/static"]


def test_every_api_route_declares_its_access_policy(tmp_path: Path) -> None:
    app = create_app(Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path))
    api = next(
        item.app for item in app.web.routes if isinstance(item, Mount) and item.path == "/api/v1"
    )
    assert isinstance(api, FastAPI)
    operations = [
        (method.upper(), path, operation)
        for path, item in api.openapi()["paths"].items()
        for method, operation in item.items()
    ]
    undeclared = [f"{method} {path}" for method, path, op in operations if "x-access" not in op]
    assert undeclared == []
    assert len(operations) > 20


def test_no_api_operation_takes_a_national_code_in_its_url(tmp_path: Path) -> None:
    """URLs end up in access logs and browser histories: a national code goes in a body."""
    app = create_app(Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path))
    api = next(
        item.app for item in app.web.routes if isinstance(item, Mount) and item.path == "/api/v1"
    )
    assert isinstance(api, FastAPI)
    in_urls = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, item in api.openapi()["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        if "national" in parameter["name"] or "subject" in parameter["name"]
    ]
    assert in_urls == []


@pytest.mark.parametrize("name", sorted(setting_names()))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`{name}`" in (ROOT / "docs" / "configuration.md").read_text()


@pytest.mark.parametrize("code", [p.code for p in ALL_PROBLEMS])
def test_every_problem_type_is_documented(code: str) -> None:
    assert f"`{code}`" in (ROOT / "docs" / "exchange-protocol.md").read_text()


def test_the_production_app_mounts_no_simulator_when_disabled(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        simulator=False,
        **PRODUCTION_KEYS,
    )
    app = create_app(settings)
    assert "/simulator" not in [i.path for i in app.web.routes if isinstance(i, Mount)]


@pytest.mark.parametrize(
    "model",
    [
        Purpose,
        AgencyDoc,
        SystemDoc,
        ApiKeyDoc,
        SigningKeyDoc,
        ServiceDoc,
        GrantDoc,
        CitizenServiceDoc,
    ],
    ids=lambda m: m.__name__,
)
def test_every_registry_document_field_is_documented(model: type[BaseModel]) -> None:
    text = (ROOT / "docs" / "registry-document.md").read_text()
    missing = [name for name in model.model_fields if f"`{name}`" not in text]
    assert missing == []


def test_every_operator_area_route_is_in_its_docs(tmp_path: Path) -> None:
    from panjereh.web.operator.i18n import LOCALES
    from panjereh.web.operator.routes import CATCH_ALL

    app = create_app(Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path))
    text = (ROOT / "docs" / "operator-area.md").read_text()
    listed: dict[str, set[str]] = {locale.prefix: set() for locale in LOCALES}
    for item in app.web.routes:
        if not isinstance(item, Route):
            continue
        for prefix, entries in listed.items():
            path = item.path.removeprefix(prefix)
            if path == item.path or path == CATCH_ALL or not path.startswith("/"):
                continue
            entries.update(f"{method} {path}" for method in (item.methods or set()) - {"HEAD"})
    fa, en = listed.values()
    assert fa == en  # every page exists in both languages
    assert len(fa) > 10
    assert sorted(entry for entry in fa if f"`{entry}" not in text) == []


def test_development_routes_exist_only_in_development(tmp_path: Path) -> None:
    """Outside development the citizen's development sign-in is not there at all (404)."""
    dev = create_app(Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path / "dev"))
    production = create_app(Settings(data_dir=tmp_path / "prod", **PRODUCTION_KEYS))
    found = sorted(
        f"{sorted(r.methods or ())} {r.path}"
        for r in dev.web.routes
        if isinstance(r, Route) and access_of(r) is Access.DEVELOPMENT
    )
    assert found == [
        "['GET', 'HEAD'] /dev/sign-in",
        "['GET', 'HEAD'] /en/dev/sign-in",
        "['POST'] /dev/sign-in",
        "['POST'] /en/dev/sign-in",
    ]
    assert [r for r in production.web.routes if access_of(r) is Access.DEVELOPMENT] == []
