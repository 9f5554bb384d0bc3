"""The console script's entry: a pre-check that answers a repeated clear run, else the CLI.

Most runs of devlint are a dev server restarted with nothing changed. Then the plan is in
the cache (cache.py) and nothing listens on the stack's ports, so the answer is "clear"
without the data model, argparse, pluggy or any plugin. This pre-check is the pipeline's
first steps (pipeline.py) with the plan read from the cache, sharing its parts instead of
copying them: the same Request and cache key, the same `run --` test and colour rule
(invocation.py), the same end on Ctrl-C. It decides with ``os``, ``sys``, ``marshal`` and
one netlink query (sockets/netlink.py), then execs the command, or prints the summary
line `check` would print (stored with the plan; without colour: with colour `check` takes
the full path).

Anything else goes to the full CLI (cli.py), which decides the same thing the long way:
another sub-command or any option, DEVLINT_NO_CACHE, no usable cached plan, a plan with
findings or warnings, a platform without netlink, or a socket on one of the ports. The
rows the query found are handed to the CLI's main, whose snapshot uses them, so the run
still asks the kernel once. A command that cannot be exec'd also goes to the CLI, which
reports it.
"""

from __future__ import annotations

import os
import sys

from devlint.invocation import Request, UsageError, colour, guarded, run_command, working_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Mapping, Optional, Sequence, Tuple

    from devlint.invocation import Scanned
    from devlint.sockets.netlink import RawSocket


def main() -> int:
    """`devlint` as installed: the warm pre-check, else the full CLI."""
    argv = sys.argv[1:]
    return guarded(lambda: _main(argv, os.environ))


def _main(argv: List[str], env: Mapping[str, str]) -> int:
    code, scanned = precheck(argv, env)
    if code is not None:
        return code
    from devlint.cli import main as full

    return full(argv, scanned)


def precheck(argv: Sequence[str], env: Mapping[str, str]) -> Tuple[Optional[int], Optional[Scanned]]:
    """(exit code, None) when answered: the command exec'd (`run -- CMD`) or the summary
    printed (`check`), because the cached plan is clear and nothing listens on its ports.
    Else (None, what netlink returned, if it was asked): the full CLI takes over."""
    request = _plain_request(argv, env)
    if request is None:
        return None, None
    from devlint import cache

    found = cache.clear(request, env)
    if found is None:
        return None, None
    ports, summary = found
    rows = _listening(frozenset(ports))
    if rows is None:
        return None, None
    scanned = (frozenset(ports), rows)
    if rows:
        return None, scanned
    if request.argv is None:
        print(summary)
        return 0, None
    from devlint.launch import LaunchError, execute

    try:
        return execute(list(request.argv)), None
    except LaunchError:
        return None, scanned  # the CLI says why, with the same exit code as without a cache


def _plain_request(argv: Sequence[str], env: Mapping[str, str]) -> Optional[Request]:
    """The request of a plain `devlint run -- CMD` or `devlint check`, as the CLI would make
    it; None for anything the pre-check does not answer."""
    if env.get("DEVLINT_NO_CACHE") or not sys.platform.startswith("linux"):
        return None
    command = run_command(argv)
    if command is None and (list(argv) != ["check"] or colour("auto", sys.stdout, env)):
        return None  # with colour, `check` takes the full path (the cached line is plain)
    try:
        return Request(working_dir(), command)
    except UsageError:  # the working directory was removed: the CLI says so
        return None


def _listening(ports: frozenset[int]) -> Optional[List[RawSocket]]:
    """The LISTEN rows on these ports; None when netlink cannot tell."""
    if not ports:
        return []
    from devlint.sockets import netlink

    try:
        return netlink.listening(ports)
    except netlink.Unavailable:
        return None


__all__ = ["main", "precheck"]
