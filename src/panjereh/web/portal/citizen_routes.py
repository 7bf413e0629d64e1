"""The citizen's routes: "who looked at my data?" and, in development, its sign-in."""

from __future__ import annotations

from starlette.routing import BaseRoute

from panjereh.web.portal import dev_sign_in, inquiries
from panjereh.web.runtime import Runtime


def routes(runtime: Runtime) -> list[BaseRoute]:
    pages = inquiries.InquiryPages(runtime)
    return inquiries.routes(pages) + dev_sign_in.routes(runtime, pages)
