"""The mock API's stream tasks: mixing, cloud transcoding and CDN recording, and their callbacks.

* ``StartMix`` / ``StopMix`` (POST, JSON body; stream-mixing pages): start (or, with the
  same ``TaskId``, update) a mix of ``MixInput[]`` (1–9 live streams, no repeats) into
  ``MixOutput[]`` (1–4); the first start fires ``mix_start``, a stop ``mix_stop`` (an
  update fires nothing [inference]). Codes: 110200002 bad parameter, 110200150 an input
  stream that does not exist, 110200158 too many inputs, 110200175 an input given twice,
  110200001 stopping an unknown task. 100 calls/s each.
* ``StartCloudTranscode`` / ``StopCloudTranscode`` (POST, JSON body): ``transcode_start``
  (``TranscodeStarted``; ``TranscodeUpdated`` for a running ``TaskId``), ``transcode_stop``
  (``StopReason`` 0). Codes 110200002, 110200150, 110200151 (no such task). 100 calls/s.
* ``StartCDNRecord`` / ``StopCDNRecord`` (GET, ``StreamId`` repeated, ``Vendor`` Tencent,
  Ws or Huawei): the stop finishes each stream's file and fires one ``record`` callback per
  stream (Recording File Generated). Codes 2, 4 (another vendor), 1000 (not recording).
  20 calls/s each.

A stream exists when a session the mock runs publishes it; a mock running no sessions
takes any stream id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.callback.factory import CallbackFactory
from emulator.events.base import CallbackModel
from emulator.servers.api_params import (
    BAD_PARAMETERS,
    REQUEST_FAILED,
    VENDOR_MISMATCH,
    ApiRefusal,
    Body,
    Query,
    body_int,
    body_list,
    body_text,
    quoted,
    required,
    values,
)
from emulator.sessions.world import RoomWorld

MIX_FAILED = 110200001
MIX_BAD_PARAMETER = 110200002
INPUT_NOT_FOUND = 110200150
TASK_FAILED = 110200151
TOO_MANY_INPUTS = 110200158
REPEATED_INPUT = 110200175

MIX_MOST_INPUTS = 9
MIX_MOST_OUTPUTS = 4
CDN_VENDORS = ("Tencent", "Ws", "Huawei")
TASK_RATE_LIMITS = {
    "StartMix": 100,
    "StopMix": 100,
    "StartCloudTranscode": 100,
    "StopCloudTranscode": 100,
    "StartCDNRecord": 20,
    "StopCDNRecord": 20,
}
POST_ACTIONS = frozenset({"StartMix", "StopMix", "StartCloudTranscode", "StopCloudTranscode"})
PLAY_HOSTS = (
    "rtmp://rtmp.wsdemo.zego.im/zegodemo/{s}",
    "http://hls.wsdemo.zego.im/zegodemo/{s}/playlist.m3u8",
    "http://hdl.wsdemo.zego.im/zegodemo/{s}.flv",
)

Answer = tuple[dict[str, Any], list[CallbackModel]]


@dataclass
class MixTask:
    """A running mix: what mix_stop repeats of it."""

    task_id: str
    user_id: str
    room_id: str
    output: str
    sequence: int


@dataclass
class StreamTasks:
    """The mixes, transcodes and CDN recordings the mock runs (see the module docstring)."""

    factory: CallbackFactory
    world: RoomWorld
    mixes: dict[str, MixTask] = field(default_factory=dict)
    transcodes: dict[str, str] = field(default_factory=dict)  # TaskId -> UserId
    recordings: dict[str, str] = field(default_factory=dict)  # StreamId -> Vendor

    def _live(self, stream_id: str) -> bool:
        if not self.world.rooms:
            return True
        return any(
            room.life is not None and stream_id in room.life.streams
            for room in self.world.rooms.values()
        )

    # --- mixing -----------------------------------------------------------------------------

    def start_mix(self, body: Body) -> Answer:
        """StartMix: a new task fires mix_start; the same TaskId again updates it."""
        task_id = _text(body, "TaskId", MIX_BAD_PARAMETER)
        user_id = _text(body, "UserId", MIX_BAD_PARAMETER)
        room_id = body_text(body, "RoomId", MIX_BAD_PARAMETER, required=False) or ""
        sequence = body_int(body, "Sequence", MIX_BAD_PARAMETER, 0) or 0
        inputs = body.get("MixInput")
        if isinstance(inputs, list) and len(inputs) > MIX_MOST_INPUTS:
            raise ApiRefusal(
                TOO_MANY_INPUTS, f"{len(inputs)} input streams; at most {MIX_MOST_INPUTS}"
            )
        streams = [
            _source(item, "MixInput[]")
            for item in body_list(body, "MixInput", MIX_BAD_PARAMETER, 99)
        ]
        if len(set(streams)) != len(streams):
            raise ApiRefusal(REPEATED_INPUT, "an input stream is given twice in MixInput")
        self._check_inputs(streams)
        outputs = body_list(body, "MixOutput", MIX_BAD_PARAMETER, MIX_MOST_OUTPUTS)
        output_ids = [_source(item, "MixOutput[]") for item in outputs]
        for item in outputs:
            for name in ("VideoBitrate", "Fps", "Width", "Height"):
                if body_int(item, name, MIX_BAD_PARAMETER) is None:
                    raise ApiRefusal(MIX_BAD_PARAMETER, f"missing parameter MixOutput[].{name}")
        data = {
            "UserId": user_id,
            "Sequence": sequence,
            "RoomId": room_id,
            "PlayInfo": [
                {"StreamId": s, "RTMP": _play(0, s), "HLS": _play(1, s), "FLV": _play(2, s)}
                for s in output_ids
            ],
        }
        known = self.mixes.get(task_id)
        self.mixes[task_id] = MixTask(task_id, user_id, room_id, output_ids[0], sequence)
        if known is not None:
            return data, []
        model = self.factory.build(
            "mix_start",
            {
                "seq": str(sequence),
                "task_id": f"{self.factory.app_id}:{task_id}",
                "channel_id": room_id,
                "publish_id": user_id,
                "mix_stream_alias": output_ids[0],
                "stream_alias": output_ids[0],
                "rtmp_urls": [_play(0, output_ids[0])],
                "hls_urls": [_play(1, output_ids[0])],
                "hdl_urls": [_play(2, output_ids[0])],
            },
        )
        return data, [model]

    def stop_mix(self, body: Body) -> Answer:
        """StopMix: a running task ends and fires mix_stop."""
        task_id = _text(body, "TaskId", MIX_BAD_PARAMETER)
        sequence = body_int(body, "Sequence", MIX_BAD_PARAMETER)
        body_text(body, "UserId", MIX_BAD_PARAMETER, required=False)
        mix = self.mixes.pop(task_id, None)
        if mix is None:
            raise ApiRefusal(MIX_FAILED, f"failed: no running mix task {quoted(task_id)}")
        model = self.factory.build(
            "mix_stop",
            {
                "seq": str(mix.sequence if sequence is None else sequence),
                "task_id": f"{self.factory.app_id}:{task_id}",
                "channel_id": mix.room_id,
                "publish_id": mix.user_id,
                "mix_stream_alias": mix.output,
            },
        )
        return {}, [model]

    # --- cloud transcoding ------------------------------------------------------------------

    def start_cloud_transcode(self, body: Body) -> Answer:
        """StartCloudTranscode: transcode_start (TranscodeUpdated for a running TaskId)."""
        task_id = _text(body, "TaskId", MIX_BAD_PARAMETER)
        user_id = _text(body, "UserId", MIX_BAD_PARAMETER)
        sequence = body_int(body, "Sequence", MIX_BAD_PARAMETER, 0) or 0
        source = body.get("TranscodeInput")
        if not isinstance(source, dict):
            raise ApiRefusal(MIX_BAD_PARAMETER, "missing parameter TranscodeInput")
        stream = _source(source, "TranscodeInput")
        self._check_inputs([stream])
        outputs: list[dict[str, Any]] = []
        for item in body_list(body, "TranscodeOutput", MIX_BAD_PARAMETER, MIX_MOST_OUTPUTS):
            template = body_int(item, "TemplateId", MIX_BAD_PARAMETER)
            if template is None or not 0 <= template <= 3:
                raise ApiRefusal(MIX_BAD_PARAMETER, "TranscodeOutput[].TemplateId must be 0-3")
            outputs.append({"template": template, "stream_id": _source(item, "TranscodeOutput[]")})
        updated = task_id in self.transcodes
        self.transcodes[task_id] = user_id
        is_url = "StreamUrl" in source and bool(source.get("StreamUrl"))
        model = self.factory.build(
            "transcode_start",
            {
                "task_id": task_id,
                "user_id": user_id,
                "sequence": sequence,
                "status": "TranscodeUpdated" if updated else "TranscodeStarted",
                "input_stream_id": "" if is_url else stream,
                "input_stream_url": stream if is_url else "",
                "outputs": outputs,
            },
        )
        return {}, [model]

    def stop_cloud_transcode(self, body: Body) -> Answer:
        """StopCloudTranscode: transcode_stop (StopReason 0)."""
        task_id = _text(body, "TaskId", MIX_BAD_PARAMETER)
        user_id = _text(body, "UserId", MIX_BAD_PARAMETER)
        sequence = body_int(body, "Sequence", MIX_BAD_PARAMETER, 0) or 0
        if self.transcodes.pop(task_id, None) is None:
            raise ApiRefusal(TASK_FAILED, f"task failed: no transcoding task {quoted(task_id)}")
        model = self.factory.build(
            "transcode_stop",
            {"task_id": task_id, "user_id": user_id, "sequence": sequence, "stop_reason": 0},
        )
        return {}, [model]

    # --- CDN recording ----------------------------------------------------------------------

    def start_cdn_record(self, query: Query) -> Answer:
        """StartCDNRecord: each stream starts recording (no callback yet)."""
        streams, vendor = self._cdn_streams(query)
        for stream in streams:
            self._check_inputs([stream], code=REQUEST_FAILED)
            self.recordings[stream] = vendor
        return {vendor: [_record_row(self.factory, stream) for stream in streams]}, []

    def stop_cdn_record(self, query: Query) -> Answer:
        """StopCDNRecord: each stream's file is generated: one ``record`` callback each."""
        streams, vendor = self._cdn_streams(query)
        missing = [s for s in streams if self.recordings.get(s) != vendor]
        if missing:
            raise ApiRefusal(
                REQUEST_FAILED,
                f"request failed: stream {quoted(missing[0])} is not being recorded by {vendor}",
            )
        models = []
        for stream in streams:
            del self.recordings[stream]
            models.append(self.factory.build("record", {"vendor": vendor, "stream_alias": stream}))
        return {vendor: [_record_row(self.factory, stream) for stream in streams]}, models

    def _cdn_streams(self, query: Query) -> tuple[list[str], str]:
        streams = values(query, "StreamId", most=100)
        vendor = required(query, "Vendor")
        if vendor not in CDN_VENDORS:
            raise ApiRefusal(
                VENDOR_MISMATCH,
                f"CDN type mismatch: Vendor must be one of {', '.join(CDN_VENDORS)}, "
                f"not {quoted(vendor)}",
            )
        return list(dict.fromkeys(streams)), vendor

    def _check_inputs(self, streams: list[str], code: int = INPUT_NOT_FOUND) -> None:
        for stream in streams:
            if not stream.startswith("rtmp://") and not self._live(stream):
                raise ApiRefusal(code, f"the input stream {quoted(stream)} does not exist")


def _text(body: Body, name: str, code: int) -> str:
    value = body_text(body, name, code)
    assert value is not None
    return value


def _source(item: Mapping[str, Any], where: str) -> str:
    """An item's ``StreamUrl`` (it wins, as the pages say) or ``StreamId``; code 110200002."""
    for name in ("StreamUrl", "StreamId"):
        value = item.get(name)
        if isinstance(value, str) and value:
            return value
    raise ApiRefusal(MIX_BAD_PARAMETER, f"{where} needs a StreamId or a StreamUrl")


def _play(kind: int, stream: str) -> str:
    return PLAY_HOSTS[kind].format(s=stream)


def _record_row(factory: CallbackFactory, stream: str) -> dict[str, Any]:
    return {
        "StreamName": stream,
        "TaskId": factory.fake.hex(32),
        "RequestId": factory.fake.hex(32),
        "Code": "",
        "Message": "",
    }


__all__ = ["BAD_PARAMETERS", "POST_ACTIONS", "TASK_RATE_LIMITS", "StreamTasks"]
