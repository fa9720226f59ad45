"""The fast draws give what ``random.randrange`` gives from the same generator.

A seed's callbacks must not change with how a draw is written: records written before hold
plans that ``resume`` regenerates byte for byte, and their digits and nonces came from
``randrange``.
"""

from __future__ import annotations

import random

import pytest

from emulator.callback.factory import CallbackFactory
from emulator.events.base import Fake, below


@pytest.mark.parametrize("n", [1, 2, 3, 7, 900_000, 9 * 10**18, 2**64 + 1])
def test_below_draws_what_randrange_draws(n: int) -> None:
    ours, theirs = random.Random(42), random.Random(42)
    assert [below(ours, n) for _ in range(200)] == [theirs.randrange(0, n) for _ in range(200)]
    assert ours.getstate() == theirs.getstate()  # the stream goes on from the same point


def test_digits_and_nonces_are_the_randrange_ones() -> None:
    fake, reference = Fake(7), random.Random(7)
    for count in (1, 6, 19, 25):
        assert fake.digits(count) == str(reference.randrange(10 ** (count - 1), 10**count))
    factory = CallbackFactory(seed=1, nonce_seed=99, now=lambda: 1_700_000_000.0)
    nonces = random.Random(99)
    drawn = [factory.stamp()[1] for _ in range(50)]
    expected: list[str] = []
    while len(expected) < 50:  # a repeat within the second is redrawn
        nonce = str(nonces.randrange(100_000, 1_000_000))
        if nonce not in expected:
            expected.append(nonce)
    assert drawn == expected
