"""Exit codes and the errors the command line reports as one line.

``0`` the command did what was asked; ``1`` it ran but failed (an unreachable server,
a file that does not exist, a conversation that breaks a rule, model output with
parse issues); ``2`` the command line itself is wrong (an unknown option, a bad value).
"""

from __future__ import annotations

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "CliError", "UsageError"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure the command line reports as one readable line (exit code 1)."""

    exit_code = EXIT_FAILURE


class UsageError(CliError):
    """The command line is wrong: a bad option value or a missing option (exit code 2)."""

    exit_code = EXIT_USAGE
