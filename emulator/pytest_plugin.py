"""The pytest11 entry point (``zego``): the fixtures live in :mod:`emulator.testing.plugin`."""

from emulator.testing.plugin import *  # noqa: F403
