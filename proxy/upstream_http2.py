"""Speak HTTP/2 to the TLS upstreams of the listeners that ask for it.

mitmproxy mirrors the client's protocol upstream. The app talks plain
HTTP/1.1 to the sidecar, so an upstream hears HTTP/1.1: fine for the many
that offer both, impossible for one that accepts only HTTP/2. For a listener
configured with ``http2 = true`` this addon offers ``h2`` (then
``http/1.1``) in ALPN when the sidecar connects upstream; mitmproxy then
translates each HTTP/1.1 request into HTTP/2. A connection opened for an
``Upgrade`` request (WebSocket) is left on HTTP/1.1, which upgrades need.
Any failure here leaves mitmproxy's default in place: traffic goes on.
"""

from __future__ import annotations

from collections.abc import Iterable

HTTP2_FIRST = (b"h2", b"http/1.1")


class UpstreamHttp2:
    def __init__(self, mode_specs: Iterable[str]) -> None:
        self.mode_specs = frozenset(mode_specs)
        # client connections whose request in flight asks to upgrade
        self._upgrading: set[str] = set()

    def requestheaders(self, flow) -> None:
        try:
            if flow.client_conn.proxy_mode.full_spec not in self.mode_specs:
                return
            if "upgrade" in flow.request.headers:
                self._upgrading.add(flow.client_conn.id)
            else:
                self._upgrading.discard(flow.client_conn.id)
        except Exception:  # noqa: BLE001 - never let this addon touch the traffic
            pass

    def server_connect(self, data) -> None:
        try:
            if (data.client.proxy_mode.full_spec in self.mode_specs
                    and not data.server.alpn_offers
                    and data.client.id not in self._upgrading):
                data.server.alpn_offers = HTTP2_FIRST
        except Exception:  # noqa: BLE001
            pass

    def client_disconnected(self, client) -> None:
        self._upgrading.discard(client.id)
