"""devlint as users put it in package.json: `"start": "devlint run -- flask run"`.

Real npm runs the script through its shell; devlint checks, then execs, so npm sees the
command's own exit code and Ctrl-C (SIGINT to the terminal's process group) reaches the
server directly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator, Tuple

import psutil
import pytest
import stacks

pytestmark = pytest.mark.integration

FLASK = "devlint run -- flask run"
# not a server: devlint checks the api's port (--service api), then execs it
EXIT_3 = "devlint run --service api -- python -c \"import sys; sys.exit(3)\""


@pytest.fixture(autouse=True)
def _stop_leftovers() -> Iterator[None]:
    yield
    stacks.stop_all()


@pytest.fixture
def backend(tmp_path: Path) -> Tuple[Path, int, dict[str, str]]:
    """The example backend, with an env whose PATH has npm, node, devlint and flask."""
    npm = stacks.require_tool("npm")
    stacks.require_tool("flask")
    stack = stacks.copy_stack(tmp_path)
    port = stacks.free_port()
    stacks.set_flask_port(stack, port)
    env = stacks.stack_env(stack, tmp_path)
    env["PATH"] = f"{Path(npm[0]).parent}:{env['PATH']}"
    env["npm_config_update_notifier"] = "false"
    return stack / "backend", port, env


def npm_start(folder: Path, script: str, env: dict[str, str]) -> stacks.Proc:
    """`npm start` in `folder`, whose package.json says `"start": script`."""
    package = {"name": "devlint-npm-test", "private": True, "scripts": {"start": script}}
    (folder / "package.json").write_text(json.dumps(package, indent=2) + "\n", encoding="utf-8")
    return stacks.start(["npm", "start"], folder, env, log_dir=folder)


def test_npm_passes_the_commands_exit_code_through(backend: Tuple[Path, int, dict[str, str]]) -> None:
    folder, _, env = backend
    proc = npm_start(folder, EXIT_3, env)
    try:
        code = proc.popen.wait(60)
    finally:
        stacks.stop(proc)
    assert code == 3, proc.output()
    assert "devlint:" not in proc.output()  # clear: devlint said nothing and ran it


def test_npm_refusal_is_exit_1_without_starting_flask(backend: Tuple[Path, int, dict[str, str]]) -> None:
    folder, port, env = backend
    with stacks.hold("127.0.0.1", port):
        proc = npm_start(folder, FLASK, env)
        try:
            code = proc.popen.wait(60)
        finally:
            stacks.stop(proc)
        assert code == 1, proc.output()
        assert "devlint: not starting `flask run`" in proc.output()
        assert f"pid {os.getpid()}" in proc.output()


def test_ctrl_c_stops_flask_started_by_npm_start(backend: Tuple[Path, int, dict[str, str]]) -> None:
    folder, port, env = backend
    with stacks.started(npm_start(folder, FLASK, env)) as proc:
        stacks.wait_for_http(f"http://127.0.0.1:{port}/health", timeout=60, proc=proc)
        (server,) = stacks.listener_pids(port)
        assert server != proc.pid and os.getpgid(server) == proc.pid  # npm → sh → devlint → flask
        cmdline = " ".join(psutil.Process(server).cmdline())
        assert "flask run" in cmdline and "devlint" not in cmdline, cmdline
        # the whole group, flask included, exits by itself (no SIGKILL needed)
        assert stacks.interrupt(proc), f"Ctrl-C did not stop {proc.describe()}:\n{proc.tail()}"
        assert stacks.wait_port_free(port), f"port {port} still held after Ctrl-C"
