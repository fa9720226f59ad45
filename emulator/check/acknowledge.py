"""Cases: valid ``procedure`` callbacks of every documented shape are acknowledged (2xx).

A receiver that refuses or crashes on one of these makes ZEGO retry it until it is lost:
the task's result never reaches the application.
"""

from __future__ import annotations

from emulator.check.context import CaseContext
from emulator.check.families import per_encoding
from emulator.check.model import Case, Chain, Probe
from emulator.wire import Encoding

FAMILY = "procedure"


def _success(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.procedure(status="SUCCESS", transcode=[{"resolution": "720p"}])
    callback = context.sign(model, case_id, encoding)
    return [Probe(callback, "accepted", f"a valid procedure SUCCESS ({encoding})")]


def _failed(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.procedure(status="FAILED")
    callback = context.sign(model, case_id, encoding)
    return [Probe(callback, "accepted", f"status FAILED, extra_params empty ({encoding})")]


def _failed_output(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.procedure(
        status="SUCCESS",
        transcode=[{"resolution": "720p"}, {"resolution": "360p", "code": "60000"}],
    )
    callback = context.sign(model, case_id, encoding)
    return [Probe(callback, "accepted", f"SUCCESS, one output failed (60000) ({encoding})")]


def _resolutions(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.procedure(
        status="SUCCESS",
        transcode=[{"resolution": "360p"}, {"resolution": "540p"}, {"resolution": "720p"}],
    )
    callback = context.sign(model, case_id, encoding)
    return [Probe(callback, "accepted", f"outputs 360p, 540p and 720p ({encoding})")]


def _file_id_spelling(context: CaseContext, case_id: str, encoding: Encoding) -> Chain:
    model = context.factory.procedure(status="SUCCESS")
    callback = context.sign(model, case_id, encoding, rename={"file_id": "fileId"})
    return [Probe(callback, "accepted", f"the source file id as fileId ({encoding})")]


CASES: tuple[Case, ...] = (
    Case(
        "procedure.success",
        "A valid procedure SUCCESS is acknowledged",
        "The core callback: transcoding finished. Sent in every encoding you configured "
        "(--encoding); ZEGO's default is JSON, form only when support switched it.",
        "The receiver does not decode this encoding (reads form fields from a JSON body, "
        "or forgets to URL-decode), or checks the signature with another secret.",
        per_encoding("procedure.success", _success),
        FAMILY,
    ),
    Case(
        "procedure.failed-empty-extra-params",
        "A FAILED procedure with empty extra_params is acknowledged",
        "On FAILED, extra_params is the empty string: there is no media.transcode list.",
        "The code parses extra_params as JSON unconditionally (json.loads('') raises, "
        "JSON.parse('') throws) and the framework answers 500.",
        per_encoding("procedure.failed-empty-extra-params", _failed),
        FAMILY,
    ),
    Case(
        "procedure.success-with-failed-output",
        "A SUCCESS with one failed transcode output is acknowledged",
        'status SUCCESS can still carry an output whose code is not "0" (no replay_url, size 0).',
        "The code assumes every output of a SUCCESS has a replay_url and a size, or "
        "rejects a callback whose outputs disagree with its status.",
        per_encoding("procedure.success-with-failed-output", _failed_output),
        FAMILY,
    ),
    Case(
        "procedure.several-resolutions",
        "A procedure with several outputs (360p, 540p, 720p) is acknowledged",
        "One task can transcode to several resolutions: media.transcode has one entry each.",
        "The code reads only transcode[0], or expects exactly one entry.",
        per_encoding("procedure.several-resolutions", _resolutions),
        FAMILY,
    ),
    Case(
        "procedure.fileid-spelling",
        "A procedure spelling the file id fileId is acknowledged",
        "ZEGO's field table spells the source file id fileId, its sample file_id.",
        "The code reads fields['file_id'] (KeyError, 500) or requires one spelling.",
        per_encoding("procedure.fileid-spelling", _file_id_spelling),
        FAMILY,
    ),
)
