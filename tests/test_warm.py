"""The warm path and the plan cache: what they skip, and that they are never stale.

Behaviour, not timing: bench/run.py measures the speed. Here: a repeated clear run does not
import the CLI, pluggy or the data model; it prints and execs exactly what the full CLI
would; and the cached plan is dropped when anything it was built from changes.
"""

from __future__ import annotations

import dataclasses
import errno
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest

from devlint import cache, launch
from devlint.plan import build
from devlint.warm import Request
from tests.listeners import free_port, open_listener

HEAVY = ("devlint.cli", "devlint.model", "argparse", "pluggy", "importlib.metadata", "tomllib", "tomli",
         "psutil", "colorama", "json", "dataclasses", "socket")


def _write_project(root: Path, port: int) -> Path:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / "backend").mkdir(exist_ok=True)
    (root / "backend" / ".flaskenv").write_text(f"FLASK_RUN_PORT={port}\n")
    (root / "devlint.toml").write_text('[services.api]\nkind = "flask"\npath = "backend"\n')
    _age(root)
    return root


def _age(root: Path) -> None:
    """Files written a minute ago: nothing is too new for the cache (see cache.RACY_NS)."""
    past = time.time() - 60
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def _env(home: Path, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVLINT_", "PYTHONPROFILE"))}
    env.pop("NO_COLOR", None)
    env.pop("FORCE_COLOR", None)
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), **extra})
    return env


