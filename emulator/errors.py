"""The emulator's exceptions.

Every error a user can cause is one of these, and each carries a message that says what
was wrong and what was expected. The command line only formats them (exit code 2).

    EmulatorError
    ├── ScenarioError     an invalid scenario file: file, line and field
    ├── DecodeError       a callback body that cannot be decoded
    └── UsageError        a bad flag or argument combination, an unreadable file

Exit codes (CONTRACT.md): 0 ran and every expectation held; 1 an expectation failed;
2 bad input (one line on stderr, no traceback); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class EmulatorError(Exception):
    """Base class for every error the emulator reports to a user."""


class ScenarioError(EmulatorError):
    """A scenario file is unreadable or invalid."""

    def __init__(self, file: str, line: int | None, field: str | None, message: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class DecodeError(EmulatorError):
    """A callback body does not decode under its content type."""


class UsageError(EmulatorError):
    """A command was given flags or arguments it cannot use."""
