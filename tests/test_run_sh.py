"""``./run.sh demo`` (the README's first command) installs only what the demo needs.

Measured in a fresh clone on the 2-core machine: ``pip install -e .`` took 95 s and the dev
extras (pyspark, playwright, mypy, ...) 76 s more, which the demo never uses. run.sh is run
here against a stand-in ``.venv/bin/python`` that records its arguments.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fake_checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "clone"
    (repo / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "run.sh", repo / "run.sh")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (repo / "web").mkdir()
    (repo / "web" / "package-lock.json").write_text("{}")
    assets = repo / "src" / "tailwatch" / "report" / "assets"
    assets.mkdir(parents=True)
    (assets / ".built").write_text("")
    old = 1_600_000_000  # pyproject and the lock file older than anything run.sh writes
    for f in (repo / "pyproject.toml", repo / "web" / "package-lock.json"):
        os.utime(f, (old, old))
    log = repo / "calls.log"
    for name in ("python", "tailwatch"):
        exe = repo / ".venv" / "bin" / name
        exe.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return repo


def _run(repo: Path, *args: str) -> list[str]:
    log = repo / "calls.log"
    log.unlink(missing_ok=True)
    subprocess.run(["bash", str(repo / "run.sh"), *args], check=True, capture_output=True, timeout=60)
    return log.read_text().splitlines()


def test_demo_installs_the_package_without_dev_extras_once(tmp_path: Path) -> None:
    repo = _fake_checkout(tmp_path)
    calls = _run(repo, "demo", "--out", "x")
    assert "python -m pip install -q -e ." in calls
    assert not any("[dev]" in c for c in calls)
    assert calls[-1] == "tailwatch demo --out x"
    assert _run(repo, "demo") == ["tailwatch demo"]  # installed: straight to the demo
