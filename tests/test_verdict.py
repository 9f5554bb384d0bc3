"""The bind and reach rules of platforms that cannot run here (macOS/BSD, Windows),
as documented: with SO_REUSEADDR (which Werkzeug and Node set) a specific address binds
next to a wildcard, and connections go to the most specific socket. Linux's rules are
tested with real sockets in test_matrix.py."""

from __future__ import annotations

from typing import Optional

import pytest

from devlint.addresses import BROWSER_RESTRICTED
from devlint.checks import judge
from devlint.model import Endpoint, Listener
from devlint.suggest import port_is_free, suggest_port
from devlint.verdict import client_addresses
from tests.listeners import free_port, open_listener

PORT = 5000


def listener(address: str, v6only: Optional[bool] = None, process: str = "ControlCenter") -> Listener:
    return Listener(address, PORT, 6 if ":" in address else 4, v6only=v6only, pid=501, process=process)


def test_macos_airplay_next_to_flask_is_shadowed_not_held() -> None:
    # AirPlay Receiver: *:5000 on IPv4 and IPv6 (psutil cannot tell v6only: None).
    airplay = [listener("0.0.0.0"), listener("::")]
    verdict = judge(Endpoint("http", PORT, "127.0.0.1"), airplay, "darwin")
    assert verdict.status == "shadowed"
    assert verdict.lost == ("::1",)  # 127.0.0.1 reaches Flask, the more specific socket
    assert verdict.listeners == (airplay[1],)


def test_macos_same_address_is_held() -> None:
    verdict = judge(Endpoint("http", PORT, "127.0.0.1"), [listener("127.0.0.1")], "darwin")
    assert verdict.status == "held"


def test_macos_server_on_wildcard_loses_loopback_to_a_specific_socket() -> None:
    verdict = judge(Endpoint("http", PORT, "0.0.0.0"), [listener("127.0.0.1")], "darwin")
    assert verdict.status == "shadowed" and verdict.lost == ("127.0.0.1",)


def test_windows_unknown_v6only_defaults_to_v6only() -> None:
    # Windows' IPV6_V6ONLY default is on: a [::] socket does not take IPv4.
    verdict = judge(Endpoint("http", PORT, "127.0.0.1"), [listener("::", None, "svchost.exe")], "win32")
    assert verdict.status == "shadowed" and verdict.lost == ("::1",)


def test_linux_unknown_v6only_defaults_to_dual_stack() -> None:
    verdict = judge(Endpoint("http", PORT, "127.0.0.1"), [listener("::", None, "node")], "linux")
    assert verdict.status == "held"


def test_plugin_supplied_binds_win_over_host_resolution() -> None:
    # the Firebase hub binds both loopbacks: a listener on either holds it
    endpoint = Endpoint("hub", PORT, "localhost", binds=("127.0.0.1", "::1"))
    assert judge(endpoint, [listener("::1", True)], "linux").status == "held"


def test_non_loopback_host_has_only_its_own_clients() -> None:
    endpoint = Endpoint("http", PORT, "192.0.2.10")
    assert client_addresses(endpoint, ("192.0.2.10",)) == ("192.0.2.10",)
    assert judge(endpoint, [listener("::1", True)], "linux").status == "clear"


def test_suggested_port_is_free_on_both_families_and_not_restricted() -> None:
    port = free_port()
    with open_listener("::1", port + 1, v6only=True):
        suggestion = suggest_port(port, taken=[port + 2])
    assert suggestion is not None
    assert suggestion not in (port + 1, port + 2)
    assert suggestion not in BROWSER_RESTRICTED
    assert port_is_free(suggestion)


@pytest.mark.parametrize("restricted", [6000, 5060])
def test_suggestion_skips_ports_browsers_refuse(restricted: int) -> None:
    assert suggest_port(restricted - 1, taken=()) != restricted
