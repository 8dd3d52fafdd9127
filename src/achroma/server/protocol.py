"""uvicorn's HTTP protocol with a deadline and a size cap on each request's headers.

uvicorn calls the app only once a request's headers are complete, so a client that trickles
its request line and headers (slow loris) never reaches ASGI middleware: the guard has to sit
in the protocol. httptools (uvicorn's fast parser) also has no limit of its own on the size of
the headers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from achroma.http import wire


def _raw_error(status: bytes, message: str) -> bytes:
    body = wire.dumps(wire.error_to_json("ChromaError", message))
    head = (
        b"HTTP/1.1 " + status + b"\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n"
    )
    return head + body


def guarded_protocol(header_timeout: float, max_header_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class (httptools when installed, else h11), answering 408 to a
    connection whose request headers take longer than `header_timeout` seconds from their
    first byte (or from the connection's opening), and 431 to headers over `max_header_bytes`.
    Both close the connection."""
    timed_out = _raw_error(
        b"408 Request Timeout", f"Request headers not received within {header_timeout:g} s"
    )
    too_large = _raw_error(
        b"431 Request Header Fields Too Large",
        f"Request headers larger than {max_header_bytes} bytes",
    )
    base: Any = AutoHTTPProtocol

    class HeaderGuard(base):  # type: ignore[misc]
        _cycle: Any = None
        _header_timer: asyncio.TimerHandle | None = None
        _header_bytes = 0

        # Both of uvicorn's protocols set `cycle` when a request's headers are complete.
        @property
        def cycle(self) -> Any:
            return self._cycle

        @cycle.setter
        def cycle(self, value: Any) -> None:
            self._cycle = value
            if value is not None:
                self._disarm()

        def _between_requests(self) -> bool:
            return self._cycle is None or bool(self._cycle.response_complete)

        def _arm(self) -> None:
            self._header_bytes = 0
            self._header_timer = asyncio.get_running_loop().call_later(
                header_timeout, self._refuse, timed_out
            )

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _refuse(self, answer: bytes) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(answer)
                self.transport.close()

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._header_timer is None and self._between_requests():
                self._arm()
            super().data_received(data)
            if self._header_timer is not None:  # the headers are still incomplete
                self._header_bytes += len(data)
                if self._header_bytes > max_header_bytes:
                    self._refuse(too_large)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderGuard
