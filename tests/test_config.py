"""devlint.toml discovery, parsing and validation: every mistake names file, line and key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Optional

import pytest

from devlint.config import ConfigError, discover, find_line, load

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
