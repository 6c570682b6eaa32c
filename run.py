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


def ensure_environment() -> Path:
    """Create .venv and install the project with its test extras, again only when they change."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must also run on old Pythons
        sys.exit(f"studybot needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    python = _python()
    if not python.exists():
        print("Setting up .venv (once)...", file=sys.stderr)
        try:
            venv.create(VENV, with_pip=True)
        except Exception as error:
            sys.exit(f"could not create .venv ({error}); "
                     "on Debian/Ubuntu: apt install python3-venv")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".installed"
    if not stamp.exists() or stamp.read_text() != wanted:
        print("Installing dependencies...", file=sys.stderr)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
        stamp.write_text(wanted)
    return python


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
