"""The built wheel in a fresh virtual environment, as another project installs it (slow: it builds
the wheel and installs its dependencies from the package index, or pip's cache).

* building it prints no deprecation warning (``project.license`` as a table was one);
* ``severa-sandbox demo`` runs from the installed package and exits 0;
* in a new project with only the wheel and pytest: ``pytest --fixtures`` shows a docstring for
  every fixture of the plugin, and the README's example test passes, in-process and with
  ``--sim-mode=server``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.test_pytest_plugin import PLUGIN_FIXTURES
from tests.sandbox.test_readme import README, ROOT, marked_blocks

pytestmark = pytest.mark.slow


def _run(argv: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PYTEST_"))}
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment with the wheel built from this checkout (and pytest)."""
    where = tmp_path_factory.mktemp("wheel")
    source = where / "source"  # a copy: building writes build/ and *.egg-info next to the sources
    ignored = (".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*ignored))
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(where / "dist"), str(source)], where
    )
    assert built.returncode == 0, built.stdout + built.stderr
    for noise in ("deprecat", "BuildBackendWarning", "SetuptoolsWarning"):
        assert noise.lower() not in (built.stdout + built.stderr).lower(), built.stdout + built.stderr
    [wheel] = (where / "dist").glob("severa_sandbox-*.whl")
    venv = where / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], where)
    assert made.returncode == 0, made.stderr
    pip = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel), "pytest"], where)
    if pip.returncode != 0 and "No matching distribution" in pip.stderr + pip.stdout:
        pytest.skip(f"the package index cannot be reached to install the dependencies: {pip.stderr[-300:]}")
    assert pip.returncode == 0, pip.stdout + pip.stderr
    yield venv


def test_the_installed_demo_runs(installed: Path, tmp_path: Path) -> None:
    result = _run([str(installed / "bin" / "severa-sandbox"), "demo"], tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "demo finished" in result.stdout
    assert "Traceback" not in result.stderr


def test_another_project_gets_the_fixtures_documented_and_the_readme_example_passes(
    installed: Path, tmp_path: Path
) -> None:
    [example] = [b for b in marked_blocks(README.read_text(encoding="utf-8")) if b.kind == "example-test"]
    (tmp_path / example.name).write_text(example.text + "\n", encoding="utf-8")
    pytest_bin = str(installed / "bin" / "pytest")

    fixtures = _run([pytest_bin, "--fixtures", "-p", "no:cacheprovider"], tmp_path, timeout=300)
    assert fixtures.returncode == 0, fixtures.stdout + fixtures.stderr
    text = fixtures.stdout
    section = text[text.index("fixtures defined from sandbox.pytest_plugin") :]
    for name in PLUGIN_FIXTURES:
        match = re.search(rf"^{name}( -- .*)?\n(.*)$", section, re.MULTILINE)
        assert match and match.group(2).strip(), f"{name}: {match and match.group(2)!r}"
        assert "no docstring available" not in match.group(2), name

    for extra in ([], ["--sim-mode=server"]):
        run = _run([pytest_bin, "-q", "-p", "no:cacheprovider", *extra], tmp_path, timeout=600)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
        assert re.search(r"\b5 passed\b", run.stdout), run.stdout[-500:]
