"""Real `ng serve` (Angular CLI 21) with a proxy to the Flask API, through `devlint run --`.

The copy's angular.json and proxy.conf.json are rewritten to free ports. Clear: the dev
server starts and its proxy reaches Flask. Port held: refused, holder named. Proxy target
on a port no service of the stack listens on: DL202, before anything starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator, Tuple

import pytest
import stacks

pytestmark = pytest.mark.integration

NG_SERVE = ["run", "--", "ng", "serve"]


@pytest.fixture(autouse=True)
def _stop_leftovers() -> Iterator[None]:
    yield
    stacks.stop_all()


@pytest.fixture
def web(tmp_path: Path) -> Tuple[Path, int, int, dict[str, str]]:
    """(stack copy, web port, api port, env): the Angular app proxies /api to the api port."""
    stacks.require_tool("ng")
    stack = stacks.copy_stack(tmp_path)
    web_port, api_port = stacks.free_ports(2)
    stacks.set_web_port(stack, web_port)
    stacks.set_flask_port(stack, api_port)
    stacks.set_cors_origin(stack, f"http://localhost:{web_port}")
    return stack, web_port, api_port, stacks.stack_env(stack, tmp_path)


def test_clear_port_starts_ng_serve_and_its_proxy_reaches_flask(
    web: Tuple[Path, int, int, dict[str, str]],
) -> None:
    stacks.require_tool("flask")
    stack, web_port, api_port, env = web
    api = stacks.start([*stacks.DEVLINT, "run", "--", "flask", "run"], stack / "backend", env, log_dir=stack)
    ng = stacks.start([*stacks.DEVLINT, *NG_SERVE], stack / "frontend", env, log_dir=stack)
    with stacks.started(api), stacks.started(ng):
        stacks.wait_for_http(f"http://127.0.0.1:{api_port}/health", timeout=30, proc=api)
        index = stacks.wait_for_http(f"http://localhost:{web_port}/", timeout=120, proc=ng)
        assert index.status == 200 and "<app-root" in index.text, index.text[:500]
        proxied = stacks.http_request(f"http://localhost:{web_port}/api/health")
        assert proxied.status == 200 and '"ok"' in proxied.text, proxied.text
        assert "devlint:" not in ng.output(), ng.output()


def test_held_port_is_refused_and_the_holder_named(web: Tuple[Path, int, int, dict[str, str]]) -> None:
    stack, web_port, _, env = web
    with stacks.hold("127.0.0.1", web_port):
        refusal = stacks.devlint_refuses(NG_SERVE, stack / "frontend", env)
        assert "DL101" in refusal.stderr, refusal.stderr
        assert f"pid {os.getpid()}" in refusal.stderr, refusal.stderr
        assert stacks.listener_pids(web_port) == {os.getpid()}  # ng serve never ran


def test_proxy_to_a_port_no_backend_uses_is_refused_before_launch(
    web: Tuple[Path, int, int, dict[str, str]],
) -> None:
    stack, web_port, api_port, env = web
    wrong = stacks.free_port(avoid=[web_port, api_port])
    stacks.replace_in_file(stack / "frontend" / "proxy.conf.json", f":{api_port}", f":{wrong}")
    refusal = stacks.devlint_refuses(NG_SERVE, stack / "frontend", env)
    assert "DL202" in refusal.stderr, refusal.stderr
    assert f"points at port {wrong}" in refusal.text, refusal.stderr
    assert f"api on {api_port}" in refusal.text, refusal.stderr  # the backend it could have meant
    assert stacks.port_is_free(web_port)  # nothing started
