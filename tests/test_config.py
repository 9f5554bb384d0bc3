"""devlint.toml discovery, parsing and validation: every mistake names file, line and key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devlint import config as config_module
from devlint.config import ConfigError, ConfigWarning, discover, find_line, load

KINDS: Mapping[str, Mapping[str, str]] = {"flask": {"app": "FLASK_APP"}, "firebase": {"only": "emulators"}}


def write(tmp_path: Path, text: str, name: str = "devlint.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str, strict: bool = False) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load(path, "test", KINDS, strict=strict)
    return str(info.value)


def test_valid_config_gives_services_with_line_provenance(tmp_path: Path) -> None:
    path = write(tmp_path, '# stack\n[services.api]\nkind = "flask"\nport = 5001\nhost = "127.0.0.1"\n\n'
                           '[services.cache]\nports = [6379, 6380]\n')
    config = load(path, "test", KINDS)
    api, cache = config.services
    assert (api.name, api.kind, api.endpoints[0].port, api.endpoints[0].host) == ("api", "flask", 5001, "127.0.0.1")
    assert str(api.endpoints[0].port_source) == "devlint.toml:4 services.api.port"
    assert str(api.endpoints[0].host_source) == "devlint.toml:5 services.api.host"
    assert [ep.port for ep in cache.endpoints] == [6379, 6380]
    assert config.warnings == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[services.api]\nport = "5000"\n',
         "devlint.toml:2: services.api.port: expected an integer port from 1 to 65535, "
         "got the string '5000' (write 5000 without quotes)"),
        ("[services.api]\nport = true\n",
         "devlint.toml:2: services.api.port: expected an integer port from 1 to 65535, got the boolean true"),
        ("[services.api]\nport = 70000\n",
         "devlint.toml:2: services.api.port: expected an integer port from 1 to 65535, got the number 70000"),
        ("[services.api]\nport = 0\n",
         "devlint.toml:2: services.api.port: expected an integer port from 1 to 65535, got the number 0"),
        ("[services.api]\nports = [5000, 5000.5]\n",
         "devlint.toml:2: services.api.ports.1: expected an integer port from 1 to 65535, got the number 5000.5"),
        ("[services.api]\nports = []\n",
         "devlint.toml:2: services.api.ports: expected a non-empty list of ports, got a list"),
        ('[services]\napi = "flask"\n',
         "devlint.toml:2: services.api: expected a table ([services.api]), got the string 'flask'"),
        ('services = 3\n', "devlint.toml:1: services: expected a table of services, got the number 3"),
        ("[services.api]\nhost = \"x\"\n",
         "devlint.toml:1: services.api: a service without a kind needs port or ports"),
        ('[services.api]\nkind = "flsk"\n',
         "devlint.toml:2: services.api.kind: no plugin knows the kind 'flsk'; did you mean 'flask'? "
         "(known: firebase, flask; see `devlint plugins`)"),
        ("[services.api]\nport = 1\nports = [2]\n",
         "devlint.toml:3: services.api.ports: give either port or ports, not both"),
        ('[services.api]\nkind = "flask"\nhost = 5\n',
         "devlint.toml:3: services.api.host: expected a host name or address, got the number 5"),
    ],
)
def test_schema_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, text) == expected


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[services.api]\nport = = 5000\n")
    assert message.startswith("devlint.toml:2:8: ")


def test_unterminated_table_names_a_line(tmp_path: Path) -> None:
    assert error_of(tmp_path, "[services.api\n").startswith("devlint.toml:1:")


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "devlint.toml"
    path.write_bytes(b"[services.api]\nport = 5000\n# \xff\n")
    with pytest.raises(ConfigError) as info:
        load(path, "test", KINDS)
    assert str(info.value) == "devlint.toml:3: is not valid UTF-8 text"


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "devlint.toml"
    path.write_bytes(b"\xef\xbb\xbf[services.api]\nport = 5000\n")
    assert load(path, "test", KINDS).services[0].endpoints[0].port == 5000


def test_unknown_key_warns_with_suggestion_and_strict_fails(tmp_path: Path) -> None:
    text = '[services.api]\nkind = "flask"\nprot = 5000\n'
    config = load(write(tmp_path, text), "test", KINDS)
    assert [str(w) for w in config.warnings] == [
        "devlint.toml:3: services.api.prot: unknown key for kind 'flask'; did you mean 'port'? "
        "(known: app, command, host, kind, path, port, ports)"]
    assert error_of(tmp_path, text, strict=True).startswith(
        "devlint.toml:3: services.api.prot: unknown key for kind 'flask'; did you mean 'port'?")


def test_pyproject_tool_table_is_found_and_errors_use_its_key_path(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, '[project]\nname = "x"\n\n[tool.devlint.services.api]\nport = "x"\n', "pyproject.toml")
    found, reason, _ = discover(tmp_path / ".", None, {"HOME": "/nonexistent"})
    assert found == tmp_path / "pyproject.toml"
    assert "[tool.devlint]" in reason
    with pytest.raises(ConfigError) as info:
        load(found, reason, KINDS)
    assert str(info.value).startswith("pyproject.toml:5: tool.devlint.services.api.port: expected an integer")


def test_discovery_walks_up_and_stops_at_repository_root(tmp_path: Path) -> None:
    write(tmp_path, "[services.outside]\nport = 1\n")  # above the repository: never used
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    assert discover(deep, None, {"HOME": "/nonexistent"})[0] is None
    write(repo, "[services.api]\nport = 5000\n")
    found, _reason, looked = discover(deep, None, {"HOME": "/nonexistent"})
    assert found == repo / "devlint.toml"
    assert str(deep / "devlint.toml") in looked


def test_discovery_stops_at_home(tmp_path: Path) -> None:
    write(tmp_path, "[services.outside]\nport = 1\n")
    home = tmp_path / "home"
    (home / "proj").mkdir(parents=True)
    assert discover(home / "proj", None, {"HOME": str(home)})[0] is None


def test_explicit_config_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        discover(tmp_path, "nope.toml", {})
    assert str(info.value) == "nope.toml: no such file (given with --config)"


def test_find_line_handles_dotted_and_inline_forms() -> None:
    text = '[services]\napi.port = 5\nweb = { kind = "angular", port = 4200 }\n[services.db]\n\nport = 1\n'
    assert find_line(text, ("services", "api", "port")) == 2
    assert find_line(text, ("services", "web", "port")) == 3
    assert find_line(text, ("services", "db", "port")) == 6
    assert find_line(text, ("services", "db")) == 4


def run_cli(cwd: Path, *args: str, env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, DEVLINT_NO_CACHE="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "devlint", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "text",
    ['[services.api]\nport = "5000"\n', "[services.api\n", "services = 3\n", '[services.api]\nkind = "nope"\n',
     "\x00\x01", "[services.api]\nport = 5000\n[services.api]\nport = 1\n"],
)
def test_cli_exits_2_with_one_message_and_no_traceback(tmp_path: Path, text: str) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, text)
    for action in ("check", "config"):
        result = run_cli(tmp_path, action)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("devlint: error in devlint.toml:")
    result = run_cli(tmp_path, "run", "--", "true")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_pyproject_that_only_mentions_the_table_in_a_comment_is_not_the_config(tmp_path: Path) -> None:
    """Issue 10: the bytes `[tool.devlint` in a comment made devlint choose this pyproject,
    check "0 services" and ignore the .flaskenv beside it."""
    from tests.runner import devlint

    (tmp_path / ".git").mkdir()
    write(tmp_path, '[project]\nname = "x"\n# see [tool.devlint] in the docs\nx = "[tool.devlint.services]"\n',
          "pyproject.toml")
    (tmp_path / ".flaskenv").write_text("FLASK_APP=app.py\nFLASK_RUN_PORT=5099\n", encoding="utf-8")
    found, reason, _ = discover(tmp_path, None, {"HOME": "/nonexistent"})
    assert found is None, reason
    result = devlint(tmp_path, "config")
    assert result.returncode == 0, result.stderr
    assert "config: none" in result.stdout
    assert "5099" in result.stdout and ".flaskenv" in result.stdout


def test_pyproject_that_mentions_devlint_but_is_not_toml_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, '[tool.devlint]\nport = \n', "pyproject.toml")
    with pytest.raises(ConfigError) as info:
        discover(tmp_path, None, {"HOME": "/nonexistent"})
    assert str(info.value).startswith("pyproject.toml:2:")


@pytest.mark.parametrize("text", ['[tool]\ndevlint = 5\n', 'tool = {devlint = "x"}\n'])
def test_tool_devlint_that_is_not_a_table_is_a_config_error(tmp_path: Path, text: str) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, text, "pyproject.toml")
    found, reason, _ = discover(tmp_path, None, {"HOME": "/nonexistent"})
    assert found == tmp_path / "pyproject.toml"
    with pytest.raises(ConfigError) as info:
        load(found, reason, KINDS)
    assert "tool.devlint: expected a table ([tool.devlint])" in str(info.value)


def test_a_broken_pyproject_that_only_lists_devlint_as_a_dependency_is_not_the_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, '[project]\nname = "x"\ndependencies = ["devlint"\n', "pyproject.toml")
    found, reason, _ = discover(tmp_path, None, {"HOME": "/nonexistent"})
    assert found is None, reason


def test_the_fix_for_one_of_several_ports_rewrites_the_list(tmp_path: Path) -> None:
    config = load(write(tmp_path, "[services.cache]\nports = [6379, 6380]\n"), "test", KINDS)
    (service,) = config.services
    assert [ep.fix.format(port=6390) for ep in service.endpoints] == [
        "devlint.toml: services.cache.ports = [6390, 6380]", "devlint.toml: services.cache.ports = [6379, 6390]"]


@pytest.mark.parametrize("text,is_error", [
    ('[tool.devlint-other]\nx = [\n', False),  # another tool's table
    ('[tool]\ndevlint.services.api.ports = [6396\n', True),  # devlint's, dotted under [tool]
    ('[tool."devlint"]\nx = [\n', True),
])
def test_a_broken_pyproject_is_an_error_only_where_devlints_table_is_set(tmp_path: Path, text: str,
                                                                       is_error: bool) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, text, "pyproject.toml")
    if is_error:
        with pytest.raises(ConfigError):
            discover(tmp_path, None, {"HOME": "/nonexistent"})
    else:
        assert discover(tmp_path, None, {"HOME": "/nonexistent"})[0] is None


def test_a_list_of_names_with_another_item_names_that_item(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, "disable_plugins = ['flask', 5]\n"), "test", KINDS)
    assert "expected a list of plugin names, got a list containing the number 5" in str(info.value)


# -- linear validation (issue 11) -------------------------------------------------------

def test_ten_thousand_services_are_validated(tmp_path: Path) -> None:
    """Validation looked every key's line up by scanning the whole text: 10,000 services
    took over five minutes. run_cli's 60 s timeout fails this test instead of hanging."""
    (tmp_path / ".git").mkdir()
    count = 10_000
    write(tmp_path, "".join(f'[services.s{i}]\nport = {10000 + i % 50000}\nhost = "127.0.0.1"\n\n'
                            for i in range(count)))
    result = run_cli(tmp_path, "config")
    assert (result.returncode, result.stderr) == (0, "")
    import re

    found = {int(i): int(line) for line, i in re.findall(r"devlint\.toml:(\d+) services\.s(\d+)\.port", result.stdout)}
    assert found == {i: 4 * i + 2 for i in range(count)}  # every service's port, with its line


