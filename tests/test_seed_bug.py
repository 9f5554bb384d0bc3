"""The bug devlint was made for, in a real browser.

An impostor (what macOS AirPlay Receiver is on *:5000) listens on [::]:P with IPV6_V6ONLY
and answers 403 `Server: AirTunes`. Real Flask with flask-cors binds 127.0.0.1:P without a
word. A page on http://localhost:W POSTs JSON to http://localhost:P: headless Chromium tries
::1 first, its preflight reaches the impostor, and the fetch fails. devlint refuses to start
Flask there, names the impostor's pid and suggests a port; on that port the same page works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import stacks

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _stop_leftovers() -> Iterator[None]:
    yield
    stacks.stop_all()


def test_seed_bug_in_chromium_and_devlints_fix(tmp_path: Path) -> None:
    stacks.require_tool("chromium")
    flask = stacks.require_tool("flask")
    stack = stacks.copy_stack(tmp_path)
    backend = stack / "backend"
    env = stacks.stack_env(stack, tmp_path)
    api_port, page_port = stacks.free_ports(2)
    stacks.set_flask_port(stack, api_port)
    page_origin = f"http://localhost:{page_port}"
    stacks.set_cors_origin(stack, page_origin)  # CORS is right: only the port is wrong
    site = tmp_path / "site"
    stacks.write_seed_page(site, f"http://localhost:{api_port}/sample")
    stacks.serve_directory(site, page_port)
    page = f"{page_origin}/index.html"

    # The bug: Flask started directly (no devlint) next to the impostor. Both binds succeed.
    impostor = stacks.impostor(api_port, log_dir=tmp_path)
    with stacks.started(stacks.start([*flask, "run"], backend, env, log_dir=tmp_path)) as direct:
        health = stacks.wait_for_http(f"http://127.0.0.1:{api_port}/health", timeout=30, proc=direct)
        assert health.status == 200 and "Werkzeug" in health.headers.get("Server", "")
        outcome, run = stacks.browser_fetch_outcome(page, tmp_path / "profile-bug")
        assert outcome.startswith("FAILED"), f"{outcome}\n{run.console[-2000:]}"
        assert "Response to preflight request doesn't pass access control check" in run.console, run.console
        assert "OPTIONS /sample from ::1" in impostor.output(), impostor.output()
        assert "/sample" not in direct.output()  # the preflight never reached Flask

    # devlint refuses before launch, names the impostor, and suggests a port.
    refusal = stacks.devlint_refuses(["run", "--format", "json", "--", "flask", "run"], backend, env)
    report = refusal.json()
    findings: list[Dict[str, Any]] = report["findings"]  # type: ignore[assignment]
    (shadowed,) = [f for f in findings if f["code"] == "DL102"]
    assert f"pid {impostor.pid}" in shadowed["message"], shadowed
    assert [lst["pid"] for lst in shadowed["evidence"]["listeners"]] == [impostor.pid]
    suggested = shadowed["evidence"]["suggested_port"]
    assert isinstance(suggested, int) and suggested != api_port, shadowed
    assert impostor.popen.poll() is None  # devlint explains, it never stops the culprit

    # Flask on the suggested port, through devlint: the same page's fetch succeeds.
    stacks.set_flask_port(stack, suggested, old=api_port)
    stacks.write_seed_page(site, f"http://localhost:{suggested}/sample")
    command = [*stacks.DEVLINT, "run", "--", "flask", "run"]
    with stacks.started(stacks.start(command, backend, env, log_dir=tmp_path)) as fixed:
        stacks.wait_for_http(f"http://127.0.0.1:{suggested}/health", timeout=30, proc=fixed)
        outcome, run = stacks.browser_fetch_outcome(page, tmp_path / "profile-fixed")
        assert outcome.startswith("OK 200"), f"{outcome}\n{run.console[-2000:]}"
        assert '"server":"flask"' in outcome.replace(" ", ""), outcome
