"""The plain Python forwarder: uvicorn + a raw ASGI app + one aiohttp ClientSession.

The floor cost of any Python proxy on this machine: it reads the request, POSTs the body (and
its X-Purpose) to ``{upstream}/fwd/{service_id}`` and passes the answer back, nothing else
(no authentication, no checks, no audit).  ``python bench/forwarder.py --port P --upstream
http://127.0.0.1:U``; uvicorn runs with the same options as ``panjereh serve``.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp
import uvicorn

Message = MutableMapping[str, Any]
PREFIX = len("/exchange/v1/services/")


class Forwarder:
    def __init__(self, upstream: str) -> None:
        self._upstream = upstream.rstrip("/") + "/fwd/"
        self._session: aiohttp.ClientSession | None = None

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        assert self._session is not None
        purpose = next((v for k, v in scope["headers"] if k == b"x-purpose"), b"")
        headers = {"content-type": "application/json", "x-purpose": purpose.decode("latin-1")}
        async with self._session.post(
            self._upstream + scope["path"][PREFIX:], data=b"".join(chunks), headers=headers
        ) as answer:
            body = await answer.read()
            status = answer.status
        head = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(
        self, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                connector = aiohttp.TCPConnector(limit=0, limit_per_host=256)
                self._session = aiohttp.ClientSession(connector=connector)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._session is not None:
                    await self._session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvicorn.run(
        Forwarder(args.upstream),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        access_log=False,
    )


if __name__ == "__main__":
    main()
