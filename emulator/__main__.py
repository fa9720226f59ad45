"""``python -m emulator``: the same as the ``zego-emulator`` command."""

from emulator.cli.main import console_main

console_main()
