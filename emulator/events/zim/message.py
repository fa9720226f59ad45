"""ZIM message callbacks (§11.7-11.8): ``zim.send_msg``, ``zim.bot_msg``, ``zim.before_send_msg``.

``timestamp`` is in **seconds** for all three; ``msg_time`` (when the server received the
message) is Int **ms**. Fields besides the common ones:

* ``send_msg`` (after a send, success or not): ``from_user_id``, ``conv_type`` (Int ``0``
  one-to-one, ``1`` room, ``2`` group), ``conv_id``, ``msg_type`` (Int ``1`` text, ``10``
  multi-item, ``11`` image, ``12`` file, ``13`` audio, ``14`` video, ``100`` combined,
  ``200`` custom), ``sub_msg_type`` (Int), ``source`` (Int ``1`` server API; **omitted**
  when ``0``, the SDK), ``msg_body``, ``msg_id``, ``msg_seq`` (Int), ``payload``,
  ``msg_time`` (Int ms), ``send_result`` (Int, ``0`` ok) and, only for one-to-one messages
  the server API sent, ``user_list`` (Array of ``{UserId, MsgId, MsgSeq}``; ``conv_id`` is
  then empty, and for a batch to several users ``msg_id`` is empty and ``msg_seq`` is ``0``
  — the docs say "empty" **[inference]**).
* ``bot_msg``: ``send_msg``'s shape, one-to-one only (``conv_type`` ``0``).
* ``before_send_msg`` (the synchronous hook, client-sent messages only): ``request_id``,
  ``from_user_id``, ``conv_id``, ``conv_type`` (ZH adds ``3`` channel), ``msg_id``,
  ``payload``, ``msg_type``, ``sub_msg_type``, ``msg_body``. Its answer contract is
  :mod:`emulator.hook`'s.

``msg_body``: raw text for text and custom messages; for the other types sent from a
client it is **URL-encoded JSON text** (``md5``, ``file_name``, ``file_size``,
``download_url``, ``media_duration``, image/video extras); a server-sent body is verbatim.
The JSON of multi-item and combined messages is not documented: ours is a guess
**[inference]**.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, Field, field_validator

from emulator.events.base import Common, EventParams, EventSpec, Fake, compact_json, row, text
from emulator.events.zim._common import (
    MAX_IDS,
    ZimCallback,
    field,
    missing,
    seconds_of,
    user_id,
)
from emulator.events.zim.hook_answer import read_hook_answer
from emulator.wire import WireFields, WireValue

ConvType = Literal[0, 1, 2, 3]
MsgType = Literal[1, 10, 11, 12, 13, 14, 100, 200]
CONV_TYPES: dict[str, int] = {"peer": 0, "one_to_one": 0, "room": 1, "group": 2, "channel": 3}
CONV_NAMES = {0: "one-to-one", 1: "room", 2: "group", 3: "channel"}
MSG_TYPES: dict[str, int] = {
    "text": 1,
    "multiple": 10,
    "image": 11,
    "file": 12,
    "audio": 13,
    "video": 14,
    "combined": 100,
    "custom": 200,
}
MSG_NAMES = {number: name for name, number in MSG_TYPES.items()}
MEDIA_TYPES = (11, 12, 13, 14)
# send_result codes the ZH page lists, and what they mean
SEND_RESULTS: dict[int, str] = {
    0: "sent",
    660000002: "bad parameters",
    660500002: "sender not registered",
    660500005: "text failed moderation",
    660500009: "before_send_msg answered 2 (silent)",
    660500010: "before_send_msg answered 3 (do not send)",
    660600023: "message too long",
}
_EXTENSIONS = {11: "jpg", 12: "pdf", 13: "m4a", 14: "mp4"}


def number_by_name(value: Any, names: Mapping[str, int]) -> Any:
    """``group`` or ``"2"`` read as the number ``2`` (other values as they are)."""
    if isinstance(value, str):
        text = value.strip().lower()
        return int(text) if text.isdigit() else names.get(text, value)
    return value


class UserListItem(BaseModel):
    """One recipient of a server-sent one-to-one message (PascalCase, as ZIM sends it)."""

    model_config = ConfigDict(extra="forbid")

    UserId: str = Field(min_length=1, max_length=64)
    MsgId: str = Field(default="", max_length=64, description="empty when it failed")
    MsgSeq: int = Field(default=0, ge=0)


class _MessageParams(EventParams):
    """Scenario keys every message event takes; anything absent is faked."""

    from_user_id: str | None = Field(default=None, min_length=1, max_length=64)
    conv_id: str | None = Field(default=None, max_length=128)
    msg_type: MsgType = Field(default=1, description="1 text ... 200 custom (or its name)")
    sub_msg_type: int = Field(default=0, ge=0, le=200)
    msg_body: str | None = Field(default=None, max_length=100_000)
    msg_id: str | None = Field(default=None, max_length=64)
    payload: str | None = Field(default=None, max_length=4096)

    @field_validator("msg_type", mode="before")
    @classmethod
    def _msg_type_by_name(cls, value: Any) -> Any:
        return number_by_name(value, MSG_TYPES)


class SendMsgParams(_MessageParams):
    conv_type: Literal[0, 1, 2] = Field(default=0, description="0 one-to-one, 1 room, 2 group")
    source: Literal[0, 1] = Field(default=0, description="0 SDK, 1 server API")
    msg_seq: int | None = Field(default=None, ge=0)
    msg_time: int | None = Field(default=None, ge=0, description="Unix milliseconds")
    send_result: int = Field(default=0, ge=0, description="0 sent, else ZIM's error code")
    user_list: list[str | UserListItem] | None = Field(
        default=None,
        max_length=MAX_IDS,
        description="recipients of a server-sent one-to-one message (ids or objects)",
    )

    @field_validator("conv_type", mode="before")
    @classmethod
    def _conv_type_by_name(cls, value: Any) -> Any:
        return number_by_name(value, CONV_TYPES)

    @field_validator("source", mode="before")
    @classmethod
    def _source_by_name(cls, value: Any) -> Any:
        return number_by_name(value, {"sdk": 0, "server": 1})


class BotMsgParams(SendMsgParams):
    conv_type: Literal[0] = Field(default=0, description="always 0: one-to-one with a bot")


class BeforeSendMsgParams(_MessageParams):
    conv_type: ConvType = Field(default=0, description="0 one-to-one, 1 room, 2 group, 3 channel")
    request_id: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("conv_type", mode="before")
    @classmethod
    def _conv_type_by_name(cls, value: Any) -> Any:
        return number_by_name(value, CONV_TYPES)


class _MessageCallback(ZimCallback):
    from_user_id: str
    conv_type: int
    conv_id: str
    msg_type: int
    sub_msg_type: int
    msg_body: str
    msg_id: str
    payload: str


class SendMsgCallback(_MessageCallback):
    """A ZIM ``send_msg`` callback."""

    TASK_FIELD = "msg_id"

    event: Literal["send_msg"] = "send_msg"
    source: int = 0
    msg_seq: int
    msg_time: int
    send_result: int
    user_list: list[UserListItem] | None = None

    def event_fields(self) -> WireFields:
        fields: WireFields = {
            "from_user_id": self.from_user_id,
            "conv_type": self.conv_type,
            "conv_id": self.conv_id,
            "msg_type": self.msg_type,
            "sub_msg_type": self.sub_msg_type,
        }
        if self.source:
            fields["source"] = self.source
        fields.update(
            {
                "msg_body": self.msg_body,
                "msg_id": self.msg_id,
                "msg_seq": self.msg_seq,
                "payload": self.payload,
                "msg_time": self.msg_time,
                "send_result": self.send_result,
            }
        )
        if self.user_list is not None:
            fields["user_list"] = [item.model_dump() for item in self.user_list]
        return fields


class BotMsgCallback(SendMsgCallback):
    """A ZIM ``bot_msg`` callback (send_msg's shape, one-to-one)."""

    event: Literal["bot_msg"] = "bot_msg"  # type: ignore[assignment]


class BeforeSendMsgCallback(_MessageCallback):
    """A ZIM ``before_send_msg`` hook request."""

    TASK_FIELD = "request_id"

    event: Literal["before_send_msg"] = "before_send_msg"
    request_id: str

    def event_fields(self) -> WireFields:
        return {
            "request_id": self.request_id,
            "from_user_id": self.from_user_id,
            "conv_id": self.conv_id,
            "conv_type": self.conv_type,
            "msg_id": self.msg_id,
            "payload": self.payload,
            "msg_type": self.msg_type,
            "sub_msg_type": self.sub_msg_type,
            "msg_body": self.msg_body,
        }


# --- fake data ------------------------------------------------------------------------------


def msg_body(fake: Fake, msg_type: int, from_client: bool) -> str:
    """A realistic body: text, custom JSON, or media JSON (URL-encoded when from a client)."""
    if msg_type == 1:
        return str(fake.faker.sentence())
    if msg_type == 200:
        return compact_json({"type": "gift", "gift_id": fake.integer(1, 40), "count": 1})
    if msg_type in MEDIA_TYPES:
        content: dict[str, Any] = _media(fake, msg_type)
    elif msg_type == 10:
        content = {"items": [{"type": 1, "content": fake.faker.sentence()}, _media(fake, 11)]}
    else:  # 100 combined
        content = {"title": "Chat history", "summary": fake.faker.sentence(), "messages": 3}
    text = compact_json(content)
    return quote(text, safe="") if from_client else text


def _media(fake: Fake, msg_type: int) -> dict[str, Any]:
    extension = _EXTENSIONS.get(msg_type, "bin")
    name = f"{fake.faker.word()}-{fake.hex(6)}.{extension}"
    url = f"https://zim-media.zego.im/{fake.hex(16)}/{name}"
    media: dict[str, Any] = {
        "md5": fake.hex(32),
        "file_name": name,
        "file_size": fake.integer(20_000, 20_000_000),
        "download_url": url,
    }
    if msg_type in (13, 14):
        media["media_duration"] = fake.integer(2, 300)
    if msg_type == 11:
        width, height = fake.choice(("1080x1920", "1920x1080", "1200x1200")).split("x")
        media |= {
            "origin_image_width": int(width),
            "origin_image_height": int(height),
            "thumbnail_download_url": f"{url}?imageView2/2/w/200",
        }
    if msg_type == 14:
        media |= {
            "video_first_frame_download_url": f"{url}.first.jpg",
            "video_first_frame_width": 720,
            "video_first_frame_height": 1280,
        }
    return media


def _conv_id(fake: Fake, conv_type: int) -> str:
    if conv_type == 0:
        return user_id(fake)
    kind = {1: "room", 2: "group", 3: "channel"}[conv_type]
    return f"{kind}-{fake.digits(6)}"


def _recipients(
    fake: Fake, params: SendMsgParams, msg_id: str
) -> tuple[list[UserListItem] | None, bool]:
    """``user_list`` of a server-sent one-to-one message, and whether it is a batch."""
    if params.source != 1 or params.conv_type != 0:
        return None, False
    given = params.user_list if params.user_list is not None else [user_id(fake)]
    batch = len(given) > 1
    items: list[UserListItem] = []
    for entry in given:
        if isinstance(entry, UserListItem):
            items.append(entry)
            continue
        failed = params.send_result != 0
        number = "" if failed else (msg_id if not batch else fake.digits(18))
        items.append(
            UserListItem(UserId=entry, MsgId=number, MsgSeq=0 if failed else fake.integer(1, 9999))
        )
    return items, batch


SentT = TypeVar("SentT", bound=SendMsgCallback)


def generate_send(fake: Fake, params: SendMsgParams, common: Common) -> SendMsgCallback:
    """A realistic ``send_msg``; every given parameter wins."""
    return _sent(SendMsgCallback, fake, params, common)


def generate_bot(fake: Fake, params: BotMsgParams, common: Common) -> BotMsgCallback:
    """A realistic ``bot_msg``: a user writes to a bot account, one-to-one."""
    if params.conv_id is None:
        params = params.model_copy(update={"conv_id": f"bot_{fake.faker.word()}"})
    return _sent(BotMsgCallback, fake, params, common)


def _sent(model: type[SentT], fake: Fake, params: SendMsgParams, common: Common) -> SentT:
    now = seconds_of(common)
    msg_id = params.msg_id if params.msg_id is not None else fake.digits(18)
    user_list, batch = _recipients(fake, params, msg_id)
    conv_id = params.conv_id
    if conv_id is None:
        conv_id = "" if user_list is not None else _conv_id(fake, params.conv_type)
    body = params.msg_body
    if body is None:
        body = msg_body(fake, params.msg_type, from_client=params.source == 0)
    msg_time = params.msg_time
    if msg_time is None:
        msg_time = now * 1000 - fake.integer(5, 900)
    return model(
        appid=common.appid,
        timestamp=str(now),
        nonce=common.nonce,
        from_user_id=params.from_user_id or user_id(fake),
        conv_type=params.conv_type,
        conv_id=conv_id,
        msg_type=params.msg_type,
        sub_msg_type=params.sub_msg_type,
        source=params.source,
        msg_body=body,
        msg_id="" if batch and params.msg_id is None else msg_id,
        msg_seq=0 if batch else (params.msg_seq or fake.integer(1, 99_999)),
        payload=params.payload if params.payload is not None else "",
        msg_time=msg_time,
        send_result=params.send_result,
        user_list=user_list,
    )


def generate_before(
    fake: Fake, params: BeforeSendMsgParams, common: Common
) -> BeforeSendMsgCallback:
    """A realistic ``before_send_msg`` hook request (always from a client SDK)."""
    return BeforeSendMsgCallback(
        appid=common.appid,
        timestamp=str(seconds_of(common)),
        nonce=common.nonce,
        request_id=params.request_id or fake.digits(16),
        from_user_id=params.from_user_id or user_id(fake),
        conv_id=params.conv_id if params.conv_id is not None else _conv_id(fake, params.conv_type),
        conv_type=params.conv_type,
        msg_id=params.msg_id if params.msg_id is not None else fake.digits(13),
        payload=params.payload if params.payload is not None else "",
        msg_type=params.msg_type,
        sub_msg_type=params.sub_msg_type,
        msg_body=params.msg_body
        if params.msg_body is not None
        else msg_body(fake, params.msg_type, from_client=True),
    )


# --- display --------------------------------------------------------------------------------


def _number_name(fields: Mapping[str, WireValue], name: str, names: Mapping[int, str]) -> str:
    value = text(fields, name)
    meaning = names.get(int(value), "unknown") if value.isdigit() else "unknown"
    return f"{value or '(none)'} ({meaning})"


def _body_text(fields: Mapping[str, WireValue]) -> str:
    body = text(fields, "msg_body")
    if body.startswith("%7B"):  # URL-encoded JSON from a client: show it decoded
        return unquote(body)
    return body or "(empty)"


def _message_lines(fields: Mapping[str, WireValue]) -> list[str]:
    conv = _number_name(fields, "conv_type", CONV_NAMES)
    return [
        row("from", field(fields, "from_user_id")),
        row("to", f"{field(fields, 'conv_id')} {conv}"),
        row("type", _number_name(fields, "msg_type", MSG_NAMES)),
        row("msg id", field(fields, "msg_id")),
        row("body", _body_text(fields)),
    ]


def describe_send(fields: Mapping[str, WireValue]) -> list[str]:
    result = text(fields, "send_result")
    meaning = SEND_RESULTS.get(int(result), "error") if result.isdigit() else "unknown"
    lines = _message_lines(fields)
    lines.append(row("result", f"{result or '(none)'} ({meaning})"))
    if "source" in fields:
        lines.append(row("source", f"{text(fields, 'source')} (server API)"))
    return lines


def describe_before(fields: Mapping[str, WireValue]) -> list[str]:
    return [row("request", field(fields, "request_id")), *_message_lines(fields)]


def read_decision(status: int | None, error: str | None, body: bytes) -> dict[str, Any]:
    """The ``decision`` an answer to the hook makes (see :mod:`hook_answer`)."""
    return read_hook_answer(status, error, body).to_record()


_SEND_REQUIRED = ("from_user_id", "conv_type", "msg_type", "msg_id", "msg_time", "send_result")

SPECS: tuple[EventSpec[Any], ...] = (
    EventSpec(
        name="zim.send_msg",
        title="ZIM message sent",
        model=SendMsgCallback,
        params=SendMsgParams,
        generate=generate_send,
        describe=describe_send,
        check=lambda fields: missing(fields, _SEND_REQUIRED),
        task_field="msg_id",
    ),
    EventSpec(
        name="zim.bot_msg",
        title="ZIM message to a bot",
        model=BotMsgCallback,
        params=BotMsgParams,
        generate=generate_bot,
        describe=describe_send,
        check=lambda fields: missing(fields, _SEND_REQUIRED),
        task_field="msg_id",
    ),
    EventSpec(
        name="zim.before_send_msg",
        title="ZIM message about to be sent (hook)",
        model=BeforeSendMsgCallback,
        params=BeforeSendMsgParams,
        generate=generate_before,
        describe=describe_before,
        check=lambda fields: missing(fields, ("request_id", "from_user_id", "msg_type")),
        task_field="request_id",
        retry_profile="zim-before-send",
        read_answer=read_decision,
    ),
)
