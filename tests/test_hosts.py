"""Hosts as servers and browsers read them, and the hosts devlint does not resolve.

Literal forms (brackets, a zone, an IPv4-mapped address) and loopback names (localhost,
``localhost.``, ``*.localhost`` by RFC 6761) are checked; any other name is not resolved
(no DNS query leaves the machine) and its port is reported as not checked (DL104, a
warning), never as clear, whether or not something listens there. Real sockets and the
real CLI; getaddrinfo is only spied on (wrapped, still called) to prove it is not asked.
"""

from __future__ import annotations

import errno
import json
import socket
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from devlint import addresses
from devlint.addresses import LOOPBACKS, bind_choices, resolve, unchecked
from tests.listeners import free_port, open_listener
from tests.runner import SCRIPT, Arg, devlint, devlint_argv, devlint_env, run

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux bind rules")


def project(root: Path, port: int, host: str) -> Path:
    (root / "devlint.toml").write_text(f'[services.api]\nport = {port}\nhost = {json.dumps(host)}\n')
    return root


def bind_error(address: str, port: int) -> Optional[int]:
    """A server's bind as Werkzeug makes it (SO_REUSEADDR): its errno, or None."""
    fam = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError as exc:
            return exc.errno
    return None


@pytest.mark.parametrize(("host", "binds"), [
    ("[::1]", ("::1",)), ("fe80::1%lo", ("fe80::1",)), ("::ffff:127.0.0.1", ("127.0.0.1",)),
    ("127.0.0.1", ("127.0.0.1",)), ("", ("0.0.0.0",)), ("*", ("0.0.0.0",)),
    ("myapp.localhost", LOOPBACKS), ("MyApp.LocalHost.", LOOPBACKS),
])
def test_literal_and_loopback_forms_are_understood(host: str, binds: tuple[str, ...]) -> None:
    assert unchecked(host) is None
    assert resolve(host) == binds


def test_localhost_with_a_trailing_dot_is_localhost() -> None:
    assert unchecked("localhost.") is None
    assert resolve("localhost.") == resolve("localhost") != ()


@pytest.mark.parametrize(("host", "words"), [
    (" localhost", "spaces around it"), ("127.0.0.1 ", "spaces around it"),
    ("db.example.com", "does not resolve"), ("localhost.example", "does not resolve"),
    ("127.1", "does not resolve"), (".localhost", "does not resolve"),
])
def test_other_hosts_are_not_checked_and_say_why(host: str, words: str) -> None:
    reason = unchecked(host)
    assert reason is not None and words in reason and repr(host) in reason
    assert bind_choices(host) == ()


def test_only_localhost_is_ever_given_to_getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: List[str] = []
    real = socket.getaddrinfo

    def spy(host: str, *args: object, **kwargs: object) -> object:
        asked.append(host)
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    for host in ("db.example.com", "myapp.localhost", "intranet", "[::1]", "localhost.", "LOCALHOST"):
        resolve(host)
    assert set(asked) == {"localhost"}
    assert addresses.is_local("myapp.localhost") and not addresses.is_local("db.example.com")


@pytest.mark.parametrize("listening", [None, "0.0.0.0"])
def test_a_remote_name_is_not_checked_even_with_nothing_listening(tmp_path: Path, listening: Optional[str]) -> None:
    port = free_port()
    cwd = project(tmp_path, port, "db.example.com")
    if listening:
        with open_listener(listening, port):
            result = devlint(cwd, "check", "--format", "json")
    else:
        result = devlint(cwd, "check", "--format", "json")
    assert result.returncode == 0, result.stderr  # a warning: `run` still execs
    finding = json.loads(result.stdout)["findings"][0]
    assert finding["code"] == "DL104" and finding["severity"] == "warning"
    assert finding["evidence"]["host"] == "db.example.com" and finding["evidence"]["port"] == port
    assert "devlint.toml:3" in finding["evidence"]["host_source"]
    text = devlint(cwd, "check")
    assert f"port {port} not checked" in text.stdout


def test_run_execs_for_a_remote_name_and_says_it_was_not_checked(tmp_path: Path) -> None:
    port = free_port()
    marker = tmp_path / "ran"
    result = devlint(project(tmp_path, port, "intranet.example"), "run", "--", "touch", str(marker))
    assert result.returncode == 0 and marker.exists()
    assert "DL104" in result.stderr


