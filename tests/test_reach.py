"""What a client can actually reach: IPv4-mapped listeners, a loopback without ::1, and
which clients lose when the server has only one of the two loopbacks.

Real sockets here; the no-IPv6 loopback case runs in a fresh network namespace
(``unshare -n`` as root, lo up, ``net.ipv6.conf.lo.disable_ipv6=1``), where ::1 is gone
exactly as in many containers, with the real console script inside it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from devlint.sockets import linux, scan
from tests.listeners import free_port, open_listener
from tests.runner import SCRIPT, devlint, devlint_env

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux bind rules")


def project(root: Path, port: int, host: str) -> Path:
    (root / "devlint.toml").write_text(f'[services.api]\nport = {port}\nhost = "{host}"\n')
    return root


def mapped_listener(address: str, port: int) -> socket.socket:
    """An IPv6 socket listening on an IPv4-mapped address (dual-stack, or the bind fails)."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind((address, port))
    sock.listen(4)
    return sock


def test_mapped_ipv4_wildcard_holds_ipv4_and_takes_127_from_a_server_on_v6(tmp_path: Path) -> None:
    port = free_port()
    with mapped_listener("::ffff:0.0.0.0", port) as squatter:
        assert [lst.address for lst in scan({port}).listeners] == ["::ffff:0.0.0.0"]
        held = devlint(project(tmp_path, port, "127.0.0.1"), "check", "--format", "json")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:  # Werkzeug's bind
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with pytest.raises(OSError) as refused:
                server.bind(("127.0.0.1", port))
        assert refused.value.errno == errno.EADDRINUSE
        shadowed = devlint(project(tmp_path, port, "::1"), "check", "--format", "json")
        with socket.create_connection(("127.0.0.1", port)):  # 127.0.0.1 really reaches it
            accepted, _ = squatter.accept()
            accepted.close()
    assert json.loads(held.stdout)["findings"][0]["evidence"]["verdict"] == "held"
    finding = json.loads(shadowed.stdout)["findings"][0]
    assert finding["evidence"]["verdict"] == "shadowed" and finding["evidence"]["lost"] == ["127.0.0.1"]


def test_reverse_shadow_names_the_clients_that_lose(tmp_path: Path) -> None:
    # server on ::1 only, another process on 127.0.0.1: Chromium (::1 first) reaches the
    # server; IPv4-only clients and Node proxies resolving localhost to 127.0.0.1 do not.
    port = free_port()
    with open_listener("127.0.0.1", port):
        result = devlint(project(tmp_path, port, "::1"), "check")
    assert result.returncode == 1
    text = " ".join(result.stdout.split())
    assert "Clients that connect to 127.0.0.1 reach that process" in text
    assert "Node (>= 17) proxies" in text and "Chromium tries ::1 first and does reach your server" in text
    assert "Browsers try ::1 first" not in text


def test_forward_shadow_still_says_browsers_lose(tmp_path: Path) -> None:
    port = free_port()
    with open_listener("::1", port):
        result = devlint(project(tmp_path, port, "127.0.0.1"), "check")
    assert result.returncode == 1
    assert "Browsers try ::1 first" in " ".join(result.stdout.split())