def _find_line_by_scanning(text: str, path: Tuple[str, ...]) -> Optional[int]:
    """find_line as it was (a scan per look-up): the reference the index must agree with."""
    wanted = tuple(p for p in path if not p.isdigit())
    table: Tuple[str, ...] = ()
    best: Optional[int] = None
    for number, line in enumerate(text.splitlines(), 1):
        header = config_module._HEADER.match(line)
        if header:
            table = config_module._split_key(header[1])
            if table == wanted:
                return number
            continue
        assign = config_module._ASSIGN.match(line)
        if assign:
            full = table + config_module._split_key(assign[1])
            if full == wanted:
                return number
            if wanted[: len(full)] == full:
                best = number
    if best is None:
        for cut in range(len(wanted) - 1, 0, -1):
            for number, line in enumerate(text.splitlines(), 1):
                header = config_module._HEADER.match(line)
                if header and config_module._split_key(header[1]) == wanted[:cut]:
                    return number
    return best


LINES = ["[services]", "[services.api]", "[services.web]", "[[services.list]]", '[services."a.b"]', "[tool.devlint]",
         "[tool.devlint.services.api]", "port = 1", "api.port = 2", 'web = { kind = "x", port = 3 }', "kind = 'y'",
         '"a.b".port = 4', "ports = [1, 2]", "services.api.host = 'h'", "# [services.api]", "", "devlint.x = 1"]
