"""``fakehw certify``: the conformance certification of any driver, from the fakehw command.

fakehw imports neither kubernetes nor grpc (an import-linter contract), and the suite needs
both, so this command runs ``dra-conformance certify`` in a child process of the same Python
(``python -m dra_conformance certify``): the child draws the progress bar and the verdict
table on the same terminal, and its exit status is this command's (0 only when every
applicable MUST requirement passed). Arguments are passed through unchanged, ``--help``
included, so the suite's options are defined once, in the suite, with its ``DRA_CERTIFY_*``
variables and defaults.
"""

from __future__ import annotations

import importlib.util
import shlex
import signal
import subprocess
import sys
from collections.abc import Sequence

import click
from rich.console import Console
from rich.markup import escape

# What the suite imports to run; looked up, never imported here.
SUITE_MODULES = ("dra_conformance", "dra_kubelet_api", "pytest", "hypothesis", "kubernetes",
                 "grpc")
INTERRUPT_GRACE = 30.0


def missing_modules(modules: Sequence[str] = SUITE_MODULES) -> list[str]:
    """The modules of ``modules`` this Python cannot import (found without importing them)."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def certify_command(args: Sequence[str], python: str = sys.executable) -> list[str]:
    """``python -m dra_conformance certify`` with ``args`` unchanged."""
    return [python, "-m", "dra_conformance", "certify", *args]


def exit_status(returncode: int) -> int:
    """A child killed by a signal exits as a shell reports it: 128 + the signal number."""
    return 128 - returncode if returncode < 0 else returncode


class PassThrough(click.Command):
    """A command whose arguments are handed on untouched: ``--``, ``--help`` and options this
    command does not know included (click's own parser would consume ``--``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.params["args"] = tuple(args)
        ctx.args = []
        return []


@click.command(cls=PassThrough)
def certify(args: tuple[str, ...]) -> None:
    """Certify a DRA driver: the conformance suite, with progress.

    Every argument goes to `dra-conformance certify`, run in this Python (`fakehw certify
    --help` shows its options; they also read DRA_CERTIFY_* variables). Exits with its
    status: 0 only when every applicable MUST requirement passed.
    """
    if missing := missing_modules():
        raise click.ClickException(
            f"fakehw certify runs the conformance suite in this Python ({sys.executable}), "
            f"which cannot import {', '.join(missing)}; install the suite with its "
            "dependencies (`pip install 'fakehw[dev]'`, or `make setup` in a checkout) "
            "and try again")
    command = certify_command(args)
    Console(stderr=True, highlight=False).print(f"[dim]$ {escape(shlex.join(command))}[/]")
    sys.exit(exit_status(run(command)))


def run(command: Sequence[str]) -> int:
    """Run the child; a ^C reaches it from the terminal too, so give it time to report."""
    child = subprocess.Popen(list(command))
    try:
        return child.wait()
    except KeyboardInterrupt:
        try:
            child.wait(timeout=INTERRUPT_GRACE)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 128 + signal.SIGINT