def test_loopbacks_follow_proc_net_if_inet6(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    assert linux.loopbacks(str(tmp_path)) == ("127.0.0.1",)  # no file: IPv6 off altogether
    (tmp_path / "net" / "if_inet6").write_text("fe800000000000000000000000000001 02 40 20 80     eth0\n")
    assert linux.loopbacks(str(tmp_path)) == ("127.0.0.1",)
    (tmp_path / "net" / "if_inet6").write_text("00000000000000000000000000000001 01 80 10 80       lo\n")
    assert linux.loopbacks(str(tmp_path)) == ("127.0.0.1", "::1")


NETNS_SCRIPT = textwrap.dedent("""
    import socket, subprocess, sys
    port, script, cwd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    squatter = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    squatter.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    squatter.bind(("::", port))
    squatter.listen(4)
    probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        probe.connect(("::1", port))
        reach = "reached"
    except OSError:
        reach = "unreachable"
    result = subprocess.run([script, "check", "--format", "json"], cwd=cwd, capture_output=True, text=True)
    print(reach, result.returncode, result.stdout.replace("\\n", " "), sep="|")
""")


def _in_fresh_netns(ipv6_on_lo: bool, cwd: Path, port: int) -> str:
    setup = "ip link set lo up" + ("" if ipv6_on_lo else " && sysctl -qw net.ipv6.conf.lo.disable_ipv6=1")
    command = f'{setup} && exec "$0" -c "$1" "$2" "$3" "$4"'
    env = devlint_env()
    result = subprocess.run(["unshare", "-n", "sh", "-c", command, sys.executable, NETNS_SCRIPT, str(port),
                             str(SCRIPT), str(cwd)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None or SCRIPT is None,
                    reason="needs root and unshare for a network namespace")
@pytest.mark.parametrize("ipv6_on_lo", [True, False], ids=["with ::1", "without ::1"])
def test_without_ipv6_loopback_a_v6_squatter_cannot_shadow(tmp_path: Path, ipv6_on_lo: bool) -> None:
    port = free_port()
    project(tmp_path, port, "127.0.0.1")
    reach, code, output = _in_fresh_netns(ipv6_on_lo, tmp_path, port).split("|", 2)
    if ipv6_on_lo:  # control: ::1 exists, the [::] v6only squatter answers it
        assert (reach, code) == ("reached", "1")
        assert json.loads(output)["findings"][0]["evidence"]["lost"] == ["::1"]
    else:  # no ::1: clients of localhost can only use 127.0.0.1, which reaches the server
        assert (reach, code) == ("unreachable", "0")
        assert json.loads(output)["findings"] == []


@pytest.mark.parametrize("host, shown", [
    ("192.0.2.1", "192.0.2.1"),        # TEST-NET-1: no address of this machine (EADDRNOTAVAIL)
    ("fe80::1", "fe80::1"),            # link-local without a zone (EINVAL)
    ("[fe80::1%lo]", "fe80::1%lo"),    # a zone, but lo has no fe80::1 (EADDRNOTAVAIL)
])
def test_a_bind_address_this_machine_lacks_is_an_error(tmp_path: Path, host: str, shown: str) -> None:
    """The server's own bind of such an address fails, and devlint says so (DL105) instead
    of calling the free port clear."""
    port = free_port()
    family = socket.AF_INET6 if ":" in shown else socket.AF_INET
    with pytest.raises(OSError) as refused, socket.socket(family) as server:
        server.bind((shown, port))
    assert refused.value.errno in (errno.EADDRNOTAVAIL, errno.EINVAL)  # what the server would get
    project(tmp_path, port, host)
    result = devlint(tmp_path, "--format", "json", "check")
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["code"] == "DL105" and finding["evidence"]["missing"] == [shown]
    run = devlint(tmp_path, "run", "--", sys.executable, "-c", "print('started')")
    assert run.returncode == 1 and "started" not in run.stdout
    assert "cannot be bound on this machine" in run.stderr


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None or SCRIPT is None,
                    reason="needs root and unshare for a network namespace")
@pytest.mark.parametrize("ipv6_on_lo", [True, False], ids=["with ::1", "without ::1"])
def test_a_server_on_v6_loopback_where_there_is_none(tmp_path: Path, ipv6_on_lo: bool) -> None:
    """host ::1 in a network namespace whose loopback has no IPv6: DL105, and the real bind
    fails there too; with ::1 (the control) the free port is clear."""
    port = free_port()
    project(tmp_path, port, "::1")
    setup = "ip link set lo up" + ("" if ipv6_on_lo else " && sysctl -qw net.ipv6.conf.lo.disable_ipv6=1")
    bind = (f'import socket; s = socket.socket(socket.AF_INET6)\ntry: s.bind(("::1", {port})); print("bound")\n'
            'except OSError as e: print("errno", e.errno)')
    command = f'{setup} && "$0" -c "$1" && exec "$2" --format json check'
    result = subprocess.run(["unshare", "-n", "sh", "-c", command, sys.executable, bind, str(SCRIPT)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60, env=devlint_env())
    real, _, report = result.stdout.partition("\n")
    findings = json.loads(report)["findings"]
    if ipv6_on_lo:
        assert real == "bound" and findings == [] and result.returncode == 0, result.stderr
    else:
        assert real == f"errno {errno.EADDRNOTAVAIL}" and result.returncode == 1, result.stderr
        assert [f["code"] for f in findings] == ["DL105"] and "Loopback has no IPv6" in findings[0]["hint"]
