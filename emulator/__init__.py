"""zego-callback-emulator: plays ZEGO's servers on your machine."""

__version__ = "0.1.0"
