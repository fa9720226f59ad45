"""A small ZEGO callback receiver in Flask, written from ZEGO's documentation alone.

It is the kind of endpoint a ZEGO customer writes (it does not import the emulator):

* ZEGO POSTs each callback as a form (``application/x-www-form-urlencoded``) or as JSON,
  and the docs say to URL-decode the data first, so all three shapes are accepted;
* ``signature = sha1(join(sorted([callback_secret, timestamp, nonce])))``, compared in
  constant time; a timestamp more than ``max_age`` seconds away is refused;
* any 2xx tells ZEGO the callback arrived; anything else makes ZEGO retry (2, 4, 8, 16,
  32 s later) and give up after the fifth retry;
* ZEGO may deliver a callback more than once, so results are stored by ``task_id``.

``fail_first=N`` makes the app answer 503 to its first N valid callbacks (an outage) —
what ``test_flask_receiver.py`` uses to exercise ZEGO's retries.

    flask --app "flask_receiver:create_app('my-secret')" run --port 8080
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import unquote

from flask import Flask, Request, request


def zego_signature(callback_secret: str, timestamp: str, nonce: str) -> str:
    """ZEGO's callback signature: SHA-1 of the three strings sorted and joined."""
    joined = "".join(sorted([callback_secret, timestamp, nonce]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def read_callback(req: Request) -> dict[str, str]:
    """The callback's top-level fields, whether sent as a form, JSON or URL-encoded JSON."""
    if req.mimetype == "application/x-www-form-urlencoded":
        return req.form.to_dict()
    text = req.get_data(as_text=True).strip()
    if text[:3].upper() == "%7B":  # the whole JSON text URL-encoded
        text = unquote(text)
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("callback body is not a JSON object")
    return {key: val if isinstance(val, str) else json.dumps(val) for key, val in data.items()}


def is_authentic(fields: dict[str, str], callback_secret: str, max_age: float) -> bool:
    """True when the signature matches and the timestamp is recent."""
    timestamp, nonce = fields.get("timestamp", ""), fields.get("nonce", "")
    expected = zego_signature(callback_secret, timestamp, nonce)
    if not hmac.compare_digest(expected, fields.get("signature", "")):
        return False
    try:
        return abs(time.time() - int(timestamp)) <= max_age
    except ValueError:
        return False


def create_app(callback_secret: str, max_age: float = 300, fail_first: int = 0) -> Flask:
    """The receiver app; ``app.config["TRANSCODED"]`` holds the finished tasks by task id."""
    app = Flask(__name__)
    app.config["TRANSCODED"] = {}
    outage = {"failures_left": fail_first}

    @app.post("/zego/callback")
    def zego_callback() -> tuple[str, int]:
        try:
            fields = read_callback(request)
        except ValueError:
            return "bad body", 400
        if not is_authentic(fields, callback_secret, max_age):
            return "bad signature", 401
        if outage["failures_left"] > 0:
            outage["failures_left"] -= 1
            return "busy, try again", 503
        if fields.get("event") == "procedure":
            extra: Any = json.loads(fields.get("extra_params") or "{}")
            outputs = extra.get("media", {}).get("transcode", []) if extra else []
            app.config["TRANSCODED"][fields["task_id"]] = {
                "status": fields.get("status"),
                "urls": [output.get("replay_url") for output in outputs],
            }
        return "success", 200

    return app
