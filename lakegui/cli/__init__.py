"""`lakegui-cli`: headless commands over the same core as the GUI.

Each command group is a module here with an `add_parser(sub)`; they share only `common`,
and never import each other. Parsing comes first and imports nothing heavy: a command
imports boto3, botocore or pyarrow when it runs, so `--version`, `--help` and a usage
error answer at once.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import (
    backfill,
    check,
    completion,
    coverage,
    demo,
    listing,
    preview,
    query,
    reorganise,
    schema,
    sync,
    transfers,
    versions,
)
from .common import EXIT_USAGE, command_word, run_json, unknown_arguments, unknown_command

COMMAND_MODULES = (demo, listing, preview, transfers, backfill, coverage, query, schema, sync, check, versions,
                   reorganise, completion)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI's parser: every command in full, or, given `command`, only that one in full and the
    others as their name and one-line help (what `--help` and the unknown-command check read):
    building every command's options costs more than a short command's whole run (12-18 ms)."""
    p = argparse.ArgumentParser(prog="lakegui-cli", description="Headless lakegui commands.",
                                epilog="example:\n  lakegui-cli ls s3://BUCKET/PREFIX/ --endpoint-url "
                                       "http://127.0.0.1:9000\n  lakegui-cli COMMAND --help",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"lakegui-cli {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    target = sub if command is None else _OnlyCommand(sub, command)
    for module in COMMAND_MODULES:
        module.add_parser(target)
    return p


class _OnlyCommand:
    """The subparsers as a command module sees them when only `command` is built: every other
    command is only a name and its help, as argparse's add_parser records them, with no parser
    (a parser each would cost half of what was saved), and what the module adds to it is dropped."""

    def __init__(self, sub, command: str):
        self._sub, self._command = sub, command

    def add_parser(self, name: str, **kwargs):
        if name == self._command:
            return self._sub.add_parser(name, **kwargs)
        if "help" in kwargs:
            self._sub._choices_actions.append(self._sub._ChoicesPseudoAction(name, (), kwargs["help"]))
        self._sub._name_parser_map[name] = None  # never parsed: the command word is another
        return _Dropped()


class _Dropped:
    """Takes any call (add_argument, add_argument_group, set_defaults, ...) and drops it."""

    def __getattr__(self, name):
        return self._take

    def _take(self, *args, **kwargs):
        return self


# Library warnings (urllib3's retries name whole request URLs) belong in the log file, never on
# the terminal, where the CLI prints its own one-line messages. Without a handler of its own the
# root logger would print them through logging's last resort when the log file cannot be opened.
_SILENT = None
# The exit code of a writer whose reader closed the pipe (`| head`): a shell's 128 + SIGPIPE, as
# `yes | head` reports it in PIPESTATUS, and never an error line.
EXIT_PIPE = 128 + 13


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    word = command_word(argv)
    # `completion` writes every command's options into its script: it needs them all.
    parser = build_parser(None if word == "completion" else word)
    if (code := unknown_command(parser, argv)) is not None:
        return code
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 for --help/--version
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        if extra:
            return unknown_arguments(parser, extra)
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if extra:
        choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
        return unknown_arguments(choices[args.command], extra)
    import logging

    from ..core import logs

    global _SILENT
    _SILENT = _SILENT or logging.NullHandler()
    logging.getLogger().addHandler(_SILENT)
    logging.captureWarnings(True)  # warnings.warn (urllib3's InsecureRequestWarning) to the log too
    logs.setup(console_level=None)  # the file keeps the detail
    args.root_parser = parser  # for `completion`, which writes every command's options into its script
    try:
        code = run_json(args.func, args) if getattr(args, "json", False) else args.func(args)
        sys.stdout.flush()  # here, not at exit: a reader that closed the pipe is met inside this try
        return code
    except BrokenPipeError:  # `| head` read what it wanted: stop quietly, as other tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor a traceback at exit's flush
        return EXIT_PIPE


if __name__ == "__main__":
    sys.exit(main())
