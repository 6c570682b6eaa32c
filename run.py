#!/usr/bin/env python3
"""One command on a fresh machine with Python 3.11+: sets up .venv, then runs studybot.

    python3 run.py              the bot in the terminal (console adapter, no token needed)
    python3 run.py test         the whole test suite
    python3 run.py ARGS...      any `studybot` command, e.g. `content check`
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"


def _python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


# pip's whole output goes here, not to the terminal; its end is shown only when a step fails.
INSTALL_LOG = VENV / "install.log"
TAIL_LINES = 25


def ensure_environment() -> Path:
    """Create .venv and install the project with its test extras, again only when they change.

    One line per step on stderr; what pip says is kept in .venv/install.log.
    """
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must also run on old Pythons
        sys.exit(f"studybot needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    python = _python()
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".installed"
    create = not python.exists()
    if not create and stamp.exists() and stamp.read_text() == wanted:
        return python
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    steps = [("upgrading pip", [*pip, "--upgrade", "pip"]),
             ("installing studybot and its dependencies", [*pip, "-e", f"{ROOT}[test]"])]
    total = len(steps) + create
    if create:
        _progress(1, total, "creating .venv (once)")
        try:
            venv.create(VENV, with_pip=True)
        except Exception as error:
            sys.exit(f"could not create .venv ({error}); "
                     "on Debian/Ubuntu: apt install python3-venv")
    INSTALL_LOG.write_text("", encoding="utf-8")  # this install's log only
    for number, (label, command) in enumerate(steps, start=1 + create):
        _progress(number, total, label)
        _logged(label, command)
    stamp.write_text(wanted)
    return python


def _progress(number: int, total: int, label: str) -> None:
    print(f"[{number}/{total}] {label}...", file=sys.stderr, flush=True)


def _logged(label: str, command: list[str]) -> None:
    """Run one step with its output appended to INSTALL_LOG; on failure, its tail and exit."""
    with INSTALL_LOG.open("a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        try:
            code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, check=False).returncode
        except OSError as error:
            log.write(f"{error}\n")
            code = -1
    if code == 0:
        return
    lines = INSTALL_LOG.read_text(encoding="utf-8", errors="replace").splitlines()
    print("\n".join(lines[-TAIL_LINES:]), file=sys.stderr)
    sys.exit(f"{label} failed (exit status {code}); the whole log is {INSTALL_LOG}")


def main(argv: list[str]) -> int:
    python = ensure_environment()
    os.chdir(ROOT)
    if argv[:1] == ["test"]:
        command = [str(python), "-m", "pytest", *argv[1:]]
    else:
        command = [str(python), "-m", "bot", *(argv or ["console"])]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
