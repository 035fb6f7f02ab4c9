"""The gateway's HTTP client to the services, behind one small interface.

The hot path uses aiohttp: measured on this machine in front of a trivial service it
forwarded about 2.9 times the requests per second of httpx's ``AsyncClient`` at the same
CPU (httpx's per-request cost is in its connection-pool bookkeeping and the anyio
layers under it). httpx stays where it serves: the gateway's health checks and spec
fetches, the tests (``HttpxUpstream`` over an ``httpx.MockTransport`` stands in for the
services), and the services' calls to each other.

Either client: redirects are never followed, answers are streamed back, timeouts are
bounded, and failures are told apart the way the gateway must answer them: could not
connect (nothing reached the service, so an idempotent request may be retried), timed
out, or a broken answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import httpx
from yarl import URL

from safeguarding_kit.keep_alive import CLIENT_KEEPALIVE_EXPIRY_SECONDS


class UpstreamConnectFailed(Exception):
    """The service could not be reached; it cannot have acted on the request."""


class UpstreamTimedOut(Exception):
    """The service took too long to answer; it may have acted on the request."""


class UpstreamBroken(Exception):
    """The service's answer was not valid HTTP, or the connection broke mid-answer."""


@dataclass
class UpstreamAnswer:
    """A service's answer whose body is not read yet: ``read`` it whole or stream ``body``,
    then ``close`` it."""

    status: int
    headers: list[tuple[str, str]]
    body: AsyncIterator[bytes]
    read: Callable[[], Awaitable[bytes]]
    close: Callable[[], Awaitable[None]]

    @property
    def content_length(self) -> int | None:
        for name, value in self.headers:
            if name.lower() == "content-length":
                return int(value) if value.isdigit() else None
        return None


class UpstreamClient(Protocol):
    async def send(
        self,
        method: str,
        url: str,
        *,
        query: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        read_timeout: float | None = None,
    ) -> UpstreamAnswer: ...

    async def aclose(self) -> None: ...


class AiohttpUpstream:
    """Pooled keep-alive connections to the services through aiohttp."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, max_connections: int) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop.
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections,
                    ttl_dns_cache=300,
                    # Let an idle connection go before the service would close it under us.
                    keepalive_timeout=CLIENT_KEEPALIVE_EXPIRY_SECONDS,
                ),
                timeout=self._timeout,
                auto_decompress=False,  # pass the service's bytes through as they are
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),  # a proxy keeps no cookies
            )
        return self._session

    async def send(
        self,
        method: str,
        url: str,
        *,
        query: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        read_timeout: float | None = None,
    ) -> UpstreamAnswer:
        target = f"{url}?{query}" if query else url
        timeout = self._timeout
        if read_timeout is not None:
            timeout = aiohttp.ClientTimeout(
                total=None, connect=timeout.connect, sock_connect=timeout.sock_connect, sock_read=read_timeout
            )
        try:
            response = await self._client().request(
                method,
                URL(target, encoded=True),
                headers=list(headers),
                data=body or None,
                allow_redirects=False,
                timeout=timeout,
            )
        except aiohttp.ConnectionTimeoutError as exc:
            raise UpstreamConnectFailed("connect timed out") from exc
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamConnectFailed(str(exc)) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimedOut("read timed out") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamBroken(type(exc).__name__) from exc

        async def body_chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.content.iter_any():
                    yield chunk
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise UpstreamBroken(type(exc).__name__) from exc

        async def read() -> bytes:
            try:
                return await response.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise UpstreamBroken(type(exc).__name__) from exc

        async def close() -> None:
            response.release()

        return UpstreamAnswer(
            status=response.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers],
            body=body_chunks(),
            read=read,
            close=close,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class HttpxUpstream:
    """The same through an ``httpx.AsyncClient`` (tests give it a ``MockTransport``)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._http = client

    async def send(
        self,
        method: str,
        url: str,
        *,
        query: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        read_timeout: float | None = None,
    ) -> UpstreamAnswer:
        current = self._http.timeout
        timeout = (
            current
            if read_timeout is None
            else httpx.Timeout(
                connect=current.connect, read=read_timeout, write=current.write, pool=current.pool
            )
        )
        request = self._http.build_request(
            method, url, params=query or None, headers=list(headers), content=body, timeout=timeout
        )
        try:
            response = await self._http.send(request, stream=True, follow_redirects=False)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise UpstreamConnectFailed(str(exc)) from exc
        except httpx.TimeoutException as exc:
            raise UpstreamTimedOut(str(exc)) from exc
        except httpx.TransportError as exc:
            raise UpstreamBroken(type(exc).__name__) from exc

        if response.is_stream_consumed:  # a MockTransport's answer arrives already read
            content = response.content

            async def read() -> bytes:
                return content

            async def one_chunk() -> AsyncIterator[bytes]:
                yield content

            chunks = one_chunk()
        else:
            chunks = response.aiter_raw()  # raw: the service's bytes, not decompressed

            async def read() -> bytes:
                try:
                    return b"".join([chunk async for chunk in chunks])
                except httpx.TransportError as exc:
                    raise UpstreamBroken(type(exc).__name__) from exc

        return UpstreamAnswer(
            status=response.status_code,
            headers=response.headers.multi_items(),
            body=chunks,
            read=read,
            close=response.aclose,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
