"""Where secrets and defaults come from: flags, then environment, then development defaults.

Secrets are never printed, logged or recorded; this module only resolves them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

CALLBACK_SECRET_ENV = "ZEGO_CALLBACK_SECRET"
SERVER_SECRET_ENV = "ZEGO_SERVER_SECRET"
# Documented in the README: used when no secret is given, and the run says so.
DEV_CALLBACK_SECRET = "zego-emulator-dev-callback-secret"
DEV_SERVER_SECRET = "zego-emulator-dev-server-secret"


@dataclass(frozen=True)
class Secret:
    """A resolved secret and where it came from (the source may be shown; the value never)."""

    value: str
    source: str  # "--secret", "env ZEGO_CALLBACK_SECRET", "development default"

    def __repr__(self) -> str:
        return f"Secret(source={self.source!r})"

    @property
    def is_default(self) -> bool:
        return self.source == "development default"


def resolve_secret(
    flag_value: str | None,
    env_name: str = CALLBACK_SECRET_ENV,
    default: str = DEV_CALLBACK_SECRET,
    flag_name: str = "--secret",
    quiet: bool = False,
) -> Secret:
    """The secret from the flag, else ``env_name``, else the development default.

    Says on stderr (never the value) when the flag was used (prefer the environment:
    command lines end up in shell history and ``ps``) or when the default is in use.
    """
    if flag_value:
        if not quiet:
            print(
                f"hint: {flag_name} is visible in shell history and ps; prefer the "
                f"environment variable {env_name}",
                file=sys.stderr,
            )
        return Secret(flag_value, flag_name)
    from_env = os.environ.get(env_name)
    if from_env:
        return Secret(from_env, f"env {env_name}")
    if not quiet:
        print(
            f"note: no secret given ({flag_name} or {env_name}); using the development "
            "secret documented in the README",
            file=sys.stderr,
        )
    return Secret(default, "development default")
