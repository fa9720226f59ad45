"""Every callback event by name, and the module that defines it: read without importing one.

``emulator.events`` lists events from here and imports an event's module (its pydantic
models) the first time that event is used, so startup does not grow with the catalogue.

Adding an event: add its module (defining ``SPEC``, or ``SPECS`` for a family) and one line
here, ``"<event name>": "<module under emulator.events>"``, in the order the modules are
found (module names sorted, a subpackage's after its parent's; a family in ``SPECS``
order). ``tests/events/test_registry.py`` fails, printing the lines, when the two disagree.

An event's wire ``event`` value is its name after the last ``.`` (``zim.room_create`` sends
``room_create``), so a received callback finds its spec without importing every module.
"""

from __future__ import annotations

# event name -> module (relative to ``emulator.events``) whose SPEC/SPECS defines it
EVENT_MODULES: dict[str, str] = {
    "cloud_recording": "cloud_recording",
    "compose": "compose",
    "mix_start": "mix_start",
    "mix_stop": "mix_stop",
    "procedure": "procedure",
    "record": "record",
    "room_close": "room_close",
    "room_create": "room_create",
    "room_login": "room_login",
    "room_logout": "room_logout",
    "snapshot": "snapshot",
    "stream_close": "stream_close",
    "stream_create": "stream_create",
    "transcode_start": "transcode_start",
    "transcode_stop": "transcode_stop",
    "zim.call_create": "zim.call",
    "zim.call_cancel": "zim.call",
    "zim.call_accept": "zim.call",
    "zim.call_reject": "zim.call",
    "zim.call_timeout": "zim.call",
    "zim.call_invite": "zim.call",
    "zim.group_create": "zim.group",
    "zim.group_destroy": "zim.group",
    "zim.group_join": "zim.group",
    "zim.group_exit": "zim.group",
    "zim.send_msg": "zim.message",
    "zim.bot_msg": "zim.message",
    "zim.before_send_msg": "zim.message",
    "zim.room_create": "zim.room",
    "zim.room_destroy": "zim.room",
    "zim.room_enter": "zim.room",
    "zim.room_exit": "zim.room",
    "zim.user_action": "zim.user_action",
}


def wire_name(name: str) -> str:
    """The wire ``event`` value of event ``name`` (its name less a product prefix)."""
    return name.rpartition(".")[2]
