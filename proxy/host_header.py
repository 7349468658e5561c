"""Per-listener ``keep_host_header``: which reverse-proxied requests keep the client's Host.

mitmproxy's ``keep_host_header`` is one switch for every listener. In reverse
mode it normally rewrites ``Host`` to the upstream's address (and sends the
upstream's name as TLS SNI), which is what an upstream behind virtual hosting
needs; but a dependency that builds absolute URLs from ``Host`` (SQS queue
URLs, pagination links, ``Location`` headers) then hands the client URLs that
bypass the sidecar. Keeping the client's Host fixes that, at the price of the
upstream seeing a host name that may not be its own.

When some listeners keep the Host and others do not, the switch is turned on
and this addon does mitmproxy's rewrite itself for the others, in
``requestheaders``: the same point, with the same value.
"""

from __future__ import annotations

from mitmproxy import http
from mitmproxy.net.http import url


class RewriteHostHeader:
    """Rewrite Host (and set SNI) to the upstream for flows on ``modes``."""

    def __init__(self, modes: list[str]) -> None:
        self.modes = frozenset(modes)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.client_conn.proxy_mode.full_spec not in self.modes:
            return
        address = flow.server_conn.address
        if address is None:
            return
        tls = flow.request.scheme == "https"
        flow.request.host_header = url.hostport("https" if tls else "http", address[0],
                                                address[1])
        if tls and flow.server_conn.sni is None:
            flow.server_conn.sni = address[0]
