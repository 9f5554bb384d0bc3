"""The plugin host: built-ins found without installed metadata, and per-service hooks routed
to the plugin that owns the service's kind (plus plugins that own no kind)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

import pytest

from devlint import hookimpl, manager
from devlint.model import Finding, Service, Severity
from devlint.project import Project


def test_builtins_load_by_name_without_installed_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manager, "_entry_points", lambda: [])
    host = manager.PluginHost()
    assert {info.name for info in host.infos} == {"angular", "firebase", "flask", "stack"}
    assert {info.module for info in host.infos} >= {"devlint_plugins.flask.hooks", "devlint_plugins.stack"}


class Recorder:
    """A plugin that owns `kind` (or none) and records which services its hooks saw."""

    def __init__(self, kind: Optional[str]) -> None:
        self.kind = kind
        self.checked: List[str] = []
        self.resolved: List[str] = []

    @hookimpl
    def devlint_service_kinds(self) -> Optional[Mapping[str, Mapping[str, str]]]:
        return {self.kind: {}} if self.kind else None

    @hookimpl
    def devlint_check_service(self, service: Service, project: Project) -> Iterable[Finding]:
        self.checked.append(service.name)
        return [Finding("DL999", Severity.INFO, f"seen by {self.kind}", service=service.name)]

    @hookimpl
    def devlint_resolve_service(self, service: Service, project: Project) -> Optional[Service]:
        self.resolved.append(service.name)
        return None


def test_per_service_hooks_go_to_the_kind_owner_and_to_plugins_owning_no_kind(tmp_path: Any) -> None:
    host = manager.PluginHost(disabled=("flask", "firebase", "angular", "stack"))
    demo, other, kindless = Recorder("demo"), Recorder("other"), Recorder(None)
    for name, plugin in (("demo", demo), ("other", other), ("kindless", kindless)):
        host.pm.register(plugin, name=name)
    project = Project(tmp_path, env={})
    found = host.check_service(Service("a", kind="demo"), project)
    host.resolve_service(Service("b", kind="other"), project)
    host.check_service(Service("c"), project)
    assert (demo.checked, other.checked, kindless.checked) == (["a"], [], ["a", "c"])
    assert (demo.resolved, other.resolved, kindless.resolved) == ([], ["b"], ["b"])
    assert sorted(f.message for f in found) == ["seen by None", "seen by demo"]


def test_a_plugin_kind_table_is_read_once_per_host(tmp_path: Any) -> None:
    calls: Dict[str, int] = {"kinds": 0}

    class Counting(Recorder):
        @hookimpl
        def devlint_service_kinds(self) -> Optional[Mapping[str, Mapping[str, str]]]:
            calls["kinds"] += 1
            return {"demo": {}}

    host = manager.PluginHost(disabled=("flask", "firebase", "angular", "stack"))
    host.pm.register(Counting("demo"), name="demo")
    for name in "abc":
        host.check_service(Service(name, kind="demo"), Project(tmp_path, env={}))
    assert calls["kinds"] == 1


@pytest.mark.parametrize("disabled", [False, True])
def test_config_disable_plugins_also_holds_when_explaining_a_listener(tmp_path: Any, disabled: bool) -> None:
    """`disable_plugins` in devlint.toml turns a plugin off for the whole run: a listener in
    the way is then not explained (or offered to --kill) on that plugin's word."""
    import json
    import subprocess
    import sys

    from tests.listeners import LISTENER_SCRIPT, free_port
    from tests.runner import devlint

    port = free_port()
    (tmp_path / ".git").mkdir()
    (tmp_path / "devlint.toml").write_text(
        ('disable_plugins = ["flask"]\n' if disabled else "") + f"[services.api]\nports = [{port}]\n",
        encoding="utf-8")
    # a `flask run` to the Flask plugin's explainer: a program named flask, run with `run`
    flask = tmp_path / "bin" / "flask"
    flask.parent.mkdir()
    flask.write_text(f"#!{sys.executable}\nimport sys\nsys.argv[1:] = sys.argv[2:]\n{LISTENER_SCRIPT}",
                     encoding="utf-8")
    flask.chmod(0o755)
    holder = subprocess.Popen([str(flask), "run", "127.0.0.1", str(port), "1"], cwd=tmp_path,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = devlint(tmp_path, "check", "--format", "json")
    finally:
        holder.terminate()
        holder.wait(10)
    assert result.returncode == 1, result.stderr
    (finding,) = json.loads(result.stdout)["findings"]
    (listener,) = finding["evidence"]["listeners"]
    assert listener["pid"] == holder.pid
    assert listener["known_as"] == (None if disabled else "Flask dev server (flask run)")


def test_two_plugins_declaring_one_kind_both_get_its_services_and_no_other(tmp_path: Any) -> None:
    host = manager.PluginHost(disabled=("flask", "firebase", "angular", "stack"))
    first, second, elsewhere = Recorder("demo"), Recorder("demo"), Recorder("other")
    for name, plugin in (("first", first), ("second", second), ("elsewhere", elsewhere)):
        host.pm.register(plugin, name=name)
    project = Project(tmp_path, env={})
    host.check_service(Service("a", kind="demo"), project)
    host.check_service(Service("b", kind="other"), project)
    host.check_service(Service("c"), project)
    assert (first.checked, second.checked, elsewhere.checked) == (["a"], ["a"], ["b"])


def test_disabling_the_plugin_that_owns_a_configured_kind_is_a_config_error(tmp_path: Any) -> None:
    """As with -p no:flask: a service whose kind no loaded plugin owns is never silently unchecked."""
    from tests.runner import devlint

    (tmp_path / ".git").mkdir()
    (tmp_path / "devlint.toml").write_text('disable_plugins = ["flask"]\n[services.api]\nkind = "flask"\n',
                                           encoding="utf-8")
    result = devlint(tmp_path, "check")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no plugin knows the kind 'flask'" in result.stderr
    assert "disable_plugins turns off flask" in result.stderr


def test_two_plugins_extending_one_kind_add_up_their_keys() -> None:
    class Extra:
        @hookimpl
        def devlint_service_kinds(self) -> Mapping[str, Mapping[str, str]]:
            return {"flask": {"gunicorn": "an extra key"}}

    host = manager.PluginHost(disabled=("firebase", "angular", "stack"))
    host.pm.register(Extra(), name="extra")
    keys = host.service_kinds()["flask"]
    assert "gunicorn" in keys and "app" in keys
