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
from typing import Callable, Dict, Iterator, Optional

import pytest

from devlint import cache, launch
from devlint.plan import build
from devlint.warm import Request
from tests.listeners import free_port, open_listener

HEAVY = ("devlint.cli", "devlint.model", "argparse", "pluggy", "importlib.metadata", "tomllib", "tomli",
         "psutil", "colorama", "json", "dataclasses", "socket")


def _write_project(root: Path, port: int, host: str = "") -> Path:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / "backend").mkdir(exist_ok=True)
    (root / "backend" / ".flaskenv").write_text(f"FLASK_RUN_PORT={port}\n"
                                                + (f"FLASK_RUN_HOST={host}\n" if host else ""))
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
@pytest.mark.parametrize("host", ["", "::1"])  # ::1: the warm path checks loopback has it
def test_a_repeated_clear_run_never_imports_the_cli_or_plugins(tmp_path: Path, home: Path,
                                                               args: tuple[str, ...], host: str) -> None:
    project = _write_project(tmp_path / "p", free_port(), host)
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


# -- never trust a plan another user could have written (issue 11) ----------------------

STARTED = ("run", "--", "echo", "started")  # the request whose plan is cached, then checked


def _plan_file(env: Dict[str, str]) -> Path:
    plans = [p for p in Path(cache.folder(env)).iterdir() if p.name.startswith("plan-")]
    assert len(plans) == 1, plans
    return plans[0]


def _forge(plan: Path, port: int) -> None:
    """Rewrite a saved plan as an attacker would: valid checksum, every stamp still right,
    but "clear" for another port than the project's."""
    data = cache._unpack(plan.read_bytes())
    data["clear_ports"] = (port,)
    plan.write_bytes(cache._pack(data))


@pytest.fixture
def forged(tmp_path: Path, home: Path) -> Iterator[tuple[Path, Dict[str, str], Path, int]]:
    """A project whose port is held by a listener, and a cached plan forged to say another,
    free port is the one to check: used, it makes `run` exec onto the held port."""
    held = free_port()
    project = _write_project(tmp_path / "p", held)
    env = _env(home)
    assert _devlint(project, env, *STARTED).stdout == "started\n"
    plan = _plan_file(env)
    _forge(plan, free_port())
    with open_listener("127.0.0.1", held):
        yield project, env, plan, held


def _refused(project: Path, env: Dict[str, str], held: int) -> bool:
    """`run` refused to start the command because `held` is taken (the forged plan was not used)."""
    result = _devlint(project, env, *STARTED)
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode == 0 and result.stdout == "started\n":
        return False
    assert result.returncode == 1 and f"port {held}" in result.stderr and "DL101" in result.stderr, result.stderr
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm path uses netlink (Linux)")
def test_a_forged_plan_of_our_own_is_used(forged: tuple[Path, Dict[str, str], Path, int]) -> None:
    """The control for the tests below: the forgery works when the file is ours and 0600
    (which only we, or root, can write): this is what a foreign file must not achieve."""
    project, env, _, held = forged
    assert not _refused(project, env, held)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o666, 0o646, 0o620], ids=oct)
def test_a_plan_file_others_can_write_is_not_used(forged: tuple[Path, Dict[str, str], Path, int], mode: int) -> None:
    project, env, plan, held = forged
    plan.chmod(mode)
    assert _refused(project, env, held)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_plan_file_owned_by_another_user_is_not_used(forged: tuple[Path, Dict[str, str], Path, int]) -> None:
    import pwd

    project, env, plan, held = forged
    nobody = pwd.getpwnam("nobody")
    os.chown(plan, nobody.pw_uid, nobody.pw_gid)  # still mode 0600: only its owner could write it
    assert _refused(project, env, held)


def test_a_symlinked_plan_file_is_not_used(forged: tuple[Path, Dict[str, str], Path, int], tmp_path: Path) -> None:
    """A link in the cache folder to a valid plan of ours elsewhere (a link is not followed)."""
    project, env, plan, held = forged
    elsewhere = tmp_path / "elsewhere"
    plan.rename(elsewhere)
    plan.symlink_to(elsewhere)
    assert _refused(project, env, held)


def test_a_fifo_in_place_of_the_plan_file_does_not_hang(forged: tuple[Path, Dict[str, str], Path, int]) -> None:
    project, env, plan, held = forged
    plan.unlink()
    os.mkfifo(plan, 0o600)
    assert _refused(project, env, held)  # _devlint's timeout ends a hang as a failure