def _devlint(cwd: Path, env: Dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devlint", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def _imported(stderr: str) -> set[str]:
    """Module names from -X importtime output."""
    return {line.split("|")[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm path uses netlink (Linux)")
@pytest.mark.parametrize("args", [("run", "--", "true"), ("check",)])
def test_a_repeated_clear_run_never_imports_the_cli_or_plugins(tmp_path: Path, home: Path,
                                                               args: tuple[str, ...]) -> None:
    project = _write_project(tmp_path / "p", free_port())
    env = _env(home)
    first = _devlint(project, env, *args)
    assert first.returncode == 0, first.stderr
    second = _devlint(project, {**env, "PYTHONPROFILEIMPORTTIME": "1"}, *args)
    assert second.returncode == 0, second.stderr
    imported = _imported(second.stderr)
    assert "devlint.warm" in imported and "devlint.sockets.netlink" in imported
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
    assert second.stdout == first.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm path uses netlink (Linux)")
@pytest.mark.parametrize("colour", [{"NO_COLOR": "1"}, {"FORCE_COLOR": "1"}, {}])
def test_warm_check_prints_what_the_full_check_prints(tmp_path: Path, home: Path, colour: Dict[str, str]) -> None:
    project = _write_project(tmp_path / "p", free_port())
    env = _env(home, **colour)
    full = _devlint(project, {**env, "DEVLINT_NO_CACHE": "1"}, "check")
    _devlint(project, env, "check")
    warm = _devlint(project, {**env, "PYTHONPROFILEIMPORTTIME": "1"}, "check")
    coloured = bool(colour.get("FORCE_COLOR"))
    assert ("devlint.cli" in _imported(warm.stderr)) == coloured  # colour: the full path
    assert (warm.returncode, warm.stdout) == (full.returncode, full.stdout) == (0, full.stdout)
    assert "1 service, 1 port clear" in full.stdout


def test_a_port_taken_after_caching_is_reported_not_exec_d(tmp_path: Path, home: Path) -> None:
    port = free_port()
    project = _write_project(tmp_path / "p", port)
    env = _env(home)
    assert _devlint(project, env, "run", "--", "true").returncode == 0
    with open_listener("127.0.0.1", port):
        result = _devlint(project, env, "run", "--", "echo", "started")
        check = _devlint(project, env, "check")
    assert result.returncode == 1 and "started" not in result.stdout
    assert f"port {port}" in result.stderr and "DL101" in result.stderr
    assert check.returncode == 1 and "DL101" in check.stdout


def test_a_missing_command_is_reported_by_the_cli_from_the_warm_path(tmp_path: Path, home: Path) -> None:
    project = _write_project(tmp_path / "p", free_port())
    env = _env(home)
    assert _devlint(project, env, "run", "--", "true").returncode == 0
    result = _devlint(project, env, "run", "--", "no-such-command-devlint")
    assert result.returncode == 127
    assert "no-such-command-devlint: command not found" in result.stderr


# -- the cache itself (in process) -----------------------------------------------------

@pytest.fixture
def saved(tmp_path: Path, home: Path) -> Iterator[tuple[Request, Dict[str, str], Path]]:
    project = _write_project(tmp_path / "p", free_port())
    env = _env(home)
    request = Request(cwd=project, argv=("flask", "run"))
    cache.save(request, env, build(request, env))
    assert cache.load(request, env) is not None
    yield request, env, project


def test_the_cached_plan_equals_a_fresh_one(saved: tuple[Request, Dict[str, str], Path]) -> None:
    request, env, _ = saved
    fresh, cached = build(request, env), cache.load(request, env)
    assert cached is not None
    assert dataclasses.replace(fresh, inputs={}, env={}) == cached


def test_an_edited_input_invalidates(saved: tuple[Request, Dict[str, str], Path]) -> None:
    request, env, project = saved
    flaskenv = project / "backend" / ".flaskenv"
    st = flaskenv.stat()
    os.utime(flaskenv, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000))  # same size, other mtime
    assert cache.load(request, env) is None


def test_a_replaced_input_invalidates(saved: tuple[Request, Dict[str, str], Path]) -> None:
    request, env, project = saved
    flaskenv = project / "backend" / ".flaskenv"
    st = flaskenv.stat()
    replacement = project / "backend" / "new"
    replacement.write_bytes(flaskenv.read_bytes())
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(replacement, flaskenv)  # same size and mtime: only the inode differs
    assert cache.load(request, env) is None


def test_a_file_that_appears_invalidates(saved: tuple[Request, Dict[str, str], Path]) -> None:
    request, env, project = saved
    (project / "backend" / ".env").write_text("FLASK_RUN_PORT=1\n")  # read by flask, absent before
    assert cache.load(request, env) is None


def test_a_new_repository_root_invalidates(tmp_path: Path, home: Path) -> None:
    """Discovery stops at a .git: one appearing between the project and its config matters."""
    top = _write_project(tmp_path / "top", free_port())
    (top / ".git").rmdir()
    inner = top / "inner"
    inner.mkdir()
    _age(top)
    env = _env(home)
    request = Request(cwd=inner)
    cache.save(request, env, build(request, env))
    assert cache.load(request, env) is not None
    (inner / ".git").mkdir()
    assert cache.load(request, env) is None


@pytest.mark.parametrize("name, value", [("FLASK_RUN_PORT", "5999"), ("DEVLINT_DISABLE_PLUGINS", "flask"),
                                         ("HOME", "/elsewhere")])
def test_a_changed_environment_variable_invalidates(saved: tuple[Request, Dict[str, str], Path],
                                                    name: str, value: str) -> None:
    request, env, _ = saved
    assert cache.load(request, {**env, name: value}) is None


def test_another_devlint_version_invalidates(saved: tuple[Request, Dict[str, str], Path],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    request, env, _ = saved
    monkeypatch.setattr(cache, "__version__", "0.0.0-other")
    assert cache.load(request, env) is None


def test_edited_plugin_code_invalidates(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = tmp_path / "plugin.py"
    plugin.write_text("# a plugin\n")
    _age(tmp_path)
    real = cache._code_files
    monkeypatch.setattr(cache, "_code_files", lambda: {**real(), str(plugin): cache.stamp(str(plugin))})
    project = _write_project(tmp_path / "p", free_port())
    env = _env(home)
    request = Request(cwd=project)
    cache.save(request, env, build(request, env))
    assert cache.load(request, env) is not None
    plugin.write_text("# a plugin, edited\n")
    assert cache.load(request, env) is None


def test_loaded_code_is_recorded() -> None:
    files = cache._code_files()
    assert any(path.endswith(os.path.join("devlint", "cache.py")) for path in files)
    assert not any(path.endswith(os.sep + "os.py") for path in files), "the standard library is not stamped"


def test_a_file_written_just_now_is_not_trusted(tmp_path: Path, home: Path) -> None:
    project = _write_project(tmp_path / "p", free_port())
    (project / "backend" / ".flaskenv").write_text(f"FLASK_RUN_PORT={free_port()}\n")  # now
    env = _env(home)
    request = Request(cwd=project)
    cache.save(request, env, build(request, env))
    assert cache.load(request, env) is None


def test_an_unwritable_cache_folder_means_no_cache(tmp_path: Path, home: Path) -> None:
    project = _write_project(tmp_path / "p", free_port())
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = _env(home, XDG_CACHE_HOME=str(blocker))  # makedirs fails, as on a read-only home
    request = Request(cwd=project)
    cache.save(request, env, build(request, env))
    assert cache.load(request, env) is None
    result = _devlint(project, env, "run", "--", "true")
    assert (result.returncode, result.stderr) == (0, "")


def test_a_full_disk_leaves_no_partial_file(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _write_project(tmp_path / "p", free_port())
    env = _env(home)
    request = Request(cwd=project)
    plan = build(request, env)

    class FullDisk(io.FileIO):
        def write(self, data: object) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    # The temporary file is created, then writing to it fails, as on a full disk.
    monkeypatch.setattr(cache, "open", lambda fd, mode: FullDisk(fd, "wb"), raising=False)
    cache.save(request, env, plan)
    monkeypatch.undo()
    assert cache.load(request, env) is None
    assert list(Path(cache.folder(env)).iterdir()) == []


def test_a_damaged_cache_file_is_ignored(saved: tuple[Request, Dict[str, str], Path]) -> None:
    request, env, _ = saved
    for path in Path(cache.folder(env)).iterdir():
        path.write_bytes(path.read_bytes()[:40])
    assert cache.load(request, env) is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_cache_folder_others_can_write_is_not_used(saved: tuple[Request, Dict[str, str], Path]) -> None:
    request, env, _ = saved
    os.chmod(cache.folder(env), 0o777)
    assert cache.load(request, env) is None


def test_the_cache_lives_in_the_users_cache_folder(home: Path) -> None:
    assert cache.folder({"XDG_CACHE_HOME": "/x/cache"}) == os.path.join("/x/cache", "devlint")
    assert cache.folder({"HOME": str(home)}).startswith(os.path.expanduser("~"))


# -- launch's PATH search ----------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="POSIX PATH rules")
@pytest.mark.parametrize("path", ["{a}:{b}:{c}", "{c}:{b}", "", ":", "{a}", None])
def test_which_agrees_with_shutil(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: Optional[str]) -> None:
    a, b, c = (tmp_path / n for n in "abc")
    for folder in (a, b, c):
        folder.mkdir()
    (a / "tool").write_text("")  # not executable
    (b / "tool").mkdir()  # a folder
    (c / "tool").write_text("#!/bin/sh\n")
    (c / "tool").chmod(0o755)
    monkeypatch.chdir(c)
    if path is None:
        monkeypatch.delenv("PATH", raising=False)
    else:
        monkeypatch.setenv("PATH", path.format(a=a, b=b, c=c))
    for program in ("tool", "sh", "no-such-tool-devlint"):
        assert launch._which(program) == shutil.which(program), (path, program)


def test_a_python_dotenv_upgrade_invalidates_the_plan(tmp_path: Path, home: Path) -> None:
    """python-dotenv 1.2.3 changed how a BOM is read: the plan records the environment's
    site-packages, so installing another release is seen."""
    port = free_port()
    project = _write_project(tmp_path / "p", port)
    (project / "backend" / ".flaskenv").write_bytes(f"\ufeffFLASK_RUN_PORT={port}\n".encode())
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "python_dotenv-1.2.4.dist-info").mkdir(parents=True)
    (tmp_path / "venv" / "bin").mkdir()
    (tmp_path / "venv" / "bin" / "flask").write_text(f"#!{tmp_path}/venv/bin/python\n")
    _age(tmp_path)
    env = _env(home, PATH=f"{tmp_path}/venv/bin:{os.environ['PATH']}")
    for _ in range(2):
        first = _devlint(project, env, "check")
        assert (first.returncode, first.stderr) == (0, "")
        assert first.stdout == "devlint: 1 service, 1 port clear\n"
    assert list((home / ".cache" / "devlint").iterdir()), "the clear plan was not cached"
    (site / "python_dotenv-1.2.4.dist-info").rename(site / "python_dotenv-1.2.1.dist-info")
    after = _devlint(project, env, "check")
    assert "DL406" in after.stdout + after.stderr
    assert "python-dotenv 1.2.1 reads the first name as '\\ufeffFLASK_RUN_PORT'" in after.stdout + after.stderr
