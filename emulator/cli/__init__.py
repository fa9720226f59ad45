"""The ``zego-emulator`` command line."""

from emulator.cli.main import console_main, main

__all__ = ["console_main", "main"]