def test_a_plan_is_written_through_a_private_temporary_file(saved: tuple[Request, Dict[str, str], Path]) -> None:
    """The plan is 0600, nothing else is left in the folder, and a link planted where the
    temporary file goes is neither followed nor written through."""
    request, env, _ = saved
    plan = _plan_file(env)
    assert (plan.stat().st_mode & 0o777, sorted(os.listdir(cache.folder(env)))) == (0o600, [plan.name])
    victim = Path(cache.folder(env)).parent / "victim"
    victim.write_text("untouched")
    (Path(cache.folder(env)) / f"{plan.name}.{os.getpid()}.tmp").symlink_to(victim)
    plan.unlink()
    cache.save(request, env, build(request, env))
    assert victim.read_text() == "untouched"
    assert cache.load(request, env) is not None
    assert sorted(os.listdir(cache.folder(env))) == [plan.name]


# -- sound stamps (issue 11) --------------------------------------------------------------

def _same_size_edit(path: Path, old: int, new: int) -> None:
    """Write the file with another port of the same number of digits, then put its atime
    and mtime back: what `touch -r`, some editors and sync tools do."""
    st = path.stat()
    text = path.read_text()
    assert len(str(old)) == len(str(new)) and str(old) in text
    path.write_text(text.replace(str(old), str(new)))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)


def _free_port_like(port: int) -> int:
    """A free port with as many digits as port (a same-size edit)."""
    for _ in range(50):
        other = free_port()
        if len(str(other)) == len(str(port)) and other != port:
            return other
    pytest.skip("no free port of the same width")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm path uses netlink (Linux)")
def test_a_same_size_edit_with_its_mtime_restored_is_seen(tmp_path: Path, home: Path) -> None:
    first = free_port()
    project = _write_project(tmp_path / "p", first)
    env = _env(home)
    assert _devlint(project, env, *STARTED).stdout == "started\n"
    assert _plan_file(env)  # cached for `first`
    held = _free_port_like(first)
    _same_size_edit(project / "backend" / ".flaskenv", first, held)
    with open_listener("127.0.0.1", held):
        assert _refused(project, env, held)


def test_stamps_record_ctime_device_and_content(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"FLASK_RUN_PORT=5000\n")
    st = path.stat()
    recorded = cache.stamp(str(path))
    assert recorded is not None
    assert recorded[:5] == (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, st.st_dev)
    assert recorded[5] is not None
    folder = cache.stamp(str(tmp_path))
    assert folder is not None and folder[5] is None  # a folder: its listing moves its mtime
    assert cache.stamp(str(tmp_path / "absent")) is None
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert cache.stamp(str(fifo)) is not None  # stat only: opening it could block