KEYS = [("services",), ("services", "api"), ("services", "api", "port"), ("services", "web", "port"),
        ("services", "a.b", "port"), ("services", "list", "0", "port"), ("services", "api", "ports", "1"),
        ("tool", "devlint", "services", "api", "port"), ("services", "api", "host"), ("kind",), ("devlint", "x"),
        ("services", "nothing", "here"), ()]


@given(st.lists(st.sampled_from(LINES), max_size=30))
def test_the_line_index_agrees_with_a_scan(lines: List[str]) -> None:
    text = "\n".join(lines)
    for key in KEYS:
        assert find_line(text, key) == _find_line_by_scanning(text, key), (text, key)
        assert config_module._LineIndex(text).find(tuple(p for p in key if not p.isdigit())) == \
            _find_line_by_scanning(text, key)


# -- config files another user could have written (issue 11) ------------------------------

SHARED_CONFIG = "[services.planted]\nport = 5999\n"


def _below(folder: Path) -> Path:
    """A project folder (no .git) below folder, with a .flaskenv of its own."""
    project = folder / "proj"
    project.mkdir(parents=True)
    (project / ".flaskenv").write_text("FLASK_APP=app.py\nFLASK_RUN_PORT=5098\n")
    return project


def _not_used(project: Path, config: Path, why: str) -> None:
    """`check` and `config` in project: the file is not used, and stderr says which and why;
    --config still uses it."""
    home = {"HOME": str(project.parent.parent / "home")}
    shown = run_cli(project, "config", env=home)
    assert shown.returncode == 0, shown.stderr
    assert "Traceback" not in shown.stderr
    said = shown.stdout + shown.stderr  # a warning, wherever the command prints its warnings
    assert "warning" in said and f"{config}: not used: {why}; to use it, pass --config {config}" in said
    assert f"config: none (ignored {config}: {why})" in shown.stdout
    assert "planted" not in shown.stdout and "5098" in shown.stdout
    check = run_cli(project, "check", env=home)
    assert f"{config}: not used: {why}" in check.stdout + check.stderr
    assert "planted" not in check.stdout + check.stderr
    assert check.returncode == 0, check.stderr
    given = run_cli(project, "--config", str(config), "config", env=home)
    assert given.returncode == 0 and "planted" in given.stdout, given.stderr


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_config_in_a_folder_every_user_can_write_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    write(shared, SHARED_CONFIG)
    _not_used(_below(shared), shared / "devlint.toml", f"it is in {shared}, which every user can write to")


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_the_walk_stops_at_a_folder_every_user_can_write(tmp_path: Path) -> None:
    """Nothing in the shared folder: the walk still does not go above it."""
    write(tmp_path, SHARED_CONFIG)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    project = _below(shared)
    warnings: List[ConfigWarning] = []
    found, reason, looked = discover(project, None, {"HOME": "/nonexistent"}, warnings)
    assert (found, warnings) == (None, [])
    assert reason == f"no devlint.toml up to {shared}, which every user can write to (the search stops there)"
    assert str(shared / "devlint.toml") in looked  # recorded: one appearing later invalidates a cached plan


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
@pytest.mark.parametrize("how", ["file", "symlink"])
def test_a_config_owned_by_another_user_is_not_used(tmp_path: Path, how: str) -> None:
    import pwd

    nobody = pwd.getpwnam("nobody")
    team = tmp_path / "team"
    team.mkdir()
    config = team / "devlint.toml"
    if how == "file":
        write(team, SHARED_CONFIG)
        os.chown(config, nobody.pw_uid, nobody.pw_gid)
    else:  # nobody's link to a file of ours: the link's owner chose what it names
        write(tmp_path, SHARED_CONFIG, "mine.toml")
        config.symlink_to(tmp_path / "mine.toml")
        os.chown(config, nobody.pw_uid, nobody.pw_gid, follow_symlinks=False)
    _not_used(_below(team), config, f"it is owned by nobody (uid {nobody.pw_uid}), not by you or root")


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_config_every_user_can_write_is_not_used(tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    config = write(team, SHARED_CONFIG)
    config.chmod(0o666)
    _not_used(_below(team), config, "every user can write to it")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_another_users_pyproject_without_devlint_is_passed_over(tmp_path: Path) -> None:
    """Not a config at all: the walk goes on to ours above it, without a warning."""
    import pwd

    (tmp_path / ".git").mkdir()
    write(tmp_path, "[services.ours]\nport = 5097\n")
    team = tmp_path / "team"
    team.mkdir()
    pyproject = write(team, '[project]\nname = "theirs"\n', "pyproject.toml")
    os.chown(pyproject, pwd.getpwnam("nobody").pw_uid, -1)
    warnings: List[ConfigWarning] = []
    found, _, _ = discover(team, None, {"HOME": "/nonexistent"}, warnings)
    assert (found, warnings) == (tmp_path / "devlint.toml", [])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
@pytest.mark.parametrize("name", ["devlint.toml", "pyproject.toml"])
def test_a_fifo_planted_in_a_shared_folder_neither_hangs_nor_stops_devlint(tmp_path: Path, name: str) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    os.mkfifo(shared / name)
    project = _below(shared)
    result = run_cli(project, "check", env={"HOME": str(tmp_path / "home")})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert (f"{shared / name}: not used" in result.stdout + result.stderr) == (name == "devlint.toml")


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_an_ignored_config_is_said_on_every_run_not_cached_away(tmp_path: Path) -> None:
    """With the plan cache on: the second run says it again (a plan built without the file is
    not cached, so the warm path never answers it silently)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    write(shared, SHARED_CONFIG)
    project = _below(shared)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVLINT_")}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"), NO_COLOR="1")
    for _ in range(2):
        result = subprocess.run([sys.executable, "-m", "devlint", "run", "--", "true"], cwd=project, env=env,
                                capture_output=True, text=True, timeout=60)
        said = result.stdout + result.stderr
        assert result.returncode == 0 and f"{shared / 'devlint.toml'}: not used" in said, said
