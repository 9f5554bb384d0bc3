"""Static checks of a built Angular service (no sockets): a proxy that loops back into ng serve.

One concern: what is wrong with the service as a whole once its endpoint and upstreams are
known (the per-file problems are found while reading, in the other modules). Fact: ng serve's
proxy (http-proxy semantics, as ``proxyConfig`` documents) forwards a request to its target,
whatever the target is, so a target on ng serve's own port on this machine sends every proxied
request back in: a loop, then 504s.
"""

from __future__ import annotations

from typing import Iterator

from devlint.addresses import is_local
from devlint.model import Finding, Service

from .rules import RULES


def check(service: Service) -> Iterator[Finding]:
    """A proxy target that is the dev server itself: every proxied request comes back in."""
    own = {ep.port for ep in service.endpoints}
    for upstream in service.upstreams:
        if upstream.port in own and is_local(upstream.host):
            yield RULES(
                "DL609", f"{service.name}: proxy {upstream.context} → {upstream.url} ({upstream.source}) points at "
                f"the dev server's own port {upstream.port}",
                service=service.name, hint="Every request to that path is proxied back to ng serve itself "
                "(a loop, then 504s). Point the target at the backend's port.",
                evidence={"target": upstream.url, "port": upstream.port})
