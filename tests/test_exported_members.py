"""``emulator.__all__`` and the names it re-exports stay in sync (the httpx habit)."""

from __future__ import annotations

import importlib

import emulator


def test_every_name_in_all_resolves_to_the_defining_module() -> None:
    for name in emulator.__all__:
        if name == "__version__":
            continue
        value = getattr(emulator, name)
        module = importlib.import_module(emulator._EXPORTS[name])
        assert getattr(module, name) is value, name


def test_all_is_sorted_and_has_no_private_names() -> None:
    assert emulator.__all__ == sorted(emulator.__all__)
    assert set(emulator.__all__) == {*emulator._EXPORTS, "__version__"}
    assert not [name for name in emulator.__all__ if name.startswith("_") and name != "__version__"]


def test_public_classes_are_documented() -> None:
    undocumented = [
        name
        for name in emulator.__all__
        if name != "__version__" and not (getattr(emulator, name).__doc__ or "").strip()
    ]
    assert undocumented == []


def test_importing_the_package_loads_no_heavy_dependency() -> None:
    import subprocess
    import sys

    code = (
        "import sys, emulator, emulator.cli.main; "
        "print(','.join(m for m in ('aiohttp', 'faker', 'rich', 'pydantic') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
