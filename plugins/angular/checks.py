"""Static checks of a built Angular service (no sockets): a proxy that loops back into ng serve;
and what an `ng serve` in the way is.

One concern: what is wrong with the service as a whole once its endpoint and upstreams are
known (the per-file problems are found while reading, in the other modules). Fact: ng serve's
proxy (http-proxy semantics, as ``proxyConfig`` documents) forwards a request to its target,
whatever the target is, so a target on ng serve's own port on this machine sends every proxied
request back in: a loop, then 504s.
"""

from __future__ import annotations

import os
from typing import Iterator, Optional, Sequence, Union

from devlint.addresses import is_local
from devlint.model import Endpoint, Explanation, Finding, Listener, Service
from devlint.process import basename as program_name
from devlint.process import family, folder, program, resolve

from .cli import SERVE_COMMANDS
from .rules import KIND, RULES

_NG = ("ng", "ng.js", "ng.cmd", "ng.ps1")


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
    """An `ng serve` in the way, recognised at the program position only (`ng serve`, and
    `node …/@angular/cli/bin/ng(.js) serve` or `node …/.bin/ng serve`; never `ssh host ng serve`
    or `echo ng serve`), or None. It is stale (a dev server of this project, which --kill may
    offer to stop) only when its working folder is the service's folder, or the ng it runs
    is the project's own (``node_modules`` inside that folder); otherwise it is explained
    but not stale."""
    ng = ng_serve_program(listener.cmdline)
    if ng is None:
        return None
    title = "Angular dev server (ng serve)"
    project = os.path.realpath(service.path)
    where = _belongs(listener.pid, ng, project)
    fix = (f"stop it (Ctrl-C in its terminal, or `kill {listener.pid}`" if listener.pid
           else "stop the other `ng serve` (Ctrl-C in its terminal")
    move = f", or move this one: {endpoint.fix.format(port=endpoint.port + 1)}" if endpoint.fix else ""
    if where is not True:
        why = (f"{listener.owner()} is an Angular dev server (`ng serve`) listening on {listener.where()}, "
               + (f"started in another folder ({where})" if where else "in a folder devlint cannot read")
               + f", not {project}")
        return Explanation(title=title, why=why, fix=fix + ")" + move, stale=False)
    why = f"{listener.owner()} is an Angular dev server (`ng serve`) listening on {listener.where()}"
    if service.kind == KIND:
        why += ", probably left over from an earlier run"
    fix += ", or run devlint with --kill)" if listener.pid else ")"
    return Explanation(title=title, why=why, fix=fix + move, stale=True)


def ng_serve_program(cmdline: Optional[Sequence[str]]) -> Optional[str]:
    """The ng a command line runs when it is `ng serve` (or `ng s`, `ng dev`) at the program
    position: the executable ``ng``, or node running a script named ``ng``/``ng.js`` (the
    Angular CLI's ``bin/ng.js``, also through ``node_modules/.bin/ng``). Angular's ng.js sets
    ``process.title`` to ``ng serve …``, which is what /proc shows then. None otherwise."""
    found = program(cmdline)
    if found is None or found.kind not in ("exe", "script") or program_name(found.value) not in _NG:
        return None
    if found.kind == "script" and family(found.interpreter or "") != "node":
        return None
    words = [w for w in found.args if not w.startswith("-")]
    return found.value if words and words[0] in SERVE_COMMANDS else None


def _belongs(pid: Optional[int], ng: str, project: str) -> Union[bool, str, None]:
    """True when the process's working folder is `project`, or the ng it runs lies inside it;
    else its working folder, or None when that cannot be read."""
    cwd = folder(pid)
    inside = project.rstrip(os.sep) + os.sep
    full = resolve(ng, cwd) if ("/" in ng or "\\" in ng) else None
    if cwd == project or (full is not None and full.startswith(inside)):
        return True
    return cwd
