"""`create_api(runtime)`: the management API at /api/v1.

Every route declares its access in ``openapi_extra["x-access"]`` (a guard test checks) and
authorizes the object it touches through `RegistryOps` / `panjereh.registry.access`.  Every
change takes a ``reason`` and becomes a registry event.
"""

from __future__ import annotations

from fastapi import FastAPI

from panjereh import __version__
from panjereh.web.api import agencies, audit, citizen, errors, grants, misc, services
from panjereh.web.api.context import ApiContext
from panjereh.web.api.json_bodies import RefuseRepeatedKeys
from panjereh.web.head import HeadAsGet
from panjereh.web.runtime import Runtime


def create_api(runtime: Runtime) -> FastAPI:
    api = FastAPI(
        title="Panjereh registry API",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="The control plane: agencies, systems, keys, services, grants. "
        "Bearer tokens: `panjereh user token NAME`.",
    )
    errors.install(api)
    api.add_middleware(RefuseRepeatedKeys)
    api.add_middleware(HeadAsGet)
    citizen.install(api)
    ctx = ApiContext(runtime)
    for module in (misc, agencies, services, grants, audit, citizen):
        api.include_router(module.router(ctx))
    return api
