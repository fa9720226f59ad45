"""The documented import path: ``from emulator.api_client import ZegoApiClient``."""

from emulator.servers.api_client import *  # noqa: F403
