"""Every setting of a run, resolved once: flags > scenario (or record) > environment > defaults.

    options = RunOptions(target="http://127.0.0.1:8080/cb", virtual=True)   # the flags
    settings = resolve(options, scenario)          # one typed object every mode runs on
    settings = resolve(options, layer=run_line_layer(run, "runs/x.jsonl"))  # resume

Each mode hands :func:`resolve` its flags and the one :class:`Layer` below them: a
scenario (``run``, ``send``, load mode, the mock API's ``--sessions``), a record's ``run``
line (``resume``) or the recorded runs (``run --replay``). Below the layer come the
environment (the callback secret) and the defaults.

One URL check (:func:`check_url`), one TLS setup (:func:`tls_context`) and one way to pick
a fresh record path (:func:`fresh_record_path`) serve every mode: run, send, load, resume,
replay, the mock API. Secrets are never printed, logged or recorded; this module only
resolves them (the hint or note about where one came from goes to :func:`set_notice`'s
hook, which the command line prints; a library user hears nothing).
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.errors import UsageError
from emulator.retry import RetryPolicy, recorded_policy
from emulator.urls import check_url as check_url  # re-exported: every mode checks here
from emulator.urls import url_problem as url_problem
from emulator.wire import ENCODINGS

if TYPE_CHECKING:
    import ssl

    from emulator.clock import Clock
    from emulator.scenario.model import Scenario
    from emulator.wire import Encoding

RECORD_DIR = "runs"
DEFAULT_CONCURRENCY = 100
_notice: Callable[[str], None] = lambda text: None  # noqa: E731


def set_notice(hook: Callable[[str], None]) -> Callable[[str], None]:
    """Where hints and notes go (the CLI: stderr); returns the previous hook."""
    global _notice
    previous, _notice = _notice, hook
    return previous


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


def env_secret(name: str) -> str | None:
    """The secret in environment variable ``name`` (None when unset or empty).

    UsageError (the value never shown) when it is not valid UTF-8: the OS hands Python
    those bytes as lone surrogates, which no signature could be computed over.
    """
    value = os.environ.get(name)
    if value and any("\udc80" <= char <= "\udcff" for char in value):
        raise UsageError(f"env {name}: the secret is not valid UTF-8 text (value not shown)")
    return value


def resolve_secret(
    flag_value: str | None,
    env_name: str = CALLBACK_SECRET_ENV,
    default: str = DEV_CALLBACK_SECRET,
    flag_name: str = "--secret",
    quiet: bool = False,
) -> Secret:
    """The secret from the flag, else ``env_name``, else the development default.

    Says through the notice hook (never the value) when the flag was used (prefer the environment:
    command lines end up in shell history and ``ps``) or when the default is in use.
    """
    if flag_value:
        if not quiet:
            _notice(
                f"hint: {flag_name} is visible in shell history and ps; prefer the "
                f"environment variable {env_name}"
            )
        return Secret(flag_value, flag_name)
    from_env = env_secret(env_name)
    if from_env:
        return Secret(from_env, f"env {env_name}")
    if not quiet:
        _notice(
            f"note: no secret given ({flag_name} or {env_name}); using the development "
            "secret documented in the README"
        )
    return Secret(default, "development default")


def secret_candidates(flag_value: str | None, env_name: str | None = None) -> list[Secret]:
    """Every secret the layers offer, highest first: the flag, the variable ``env_name``
    names (a scenario's ``secret_env``), ``ZEGO_CALLBACK_SECRET``, the development secret.

    :func:`resolve` uses the first; ``resume`` tries them in this order against the
    signatures its record holds."""
    found: list[Secret] = []
    if flag_value:
        found.append(Secret(flag_value, "--secret"))
    for name in dict.fromkeys(n for n in (env_name, CALLBACK_SECRET_ENV) if n):
        value = env_secret(name)
        if value:
            found.append(Secret(value, f"env {name}"))
    found.append(Secret(DEV_CALLBACK_SECRET, "development default"))
    return found


# --- URLs, TLS, record paths: one of each for every mode --------------------------------


def tls_context(ca_bundle: str | None = None, insecure: bool = False) -> ssl.SSLContext | bool:
    """The Dispatcher's ``ssl=``: verification on, a CA file, or off (``--insecure``).

    An unusable CA file is a one-line UsageError naming ``--ca-bundle``.
    """
    if insecure:
        return False
    if not ca_bundle:
        return True
    import ssl

    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise UsageError(f"--ca-bundle {ca_bundle}: cannot use it: {reason}") from None


def default_record_path(name: str, now: float | None = None) -> Path:
    """``runs/<UTC time>-<name>.jsonl`` (the name made file-safe)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60] or "run"
    return Path(RECORD_DIR) / f"{stamp}-{slug}.jsonl"


