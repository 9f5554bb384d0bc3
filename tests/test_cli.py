"""devlint as a user runs it: a real process, real sockets, exit codes and messages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from tests.listeners import child_listener, free_port, open_listener
from tests.runner import devlint


def project(tmp_path: Path, port: int, host: str = "127.0.0.1") -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "devlint.toml").write_text(f'[services.api]\nport = {port}\nhost = "{host}"\n')
    return tmp_path


def test_clear_port_check_exits_0(tmp_path: Path) -> None:
    result = devlint(project(tmp_path, free_port()), "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "clear" in result.stdout


def test_held_port_check_exits_1_and_names_the_holder(tmp_path: Path) -> None:
    port = free_port()
    with child_listener("127.0.0.1", port) as holder:
        result = devlint(project(tmp_path, port), "check")
    assert result.returncode == 1
    assert "DL101" in result.stdout
    assert f"pid {holder.pid}" in result.stdout
    assert f"127.0.0.1:{port}" in result.stdout


@pytest.mark.parametrize(("address", "v6only"), [("::1", True), ("::", True)])
def test_shadowing_listener_is_caught_and_named(tmp_path: Path, address: str, v6only: bool) -> None:
    port = free_port()
    with child_listener(address, port, v6only=v6only) as impostor:
        result = devlint(project(tmp_path, port), "check", "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    (finding,) = report["findings"]
    assert finding["code"] == "DL102"
    assert finding["evidence"]["lost"] == ["::1"]
    assert finding["evidence"]["listeners"][0]["pid"] == impostor.pid
    assert finding["evidence"]["suggested_port"] not in (None, port)


def test_run_refuses_held_port_without_running_the_command(tmp_path: Path) -> None:
    port = free_port()
    marker = tmp_path / "ran"
    with child_listener("0.0.0.0", port) as holder:
        result = devlint(project(tmp_path, port), "run", "--", "touch", str(marker))
    assert result.returncode == 1
    assert not marker.exists()
    assert f"pid {holder.pid}" in result.stderr
    assert "not starting `touch" in result.stderr


def test_run_on_clear_port_execs_same_pid_argv_and_exit_code(tmp_path: Path) -> None:
    cwd = project(tmp_path, free_port())
    env = dict(os.environ, DEVLINT_NO_CACHE="1")
    script = 'echo "$$"; printf "<%s>" "$@"; exit 7'
    proc = subprocess.Popen([sys.executable, "-m", "devlint", "run", "--", "sh", "-c", script, "sh",
                             "a b", "", "--flag", "'q'"], cwd=cwd, env=env, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 7
    pid_line, args_line = out.split("\n", 1)
    assert int(pid_line) == proc.pid
    assert args_line == "<a b><><--flag><'q'>"


def test_run_passes_signals_to_the_command(tmp_path: Path) -> None:
    cwd = project(tmp_path, free_port())
    code = ("import signal, sys, time\n"
            "signal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\n"
            "print('ready', flush=True)\ntime.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-m", "devlint", "run", "--", sys.executable, "-c", code], cwd=cwd,
                            env=dict(os.environ, DEVLINT_NO_CACHE="1"), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 42


def test_command_not_found_is_127_and_not_executable_126(tmp_path: Path) -> None:
    cwd = project(tmp_path, free_port())
    result = devlint(cwd, "run", "--", "no-such-command-devlint")
    assert result.returncode == 127
    assert result.stderr.strip() == "devlint: no-such-command-devlint: command not found"
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\n")
    result = devlint(cwd, "run", "--", str(script))
    assert result.returncode == 126
    assert "not executable" in result.stderr


def test_run_without_command_is_a_usage_error(tmp_path: Path) -> None:
    result = devlint(project(tmp_path, free_port()), "run")
    assert result.returncode == 2 and "needs a command" in result.stderr


def test_unknown_service_name_suggests_the_right_one(tmp_path: Path) -> None:
    result = devlint(project(tmp_path, free_port()), "check", "apj")
    assert result.returncode == 2
    assert "no service named 'apj'" in result.stderr and "did you mean 'api'?" in result.stderr


def test_who_names_every_listener_on_both_families(tmp_path: Path) -> None:
    port = free_port()
    with open_listener("127.0.0.1", port), open_listener("::1", port):
        result = devlint(tmp_path, "who", str(port), "--format", "json")
    assert result.returncode == 0
    listeners = json.loads(result.stdout)["ports"][str(port)]
    assert sorted(lst["address"] for lst in listeners) == ["127.0.0.1", "::1"]
    assert all(lst["pid"] == os.getpid() for lst in listeners)


def test_who_rejects_a_non_port(tmp_path: Path) -> None:
    result = devlint(tmp_path, "who", "http")
    assert result.returncode == 2 and result.stderr.strip() == "devlint: who: 'http' is not a port (1-65535)"


def test_config_shows_where_each_value_came_from(tmp_path: Path) -> None:
    port = free_port()
    result = devlint(project(tmp_path, port), "config")
    assert result.returncode == 0
    assert f"127.0.0.1:{port}" in result.stdout
    assert "port: devlint.toml:2 services.api.port; host: devlint.toml:3 services.api.host" in result.stdout


def test_cached_plan_is_used_and_invalidated_when_the_config_changes(tmp_path: Path) -> None:
    cache_home = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache_home)}
    cwd = project(tmp_path, free_port())
    assert devlint(cwd, "run", "--", "true", env=env, cache=True).returncode == 0
    assert any(cache_home.joinpath("devlint").iterdir())
    held = free_port()
    with open_listener("127.0.0.1", held):
        time.sleep(0.01)  # a different mtime even on coarse clocks
        (cwd / "devlint.toml").write_text(f'[services.api]\nport = {held}\nhost = "127.0.0.1"\n')
        result = devlint(cwd, "run", "--", "true", env=env, cache=True)
    assert result.returncode == 1, "a stale plan was used"
    assert str(held) in result.stderr


def test_plugin_that_fails_to_import_is_named_with_how_to_disable_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = site / "broken_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[devlint]\nbroken = broken_plugin\n")
    (site / "broken_plugin.py").write_text("raise ImportError('needs libfoo')\n")
    env = {"PYTHONPATH": str(site)}
    result = devlint(project(tmp_path, free_port()), "check", env=env)
    assert result.returncode == 2
    assert "plugin 'broken'" in result.stderr and "needs libfoo" in result.stderr
    assert "-p no:broken" in result.stderr and "Traceback" not in result.stderr
    assert devlint(tmp_path, "check", "-p", "no:broken", env=env).returncode == 0
    assert devlint(tmp_path, "check", env={**env, "DEVLINT_DISABLE_PLUGINS": "broken"}).returncode == 0


def test_deleted_working_directory_is_a_usage_error(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = f'cd "{gone}" && rmdir "{gone}" && exec "$0" -m devlint check'
    result = subprocess.run(["sh", "-c", script, sys.executable], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "working directory cannot be read" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args,expected", [
    (["-p", "flask", "check"], "-p flask: expected -p no:NAME"),
    (["run", "--wait", "nan", "--", "true"], "--wait takes a number of seconds >= 0, not nan"),
    (["run", "--wait", "-1", "--", "true"], "--wait takes a number of seconds >= 0, not -1"),
])
def test_option_values_that_cannot_work_are_usage_errors(tmp_path: Path, args: List[str], expected: str) -> None:
    result = devlint(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_the_options_npm_scripts_are_read_with_are_the_parsers() -> None:
    """commands.py skips `devlint [OPTIONS] run [OPTIONS] --` in scripts by
    warm.RUN_VALUE_OPTIONS: the options of devlint and of `run` that take a value."""
    from devlint import cli
    from devlint.warm import RUN_VALUE_OPTIONS

    parser = cli._parser()
    (sub,) = [action for action in parser._actions if action.dest == "action"]
    run = sub.choices["run"]  # type: ignore[attr-defined]
    takes_value = {option for p in (parser, run) for action in p._actions if action.nargs != 0
                   and action.option_strings for option in action.option_strings}
    assert takes_value == set(RUN_VALUE_OPTIONS)
