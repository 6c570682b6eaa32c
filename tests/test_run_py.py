"""run.py on a fresh machine: one line per set-up step, pip's output in .venv/install.log."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import pytest

from tests.conftest import REPO

PIP_NOISE = [f"Collecting package-{n}" for n in range(200)]


def load_run_py(root: Path) -> ModuleType:
    """A fresh copy of run.py whose project is `root` (a pyproject.toml and no .venv yet)."""
    spec = importlib.util.spec_from_file_location("run_under_test", REPO / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    module.ROOT = root
    module.VENV = root / ".venv"
    module.INSTALL_LOG = module.VENV / "install.log"
    return module


class Pip:
    """Stands in for subprocess.run: writes pip-like output where run.py sends it."""

    def __init__(self, fail_on: str = "") -> None:
        self.fail_on = fail_on
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str], *, stdout: IO[str], stderr: int, **_: Any
                 ) -> subprocess.CompletedProcess[str]:
        assert stderr == subprocess.STDOUT  # one log, in the order pip wrote it
        self.commands.append(command)
        stdout.write("\n".join(PIP_NOISE) + "\n")
        if self.fail_on and self.fail_on in command:
            stdout.write("ERROR: No matching distribution found for fsrs>=6.0\n")
            return subprocess.CompletedProcess(command, 1)
        stdout.write("Successfully installed everything\n")
        return subprocess.CompletedProcess(command, 0)


def fake_venv(module: ModuleType) -> Callable[..., None]:
    def create(path: Path, with_pip: bool) -> None:
        python = module._python()
        python.parent.mkdir(parents=True)
        python.write_text("")

    return create


@pytest.fixture
def run_py(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = load_run_py(tmp_path)
    monkeypatch.setattr(module.venv, "create", fake_venv(module))
    return module


def test_a_first_run_prints_one_line_per_step_and_keeps_pips_output_in_the_log(
    run_py: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    pip = Pip()
    monkeypatch.setattr(run_py.subprocess, "run", pip)
    run_py.ensure_environment()
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.splitlines() == [
        "[1/3] creating .venv (once)...", "[2/3] upgrading pip...",
        "[3/3] installing studybot and its dependencies..."]
    log = run_py.INSTALL_LOG.read_text(encoding="utf-8")
    assert log.count("Collecting package-199") == 2 and "Successfully installed" in log
    assert [c[-1] for c in pip.commands] == ["pip", f"{run_py.ROOT}[test]"]


def test_a_failing_step_shows_the_end_of_pips_output_and_where_the_whole_log_is(
    run_py: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(run_py.subprocess, "run", Pip(fail_on="-e"))
    with pytest.raises(SystemExit) as stopped:
        run_py.ensure_environment()
    assert str(stopped.value) == ("installing studybot and its dependencies failed (exit status "
                                  f"1); the whole log is {run_py.INSTALL_LOG}")
    shown = capsys.readouterr().err
    assert shown.rstrip().endswith("ERROR: No matching distribution found for fsrs>=6.0")
    assert "Collecting package-199" in shown and "Collecting package-0\n" not in shown
    assert len(shown.splitlines()) == 3 + run_py.TAIL_LINES  # the progress lines and the tail
    assert not (run_py.VENV / ".installed").exists()  # so the next run tries again


@pytest.fixture
def set_up(run_py: ModuleType, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> ModuleType:
    """run.py after a first run that went well, its output already read."""
    monkeypatch.setattr(run_py.subprocess, "run", Pip())
    run_py.ensure_environment()
    capsys.readouterr()
    return run_py


def test_a_set_up_environment_runs_nothing_and_prints_nothing(
    set_up: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    run_py = set_up
    again = Pip()
    monkeypatch.setattr(run_py.subprocess, "run", again)
    assert run_py.ensure_environment() == run_py._python()
    assert again.commands == [] and capsys.readouterr().err == ""


def test_changed_dependencies_reinstall_in_two_steps_with_a_fresh_log(
    set_up: ModuleType, capsys: pytest.CaptureFixture[str],
) -> None:
    run_py = set_up
    (run_py.ROOT / "pyproject.toml").write_text("[project]\nname = 'y'\n", encoding="utf-8")
    run_py.ensure_environment()
    assert capsys.readouterr().err.splitlines() == [
        "[1/2] upgrading pip...", "[2/2] installing studybot and its dependencies..."]
    assert run_py.INSTALL_LOG.read_text(encoding="utf-8").count("Collecting package-0\n") == 2


def test_pip_that_cannot_be_started_is_a_clear_failure_not_a_traceback(
    run_py: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    def missing(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(2, "No such file or directory", command[0])

    monkeypatch.setattr(run_py.subprocess, "run", missing)
    with pytest.raises(SystemExit) as stopped:
        run_py.ensure_environment()
    assert str(stopped.value).startswith("upgrading pip failed")
    assert "No such file or directory" in capsys.readouterr().err


def test_run_py_imports_only_the_standard_library() -> None:
    tree = ast.parse((REPO / "run.py").read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - {"__future__"} <= sys.stdlib_module_names
