"""Target URLs: whether one is usable, checked the same way by every mode and the scenario.

url_problem("ftp://host/cb")    # "expected an http:// or https:// URL, got ... (scheme 'ftp')"
check_url(url, "--target")      # url, or a one-line UsageError naming the flag
"""

from __future__ import annotations

from urllib.parse import urlsplit

from emulator.errors import UsageError


def url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable target (an http/https URL with a host), or None."""
    shown = repr(url) if len(repr(url)) <= 40 else repr(url)[:36] + "...'"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return f"expected an http:// or https:// URL without spaces, got {shown}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"expected an http:// or https:// URL, got {shown} ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        return f"expected an http:// or https:// URL, got {shown} ({scheme})"
    if not parts.hostname:
        return f"expected an http:// or https:// URL with a host, got {shown}"
    if port == 0:
        return f"expected a port from 1 to 65535, got {shown}"
    return None


def check_url(url: str, what: str = "--target") -> str:
    """``url`` if it is an http(s) URL with a host; else a one-line UsageError naming ``what``."""
    problem = url_problem(url)
    if problem is not None:
        raise UsageError(f"{what}: {problem}")
    return url
