"""``await zego.check(to=app)``: the conformance suite from a user's pytest, against an app
served in the test process (aiohttp, WSGI) or a URL; failures easy to assert and to read."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emulator.check import all_cases
from emulator.errors import UsageError
from emulator.testing.plugin import Zego
from tests.check.receivers.doc_receiver import Bugs, DocReceiver

REPO = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


@pytest.fixture
def zego_secret() -> str:
    return "plugin-check-secret"


async def test_a_correct_aiohttp_app_passes_every_case(zego: Zego, zego_secret: str) -> None:
    result = await zego.check(to=DocReceiver(zego_secret).app(), encodings=("json", "form"))
    result.assert_passed()
    assert result.passed and result.failed_ids == []
    assert len(result.cases) == len(all_cases())


async def test_a_crash_on_failed_callbacks_is_named_with_what_it_usually_means(
    zego: Zego, zego_secret: str
) -> None:
    app = DocReceiver(zego_secret, Bugs(crash_on_empty_extra_params=True)).app()
    result = await zego.check(to=app)
    assert result.failed_ids == ["procedure.failed-empty-extra-params"]
    with pytest.raises(AssertionError) as failure:
        result.assert_passed()
    message = str(failure.value)
    assert message.startswith(f"1 of {len(result.cases)} conformance case failed against http")
    assert "procedure.failed-empty-extra-params: status FAILED, extra_params empty (json)" in (
        message
    )
    assert "usually: The code parses extra_params as JSON unconditionally" in message


async def test_cases_and_skip_select_and_an_unknown_id_is_refused(
    zego: Zego, zego_secret: str
) -> None:
    app = DocReceiver(zego_secret, Bugs(verify_nothing=True)).app()
    result = await zego.check(to=app, cases=["signature.forged", "procedure.success"])
    assert [case.case.id for case in result.cases] == ["procedure.success", "signature.forged"]
    assert result.failed_ids == ["signature.forged"]
    result = await zego.check(to=app, skip=[c.id for c in all_cases() if "signature" in c.id])
    assert result.passed
    with pytest.raises(UsageError, match="no such case"):
        await zego.check(to=app, cases=["signature.forgd"])


async def test_the_flask_example_from_the_readme(zego: Zego, zego_secret: str) -> None:
    sys.path.insert(0, str(REPO / "examples"))
    try:
        from flask_receiver import create_app
    finally:
        sys.path.remove(str(REPO / "examples"))
    result = await zego.check(to=create_app(zego_secret))
    assert "signature.forged" not in result.failed_ids
    assert "procedure.failed-empty-extra-params" not in result.failed_ids


def test_a_users_test_file_asserts_the_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        from aiohttp import web

        async def test_my_receiver_passes(zego):
            async def handle(request):
                return web.Response(status=200)  # acknowledges everything: forgeries too
            app = web.Application()
            app.router.add_post("/zego/callback", handle)
            result = await zego.check(to=app, cases=["signature.forged"])
            assert result.passed, result.describe_failures()
        """
    )
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=auto")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(
        ["*signature.forged: a forged signature (json): expected refused*"]
    )
