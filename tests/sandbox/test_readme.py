"""The README as a new user meets it: its runnable shell blocks work, copied line by line, and print
what the README says they print; its example test passes in another project; every actor of the
fakes' control plane is documented there.

Blocks are marked in the README with HTML comments just above the fence:

* ``<!-- runnable -->`` over a ```` ```sh ```` block: run, in order, in one bash (``set -e``);
* ``<!-- output -->`` over a ```` ```text ```` block: lines the runnable block before it must print
  (whitespace runs count as one space; ``…`` stands for any text);
* ``<!-- example-test: NAME.py -->`` over a ```` ```python ```` block: a test file for another project.

The fakes' usual ports (8701 ... 8704, SMTP 8025) are replaced by free ones, and the bridge is told
about them with ``$SEVERA_BRIDGE_CONFIG`` (a ``bridge.toml`` of base URLs only), so the run never
meets fakes a developer left running.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.services import SERVICES

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
USUAL_PORTS = {"8701": "severa", "8702": "maventa", "8703": "maestro", "8704": "mailbox", "8025": "smtp"}


@dataclass
class Block:
    kind: str  # "runnable" | "output" | "example-test"
    text: str
    line: int
    name: str = ""


@dataclass
class Step:
    script: Block
    expected: list[Block] = field(default_factory=list)


def marked_blocks(text: str) -> list[Block]:
    pattern = re.compile(
        r"<!-- (runnable|output|example-test)(?::\s*(\S+))? -->\n```[a-z]*\n(.*?)\n```", re.DOTALL
    )
    return [
        Block(m.group(1), m.group(3), text.count("\n", 0, m.start()) + 1, m.group(2) or "")
        for m in pattern.finditer(text)
    ]


def steps() -> list[Step]:
    out: list[Step] = []
    for block in marked_blocks(README.read_text(encoding="utf-8")):
        if block.kind == "runnable":
            out.append(Step(block))
        elif block.kind == "output":
            assert out, f"README.md:{block.line}: an output block before any runnable block"
            out[-1].expected.append(block)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _matches(expected: str, output: str) -> bool:
    want = " ".join(expected.split())
    regex = ".*?".join(re.escape(part) for part in want.split("…"))
    return any(re.search(regex, " ".join(line.split())) for line in output.splitlines())


def test_the_readme_marks_its_guides_and_its_example() -> None:
    found = steps()
    assert len(found) >= 4, "the README lost its runnable blocks"
    assert all(step.expected for step in found), [s.script.line for s in found if not s.expected]
    commands = "\n".join(s.script.text for s in found)
    for needed in (
        "serve severa",
        "maestro preflight",
        "maestro audit-codes",
        "maventa register",
        "sync",
        "reset --yes",
    ):
        assert needed in commands, needed
    assert [
        b.name for b in marked_blocks(README.read_text(encoding="utf-8")) if b.kind == "example-test"
    ] == ["test_with_severa_sandbox.py"]


def test_the_readme_runnable_blocks_work_against_served_fakes(tmp_path: Path) -> None:
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").is_file() or not (venv / "bin" / "severa-sandbox").exists():
        pytest.skip(f"needs a virtual environment with severa-sandbox installed (this is {venv})")
    (tmp_path / ".venv").symlink_to(venv)  # the README's `. .venv/bin/activate` from the project root
    ports = {usual: str(_free_port()) for usual in USUAL_PORTS}

    def local(text: str) -> str:
        for usual, port in ports.items():
            text = re.sub(rf"(?<![0-9]){usual}(?![0-9])", port, text)
        return text

    (tmp_path / "bridge.toml").write_text(
        f'[severa]\nbase_url = "http://127.0.0.1:{ports["8701"]}/rest-api"\n'
        f'[maventa]\nbase_url = "http://127.0.0.1:{ports["8702"]}"\n'
        f'[maestro]\nbase_url = "http://127.0.0.1:{ports["8703"]}/api"\n'
        f"[smtp]\nport = {ports['8025']}\n",
        encoding="utf-8",
    )
    wait_for_fakes = "\n".join(
        f"for i in $(seq 100); do curl -sf localhost:{ports[usual]}/_sim/ > /dev/null && break; sleep 0.1; done"
        for usual in ("8701", "8702", "8703", "8704")
    )
    script = ["set -e"]
    for n, step in enumerate(steps()):
        script.append(f"echo '@@ block {n} @@'")
        script.append(local(step.script.text))
        if "severa-sandbox serve" in step.script.text:
            script.append(wait_for_fakes)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SEVERA_", "MAVENTA_", "MAESTRO_", "SMTP_", "VIRTUAL_ENV", "PYTEST_"))
    }
    env.update(SEVERA_BRIDGE_CONFIG="bridge.toml", PYTHONUNBUFFERED="1", COLUMNS="200")
    proc = subprocess.Popen(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"the README's blocks did not finish in 240 s; they printed:\n{output}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the fakes, should a block have failed before `kill`
        except ProcessLookupError:
            pass
    segments = re.split(r"^@@ block (\d+) @@$", output, flags=re.MULTILINE)
    assert proc.returncode == 0, f"a runnable block failed (exit {proc.returncode}); output:\n{output}"
    by_block = {int(segments[i]): segments[i + 1] for i in range(1, len(segments) - 1, 2)}
    for n, step in enumerate(steps()):
        printed = "".join(by_block.get(k, "") for k in range(n, len(by_block)))  # the fakes print late
        for expected in step.expected:
            for line in filter(str.strip, local(expected.text).splitlines()):
                assert _matches(line, printed), (
                    f"README.md:{expected.line}: the block at line {step.script.line} did not print\n  {line}\n"
                    f"it printed:\n{by_block.get(n, '')}"
                )
    assert "Traceback" not in output


def test_the_readme_example_test_passes_in_another_project(pytester: pytest.Pytester) -> None:
    [example] = [b for b in marked_blocks(README.read_text(encoding="utf-8")) if b.kind == "example-test"]
    pytester.makepyfile(**{Path(example.name).stem: example.text})
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    server = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "--sim-mode=server")
    server.assert_outcomes(passed=5)


def test_every_actor_of_every_fake_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = []
    for name, entry in SERVICES.items():
        sim = entry.create()
        with sim.client() as http:
            routes = http.get("/_sim/routes").json()["routes"]
        for route in routes:
            if not route["path"].startswith("/_sim"):
                continue
            for method in route["methods"]:
                if f"{method} {route['path']}" not in text:
                    missing.append(f"{name}: {method} {route['path']}")
    assert not missing, f"not documented in README.md: {missing}"


def test_the_python_api_page_covers_the_control_api() -> None:
    from sandbox.journal_assertions import JournalAssertions
    from scenarios.world import World
    from simulators.kit import Simulator
    from simulators.mailbox import MailboxSimulator

    page = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    hooks = {  # what a service implements, not what a user calls
        "build_state", "export_data", "import_data", "register_routes", "register_actors", "error_response",
        "rate_limited_response", "tenant_of", "secret_values", "normalize_path", "describe", "on_clock_moved",
        "default_preset", "presets", "state_version", "max_json_depth", "id_namespace", "invalid_text_response",
        "legacy_id_counter", "blueprint", "actors",
    }  # fmt: skip
    public = {n for n in dir(Simulator) if not n.startswith("_")} - hooks
    missing = sorted(n for n in public if f"sim.{n}" not in page)
    for cls, prefix, names in (
        (MailboxSimulator, "box.", ("find", "get", "clear", "start_smtp", "stop_smtp", "smtp_port")),
        (JournalAssertions, "journal.", ("assert_called", "assert_not_called", "calls")),
    ):
        missing += [f"{cls.__name__}.{n}" for n in names if f"{prefix}{n}" not in page or not hasattr(cls, n)]
    # every world call the page names exists
    missing += [f"World.{n}" for n in re.findall(r"`world\.([a-z_]+)\(", page) if not hasattr(World, n)]
    assert not missing, f"docs/python-api.md: {missing}"


def test_every_control_route_and_actor_says_what_it_does_and_its_body() -> None:
    """`GET /_sim/routes` is where a user finds an actor: each one has its text and its body."""
    for name, entry in SERVICES.items():
        sim = entry.create()
        with sim.client() as http:
            routes = http.get("/_sim/routes").json()["routes"]
        sim_routes = [r for r in routes if r["path"].startswith("/_sim")]
        assert {r["kind"] for r in sim_routes} == {"control", "actor"}, name
        assert {r["kind"] for r in routes if r not in sim_routes} == {"api"}, name
        for r in sim_routes:
            assert r["doc"], f"{name}: {r['methods']} {r['path']} says nothing about what it does"
            assert "body" in r, f"{name}: {r['path']}"
        bodies = {(tuple(r["methods"]), r["path"]): r["body"] for r in sim_routes}
        if name == "severa":
            assert "isSent" in bodies[(("PATCH",), "/_sim/severa/statuses/{status}")]
            assert '"rows"' in bodies[(("POST",), "/_sim/severa/invoices")]
        if name == "maventa":
            assert bodies[(("POST",), "/_sim/companies/{company_id}/authorization/sign")] is None
            assert '"message"' in bodies[(("POST",), "/_sim/invoices/{invoice_id}/fail")]