def fresh_record_path(name: str, now: float | None = None) -> Path:
    """A new record file of its own: the default path, else ``-2``, ``-3``...

    The file is created here (exclusively), so two runs started in the same second can
    never share one. (``--record PATH`` appends to PATH instead: each run keeps its own
    ``run_id``.)
    """
    base = default_record_path(name, now)
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write the record {base}: {_reason(exc)}") from None
    number = 1
    path = base
    while True:
        try:
            with path.open("x"):
                return path
        except FileExistsError:
            number += 1
            path = base.with_name(f"{base.stem}-{number}.jsonl")
        except OSError as exc:
            raise UsageError(f"cannot write the record {path}: {_reason(exc)}") from None


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


# --- the flags, and the one settings object they resolve to ------------------------------


@dataclass
class RunOptions:
    """Command-line settings of a run; ``None`` = the scenario's value, else the default."""

    target: str | None = None
    secret: Secret | None = None
    app_id: str | None = None
    encoding: Encoding | None = None
    seed: int | None = None
    speed: float | None = None
    virtual: bool = False
    timeout: float | None = None  # per request, real seconds
    concurrency: int | None = None
    record: str | Path | None = None  # record file; None = runs/<UTC time>-<scenario>.jsonl
    json: bool = False
    ca_bundle: str | None = None
    insecure: bool = False
    live: bool | None = None  # None = a live view when stdout is a terminal and not --json
    builtin_receiver: bool = False
    junit: str | None = None  # also write the run's JUnit XML here (run --junit FILE)
    clock: Clock | None = None  # a clock to use instead of the one speed/virtual describe
    truth: str | Path | None = None  # --truth: where run writes the sessions' final state
    tls: ssl.SSLContext | bool | None = None  # instead of what ca_bundle/insecure describe
    target_flag: str = "--target"  # how the flag is named in messages (api: --callback-url)
    secret_flag: str = "--secret"  # likewise (api: --callback-secret)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        """The flags of ``run``/``send``/``show`` (a flag a command lacks stays None)."""

        def flag(name: str) -> Any:
            return getattr(args, name, None)

        secret_flag = flag("secret")
        return cls(
            target=flag("target"),
            secret=resolve_secret(secret_flag) if secret_flag else None,
            app_id=flag("app_id"),
            encoding=flag("encoding"),
            seed=flag("seed"),
            speed=flag("speed"),
            virtual=bool(flag("virtual")),
            timeout=flag("timeout"),
            concurrency=flag("concurrency"),
            record=flag("record"),
            json=bool(flag("json")),
            ca_bundle=flag("ca_bundle"),
            insecure=bool(flag("insecure")),
            live=False if flag("no_live") else None,
            builtin_receiver=bool(flag("builtin_receiver")),
            truth=flag("truth"),
            junit=flag("junit"),
        )


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once (flags > scenario > environment > defaults)."""

    name: str  # the scenario's name (record file and run line)
    target: str | None  # checked http(s) URL; None only with the built-in receiver
    secret: Secret
    app_id: str | None
    encoding: Encoding
    seed: int | None
    policy: RetryPolicy
    clock: Clock
    concurrency: int
    tls: ssl.SSLContext | bool
    record: Path | None  # --record PATH (appended to); None = a fresh runs/ file
    scenario_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # mode-specific run-line keys
    timeout_flag: float | None = None  # --timeout, which wins over every policy's own

    def with_target(self, target: str) -> Settings:
        return replace(self, target=check_url(target))

    def event_policy(self, scenario: Scenario, event: str) -> RetryPolicy:
        """The retry policy of ``event``'s callbacks: its family's profile unless the
        scenario names one (``policy`` is the run's), ``--timeout`` applied."""
        policy = scenario.retry_policy(event)
        if self.timeout_flag is not None:
            policy = replace(policy, timeout=self.timeout_flag)
        return policy


@dataclass(frozen=True)
class Layer:
    """What the one source below the flags says (a scenario, a record's ``run`` line, the
    recorded runs of a replay); None = it says nothing, the environment and defaults decide.

    ``source`` names it in messages (``demo.yaml``, ``runs/x.jsonl: run 2024...``).
    """

    source: str
    name: str | None = None
    target: str | None = None
    secret_env: str | None = None  # the variable holding the callback secret
    app_id: str | None = None
    encoding: Encoding | None = None
    seed: int | None = None
    policy: RetryPolicy | None = None
    speed: float | None = None
    virtual: bool = False  # it ran in virtual time (a flag's --speed still wins)
    concurrency: int | None = None
    missing_target: str | None = None  # how a missing target is told (default: source)


def scenario_layer(scenario: Scenario, source: str | None = None) -> Layer:
    """The settings a scenario file gives (``target:``, ``secret_env:``, ``retry:``...)."""
    return Layer(
        source=source or "scenario",
        name=scenario.name,
        target=scenario.target,
        secret_env=scenario.secret_env,
        app_id=scenario.app_id,
        encoding=scenario.encoding,
        seed=scenario.seed,
        policy=scenario.retry_policy(),
        speed=scenario.speed,
        concurrency=scenario.concurrency,
        missing_target=source or f"scenario {scenario.name!r}",
    )


def run_line_layer(run: dict[str, Any], source: str) -> Layer:
    """The settings a record's ``run`` line gives (``resume``): its target, policy,
    speed (``null``: virtual time), concurrency, encoding, and the ``secret_env`` of the
    scenario its plan holds. A value of the wrong type (a hand-edited record) says nothing."""
    plan = run.get("plan")
    planned = plan.get("scenario") if isinstance(plan, dict) else None
    secret_env = planned.get("secret_env") if isinstance(planned, dict) else None
    speed = run.get("speed")
    if not (isinstance(speed, int | float) and not isinstance(speed, bool) and 0 < speed < 1e300):
        speed = None  # null (virtual time), or nothing a clock could run at
    concurrency = run.get("concurrency")
    target = run.get("target")
    encoding = run.get("encoding")
    name = run.get("scenario")
    return Layer(
        source=source,
        name=name if isinstance(name, str) and name else None,
        target=target if isinstance(target, str) and target else None,
        secret_env=secret_env if isinstance(secret_env, str) and secret_env else None,
        encoding=encoding if encoding in ENCODINGS else None,
        policy=recorded_policy(run, RetryPolicy()),
        speed=None if speed is None else float(speed),
        virtual=speed is None,
        concurrency=concurrency
        if isinstance(concurrency, int) and not isinstance(concurrency, bool) and concurrency > 0
        else None,
    )


def resolve(
    options: RunOptions,
    scenario: Scenario | None = None,
    *,
    layer: Layer | None = None,
    source: str | None = None,
    name: str | None = None,
    need_target: bool = True,
    default_encoding: Encoding = "json",
    quiet: bool = False,
) -> Settings:
    """The one settings object of a run: its flags over ``layer`` (or the scenario's),
    over the environment (the callback secret), over the defaults.

    ``need_target``: a missing target is a UsageError (not with ``--builtin-receiver``).
    ``quiet``: no note about where the secret came from (checking flags before a run).
    """
    from emulator.clock import make_clock

    below = layer or Layer(source=source or "run")
    if scenario is not None:
        below = scenario_layer(scenario, source)
    target = options.target or below.target
    if target:
        check_url(target, options.target_flag if options.target else f"{below.source}: target")
    elif need_target and not options.builtin_receiver:
        where = below.missing_target or below.source
        in_scenario = (
            ""
            if source == "send" or (layer is not None and scenario is None)
            else ", set target: in the scenario"
        )
        raise UsageError(
            f"{where}: no target: give --target URL{in_scenario}, or use --builtin-receiver"
        )
    policy = below.policy or RetryPolicy()
    if options.timeout is not None:
        policy = replace(policy, timeout=options.timeout)
    if options.clock is not None:
        clock = options.clock
    else:
        virtual = options.virtual or (options.speed is None and below.virtual)
        clock = make_clock(options.speed or below.speed or 1.0, virtual)
    tls = (
        options.tls if options.tls is not None else tls_context(options.ca_bundle, options.insecure)
    )
    return Settings(
        name=name or below.name or "run",
        target=target or None,
        secret=options.secret
        or layer_secret(below.secret_env, quiet=quiet, flag_name=options.secret_flag),
        app_id=options.app_id or below.app_id,
        encoding=options.encoding or below.encoding or default_encoding,
        seed=options.seed if options.seed is not None else below.seed,
        policy=policy,
        clock=clock,
        concurrency=options.concurrency or below.concurrency or DEFAULT_CONCURRENCY,
        tls=tls,
        record=Path(options.record) if options.record else None,
        scenario_file=source,
        timeout_flag=options.timeout,
    )


def scenario_secret(
    scenario: Scenario | None, flag_value: str | None, quiet: bool = False
) -> Secret:
    """The callback secret: ``--secret``, else the scenario's ``secret_env`` variable, else
    ``ZEGO_CALLBACK_SECRET``, else the development default (see :func:`resolve_secret`)."""
    if flag_value:
        return resolve_secret(flag_value, quiet=quiet)
    return layer_secret(scenario.secret_env if scenario is not None else None, quiet=quiet)


def layer_secret(env_name: str | None, quiet: bool = False, flag_name: str = "--secret") -> Secret:
    """The callback secret when no flag gave one: the variable ``env_name`` names (a
    scenario's ``secret_env``), else ``ZEGO_CALLBACK_SECRET``, else the development default."""
    if env_name and env_name != CALLBACK_SECRET_ENV:
        value = env_secret(env_name)
        if value:
            return Secret(value, f"env {env_name}")
        if not quiet:
            _notice(
                f"note: the scenario's secret_env {env_name} is not set; "
                f"falling back to {CALLBACK_SECRET_ENV}"
            )
    return resolve_secret(None, flag_name=flag_name, quiet=quiet)