def test_a_listed_folder_that_gains_an_entry_invalidates(saved: tuple[Request, Dict[str, str], Path],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Folders keep their stat stamp (plugins' Project.listdir records it)."""
    request, env, project = saved
    data = cache.read(request, env)
    assert data is not None
    backend = str(project / "backend")
    data["stamps"][backend] = cache.stamp(backend)
    _plan_file(env).write_bytes(cache._pack(data))
    assert cache.load(request, env) is not None
    (project / "backend" / "new-entry").write_text("")
    assert cache.load(request, env) is None


@pytest.fixture
def coarse(tmp_path: Path) -> Iterator[Path]:
    """A real filesystem with 1-second timestamps: ext2 with 128-byte inodes (no room for
    nanoseconds), in an image file loop-mounted here; unmounted and removed afterwards.
    Skipped where that cannot be done (not root, no mkfs.ext2, mounts not allowed)."""
    mkfs = shutil.which("mkfs.ext2") or next((p for p in ("/usr/sbin/mkfs.ext2", "/sbin/mkfs.ext2")
                                               if os.access(p, os.X_OK)), None)
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or mkfs is None or not sys.platform.startswith("linux"):
        pytest.skip("needs root, Linux and mkfs.ext2 for a coarse-timestamp filesystem")
    image, mountpoint = tmp_path / "coarse.img", tmp_path / "coarse"
    mountpoint.mkdir()
    with open(image, "wb") as handle:
        handle.truncate(8 << 20)
    made = subprocess.run([mkfs, "-q", "-F", "-I", "128", str(image)], capture_output=True, text=True)
    mounted = made.returncode == 0 and subprocess.run(
        ["mount", "-o", "loop", str(image), str(mountpoint)], capture_output=True, text=True).returncode == 0
    if not mounted:
        pytest.skip(f"cannot make or mount an ext2 image here: {made.stderr.strip()}")
    try:
        probe = mountpoint / "probe"
        probe.write_text("x")
        if probe.stat().st_ctime_ns % 1_000_000_000:
            pytest.skip("the ext2 image has finer than 1-second timestamps here")
        probe.unlink()
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def _within_one_second(action: Callable[[], None], path: Path) -> os.stat_result:
    """Run action (which writes path) until its ctime stays in the second it started in
    (retried: a try that crosses a second boundary proves nothing); the stat before it."""
    for _ in range(20):
        before = path.stat()
        action()
        if path.stat().st_ctime_ns == before.st_ctime_ns:
            return before
    pytest.skip("could not make two writes within one second")


def test_two_same_size_edits_within_one_second_get_different_stamps(coarse: Path) -> None:
    """On the coarse filesystem a second same-size write in the same second keeps size,
    mtime, inode, ctime and device: only the content tells the two apart."""
    path = coarse / ".flaskenv"
    path.write_text("FLASK_RUN_PORT=5000\n")
    recorded: list[Optional[cache.Stamp]] = []

    def edit() -> None:
        recorded.append(cache.stamp(str(path)))
        with open(path, "r+") as handle:  # in place: same inode
            handle.write("FLASK_RUN_PORT=5001\n")

    before = _within_one_second(edit, path)
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino, after.st_ctime_ns, after.st_dev) == (
        before.st_size, before.st_mtime_ns, before.st_ino, before.st_ctime_ns, before.st_dev)
    assert cache.stamp(str(path)) != recorded[-1]
    path.write_text("FLASK_RUN_PORT=5000\n")


def test_a_plan_is_not_saved_within_a_coarse_timestamp_tick(coarse: Path, home: Path) -> None:
    """The stat-only stamps (code, sys.path folders) are guarded by a racy window that
    follows the filesystem's tick: on 1-second timestamps, a plan whose input changed in
    the last two seconds is not saved. (mtime is put a minute back, as _age does; ctime,
    which utime cannot set, is what shows the change is recent.)"""
    project = _write_project(coarse / "p", free_port())
    env = _env(home)
    request = Request(cwd=project)
    plan = build(request, env)
    if time.time_ns() - max(st[3] for st in plan.inputs.values() if st) >= 2_000_000_000:
        pytest.skip("the machine took two seconds between writing and planning")
    cache.save(request, env, plan)
    assert cache.load(request, env) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the warm path uses netlink (Linux)")
def test_run_sees_a_second_same_size_edit_within_one_second(coarse: Path, home: Path) -> None:
    """The issue's example, on a real 1-second filesystem: edit, `run` (which may cache
    the plan), a second same-size edit to a held port in the same second: `run` refuses."""
    first = free_port()
    project = _write_project(coarse / "p", first)
    env = _env(home)
    flaskenv = project / "backend" / ".flaskenv"
    held = _free_port_like(first)

    def edit_run_edit() -> None:
        flaskenv.write_text(f"FLASK_RUN_PORT={first}\n")
        assert _devlint(project, env, *STARTED).stdout == "started\n"
        with open(flaskenv, "r+") as handle:  # same size, same inode
            handle.write(f"FLASK_RUN_PORT={held}\n")

    _within_one_second(edit_run_edit, flaskenv)
    with open_listener("127.0.0.1", held):
        assert _refused(project, env, held)


def test_a_folder_made_writable_by_everyone_after_caching_is_seen(tmp_path: Path, home: Path) -> None:
    """Config discovery does not use a devlint.toml in a folder every user can write to; the
    cached plan records the walked folders' mode and owner, so a chmod 1777 afterwards is
    not hidden by the cache (run and check say what config says)."""
    project = _write_project(tmp_path / "p", free_port())
    env = _env(home)
    for _ in range(2):
        assert "1 service" in _devlint(project, env, "check").stdout  # the second from the cache
    project.chmod(0o1777)
    try:
        check = _devlint(project, env, "check")
        config = _devlint(project, env, "config")
    finally:
        project.chmod(0o755)
    assert "which every user can write to" in check.stderr + check.stdout, check
    assert "not used" in config.stdout + config.stderr
