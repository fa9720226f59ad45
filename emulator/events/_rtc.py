"""What the RTC room, stream, mixing, transcoding and recording events share: the id
formats ZEGO's examples show, play URLs, millisecond times, and the scenario field types.

Fake ids follow ZEGO's examples (zego-events.md §2–§6): ``room_session_id`` a 64-bit
number (``858012925204410400``; always above 2^53 here, so a receiver that parses JSON
numbers as doubles is caught), user ``session_id`` 18 digits (``792148503087288320``),
``stream_sid`` ``s-`` and 27 digits (``s-115205136669740000000000104``), play URLs on the
CDN hosts of ZEGO's examples (``rtmp://rtmp.wsdemo.zego.im/zegodemo/<stream>``, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Field

from emulator.events.base import Common, Fake, row, text
from emulator.wire import WireValue


def _number_as_text(value: Any) -> Any:
    """A YAML number (``stream_seq: 7``) for a field ZEGO sends as a string: its text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def codes(*values: int) -> BeforeValidator:
    """The validator of a code ZEGO sends as a string (``reason: "3"``): a scenario may
    write it as a number too, and the JSON Schema lists both spellings of each."""
    text: Any = Literal[tuple(str(value) for value in values)]
    number: Any = Literal[values]
    return BeforeValidator(_number_as_text, json_schema_input_type=text | number)


_DIGITS = r"^[0-9]{1,20}$"
_DIGITS_INPUT: Any = Annotated[str, Field(pattern=_DIGITS)] | Annotated[int, Field(ge=0)]
_TEXT_INPUT: Any = str | int
# a string wire field a scenario may give as a number (ids, counters, millisecond times)
NumberText = Annotated[
    str,
    BeforeValidator(_number_as_text, json_schema_input_type=_TEXT_INPUT),
    Field(max_length=1024),
]
DigitText = Annotated[
    str,
    BeforeValidator(_number_as_text, json_schema_input_type=_DIGITS_INPUT),
    Field(pattern=_DIGITS, max_length=20),
]
UInt64 = Annotated[int, Field(ge=0, le=2**64 - 1)]
Text = NumberText  # ids and names: ``user_id: 800221`` in YAML is the text 800221
UrlList = Annotated[list[Text], Field(max_length=16)]

# the CDN hosts of ZEGO's stream_create / mix_start examples: (rtmp, hls, hdl) url formats
CDNS: tuple[tuple[str, str, str], ...] = (
    (
        "rtmp://rtmp.wsdemo.zego.im/zegodemo/{s}",
        "http://hls.wsdemo.zego.im/zegodemo/{s}/playlist.m3u8",
        "http://hdl.wsdemo.zego.im/zegodemo/{s}.flv",
    ),
    (
        "rtmp://testplay.aliyun.zego.im/livestream/{s}",
        "http://testplay.aliyun.zego.im/livestream/{s}.m3u8",
        "http://testplay.aliyun.zego.im/livestream/{s}.flv",
    ),
)
PIC_URL = "http://pic.wsdemo.zego.im/zegodemo/{s}.jpg"
TERM_TYPES = ("1", "2", "3", "4", "6")  # PC, iOS, Android, Mac, Web (the common ones)


def room_id(fake: Fake) -> str:
    """A room id like ZEGO's example ``rid_1242649``."""
    return f"rid_{fake.digits(7)}"


def room_session_id(fake: Fake) -> int:
    """A 64-bit room lifetime id above 2^53 (ZEGO's example: 858012925204410400)."""
    return fake.random.randrange(2**59, 2**63)


def user_id(fake: Fake) -> str:
    """A user id like ZEGO's example ``888120154``."""
    return fake.digits(9)


def session_id(fake: Fake) -> str:
    """A login session id like ZEGO's example ``792148503087288320``."""
    return fake.digits(18)


def stream_id(fake: Fake, user: str) -> str:
    """A client stream id (the app picks it; ``<user>_main`` style here)."""
    return f"stream_{user}_{fake.hex(4)}"


def stream_sid(fake: Fake) -> str:
    """ZEGO's server stream id: ``s-`` and 27 digits (``s-115205136669740000000000104``)."""
    return f"s-{fake.digits(27)}"


def seconds(common: Common) -> int:
    """The callback's timestamp as an integer (0 when it is not digits)."""
    return int(common.timestamp) if common.timestamp.isdigit() else 0


def ms_in_second(fake: Fake, common: Common) -> int:
    """A Unix millisecond time within the callback's timestamp second (ZEGO's examples:
    timestamp 1499676978, room_create_time 1499676978027)."""
    return seconds(common) * 1000 + fake.integer(0, 999)


def play_urls(stream: str) -> dict[str, list[str]]:
    """The rtmp/hls/hdl/pic play URL lists of a stream, as stream_create carries them."""
    return {
        "rtmp_url": [cdn[0].format(s=stream) for cdn in CDNS],
        "hls_url": [cdn[1].format(s=stream) for cdn in CDNS],
        "hdl_url": [cdn[2].format(s=stream) for cdn in CDNS],
        "pic_url": [PIC_URL.format(s=stream)],
    }


T = TypeVar("T")


def given(value: T | None, make: Callable[[], T]) -> T:
    """``value`` when the scenario gave it (even 0 or ""), else a fake one from ``make()``."""
    return make() if value is None else value


def required(fields: Mapping[str, WireValue], names: tuple[str, ...]) -> list[str]:
    """``missing field X`` for each of ``names`` not in ``fields``."""
    return [f"missing field {name}" for name in names if name not in fields]


def rows(fields: Mapping[str, WireValue], labels: Mapping[str, str]) -> list[str]:
    """One display row a field (``labels`` maps field -> label), ``(none)`` when absent."""
    return [row(label, text(fields, name, "(none)") or '""') for name, label in labels.items()]


def coded(value: str, meanings: Mapping[str, str]) -> str:
    """``3 (kicked out)``: a code and what ZEGO documents it to mean."""
    meaning = meanings.get(value)
    return f"{value} ({meaning})" if meaning else value
