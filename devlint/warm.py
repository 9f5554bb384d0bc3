"""The console script's entry: the warm path of `devlint run -- CMD` and `devlint check`.

Most runs of devlint are a dev server restarted with nothing changed. Then the plan is in
the cache (cache.py) and nothing listens on the stack's ports, so the answer is "clear"
without the data model, argparse, pluggy or any plugin: this module decides it with
``os``, ``sys``, ``marshal`` and one netlink query (sockets/netlink.py), then execs the
command, or prints the summary line `check` would print (stored with the plan; without
colour: on a terminal `check` takes the full path).

Anything else hands over to the full CLI (cli.py), which decides the same thing the long
way: another sub-command or any option, DEVLINT_NO_CACHE, no usable cached plan, a plan
with findings or warnings, a platform without netlink, or a socket on one of the ports
(the rows found are handed on, so the run still asks the kernel once). A command that
cannot be exec'd also goes to the CLI, which reports it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Mapping, Optional, Sequence


def main() -> int:
    """`devlint` as installed: the warm path, else the full CLI."""
    try:
        code = warm(sys.argv[1:], os.environ)
        if code is not None:
            return code
        from devlint.cli import main as full
    except KeyboardInterrupt:  # Ctrl-C before the CLI's own handler is in place
        print("devlint: interrupted", file=sys.stderr)
        return 130
    return full()


def warm(argv: List[str], env: Mapping[str, str]) -> Optional[int]:
    """Exec the command (`run -- CMD`) or print the summary (`check`) when the cached plan is
    clear and nothing listens on its ports; else None: the full CLI takes over."""
    if env.get("DEVLINT_NO_CACHE") or not sys.platform.startswith("linux"):
        return None
    if len(argv) >= 3 and argv[0] == "run" and argv[1] == "--":
        from devlint import cache

        ports = cache.run_ports(argv[2:], env)
        if ports is None or _taken(ports):
            return None
        from devlint.launch import LaunchError, execute

        try:
            return execute(argv[2:])
        except LaunchError:
            return None  # the CLI says why, with the same exit code as without a cache
    if argv == ["check"] and not _colour(env):
        from devlint import cache

        found = cache.check_clear(env)
        if found is None or _taken(found[0]):
            return None
        print(found[1])
        return 0
    return None


def _taken(ports: Sequence[int]) -> bool:
    """Whether anything listens on these ports (or netlink cannot tell)."""
    if not ports:
        return False
    from devlint.sockets import netlink

    return netlink.prescan(frozenset(ports))


def _colour(env: Mapping[str, str]) -> bool:
    """report.Style's "auto" rule for stdout: NO_COLOR, then FORCE_COLOR, then a tty.
    With colour, `check` takes the full path (the cached line is plain)."""
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR") not in (None, "", "0"):
        return True
    try:
        return sys.stdout.isatty() and env.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


__all__ = ["main", "warm"]
