"""Links a page makes back to itself repeat only what a page can read of its query.

Pages read every query parameter with a length limit (at most 200 characters, e.g.
`web.operator.area.Context.query`) and ignore longer values; a link back to the page (the
language switch, paging, "come back here after signing in") that repeated the raw query string
would echo whatever the visitor sent, 60,000 characters of it, into every such link and
redirect.  These helpers keep the parameters a page could have read and drop the rest.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import URL

__all__ = ["here", "page_query"]

NAME_LIMIT: Final = 64
VALUE_LIMIT: Final = 200  # the longest value a page reads from its query
PARAMS_LIMIT: Final = 20


def page_query(query: str) -> str:
    """``query`` less the parameters no page reads (a name over 64 or a value over 200
    characters), at most 20 of them, re-encoded."""
    kept = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if len(name) <= NAME_LIMIT and len(value) <= VALUE_LIMIT
    ]
    return urlencode(kept[:PARAMS_LIMIT])


def here(url: URL) -> str:
    """The path and bounded query of ``url``: where a link back to this page points."""
    query = page_query(url.query) if url.query else ""
    return f"{url.path}?{query}" if query else url.path
