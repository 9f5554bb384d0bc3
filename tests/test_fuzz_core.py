"""Property tests: any devlint.toml, pyproject.toml `[tool.devlint]` or JSONC text gives a
result or a clear error naming the file (and the line, where there is one), never a
traceback. (Framework files are fuzzed through the whole plan and the CLI in
test_fuzz_projects.py.) Example counts come from tests/fuzzing.py's profiles."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from devlint.config import ConfigError, load
from devlint.readers.jsonc import JsoncError, loads
from tests.fuzzing import CHEAP, FUZZ

KINDS = {"flask": {"app": ""}, "firebase": {"only": ""}, "angular": {"project": ""}}

toml_scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(alphabet=string.printable, max_size=20).map(json.dumps),
)
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=4).map(
    lambda xs: "[" + ", ".join(xs) + "]"), max_leaves=8)
keys = st.sampled_from(["kind", "port", "ports", "host", "path", "command", "app", "only", "prot", "x y"])


@st.composite
def toml_documents(draw: Any, prefix: str = "") -> str:
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(["api", "web", "fire base", "a.b", "é"]))
        lines.append(f"[{prefix}services.{json.dumps(name)}]")
        for _ in range(draw(st.integers(0, 5))):
            lines.append(f"{json.dumps(draw(keys))} = {draw(toml_values)}")
    if draw(st.booleans()):
        lines.insert(0, f"{prefix}disable_plugins = {draw(toml_values)}" if not prefix else
                     f"[{prefix.rstrip('.')}]\ndisable_plugins = {draw(toml_values)}")
    return "\n".join(lines) + "\n"


def check_config(tmp_path: Path, data: bytes, name: str = "devlint.toml") -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        config = load(path, "fuzz", KINDS)
    except ConfigError as exc:
        assert str(exc).startswith(f"{name}:"), str(exc)
        assert exc.key == "" or exc.line is not None, f"a key is named without its line: {exc}"
        assert len(exc.message) < 2000
        return
    for svc in config.services:
        for ep in svc.endpoints:
            assert 1 <= ep.port <= 65535 and not isinstance(ep.port, bool)


@FUZZ
@given(toml_documents())
def test_structured_devlint_toml(tmp_path: Path, text: str) -> None:
    check_config(tmp_path, text.encode("utf-8"))


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_devlint_toml(tmp_path: Path, data: bytes) -> None:
    check_config(tmp_path, data)


@FUZZ
@given(toml_documents(prefix="tool.devlint."), st.sampled_from(["", "[project]\nname = 'x'\n", "[tool.black]\n"]))
def test_structured_tool_devlint_in_pyproject(tmp_path: Path, text: str, before: str) -> None:
    check_config(tmp_path, (before + text).encode("utf-8"), "pyproject.toml")


@FUZZ
@given(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00"]), toml_documents(),
       st.sampled_from([b"", b"\x00", b"\xff", b"\r", b"\x1b[31m"]))
def test_boms_and_stray_bytes(tmp_path: Path, head: bytes, text: str, tail: bytes) -> None:
    check_config(tmp_path, head + text.encode("utf-8") + tail)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20)


@CHEAP
@given(json_values)
def test_jsonc_reads_every_json_document_like_json(value: Any) -> None:
    text = json.dumps(value, indent=1)
    assert loads(text).value == json.loads(text)
    commented = "// leading\n" + text.replace("\n", " /* c */\n", 1)
    assert loads(commented).value == json.loads(text)


@CHEAP
@given(st.text(max_size=200))
def test_jsonc_never_raises_anything_but_its_error(text: str) -> None:
    try:
        loads(text)
    except JsoncError as exc:
        assert exc.line >= 1 and exc.column >= 1


def test_jsonc_deep_nesting_is_an_error_not_a_crash() -> None:
    for depth in (300, 100_000):
        try:
            loads("[" * depth + "]" * depth)
        except JsoncError as exc:
            assert "nested deeper" in exc.msg
        else:
            raise AssertionError("accepted a document nested too deep")


def test_deeply_nested_toml_is_an_error_with_a_line(tmp_path: Path) -> None:
    """tomllib and tomli recurse per nesting level: RecursionError must become an error."""
    for name, head in (("devlint.toml", ""), ("pyproject.toml", "[tool.devlint]\n")):
        for depth in (2000, 100_000):
            for opening, closing in (("[", "]"), ("{a=", "}")):
                text = f"{head}# deep\nx = {opening * depth}1{closing * depth}\n"
                path = tmp_path / name
                path.write_text(text)
                try:
                    load(path, "fuzz", KINDS)
                except ConfigError as exc:
                    assert str(exc).startswith(f"{name}:") and exc.line is not None, str(exc)
                else:
                    raise AssertionError(f"accepted a {name} nested {depth} deep")


def test_huge_config_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "devlint.toml"
    path.write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n[services.api]\nport = 5000\n")
    try:
        load(path, "fuzz", KINDS)
    except ConfigError as exc:
        assert str(exc).startswith("devlint.toml: is larger than"), str(exc)
    else:
        raise AssertionError("read a 5 MB devlint.toml")
