"""``python -m optimizer ...``: the command line, built from one module per subcommand.

Each module in ``COMMANDS`` defines ``add_parser(subparsers)`` (which registers its arguments
and sets ``func``) and a handler ``func(args) -> int``. Bad input raises ``UsageError`` (or
``ValueError``) and is printed as one line, with no traceback, and a non-zero exit status.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

# Subcommand modules, in the order `--help` lists them.
COMMANDS = ("models", "techniques", "recommend", "run", "report", "check", "search", "history",
            "show", "inspect", "readiness", "bench", "worker", "cluster", "export")


class UsageError(Exception):
    """Unusable input: the message is one line naming the cause and the fix."""


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line naming the fix (no usage block), exit status 2.

    Subcommand parsers inherit this class (``add_subparsers`` uses the parent's type).
    """

    def error(self, message: str):
        self.exit(2, f"error: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="python -m optimizer",
        description="Recommend, run and measure LiteRT model optimizations.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue  # a subcommand not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UsageError, ValueError, FileNotFoundError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        from optimizer.artifacts import space

        if not space.is_no_space(exc):
            raise
        where = exc.filename or "."
        print(f"error: {space.no_space_message(Path(str(where)).parent, None)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
