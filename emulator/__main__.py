"""``python -m emulator``: the same as the ``zego-emulator`` command."""

from emulator.cli import console_main

console_main()
