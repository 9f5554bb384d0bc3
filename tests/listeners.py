"""Real listening sockets for tests: in this process, in a child, or as another user.

Every process started here is ours and is ended by pid when the context exits.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from typing import Iterator, Optional, Sequence

LISTENER_SCRIPT = r"""
import socket, sys
address, port, v6only = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
family = socket.AF_INET6 if ":" in address else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
if family == socket.AF_INET6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
s.bind((address, port))
s.listen(16)
print("ready", flush=True)
sys.stdin.read()
"""

OTHER_USER = "nobody"


def open_listener(address: str, port: int = 0, v6only: bool = True) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    sock.bind((address, port))
    sock.listen(16)
    return sock


def _ephemeral_start() -> int:
    """The first port the kernel hands out for port 0 and outgoing connections (Linux:
    net.ipv4.ip_local_port_range; IANA's 49152 elsewhere)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


def candidate_port(length: int = 1) -> int:
    """A random port (and the `length` - 1 after it) below the ephemeral range. devlint counts
    connections whose local end is on a checked port as holders (they make the bind fail), so
    a test port must not be one the kernel may give any connection of the machine meanwhile."""
    import random

    top = max(_ephemeral_start(), 20_000 + 2 * length)
    return random.SystemRandom().randrange(15_000, top - length)


def free_port(addresses: Sequence[str] = ("127.0.0.1", "::1", "0.0.0.0", "::")) -> int:
    """A port nothing listens on at any of these addresses (each checked by a bind), below
    the ephemeral range (candidate_port)."""
    for _ in range(100):
        port = candidate_port()
        try:
            for address in addresses:
                open_listener(address, port, v6only=True).close()
        except OSError:
            continue
        return port
    raise RuntimeError("no free port found")


def other_user_python() -> Optional[Sequence[str]]:
    """A command prefix that runs a Python as another user, or None when we cannot."""
    if os.geteuid() != 0:
        return None
    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else None
    setpriv = shutil.which("setpriv")
    if python is None or setpriv is None:
        return None
    return [setpriv, f"--reuid={OTHER_USER}", "--regid=nogroup", "--clear-groups", python]


@contextlib.contextmanager
def started(argv: Sequence[str], cwd: Optional[object] = None,
            ready: Optional[Sequence[str]] = None) -> Iterator[subprocess.Popen[str]]:
    """A process we start that prints one line once it listens (`ready`: the accepted
    first words of that line; default "ready"); ended by its pid when the context exits:
    SIGTERM, then SIGKILL after 10 s."""
    proc = subprocess.Popen(list(argv), cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # type: ignore[call-overload]
                            text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith(tuple(ready or ("ready",))):
            raise RuntimeError(f"{argv[:3]} did not start: {line!r}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@contextlib.contextmanager
def child_listener(address: str, port: int, v6only: bool = True,
                   as_other_user: bool = False) -> Iterator[subprocess.Popen[str]]:
    """A listener owned by a child process (optionally of another user); yields the Popen."""
    prefix: Sequence[str] = [sys.executable]
    if as_other_user:
        found = other_user_python()
        if found is None:
            raise RuntimeError("cannot run a process as another user here")
        prefix = found
    with started([*prefix, "-c", LISTENER_SCRIPT, address, str(port), "1" if v6only else "0"]) as proc:
        yield proc
