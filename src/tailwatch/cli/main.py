"""The ``tailwatch`` command: one Typer app, each command group in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tailwatch",
    help="Turn ADS-B / Mode S data into evidence about military and government aircraft.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _register() -> None:
    # Each module adds its commands to ``app``; imported here, not at package import.
    # Keep one line per module, sorted.
    from tailwatch.cli import aircraft; aircraft.register(app)  # noqa: E702, I001
    from tailwatch.cli import decode; decode.register(app)  # noqa: E702, I001
    from tailwatch.cli import demo; demo.register(app)  # noqa: E702, I001
    from tailwatch.cli import findings; findings.register(app)  # noqa: E702, I001
    from tailwatch.cli import formats; formats.register(app)  # noqa: E702, I001
    from tailwatch.cli import ingest; ingest.register(app)  # noqa: E702, I001
    from tailwatch.cli import legs; legs.register(app)  # noqa: E702, I001
    from tailwatch.cli import report; report.register(app)  # noqa: E702, I001
    from tailwatch.cli import simulate; simulate.register(app)  # noqa: E702, I001
    from tailwatch.cli import spark; spark.register(app)  # noqa: E702, I001
    from tailwatch.cli import verify; verify.register(app)  # noqa: E702, I001


def main() -> None:
    """Entry point of the console script.

    tailwatch's own errors (bad input as a whole, a missing database or store, missing
    report assets) end the command with their message and exit code 2, not a traceback.
    """
    import sys

    from tailwatch.cli.process import tune_allocator
    from tailwatch.errors import TailwatchError

    tune_allocator()
    _register()
    try:
        app(standalone_mode=True)
    except TailwatchError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
