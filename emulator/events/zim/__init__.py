"""ZIM (In-app Chat) server callbacks (``zego-events.md`` §11), registered as ``zim.<event>``.

ZIM signs its callbacks as RTC does (§1.2) but types them its own way: ``appid`` and
``nonce`` are strings, ``timestamp`` is a JSON number (seconds for some events,
milliseconds for others: each module says which), ids lists are JSON arrays, codes and
times are JSON integers. The wire ``event`` field carries the bare ZIM name
(``room_create``); the ``zim.`` prefix only tells scenarios, ``send`` and records apart
from RTC's events of the same name.

Modules, one per family: ``user_action``, ``room`` (create/destroy/enter/exit), ``call``
(the call-invitation family), ``message`` (send_msg, bot_msg, before_send_msg), ``group``.
"""
