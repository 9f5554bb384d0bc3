"""The listener matrix: every (listener address x v6only x owner) against every service
host, with real sockets on this Linux machine, against a verdict written down by hand
from Linux's bind rules. Each "held" cell is also confirmed by a real bind the way
Werkzeug and Node bind (SO_REUSEADDR), and each "shadowed" cell by a real connection
that the other socket accepts.
"""

from __future__ import annotations

import select
import socket
import sys
from typing import Dict, List, Optional, Tuple

import pytest

from devlint.addresses import resolve as resolve_host
from devlint.checks import judge
from devlint.model import Endpoint
from devlint.sockets import scan
from tests.listeners import child_listener, free_port, open_listener, other_user_python

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux bind rules; other platforms use fakes")

HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")
LOCALHOST_FIRST = (resolve_host("localhost") or ("127.0.0.1",))[0]


def _local_address(family: int) -> Optional[str]:
    """A non-loopback address of this machine, if it has one (only bound, never contacted)."""
    import psutil

    for addresses in psutil.net_if_addrs().values():
        for addr in addresses:
            if addr.family == family and not addr.address.startswith(("127.", "::1", "fe80")):
                return str(addr.address).split("%")[0]
    return None


LOCAL_V4 = _local_address(socket.AF_INET)
LOCAL_V6 = _local_address(socket.AF_INET6)

# Written from Linux's rules, not computed: columns are 127.0.0.1, ::1, 0.0.0.0; the
# "localhost" column is the column of the address localhost resolves to first here.
EXPECTED: Dict[Tuple[str, Optional[bool]], Tuple[str, str, str]] = {
    ("127.0.0.1", None): ("held", "shadowed", "held"),
    ("0.0.0.0", None): ("held", "shadowed", "held"),
    ("::1", True): ("shadowed", "held", "shadowed"),
    ("::", True): ("shadowed", "held", "shadowed"),
    ("::", False): ("held", "held", "held"),
    ("::1", False): ("shadowed", "held", "shadowed"),  # v6only means nothing for a specific address
    ("::ffff:127.0.0.1", False): ("held", "shadowed", "held"),  # an IPv6 socket on IPv4's loopback
    ("LOCAL_V4", None): ("clear", "clear", "held"),
    ("LOCAL_V6", True): ("clear", "clear", "clear"),
    ("LOCAL_V6", False): ("clear", "clear", "clear"),
}
COLUMN = {"127.0.0.1": 0, "::1": 1, "0.0.0.0": 2}


def expected(listener: Tuple[str, Optional[bool]], host: str) -> str:
    address = LOCALHOST_FIRST if host == "localhost" else host
    return EXPECTED[listener][COLUMN[address]]


def concrete(address: str) -> Optional[str]:
    return {"LOCAL_V4": LOCAL_V4, "LOCAL_V6": LOCAL_V6}.get(address, address)


CELLS: List[Tuple[Tuple[str, Optional[bool]], str]] = [(lst, host) for lst in EXPECTED for host in HOSTS]


def server_bind_fails(host: str, port: int) -> bool:
    """Bind like Werkzeug/Node do (SO_REUSEADDR on), return True on EADDRINUSE."""
    address = LOCALHOST_FIRST if host == "localhost" else host
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
            sock.listen(1)
        except OSError:
            return True
    return False


def accepted_by(listener_sock: socket.socket, client_address: str, port: int) -> bool:
    """Connect (loopback only) and see whether listener_sock is the one that accepts."""
    assert client_address in ("127.0.0.1", "::1")
    family = socket.AF_INET6 if ":" in client_address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as client:
        client.settimeout(2)
        client.connect((client_address, port))
        ready, _, _ = select.select([listener_sock], [], [], 2)
        if not ready:
            return False
        conn, _ = listener_sock.accept()
        conn.close()
        return True


@pytest.mark.parametrize(("listener", "host"), CELLS, ids=[f"{a}{'' if v is None else '-v6only' if v else '-dual'}@{h}"
                                                            for (a, v), h in CELLS])
def test_same_user(listener: Tuple[str, Optional[bool]], host: str) -> None:
    address = concrete(listener[0])
    if address is None:
        pytest.skip(f"this machine has no {listener[0]} address")
    port = free_port()
    sock = open_listener(address, port, v6only=bool(listener[1]))
    try:
        snapshot = scan({port})
        found = snapshot.on_port(port)
        assert len(found) == 1
        assert found[0].pid == __import__("os").getpid()
        verdict = judge(Endpoint("http", port, host), found, "linux")
        want = expected(listener, host)
        assert verdict.status == want
        assert server_bind_fails(host, port) == (want == "held")
        if want == "shadowed":
            server_address = LOCALHOST_FIRST if host == "localhost" else host
            with open_listener(server_address, port, v6only=True):
                assert verdict.lost
                for lost in verdict.lost:
                    assert accepted_by(sock, lost, port), f"{lost} did not reach the other listener"
    finally:
        sock.close()


@pytest.mark.parametrize(("listener", "host"), CELLS, ids=[f"{a}{'' if v is None else '-v6only' if v else '-dual'}@{h}"
                                                            for (a, v), h in CELLS])
def test_other_user(listener: Tuple[str, Optional[bool]], host: str) -> None:
    if other_user_python() is None:
        pytest.skip("needs root, setpriv and /usr/bin/python3 to run a listener as another user")
    address = concrete(listener[0])
    if address is None:
        pytest.skip(f"this machine has no {listener[0]} address")
    port = free_port()
    with child_listener(address, port, v6only=bool(listener[1]), as_other_user=True):
        found = scan({port}).on_port(port)
        assert len(found) == 1
        assert found[0].uid == 65534
        verdict = judge(Endpoint("http", port, host), found, "linux")
        want = expected(listener, host)
        assert verdict.status == want
        assert server_bind_fails(host, port) == (want == "held")  # the kernel agrees
