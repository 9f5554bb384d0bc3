"""Real `firebase emulators:start --only auth,hosting`, started through `devlint run --`.

Ports come from a copy of examples/stack/firebase.json rewritten to free ports, with a
`demo-` project (no login). Clear: the suite starts and answers. One emulator port held by
a plain listener, or by a second run of the same suite: devlint refuses first and names
the holder; for the second run it says it is a Firebase emulator left running.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import stacks

pytestmark = pytest.mark.integration

READY = "All emulators ready"


@dataclasses.dataclass(frozen=True)
class Suite:
    stack: Path
    ports: Dict[str, int]
    env: Dict[str, str]
    project: str

    @property
    def command(self) -> List[str]:
        return ["firebase", "emulators:start", "--only", "auth,hosting", "--project", self.project]


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    stacks.require_tool("firebase")
    tmp = tmp_path_factory.mktemp("firebase")
    stack = stacks.copy_stack(tmp)
    ports = dict(zip(stacks.FIREBASE_PORT_NAMES, stacks.free_ports(len(stacks.FIREBASE_PORT_NAMES))))
    stacks.set_firebase_ports(stack, ports)
    yield Suite(stack, ports, stacks.stack_env(stack, tmp), f"demo-devlint-{ports['auth']}")
    stacks.stop_all()


@pytest.fixture(scope="module")
def running(suite: Suite) -> Iterator[stacks.Proc]:
    """The suite, started through devlint on clear ports, until the module's tests end."""
    proc = stacks.start([*stacks.DEVLINT, "run", "--", *suite.command], suite.stack, suite.env,
                        log_dir=suite.stack)
    with stacks.started(proc):
        stacks.wait_for_text(proc, READY, timeout=120)
        yield proc


def test_held_emulator_port_is_refused_before_firebase_starts(suite: Suite) -> None:
    auth = suite.ports["auth"]
    with stacks.hold("127.0.0.1", auth):
        refusal = stacks.devlint_refuses(["run", "--", *suite.command], suite.stack, suite.env)
        assert "DL101" in refusal.stderr, refusal.stderr
        assert f"port {auth}" in refusal.stderr, refusal.stderr
        assert f"pid {os.getpid()}" in refusal.stderr, refusal.stderr
        assert "emulator" not in refusal.stdout.lower()  # firebase-tools never ran
        assert stacks.listener_pids(auth) == {os.getpid()}


def test_clear_ports_start_the_emulators(suite: Suite, running: stacks.Proc) -> None:
    out = running.output()
    assert "devlint:" not in out and "DL1" not in out, out  # clear: devlint is silent
    auth = stacks.http_request(f"http://127.0.0.1:{suite.ports['auth']}/")
    assert auth.status == 200 and "authEmulator" in auth.text, auth.text
    hosting = stacks.http_request(f"http://127.0.0.1:{suite.ports['hosting']}/")
    assert hosting.status == 200, hosting.text
    # devlint exec'd firebase-tools: the pid we started is the one holding the ports
    assert stacks.listener_pids(suite.ports["auth"]) == {running.pid}


def test_second_run_is_refused_as_a_running_emulator(suite: Suite, running: stacks.Proc) -> None:
    refusal = stacks.devlint_refuses(["run", "--", *suite.command], suite.stack, suite.env)
    assert "DL101" in refusal.stderr, refusal.stderr
    assert f"pid {running.pid}" in refusal.stderr, refusal.stderr
    assert "Firebase emulator" in refusal.text, refusal.stderr
    assert "emulator suite from an earlier run" in refusal.text, refusal.stderr  # stale: --kill offers to stop it
    assert running.popen.poll() is None, running.tail()  # the first suite is untouched


def test_ctrl_c_stops_the_emulators(suite: Suite, running: stacks.Proc) -> None:
    assert stacks.interrupt(running), f"SIGINT did not stop {running.describe()}:\n{running.tail()}"
    for name in ("auth", "hosting", "hub"):
        assert stacks.wait_port_free(suite.ports[name]), f"{name} port still held after Ctrl-C"
