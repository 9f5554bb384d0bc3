"""Running devlint as a user would: the console script or `python -m devlint`, in a
subprocess with a small, known environment (its own HOME and cache folder).

Every process started here is ours and is waited for by the caller.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

Arg = Union[str, bytes]
BIN = os.path.dirname(sys.executable)
SCRIPT = shutil.which("devlint", path=BIN)


def entry_points() -> Dict[str, List[str]]:
    """id → argv prefix, for every way devlint is started: console script and -m."""
    found = {"python -m devlint": [sys.executable, "-m", "devlint"]}
    if SCRIPT:
        found["devlint"] = [SCRIPT]
    return found


def devlint_argv(*args: Arg, entry: str = "devlint") -> List[Arg]:
    prefix = entry_points().get(entry) or entry_points()["python -m devlint"]
    return [*prefix, *args]


def base_env(home: Path, extra: Optional[Mapping[Arg, Arg]] = None) -> Dict[Arg, Arg]:
    """A minimal environment: PATH with this venv first, its own HOME and cache.

    DEVLINT_DISABLE_PLUGINS is passed on when the caller sets it (the user's choice).
    """
    env: Dict[Arg, Arg] = {
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
    }
    if os.environ.get("DEVLINT_DISABLE_PLUGINS"):
        env["DEVLINT_DISABLE_PLUGINS"] = os.environ["DEVLINT_DISABLE_PLUGINS"]
    env.update(extra or {})
    return env


def run(args: Sequence[Arg], cwd: Union[Path, bytes], env: Mapping[Arg, Arg], timeout: float = 60,
        **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, timeout=timeout,
                          **kwargs)  # type: ignore[call-overload, no-any-return]


def unprivileged() -> Optional[List[str]]:
    """A command prefix under which permission bits apply to devlint, or None.

    The tests run as root, and root ignores permission bits (CAP_DAC_OVERRIDE) and may read
    any process's /proc entries (CAP_SYS_PTRACE). setpriv drops every capability (and the
    bounding set, so exec cannot regain them) while keeping uid 0: a file of mode 000 is then
    unreadable, and another user's /proc/<pid>/fd too, as for any user. (Switching to
    `nobody` instead would also work, but nobody may not enter /root, where pyenv's
    interpreters live.) Not root: no prefix is needed."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--inh-caps=-all", "--bounding-set=-all"]


def assert_clean_exit(result: subprocess.CompletedProcess[bytes], *codes: int) -> str:
    """The run ended with one of codes and printed no traceback; returns stderr text."""
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert result.returncode in codes, (result.returncode, err)
    return err


#: Variables of the test runner's own environment that would change what devlint reads.
_PROJECT_VARIABLES = ("PORT", "FLASK_APP", "FLASK_RUN_PORT", "FLASK_RUN_HOST", "FLASK_DEBUG", "DEVLINT_NO_CACHE")


def devlint_env(extra: Optional[Mapping[str, str]] = None, cache: bool = False) -> Dict[str, str]:
    """This environment without project variables, colour off, the plan cache off unless asked."""
    env = {k: v for k, v in os.environ.items() if k not in _PROJECT_VARIABLES}
    env["NO_COLOR"] = "1"
    if not cache:
        env["DEVLINT_NO_CACHE"] = "1"
    env.update(extra or {})
    return env


def devlint(cwd: Path, *args: str, env: Optional[Mapping[str, str]] = None,
            cache: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -m devlint ARGS` in cwd, without a terminal (stdin is /dev/null)."""
    return subprocess.run([sys.executable, "-m", "devlint", *args], cwd=cwd, env=devlint_env(env, cache),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