@pytest.mark.skipif(SCRIPT is None, reason="the console script is not installed")
def test_the_cached_warm_path_never_calls_an_unchecked_host_clear(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "p").mkdir()
    cwd = project(tmp_path / "p", port, "db.example.com")
    cached = devlint_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}, cache=True)
    env: Dict[Arg, Arg] = {k: v for k, v in cached.items()}
    outputs = [run(devlint_argv("check"), cwd, env) for _ in range(2)]
    for result in outputs:
        assert result.returncode == 0
        assert b"DL104" in result.stdout + result.stderr


@pytest.mark.parametrize(("host", "listen", "v6only"), [
    ("[::1]", "::1", True), ("localhost.", "127.0.0.1", True), ("fe80::1%lo", "::", True),
])
def test_parsed_hosts_are_really_checked(tmp_path: Path, host: str, listen: str, v6only: bool) -> None:
    port = free_port()
    bind = {"[::1]": "::1", "localhost.": resolve("localhost")[0], "fe80::1%lo": "::1"}[host]
    with open_listener(listen, port, v6only=v6only):
        result = devlint(project(tmp_path, port, host), "check", "--format", "json")
        if host != "fe80::1%lo":
            assert bind_error(bind, port) == errno.EADDRINUSE
    assert result.returncode == 1
    (finding,) = json.loads(result.stdout)["findings"]
    if host == "fe80::1%lo":  # lo has no fe80::1: the server's bind fails before any port matters
        assert finding["code"] == "DL105" and finding["evidence"]["missing"] == ["fe80::1%lo"]
    else:
        assert finding["evidence"]["verdict"] == "held"


@pytest.mark.parametrize("listen", ["127.0.0.1", "::1"])
def test_a_name_under_localhost_is_checked_on_both_loopbacks(tmp_path: Path, listen: str) -> None:
    # The server's resolver picks one loopback (nss-myhostname: either order), browsers use
    # both: a socket on either is trouble, held or shadowed.
    port = free_port()
    with open_listener(listen, port):
        result = devlint(project(tmp_path, port, "myapp.localhost"), "check", "--format", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["findings"][0]["evidence"]["verdict"] in ("held", "shadowed")


def test_a_name_under_localhost_with_nothing_listening_is_clear(tmp_path: Path) -> None:
    result = devlint(project(tmp_path, free_port(), "myapp.localhost"), "check")
    assert result.returncode == 0 and "DL104" not in result.stdout


def _without_name_resolution() -> Optional[List[str]]:
    """A command prefix under which getaddrinfo("localhost") fails: a private mount namespace
    whose /etc/hosts is empty and whose nsswitch.conf asks only that file (root and
    unshare needed; the network, and so the socket table, stays the machine's)."""
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return None if probe.returncode else ["unshare", "-m", "sh", "-c",
                                          'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/nsswitch.conf '
                                          '&& shift && exec "$@"']


def test_localhost_that_resolves_to_nothing_is_not_checked_never_clear(tmp_path: Path) -> None:
    """Where getaddrinfo cannot resolve localhost, devlint cannot tell what the server binds:
    a port held on 127.0.0.1 is then reported as not checked (DL104), not as clear."""
    prefix = _without_name_resolution()
    if prefix is None:
        pytest.skip("needs root and unshare -m to hide /etc/hosts")
    (tmp_path / "hosts").write_text("")
    (tmp_path / "nsswitch.conf").write_text("hosts: files\n")
    port = free_port()
    (tmp_path / "p").mkdir()
    root = project(tmp_path / "p", port, "localhost")
    hidden = [*prefix, str(tmp_path / "hosts"), str(tmp_path / "nsswitch.conf")]
    with open_listener("127.0.0.1", port):
        result = run([*hidden, *devlint_argv("--format", "json", "check")], cwd=root, env=devlint_env())
        text = run([*hidden, *devlint_argv("check")], cwd=root, env=devlint_env())
    assert b"Traceback" not in result.stderr, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["code"] == "DL104" and "resolves to no address" in finding["message"]
    assert b"1 port not checked" in text.stdout and b"1 port clear" not in text.stdout, text.stdout
