"""The documented import path for the receiver: ``from emulator.receiver import Receiver``."""

from emulator.servers.receiver import *  # noqa: F403
