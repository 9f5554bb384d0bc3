"""Static checks of a built Angular service (no sockets): a proxy that loops back into ng serve;
and what an `ng serve` in the way is.

One concern: what is wrong with the service as a whole once its endpoint and upstreams are
known (the per-file problems are found while reading, in the other modules). Fact: ng serve's
proxy (http-proxy semantics, as ``proxyConfig`` documents) forwards a request to its target,
whatever the target is, so a target on ng serve's own port on this machine sends every proxied
request back in: a loop, then 504s.
"""

from __future__ import annotations

from typing import Iterator, Optional

from devlint.addresses import is_local
from devlint.model import Endpoint, Explanation, Finding, Listener, Service

from .cli import is_ng_serve
from .rules import KIND, RULES


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


def explain(listener: Listener, service: Service, endpoint: Endpoint) -> Optional[Explanation]:
    """An `ng serve` in the way: a dev server of the user's own, whichever stack it belongs to,
    so --kill may offer to stop it."""
    if not is_ng_serve(listener.cmdline):
        return None
    why = f"{listener.owner()} is an Angular dev server (`ng serve`) listening on {listener.where()}"
    if service.kind == KIND:
        why += ", probably left over from an earlier run"
    fix = (
        f"stop it (Ctrl-C in its terminal, or `kill {listener.pid}`, or run devlint with --kill)"
        if listener.pid
        else "stop the other `ng serve` (Ctrl-C in its terminal)"
    )
    if endpoint.fix:
        fix += f", or move this one: {endpoint.fix.format(port=endpoint.port + 1)}"
    return Explanation(title="Angular dev server (ng serve)", why=why, fix=fix, stale=True)
