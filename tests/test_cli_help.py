"""``tailwatch --help`` lists each command with a one-line summary.

Found walking the README: the command list showed ``demo`` and ``verify`` with a hard line
break in the middle of their summary (the docstring's first paragraph spanned two lines).
"""

from __future__ import annotations

import typer

from tailwatch.cli.main import _register, app


def _commands(group: object, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for name, sub in getattr(group, "commands", {}).items():
        out.append((prefix + name, (sub.help or "").strip()))
        out.extend(_commands(sub, prefix + name + " "))
    return out


def test_every_command_has_a_one_line_summary() -> None:
    _register()
    commands = _commands(typer.main.get_command(app))
    assert {"demo", "verify", "report", "legs", "ingest"} <= {n for n, _ in commands}
    for name, text in commands:
        summary = text.split("\n\n")[0]
        assert summary and "\n" not in summary, f"{name}: {summary!r}"

