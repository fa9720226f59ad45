"""What never leaves the process: the password of a target URL.

A target may carry credentials (``http://user:password@host/zego/callback``: the transport
sends them as ``Authorization: Basic``). Everything that shows or stores a target — the
record, the terminal, reports, curl lines — shows :func:`without_password` instead, with
the password as ``***`` (the user name kept, so it is clear credentials are in play).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"


def without_password(url: str) -> str:
    """``url`` with its password replaced by ``***``; any other URL unchanged."""
    if "@" not in url:  # the fast path: no userinfo at all
        return url
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:  # not a URL we could send to either; hide everything before "@"
        return f"{HIDDEN}@{url.rsplit('@', 1)[1]}"
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{HIDDEN}@{host}"))


def hides_a_password(url: str) -> bool:
    """True for a URL whose password was hidden by :func:`without_password` (a record's)."""
    try:
        return urlsplit(url).password == HIDDEN
    except ValueError:
        return False


def without_controls(text: str) -> str:
    """``text`` safe for a terminal: control characters (ESC, BEL, ...) escaped as ``\\x1b``,
    so a name from a scenario, a record or the network cannot retitle, recolour or clear
    the terminal it is printed on."""
    if text.isprintable():  # the usual case: one C call
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)
