"""Real `flask run`, started through `devlint run --` in a copy of examples/stack.

Clear port: devlint execs Flask (same pid) and it answers. Held or shadowed port: devlint
refuses before launch, names the holder's pid, and Flask never runs.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Iterator, Tuple

import pytest
import stacks

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _stop_leftovers() -> Iterator[None]:
    yield
    stacks.stop_all()


@pytest.fixture
def api(tmp_path: Path) -> Tuple[Path, int, dict[str, str]]:
    """(backend folder of a stack copy, its free Flask port, env for devlint)."""
    stacks.require_tool("flask")
    stack = stacks.copy_stack(tmp_path)
    port = stacks.free_port()
    stacks.set_flask_port(stack, port)
    return stack / "backend", port, stacks.stack_env(stack, tmp_path)


def test_clear_port_starts_flask_in_devlints_process(api: Tuple[Path, int, dict[str, str]]) -> None:
    backend, port, env = api
    with stacks.started(stacks.start([*stacks.DEVLINT, "run", "--", "flask", "run"], backend, env,
                                     log_dir=backend)) as proc:
        response = stacks.wait_for_http(f"http://127.0.0.1:{port}/health", timeout=30, proc=proc)
        assert response.status == 200, response.text
        assert response.headers.get("Server", "").startswith("Werkzeug"), response.headers
        # exec, not a child: the pid devlint had is the one listening
        assert stacks.listener_pids(port) == {proc.pid}, proc.output()


def test_held_port_is_refused_and_the_holder_named(api: Tuple[Path, int, dict[str, str]]) -> None:
    backend, port, env = api
    with stacks.hold("127.0.0.1", port):
        refusal = stacks.devlint_refuses(["run", "--", "flask", "run"], backend, env)
        assert "DL101" in refusal.stderr, refusal.stderr
        assert f"pid {os.getpid()}" in refusal.stderr, refusal.stderr
        assert "Running on" not in refusal.stdout + refusal.stderr  # Flask never started
        assert stacks.listener_pids(port) == {os.getpid()}


@pytest.mark.parametrize(
    "address", ["::", "::1"], ids=["wildcard-v6only", "loopback-v6"]
)
def test_shadowed_port_is_refused_and_the_holder_named(
    api: Tuple[Path, int, dict[str, str]], address: str
) -> None:
    """Flask's own bind on 127.0.0.1 would succeed here; browsers would reach the other one."""
    backend, port, env = api
    with stacks.hold(address, port, v6only=True) as other:
        assert other.family == socket.AF_INET6
        refusal = stacks.devlint_refuses(["run", "--", "flask", "run"], backend, env)
        assert "DL102" in refusal.stderr, refusal.stderr
        assert f"pid {os.getpid()}" in refusal.stderr, refusal.stderr
        assert "::1" in refusal.stderr, refusal.stderr
        assert "Running on" not in refusal.stdout + refusal.stderr
        assert stacks.listener_pids(port) == {os.getpid()}
