"""Standard streams devlint cannot use: closed descriptors (`2>&-`, `>&-`, `<&-`), a full disk
(/dev/full) and a pipe whose reader has gone (`| head -0`).

Everything runs the real console script (and `python -m devlint`, and the warm path) in a
real shell or with a real pipe: `subprocess.DEVNULL` is an open descriptor, not a closed one,
so descriptors are closed by `sh -c '… 2>&-'`, the way a user closes them. What the command
got is read from its own /proc/self/fd.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from devlint.warm import BROKEN_PIPE, OUTPUT_FAILED
from tests.listeners import free_port, open_listener
from tests.runner import Arg, base_env
from tests.test_exec import ENTRIES, through, warm_up

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/dev/full and /proc/self/fd are Linux's")

# The command reports which of its descriptors 0, 1, 2 are open, into a file (it may have no stdout).
# (Looked at before opening the file, which would take the lowest free descriptor.)
REPORT = "import os, sys; seen = ' '.join(str(os.path.exists(f'/proc/self/fd/{n}')) for n in range(3)); " \
         "open(sys.argv[1], 'w').write(seen)"
CLOSINGS = {"2>&-": (True, True, False), ">&-": (True, False, True), "<&-": (False, True, True),
            ">&- 2>&-": (True, False, False), "<&- >&- 2>&-": (False, False, False)}


def str_env(home: Path) -> Dict[str, str]:
    """tests.runner.base_env, as text (what subprocess's type hints want)."""
    return {os.fsdecode(k): os.fsdecode(v) for k, v in base_env(home).items()}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty repository: no services, so every check is clear and devlint execs."""
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    return root


def in_shell(argv: List[Arg], redirections: str, cwd: Path, env: Dict[Arg, Arg],
             **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    """argv run by sh with these redirections, as a user types them."""
    script = 'exec "$@" ' + redirections
    result: subprocess.CompletedProcess[bytes] = subprocess.run(
        ["/bin/sh", "-c", script, "sh", *argv], cwd=cwd, env=env, timeout=60, **kwargs)  # type: ignore[call-overload]
    return result


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("closed", CLOSINGS)
def test_run_execs_with_closed_descriptors(project: Path, entry: str, closed: str, tmp_path: Path) -> None:
    """`devlint run -- CMD 2>&-`: the command runs, with the descriptors exactly as they were
    (closed ones still closed: devlint opened nothing in their place that survives exec)."""
    marker = tmp_path / "fds"
    command: List[Arg] = [sys.executable, "-c", REPORT, str(marker)]
    env = base_env(project)
    warm_up(entry, command, project, env)
    result = in_shell(through(entry, *command), closed, project, env, capture_output=False)
    assert result.returncode == 0
    direct = tmp_path / "direct"
    in_shell([sys.executable, "-c", REPORT, str(direct)], closed, project, env)
    want = " ".join(str(is_open) for is_open in CLOSINGS[closed])
    assert direct.read_text() == want  # the yardstick: what the command sees without devlint
    assert marker.read_text() == want


@pytest.fixture
def held(project: Path) -> Iterator[int]:
    """A port of the project's one service, held by a listener of this test."""
    port = free_port()
    (project / "devlint.toml").write_text(f"[services.api]\nports = [{port}]\n")
    with open_listener("127.0.0.1", port):
        yield port


@pytest.mark.parametrize("closed", ["2>&-", "<&- 2>&-"])
def test_a_refused_run_with_closed_stderr_stays_refused_and_quiet(project: Path, held: int, closed: str,
                                                                 tmp_path: Path) -> None:
    """With nowhere to say why, the refusal still holds (exit 1, the command never runs), and
    the findings do not leak onto stdout instead (print(file=None) would write there)."""
    marker = tmp_path / "ran"
    result = in_shell(through("devlint", sys.executable, "-c", REPORT, str(marker)), closed, project,
                      base_env(project), stdout=subprocess.PIPE)
    assert result.returncode == 1
    assert not marker.exists()
    assert result.stdout == b""


def test_check_to_a_full_disk(project: Path, held: int) -> None:
    """`devlint check > /dev/full`: one line on stderr naming the error, and exit 74, not 1
    ("errors found") and not a traceback."""
    result = in_shell(["devlint", "check"], ">/dev/full", project, base_env(project), stderr=subprocess.PIPE)
    err = result.stderr.decode()
    assert result.returncode == OUTPUT_FAILED, err
    assert err.splitlines() == ["devlint: cannot write the output (No space left on device); nothing more "
                                "was written"]


@pytest.mark.parametrize("args", [["check"], ["--format", "json", "check"], ["config"], ["who"], ["--help"],
                                  ["--version"]], ids=" ".join)
def test_every_command_to_a_full_disk(project: Path, args: List[str]) -> None:
    """The same for every sub-command that prints, on a clear project (exit 0 otherwise)."""
    result = in_shell(["devlint", *args], ">/dev/full", project, base_env(project), stderr=subprocess.PIPE)
    err = result.stderr.decode()
    assert result.returncode == OUTPUT_FAILED, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert err.count("\n") == 1 and "No space left on device" in err


@pytest.mark.parametrize("args", [["who"], ["check"], ["--format", "json", "config"], ["--help"]], ids=" ".join)
def test_a_closed_pipe_is_quiet(project: Path, args: List[str]) -> None:
    """`devlint who | head -0`: the reader is gone before devlint writes (a pipe whose read
    end is closed, so the outcome does not depend on timing): nothing on stderr, exit 141
    (128 + SIGPIPE, what the shell reports for `ls` or `git log` in the same place)."""
    read, write = os.pipe()
    os.close(read)
    try:
        result = subprocess.run(["devlint", *args], cwd=project, env=str_env(project), stdout=write,
                                stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (BROKEN_PIPE, b"")


def test_full_stderr_does_not_stop_a_clear_run(project: Path, tmp_path: Path) -> None:
    """stderr on a full disk: devlint has nothing to say for a clear project, and runs the command."""
    marker = tmp_path / "fds"
    result = in_shell(["devlint", "run", "--", sys.executable, "-c", REPORT, str(marker)], "2>/dev/full",
                      project, base_env(project))
    assert result.returncode == 0
    assert marker.read_text() == "True True True"
