"""The JavaScript reader on hostile proxy.conf.js text: it finishes, and its lines are right.

A proxy.conf.js made to be slow (one const used thousands of times took 27 s: each use was
read again) must be read in time linear in its size; the inputs below are each large enough
that a quadratic reader would take minutes (the const case: 20,000 uses of a 2,000-key
object, about 40 million values read before the fix, over the 120 s guard). They run in one
child process with runner.run's timeout as the hang guard (the suite has no pytest-timeout);
the tests assert what was read, never how long it took.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from devlint.readers.js import Opaque, read_export
from devlint.readers.js_tokens import tokenize
from tests.runner import run

N = 20_000

# name → (source text, what the child reports about it); {n} is N.
CHILD = r"""
import json, sys
from devlint.readers.js import Opaque, read_export

n = int(sys.argv[1])
shared = "const common = {target: 'http://127.0.0.1:5000', headers: {" + ", ".join(
    f"h{i}: 'v'" for i in range(2000)) + "}};\n"
cases = {
    "const used everywhere": shared + "module.exports = {\n" + "".join(
        f"  '/r{i}': common,\n" for i in range(n)) + "};\n",
    "deep nesting": "module.exports = " + "[" * n + "]" * n + ";\n",
    "unclosed nesting": "module.exports = {a: " + "{a: [" * n + "\n",
    "long concatenation": "module.exports = {'/api': {target: " + " + ".join(["'a'"] * n) + "}};\n",
    "many keys": "module.exports = {" + ", ".join(f"'/k{i}': {{target: 'http://localhost:{i % 60000 + 1}'}}"
                                                 for i in range(n)) + "};\n",
    "comment runs": "/* c */ // d\n" * n + "module.exports = {'/api': {target: 'http://localhost:5000'}};\n",
    "unclosed template": "module.exports = `" + "${" * n + "\n",
    "regex-like text": "module.exports = [" + "/a[/]/g, " * n + "];\n",
    "const chain": "".join(f"const c{i} = c{i - 1};\n" for i in range(1, n)) + "const c0 = 5000;\n"
                   + f"module.exports = {{'/api': {{target: c{n - 1}}}}};\n",
}
out = {}
for name, text in cases.items():
    value, reader, problem = read_export(text)
    out[name] = {"type": type(value).__name__, "size": len(value) if isinstance(value, (dict, list)) else None,
                 "problem": problem.message if problem else None,
                 "last_target_line": reader.line(f"/r{n - 1}", "target") if name == "const used everywhere" else None,
                 "opaque": str(value) if isinstance(value, Opaque) else None,
                 "first": repr(next(iter(value.values())))[:200] if isinstance(value, dict) and value else None}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def hostile() -> Dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    result = run([sys.executable, "-c", CHILD, str(N)], cwd=root, env={"PYTHONPATH": str(root)}, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    data: Dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_const_used_thousands_of_times_is_read_once_and_named_at_its_line(hostile: Dict[str, Any]) -> None:
    case = hostile["const used everywhere"]
    assert case["type"] == "dict" and case["size"] == N
    assert case["last_target_line"] == 1  # where `target:` is written: in the const, line 1
    assert "'target': 'http://127.0.0.1:5000'" in case["first"]


def test_deep_and_unclosed_nesting_end_without_recursion_errors(hostile: Dict[str, Any]) -> None:
    assert hostile["deep nesting"]["type"] == "list"
    assert hostile["unclosed nesting"]["type"] == "dict"


def test_long_concatenation_is_computed_text_cut_to_a_line(hostile: Dict[str, Any]) -> None:
    case = hostile["long concatenation"]
    assert case["type"] == "dict"
    assert "Opaque(text=\"'a' + 'a'" in case["first"] and "...\"" in case["first"]


@pytest.mark.parametrize("name", ["many keys", "comment runs", "regex-like text", "const chain"])
def test_large_inputs_are_read_in_full(hostile: Dict[str, Any], name: str) -> None:
    case = hostile[name]
    assert case["problem"] is None
    assert case["type"] in ("dict", "list")
    assert case["size"] == {"many keys": N, "comment runs": 1, "regex-like text": N, "const chain": 1}[name]


def test_an_unclosed_template_is_one_computed_value_to_the_end(hostile: Dict[str, Any]) -> None:
    case = hostile["unclosed template"]
    assert case["type"] == "Opaque" and case["opaque"].startswith("`${${")  # `${` makes it computed


def test_a_use_of_a_const_inside_a_const_is_named_at_the_inner_line() -> None:
    text = ("const backend = {\n  target: 'http://localhost:5000',\n};\n"
            "const routes = {\n  '/api': backend,\n  '/auth': backend,\n};\n"
            "module.exports = routes;\n")
    value, reader, problem = read_export(text)
    assert problem is None
    assert value == {"/api": {"target": "http://localhost:5000"}, "/auth": {"target": "http://localhost:5000"}}
    assert reader.line("/auth") == 6 and reader.line("/auth", "target") == 2 and reader.line() == 8


def test_a_const_cycle_is_cut_not_followed() -> None:
    value, _, _ = read_export("const a = [b];\nconst b = [a];\nmodule.exports = {x: a, y: b};\n")
    assert isinstance(value["x"][0][0], Opaque) and isinstance(value["y"][0][0], Opaque)


# -- line continuations in strings ------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_lines_after_a_line_continuation_in_a_string_are_right(newline: str) -> None:
    text = newline.join([
        "module.exports = {",
        "  '/a': {target: 'http://local\\",
        "host:5001'},",
        "  \"/b\": {target: \"http://localhost:\\",
        "5002\"},",
        "  '/c': {target: 'http://localhost:5003'},",
        "};",
    ])
    value, reader, problem = read_export(text)
    assert problem is None
    assert [entry["target"] for entry in value.values()] == [
        "http://localhost:5001", "http://localhost:5002", "http://localhost:5003"]
    assert [reader.line(key, "target") for key in ("/a", "/b", "/c")] == [2, 4, 6]
    assert tokenize(text)[-1].line == 7  # the end is on the last line


def test_a_proxy_finding_after_a_continued_string_names_the_right_line(tmp_path: Path) -> None:
    from devlint_plugins.angular.proxy import read_proxy

    from devlint.project import Project

    (tmp_path / "proxy.conf.js").write_text(
        "module.exports = {\n  '/a': {target: 'http://x\\\ny:5001'},\n  '/b': {target: 'localhost:5002'},\n};\n")
    read = read_proxy(Project(tmp_path, env={}), "proxy.conf.js", ".", "web")
    (finding,) = read.findings
    assert finding.code == "DL607" and finding.message.startswith("proxy.conf.js:4: proxy /b")
